"""The sign at t = 0 in a sweep, per architecture family, over more seeds than the quick grids have.

The quick grids' shapes (``quick`` for the MLP, ``transformer_quick`` for the GPT and the ViT), the
``acts`` block only, ``--seeds`` seeds each (default 5); each job records E[δ|p>0] at t = 0 on its first
training batch and its persistence (``run_job``'s ``sign``); the T0 row of ``driftproof claims`` judges
them per family (two-sided t over seeds, Holm). Writes the sweep folder and a JSON summary, prints the
T0 rows, the wall time and the load average.

Usage: PYTHONPATH=. python scripts/t0_sweep.py [--seeds 5] [--out /tmp/t0-sweep] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

from driftproof.render.claims import evidence_text, row_word
from driftproof.results import json_default
from driftproof.sweeps import SweepStore, claims_of_families, make_grid, run_sweep


def jobs(seeds: int) -> list:
    """The acts block of the quick grids, with ``seeds`` seeds per activation."""
    base = [j for name in ("quick", "transformer_quick") for j in make_grid(name) if j.block == "acts"]
    unique = {(j.arch, j.act, j.clip): j for j in base}
    return [replace(j, seed=s) for j in unique.values() for s in range(seeds)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", default="/tmp/t0-sweep")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    start = time.time()
    store = SweepStore(args.out)
    run_sweep(jobs(args.seeds), store, workers=args.workers)
    rows = [row for row in claims_of_families(store.load()) if row.key.result == "T0"]
    seconds = time.time() - start
    for row in rows:
        print(f"{row.key.arch}: {row_word(row)} - {evidence_text(row)}\n")
    payload = {"seeds": args.seeds, "seconds": seconds, "load_average": os.getloadavg(),
               "rows": [{"family": row.key.arch, "word": row_word(row), "numbers": row.numbers} for row in rows]}
    Path(args.out, "t0.json").write_text(json.dumps(payload, indent=2, default=json_default))
    print(f"{len(store.load())} configurations, {seconds:.0f} s, load {payload['load_average'][0]:.2f}")


if __name__ == "__main__":
    main()
