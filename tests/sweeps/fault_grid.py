"""A small grid for the fault tests (~1 s a job on one core), installed under the name ``fault``,
and a launcher that runs ``driftproof sweep --grid fault`` in a process of its own."""

from __future__ import annotations

import sys

from driftproof.sweeps import Job, grid

NAME = "fault"


def fault_jobs() -> list[Job]:
    return [Job(act=act, data="noise", width=128, depth=2, steps=1000, batch=32, n_train=256, n_test=64, seed=seed)
            for act in ("relu", "gelu") for seed in range(4)]


def install() -> None:
    grid.GRIDS[NAME] = fault_jobs


if __name__ == "__main__":  # python -m tests.sweeps.fault_grid OUT
    install()
    from driftproof.cli import main

    sys.argv = ["driftproof", "sweep", "--grid", NAME, "--out", sys.argv[1], "--workers", "2", "--no-progress"]
    sys.exit(main())  # as the program: main() reads sys.argv
