"""Training evidence for ``driftproof verify`` (the registry in verify.py names this module).

The implementation lives in :mod:`driftproof.training`; this module re-exports its API.
"""

from .training import RunLog, TrainResult, TrainSpec, load_run, save_run, train, verify_rows

__all__ = ["TrainSpec", "RunLog", "TrainResult", "train", "save_run", "load_run", "verify_rows"]
