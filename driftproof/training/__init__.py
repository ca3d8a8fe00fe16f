"""Training runs: does the sign of E[delta] persist past t = 0, and do the weights drift?

Public API: ``TrainSpec``, ``train``, ``TrainResult``, ``save_run``, ``load_run``, ``verify_rows``.
"""

from .loop import RunLog, TrainSpec, sign_statistic
from .run import TrainResult, train
from .runfolder import load_run, save_run
from .rows import verify_rows

__all__ = ["TrainSpec", "RunLog", "TrainResult", "train", "save_run", "load_run", "verify_rows", "sign_statistic"]
