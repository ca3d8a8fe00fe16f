"""Reproduce the training-run numbers reported for issue 4; writes scripts/results/train_findings.json.

1. R5 at t = 0: measured first SGD step of mean weight / bias against mean field, width 256,
   depth 2, one 256-sample batch per seed, 40 seeds (relu ce/mse, gelu ce, tanh ce).
2. Pre-norm residual MLP at t = 0: the sign statistic, width 256, depth 3, 60 seeds.
3. Persistence: ReLU vs tanh, width 128, depth 3, 500 steps, 3 seeds, on noise (SGD, Adam)
   and digits (SGD): first step where the running mean of the sign statistic turns negative,
   drifts, sparsity start/end.

Usage: PYTHONPATH=. python scripts/train_findings.py   (about 2 minutes on one core)
"""

from __future__ import annotations

import json
from pathlib import Path

from driftproof.config import Config
from driftproof.results import json_default
from driftproof.training import TrainSpec, train

OUT = Path(__file__).parent / "results" / "train_findings.json"


def first_step_block() -> dict:
    out = {}
    for loss, act in (("ce", "relu"), ("mse", "relu"), ("ce", "gelu"), ("ce", "tanh")):
        config = Config(loss=loss, act=act, width=256, depth=2, classes=10, seed=100)
        spec = TrainSpec(data="noise", steps=1, batch=256, seeds=40, lr=0.01, n_train=256, n_test=16,
                         control=None, eval_every=1)
        out[f"{loss}/{act}"] = train(config, spec).first_step
    return out


def resmlp_block() -> dict:
    out = {}
    for loss in ("ce", "mse"):
        for arch in ("resmlp", "mlp"):
            config = Config(loss=loss, act="relu", width=256, depth=3, classes=10, seed=1000)
            spec = TrainSpec(arch=arch, data="noise", steps=1, batch=256, seeds=60 if arch == "resmlp" else 20,
                             n_train=256, n_test=16, control=None, eval_every=1)
            layers = train(config, spec).summary.roles["main"].layers
            out[f"{arch}/{loss}"] = {key: entry.sign_t0 for key, entry in layers.items()}
    return out


def persistence_block() -> dict:
    out = {}
    for data, opt, lr in (("noise", "sgd", 0.05), ("noise", "adam", 1e-3), ("digits", "sgd", 0.05)):
        config = Config(loss="ce", act="relu", width=128, depth=3, classes=10)
        spec = TrainSpec(data=data, opt=opt, lr=lr, steps=500, batch=64, seeds=3, log_every=5)
        summary = train(config, spec).summary
        out[f"{data}/{opt}"] = {
            role: {key: {name: getattr(entry, name) for name in (
                "sign_t0", "positive_fraction", "first_negative_running_mean", "w_drift", "b_drift",
                "zero_frac_start", "zero_frac_end")} for key, entry in summary.roles[role].layers.items()}
            for role in summary.roles}
        out[f"{data}/{opt}"]["test_acc"] = summary.roles["main"].final["test_acc"]
    return out


def main() -> None:
    result = {"first_step_vs_R5": first_step_block(), "resmlp_sign_t0": resmlp_block(),
              "persistence": persistence_block()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, default=json_default) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
