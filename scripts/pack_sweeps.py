"""Pack a finished sweep folder as the results shipped with driftproof (``driftproof/stored/<grid>.json.gz``).

    driftproof sweep --grid default --out sweeps/default --workers 2
    python scripts/pack_sweeps.py --grid default --from sweeps/default --wall-seconds 1800

Only a whole grid is packed (every configuration of this version's grid, each result checked as ``claims``
checks it). The pack records where it came from: the commit, the command, the date, the wall time of the run
(``--wall-seconds``, from ``driftproof sweep --json``'s ``sweep.seconds``), the sum of the jobs' own times,
the machine. It is read back and checked before the script exits.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from driftproof.errors import InputError
from driftproof.reporting.build import git_state
from driftproof.sweeps import SweepStore, make_grid
from driftproof.sweeps.shipped import load_pack, pack, pack_path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", required=True, choices=("default", "transformer"))
    parser.add_argument("--from", dest="folder", required=True, help="the finished sweep folder")
    parser.add_argument("--commit", default=None, help="the commit the sweep ran at (default: HEAD)")
    parser.add_argument("--wall-seconds", type=float, default=None, help="the sweep's wall time")
    parser.add_argument("--date", default=None, help="the date the sweep ran (default: today, UTC)")
    parser.add_argument("--cpus", type=int, default=os.cpu_count())
    parser.add_argument("--note", default=None, help="anything a reader of the provenance should know (load, ...)")
    parser.add_argument("--to", default=None, help="the pack to write (default: the package's stored/ folder)")
    args = parser.parse_args(argv)

    store = SweepStore(args.folder)
    recorded, jobs = store.recorded_grid()
    if recorded != args.grid:
        print(f"{args.folder} holds the {recorded!r} grid, not {args.grid!r}", file=sys.stderr)
        return 2
    results = store.load()
    have = {r["key"] for r in results}
    missing = [job for job in make_grid(args.grid) if job.key not in have]
    if missing:
        print(f"{args.folder} lacks {len(missing)} of {len(jobs)} configurations: finish the sweep first "
              f"(`driftproof sweep --grid {args.grid} --out {args.folder}`)", file=sys.stderr)
        return 2
    provenance = {
        "commit": args.commit or git_state()["commit"],
        "command": f"driftproof sweep --grid {args.grid} --out sweeps/{args.grid} --workers {args.cpus}",
        "date": args.date or time.strftime("%Y-%m-%d", time.gmtime()),
        "wall_minutes": None if args.wall_seconds is None else round(args.wall_seconds / 60, 1),
        "job_seconds_sum": round(sum(float(r.get("seconds", 0.0)) for r in results), 1),
        "configurations": len(results),
        "diverged": sum(bool(r["diverged"]) for r in results),
        "cpus": args.cpus,
        "machine": f"{platform.machine()} {platform.system()}",
        "python": platform.python_version(),
        **({"note": args.note} if args.note else {}),
    }
    path = pack(args.grid, results, provenance, args.to)
    try:
        shipped = load_pack(path, args.grid)
    except InputError as error:
        print(f"the pack does not read back: {error}", file=sys.stderr)
        return 1
    print(f"{path}: {len(shipped.results)} results, {path.stat().st_size / 1e6:.2f} MB; {shipped.source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
