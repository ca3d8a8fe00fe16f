"""The atlas's short training summary per activation: digits, 5 seeds, sparsity change and the sign's persistence.

One fixed, small setup for every activation (:data:`SETUP`): an MLP of two hidden layers of 128 units at LeCun
initialization, cross-entropy, Adam (lr 1e-3, batch 64) for 500 steps on the digits set, 5 seeds (the
unit of replication), measured every 5 steps at the last hidden layer (the input of the readout). Per
activation: the change of the fraction of exact zeros and of p <= 0 there (end minus start, paired per seed),
the fraction of logged steps with a positive sign statistic E[δ | p > 0], and how many seeds' running mean of
the sign turned negative. Every number is a Student-t interval over the seeds that did not diverge (the
project's one divergence rule); diverged seeds are named and left out, and fewer than 5 values get no interval.

Each activation's summary is cached on its own (``$DRIFTPROOF_CACHE/atlas/training``), keyed by the setup, the
activation's formula and the sources that produce the numbers, so a full build trains every activation once.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from .envcheck import cache_root
from .errors import InputError

__all__ = ["SETUP", "training_summary", "cached_summary", "setup_text"]

# LeCun scale and Adam: at He scale with SGD (lr 0.05) every run of ReLU², GELU², ReLU³, StarReLU and xIELU
# diverged (their logits start far above the constant predictor's loss); here most of them train.
SETUP = {"loss": "ce", "arch": "mlp", "data": "digits", "width": 128, "depth": 2, "scale": "lecun", "init": "normal",
         "opt": "adam", "lr": 1e-3, "batch": 64, "steps": 500, "seeds": 5, "log_every": 5}
# the sources whose change changes the numbers (the cache is keyed by them)
_SOURCES = ("atlas_training.py", "activations.py", "catalogue.py", "data.py", "nets.py", "network.py", "optim.py",
            "losses.py", "inits.py", "divergence.py", "training/loop.py", "training/measure.py",
            "training/summary.py", "training/seed.py", "training/run.py", "training/spec.py")


def setup_text() -> str:
    s = SETUP
    return (f"{s['arch']} {s['depth']}x{s['width']}, {s['scale']} init, {s['loss']}, {s['data']}, {s['opt']} lr "
            f"{s['lr']:g}, batch {s['batch']}, {s['steps']} steps, {s['seeds']} seeds, last hidden layer")


def _key(name: str) -> str:
    from .activations import get_activation

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(json.dumps(SETUP, sort_keys=True).encode())
    digest.update(str(get_activation(name).expr).encode())
    for part in _SOURCES:
        digest.update((here / part).read_bytes())
    return digest.hexdigest()[:16]


def _cache_path(name: str) -> Path:
    return cache_root() / "atlas" / "training" / f"{name}-{_key(name)}.json"


def cached_summary(name: str) -> dict | None:
    """The cached summary of one activation, or None (not built yet for this setup and these sources)."""
    path = _cache_path(name)
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, ValueError):
        return None


def training_summary(name: str, cache: bool = True) -> dict:
    """Train SETUP for the catalogued activation ``name`` and summarize it (module docstring); cached."""
    if cache:
        found = cached_summary(name)
        if found is not None:
            return found
    from .api.training import train

    s = SETUP
    start = time.process_time()
    try:
        run = train(s["loss"], name, init=s["init"], scale=s["scale"], width=s["width"], depth=s["depth"],
                    arch=s["arch"], control=False, figures=False, data=s["data"], opt=s["opt"], lr=s["lr"],
                    batch=s["batch"], steps=s["steps"], seeds=s["seeds"], log_every=s["log_every"], kernel="numpy",
                    threads=1)
    except InputError as error:  # e.g. exp(x): logits of sd 1e45 at init, which float64 cannot train
        return _store(name, {"setup": setup_text(), "refused": str(error)}, cache)
    result = run.result
    main = result.summary.roles["main"]
    layer = main.layers[f"L{s['depth']}"]
    out = {
        "setup": setup_text(),
        "seeds": list(result.seeds),
        "diverged": [{"seed": d.seed, "step": d.step} for d in result.diverged if d.role == "main"],
        "zero_frac_start": layer.zero_frac_start.to_dict(),
        "zero_frac_change": layer.zero_frac_rise.to_dict(),
        "nonpos_frac_change": layer.nonpos_frac_rise.to_dict(),
        "positive_fraction": layer.positive_fraction.to_dict(),
        "sign_t0": layer.sign_t0.to_dict(),
        "turned_negative": len(layer.turned),
        "first_negative_median": layer.first_negative_median,
        "all_diverged": main.before_divergence,  # then the numbers are over each run's steps before it diverged
        "test_acc": main.final["test_acc"].to_dict() if "test_acc" in main.final else None,
        "cpu_seconds": round(time.process_time() - start, 2),
    }
    return _store(name, json.loads(json.dumps(out, default=_plain)), cache)


def _store(name: str, out: dict, cache: bool) -> dict:
    if cache:
        path = _cache_path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            scratch = path.with_suffix(".partial")
            scratch.write_text(json.dumps(out))
            scratch.replace(path)
        except OSError:
            pass  # an unwritable cache only costs a rebuild next time
    return out


def _plain(value):
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)
