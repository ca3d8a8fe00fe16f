# %% [markdown]
# # Does a custom activation drift negative at initialization?
# Register an activation from a SymPy expression, derive its sign map, and verify the claim
# with the symbolic and Monte Carlo evidence (training rows take longer; add "training" to `only`).

# %%
import sympy as sp

import driftproof

x = driftproof.activations.x
driftproof.register_activation("softsign_x", x * x / (1 + sp.Abs(x)))  # x·softsign(x): σσ' > 0 on p > 0

# %%
derivations = driftproof.derive(loss="ce", act="softsign_x")
print(derivations["R3"].to_text())

# %%
result = driftproof.verify(loss="ce", act="softsign_x", width=64, only=("symbolic", "montecarlo"))
print(result)
assert result.verdict == "holds", result.verdict

# %%
check = driftproof.mc(loss="ce", act="softsign_x", width=64, method="antithetic", samples=512)
figure = check.plot()  # E[δ_i | p] against p_i: Monte Carlo with 95% bars beside the theory
