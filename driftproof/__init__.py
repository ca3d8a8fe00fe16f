"""driftproof: check the negative-weight-drift claim with derivation, Monte Carlo and training.

From Python, the command line's operations are functions with the same options and defaults::

    import driftproof
    result = driftproof.verify(loss="ce", act="gelu")     # a Verification: print it, or show it in a notebook
    result.verdict, result.exit_code, result.to_dict()
    driftproof.derive(loss="mse", act="relu2")              # the derivations, step by step
    driftproof.mc(loss="ce", act="gelu", method="antithetic").plot()

Bad input raises :class:`InputError`, whose message is the command line's one line.

The root names ``sweep`` and ``report`` are these functions; their packages are
``driftproof.sweeps`` and ``driftproof.reporting`` (``import driftproof.sweeps.grid`` works).
"""

__version__ = "0.1.0"

from . import activations, inits, losses
from .activations import register_activation
from .api import (ClaimsCheck, Derivations, MonteCarloCheck, TrainingRun, claims, derive, load, mc, report, sweep,
                  train, verify)
from .errors import InputError
from .results import Estimate, Evidence, RowKey, Verdict, Verification

__all__ = ["verify", "derive", "mc", "train", "sweep", "claims", "report", "load", "register_activation", "InputError", "Verification", "Verdict", "Evidence",
           "RowKey", "Estimate", "Derivations", "MonteCarloCheck", "TrainingRun", "ClaimsCheck", "activations", "losses", "inits",
           "__version__"]
