"""The atlas's training summaries shipped with the package: ``driftproof/stored/atlas_training.json``.

driftproof/atlas_training.py trains one fixed setup per catalogued activation (5 seeds on digits, about 5 s of
one core each, so about 5 minutes for the whole atlas) and caches each summary under ``$DRIFTPROOF_CACHE``.
The summaries of every catalogued activation also ship as data, with the provenance of the run that produced
them (commit, date, command, CPU time, machine); ``scripts/pack_atlas.py`` writes them. The atlas and the
report read a shipped summary where nothing is cached and both the setup (:data:`SETUP`) and the activation's
formula match it; otherwise they train. The pack carries a checksum: an edited or damaged pack is refused,
never read in part. ``tests/test_atlas_stored.py`` retrains a sample of the activations and compares every
number bit for bit, so a change to the training sources that moves the numbers fails there.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from .atlas_training import SETUP
from .errors import InputError

__all__ = ["STORED_PATH", "stored_summary", "stored_provenance", "pack_stored", "training_source"]

STORED_PATH = Path(__file__).resolve().parent / "stored" / "atlas_training.json"
STORED_FORMAT = 1
_REGENERATE = "regenerate it: `python scripts/pack_atlas.py --workers 2`"


def _checksum(summaries: dict) -> str:
    return hashlib.sha256(json.dumps(summaries, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@lru_cache(maxsize=None)
def _read_stored(path: str) -> dict | None:
    """The shipped pack at ``path`` (read and checked once per process), None when there is none."""
    file = Path(path)
    if not file.is_file():
        return None
    try:
        payload = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InputError(f"the stored atlas summaries {path!r} cannot be read ({error}); {_REGENERATE}") from None
    if not isinstance(payload, dict) or payload.get("format") != STORED_FORMAT or not isinstance(
            payload.get("summaries"), dict) or not isinstance(payload.get("setup"), dict):
        raise InputError(f"the stored atlas summaries {path!r} are not a format-{STORED_FORMAT} pack; {_REGENERATE}")
    if payload.get("checksum") != _checksum(payload["summaries"]):
        raise InputError(f"the stored atlas summaries {path!r} do not match their checksum (edited or damaged); "
                         f"{_REGENERATE}")
    return payload


def stored_provenance() -> dict | None:
    """Where the shipped summaries come from (commit, date, command, CPU time, machine), or None."""
    payload = _read_stored(str(STORED_PATH))
    return None if payload is None else {"setup": payload["setup"], **payload.get("provenance", {})}


def stored_summary(name: str) -> dict | None:
    """The shipped summary of ``name`` when it was trained in this very setup on this formula, else None.

    Raises:
        InputError: the shipped file is damaged (it is never read in part).
    """
    from .activations import get_activation

    payload = _read_stored(str(STORED_PATH))
    if payload is None or payload["setup"] != SETUP:
        return None
    entry = payload["summaries"].get(name)
    if not isinstance(entry, dict) or entry.get("formula") != str(get_activation(name).expr):
        return None
    return {**entry["summary"], "stored": payload.get("provenance", {}).get("commit", "unknown")}


def pack_stored(summaries: dict[str, dict], provenance: dict, path: str | Path | None = None) -> Path:
    """Write ``summaries`` (name -> training_summary) as the shipped pack; sorted, so rewriting it changes no byte."""
    from .activations import get_activation

    body = {name: {"formula": str(get_activation(name).expr),
                   "summary": {k: v for k, v in summaries[name].items() if k != "stored"}}
            for name in sorted(summaries)}
    text = json.dumps({"format": STORED_FORMAT, "setup": SETUP, "provenance": provenance, "summaries": body,
                       "checksum": _checksum(body)}, sort_keys=True, indent=1)
    path = STORED_PATH if path is None else Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    _read_stored.cache_clear()
    return path


def training_source(rows) -> str:
    """Where the training summaries of ``rows`` (atlas rows) come from, in one sentence ('' when none has one)."""
    with_summary = [r for r in rows if r.training]
    stored = [r for r in with_summary if r.training.get("stored")]
    if not with_summary:
        return ""
    if not stored:
        return f"Training summaries: trained on this machine ({len(with_summary)} activations, cached)."
    p = stored_provenance() or {}
    here = len(with_summary) - len(stored)
    return (f"Training summaries: {len(stored)} of {len(with_summary)} shipped with driftproof (trained at commit "
            f"{str(p.get('commit', 'unknown'))[:10]} on {p.get('date', '?')}, {p.get('training_cpu_seconds', '?')} "
            f"CPU-s; `{p.get('command', 'python scripts/pack_atlas.py')}` regenerates them)"
            + (f", {here} trained on this machine." if here else "."))
