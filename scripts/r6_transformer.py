"""R6 in the GPT: does the drift at initialization vanish with the paper's tied readout too?

R6's derivation (``driftproof derive --arch resmlp``) shows that with RMSNorm (eps = 0) before
an i.i.d. Gaussian readout V independent of the stream and the labels, E_V[dl/dx_L | x_L, y] = 0,
so every block's E[δ | p] = 0 — the attention blocks of a GPT included, since only V's law is
used. The paper's GPT ties V to the token embedding (the stream starts at V[ids]) and draws it
uniformly: neither assumption holds. This script measures the sign statistic E[δ | p > 0] at
every block's MLP at initialization over independent inits, for the tied readout and for
R6's untied Gaussian one.

Each init (seed s) draws the network and a batch of text windows (the fixed corpus, windows
at positions drawn from seed s) and gives one sign statistic per block (the mean of δ over the
entries with p > 0); the estimate is the mean over inits with its standard error and a 95%
Student-t interval. ``scale`` is the mean |δ| over the same entries, to read the sign
statistic against the size of δ itself.

The measurement itself is the library's (``driftproof.evidence.transformer``, the Monte Carlo rows of
``driftproof verify --arch gpt``); this script runs it over a grid of widths, activations and readouts.

Usage: python scripts/r6_transformer.py [--inits 400] [--out scripts/results/r6_transformer.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from driftproof.config import Config
from driftproof.evidence.transformer import READOUTS, SHAPE, t0_signs
from driftproof.results import Estimate, json_default

WIDTHS = (32, 64)
ACTS = ("relu", "gelu")
DEPTH = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inits", type=int, default=400)
    parser.add_argument("--out", default="scripts/results/r6_transformer.json")
    args = parser.parse_args()
    rows = []
    start = time.time()
    for width in WIDTHS:
        for act in ACTS:
            for readout in READOUTS:
                config = Config(act=act, width=width, depth=DEPTH, loss="ce", seed=0)
                signs, scales = t0_signs(config, readout, args.inits)  # (inits, blocks), seeds 0..inits-1
                for block in range(DEPTH):
                    estimate = Estimate.student_t(signs[:, block], method=f"mean over {args.inits} inits")
                    row = {"width": width, "act": act, "readout": readout, "block": block + 1,
                           "sign": estimate.to_dict(), "scale": float(scales[:, block].mean()),
                           "sign_over_scale": estimate.mean / float(scales[:, block].mean())}
                    rows.append(row)
                    print(f"width {width:3d} {act:5s} {readout:8s} block {block + 1}: E[δ|p>0] = {estimate.mean:+.3e} "
                          f"[{estimate.ci_low:+.3e}, {estimate.ci_high:+.3e}] (95% t, {args.inits} inits); "
                          f"mean |δ| {row['scale']:.3e}; ratio {row['sign_over_scale']:+.4f}", flush=True)
    payload = {"config": {"depth": DEPTH, **SHAPE, "inits": args.inits,
                          "loss": "ce", "norm": "rms (the GPT's eps)", "data": "text corpus windows"},
               "rows": rows, "seconds": time.time() - start, "load_average": os.getloadavg()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(payload, indent=2, default=json_default))
    print(f"wrote {args.out} ({payload['seconds']:.0f} s, load {payload['load_average'][0]:.2f})")


if __name__ == "__main__":
    main()
