"""A pytest plugin that adds up the seconds Numba spends compiling in the test process.

Usage: PYTHONPATH=.:scripts python -m pytest -p compile_share tests/montecarlo ...
With an empty DRIFTPROOF_CACHE every generated activation module compiles afresh; the total, the
suite's wall and CPU seconds and the load average are printed at the end and written to
scripts/results/compile_share.json (one entry per ``COMPILE_SHARE_LABEL``). Subprocesses that tests
start are not counted (their compiling shows in the CPU time only through the wall clock).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from numba.core import event

OUT = Path(__file__).resolve().parent / "results" / "compile_share.json"


class _Total(event.Listener):
    """Seconds inside the outermost "numba:compile" events (nested compiles are inside their caller's)."""

    def __init__(self):
        self.seconds, self.depth, self.started, self.count = 0.0, 0, 0.0, 0

    def on_start(self, ev):
        if self.depth == 0:
            self.started = time.perf_counter()
        self.depth += 1

    def on_end(self, ev):
        self.depth -= 1
        if self.depth == 0:
            self.seconds += time.perf_counter() - self.started
            self.count += 1


_TOTAL = _Total()
_STARTED: dict = {}


def pytest_configure(config):
    event.register("numba:compile", _TOTAL)
    _STARTED.update(wall=time.perf_counter(), cpu=time.process_time(), load=os.getloadavg())


def pytest_unconfigure(config):
    wall, cpu = time.perf_counter() - _STARTED["wall"], time.process_time() - _STARTED["cpu"]
    row = {"compile_seconds": _TOTAL.seconds, "compiles": _TOTAL.count, "wall": wall, "cpu": cpu,
           "share_of_wall": _TOTAL.seconds / wall, "load_average": _STARTED["load"],
           "load_average_end": os.getloadavg(), "args": list(config.args),
           "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    previous = json.loads(OUT.read_text()) if OUT.exists() else {}
    previous[os.environ.get("COMPILE_SHARE_LABEL", "now")] = row
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"\nNumba compiling: {_TOTAL.seconds:.1f} s in {_TOTAL.count} top-level compiles, of {wall:.1f} s wall"
          f" ({cpu:.1f} CPU-s); load {_STARTED['load'][0]:.2f} -> {os.getloadavg()[0]:.2f}")
