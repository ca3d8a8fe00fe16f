# %% [markdown]
# # Rebuild a figure from a stored sweep
# Run the quick grid once into a folder (seconds), read the claims back, draw the claims'
# figures, and build one of your own: final sparsity against held-out accuracy for the
# forced-sparsity series (claim C2, the cliff).

# %%
import sys
import tempfile

from matplotlib.figure import Figure

import driftproof
from driftproof.sweeps import SweepStore

folder = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="driftproof-sweep-")
driftproof.sweep("quick", folder, workers=1)  # resumable: a second run finds everything stored

# %%
claims = driftproof.load(folder)  # a sweep folder reads back as the claims checked against it
print(claims)
claims.plot().savefig(f"{folder}/claims.png")  # loss per activation, C1 sparsity, C2 accuracy

# %%
results = SweepStore(folder).load()
forced = [r for r in results if r["job"].get("force") is not None and not r["diverged"]]
figure = Figure(figsize=(5, 3.5), layout="constrained")
ax = figure.add_subplot()
ax.plot([sum(r["sparsity_end"]) / len(r["sparsity_end"]) for r in forced], [r["test_acc"] for r in forced], "o")
ax.set_xlabel("final layer-mean sparsity")
ax.set_ylabel("held-out accuracy")
figure.savefig(f"{folder}/cliff.png")
print("wrote", f"{folder}/cliff.png")
