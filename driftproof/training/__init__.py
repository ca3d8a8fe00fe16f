"""Training runs: does the sign of E[delta] persist past t = 0, and do the weights drift?

Public API: ``TrainSpec``, ``train``, ``TrainResult``, ``save_run``, ``load_run``, ; the
one loop every training runs through (``run_loop``, ``training_steps``, the ``Network`` interface).
"""

from .loop import LoopOutcome, Network, Observer, Step, run_loop, training_steps
from .measure import sign_statistic
from .run import Divergence, TrainResult, train
from .seed import RunLog
from .spec import TrainSpec
from .runfolder import load_run, save_run

__all__ = ["TrainSpec", "RunLog", "TrainResult", "Divergence", "train", "save_run", "load_run",
           "sign_statistic", "Network", "Observer", "Step", "LoopOutcome", "run_loop", "training_steps"]
