"""Time `driftproof derive` for every built-in activation and loss, each in a fresh process.

Writes scripts/results/bench_derive.json and prints a table. The target (issue 2) is under
3 s per call on a 2-core machine, interpreter start-up and imports included.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from driftproof.activations import builtin_names


def main() -> int:
    rows = []
    for loss in ("mse", "ce"):
        for act in builtin_names():
            start = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "driftproof", "derive", "--loss", loss, "--act", act],
                                    capture_output=True, text=True)
            seconds = time.perf_counter() - start
            rows.append({"loss": loss, "act": act, "seconds": round(seconds, 3), "exit": result.returncode})
            print(f"{loss:<5} {act:<15} {seconds:6.2f} s  exit {result.returncode}", flush=True)
    out = Path(__file__).parent / "results" / "bench_derive.json"
    out.parent.mkdir(exist_ok=True)
    worst = max(rows, key=lambda r: r["seconds"])
    out.write_text(json.dumps({"rows": rows, "max_seconds": worst["seconds"], "max_at": worst,
                               "target_seconds": 3.0}, indent=1))
    print(f"slowest: {worst['loss']}/{worst['act']} {worst['seconds']:.2f} s (target < 3 s); wrote {out}")
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
