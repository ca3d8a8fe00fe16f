# %% [markdown]
# # The referee's question: does the sign survive training?
# Train a small ReLU network on the digits under cross-entropy with its tanh control, and read
# when the running mean of the sign statistic first turns negative (if ever).

# %%
import driftproof

run = driftproof.train(loss="ce", act="relu", data="digits", width=32, depth=2, steps=60, seeds=2,
                       n_test=256)
print(run)

# %%
for key, layer in run.result.summary.roles["main"].layers.items():
    turned = [step for step in layer.first_negative_running_mean if step is not None]
    print(key, "sign at t = 0:", layer.sign_t0, "| first step the running mean < 0:", turned or "never")

# %%
figure = run.plot()  # sign statistic, mean weight and sparsity per layer, every seed
