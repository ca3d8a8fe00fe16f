"""R6 numbers: Monte Carlo coefficient of sigma sigma'(p) per block against the derivation.

Usage: python scripts/r6_numbers.py [out.json]  (seed 0; widths 64, 256, 1024; CE, GELU, 2 blocks)
"""

import json
import sys

import numpy as np

from driftproof.config import Config
from driftproof.montecarlo.residual import conditional, context
from driftproof.results import json_default
from driftproof.theory.normalized import Residual, conditional_block

CASES = [("layernorm", 1e-5), ("rmsnorm", 0.0), ("rmsnorm", 1.0), ("none", 0.0)]


def fitted(result, config):
    """Weighted least-squares coefficient c in E[delta_i | p] = c sigma sigma'(p_i) over the tested units."""
    t = np.array(result.tested)
    f = config.activation.numpy_sigma_dsigma(result.p[t])
    w = 1 / result.stderrs[t] ** 2
    return float((w * f * result.means[t]).sum() / (w * f * f).sum()), float(1 / np.sqrt((w * f * f).sum()))


def main(path):
    rows = []
    for width in (64, 256, 1024):
        for init in ("normal", "uniform"):
            for norm, eps in CASES:
                config = Config(loss="ce", act="gelu", init=init, width=width, depth=2, seed=0)
                res = Residual(config, norm, eps)
                for block in (1, 2):
                    result = conditional(res, block=block, samples=2048 if width < 1024 else 512, stop_early=False)
                    x, p = context(res, block)
                    values, coefficient = conditional_block(res, block, x, p)
                    mc, mc_se = fitted(result, config)
                    row = {"width": width, "init": init, "norm": norm, "eps": eps, "block": block,
                           "mc_coefficient": mc, "mc_coefficient_se": mc_se, "predicted_coefficient": coefficient.mean,
                           "pooled": result.pooled, "predicted_pooled": float(values[list(result.tested)].mean()),
                           "sign_test": result.sign_test.summary(), "seconds": result.seconds}
                    rows.append(row)
                    print(f"N={width:5d} {init:8s} {norm:9s} eps={eps:<6g} block {block}: MC {mc:+.3e} ± {mc_se:.1e}"
                          f"  derived {coefficient.mean:+.3e}   [{result.sign_test.summary()}]", flush=True)
    with open(path, "w") as out:
        json.dump(rows, out, default=json_default, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "r6_numbers.json")
