"""Training runs: does the sign of E[delta] persist past t = 0, and do the weights drift?

Public API: ``TrainSpec``, ``train``, ``TrainResult``, ``save_run``, ``load_run``, ``verify_rows``.
"""

from .loop import Network, Observer, Step, LoopOutcome, run_loop, training_steps
from .measure import sign_statistic
from .seed import RunLog
from .spec import TrainSpec
from .run import TrainResult, train
from .runfolder import load_run, save_run
from .rows import verify_rows

__all__ = ["TrainSpec", "RunLog", "TrainResult", "train", "save_run", "load_run", "verify_rows", "sign_statistic"]
