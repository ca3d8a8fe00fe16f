"""Write the atlas's training summaries shipped with driftproof (``driftproof/stored/atlas_training.json``).

    python scripts/pack_atlas.py --workers 2          # train every catalogued activation afresh, then pack
    python scripts/pack_atlas.py --from-cache         # pack what `driftproof atlas` cached under $DRIFTPROOF_CACHE

Every catalogued activation must have a summary (the pack is the whole atlas or nothing). The pack records
where it came from: the commit whose sources trained it, the date, the command, the CPU seconds of the
training (the sum of each activation's own), the machine. It is read back and compared before the script exits.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

from driftproof.reporting.build import git_state


def main(argv=None) -> int:
    from driftproof.atlas_stored import STORED_PATH, pack_stored, stored_summary
    from driftproof.atlas_training import cached_summary, setup_text, training_summary
    from driftproof.catalogue import CATALOGUE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-cache", action="store_true",
                        help="pack the summaries cached under $DRIFTPROOF_CACHE (by `driftproof atlas`) instead of "
                             "training")
    parser.add_argument("--workers", type=int, default=1, help="processes that train at once (default 1)")
    parser.add_argument("--commit", default=None, help="the commit whose sources trained them (default: HEAD)")
    parser.add_argument("--note", default=None, help="anything a reader of the provenance should know (load, ...)")
    parser.add_argument("--to", default=None, help=f"the pack to write (default {STORED_PATH})")
    args = parser.parse_args(argv)

    names = list(CATALOGUE)
    start = time.perf_counter()
    if args.from_cache:
        summaries = {name: cached_summary(name) for name in names}
        missing = [name for name, summary in summaries.items() if summary is None]
        if missing:
            print(f"not cached for this setup and these sources: {', '.join(missing)}; run `driftproof atlas` "
                  "first, or leave out --from-cache to train", file=sys.stderr)
            return 2
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
            summaries = dict(zip(names, pool.map(training_summary, names, [False] * len(names))))
    cpu = sum(s.get("cpu_seconds", 0.0) for s in summaries.values())
    provenance = {
        "commit": args.commit or git_state()["commit"], "date": dt.datetime.now(dt.timezone.utc).date().isoformat(),
        "command": "python scripts/pack_atlas.py" + ("" if args.from_cache else f" --workers {args.workers}"),
        "setup": setup_text(), "activations": len(names), "training_cpu_seconds": round(cpu, 1),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores",
        "python": platform.python_version(), **({"note": args.note} if args.note else {})}
    path = pack_stored(summaries, provenance, args.to)
    if args.to is None:  # read back exactly what the atlas will read
        for name in names:
            back = stored_summary(name)
            same = back is not None and json.dumps({k: v for k, v in back.items() if k != "stored"},
                                                   sort_keys=True) == json.dumps(summaries[name], sort_keys=True)
            if not same:  # compared as text: a NaN equals itself there
                print(f"{name}: the pack does not read back as written", file=sys.stderr)
                return 1
    print(f"wrote {path} ({len(names)} activations, {path.stat().st_size / 1e3:.0f} kB, training {cpu:.0f} CPU-s, "
          f"{time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
