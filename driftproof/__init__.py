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

from ._version import __version__

from . import activations, inits, losses
from . import payloads, render  # the rows' typed payloads, and how results show themselves: registered on import
from .activations import register_activation
from .errors import InputError
from .results import Estimate, Evidence, RowKey, Verdict, Verification

# The operations live in driftproof.api, imported on first use (``driftproof.verify``): a command
# imports only the modules it runs, not the whole API (sweeps, reports, ...).
_API = ("verify", "derive", "mc", "train", "sweep", "claims", "report", "load", "Derivations", "MonteCarloCheck",
        "TrainingRun", "ClaimsCheck")

__all__ = ["verify", "derive", "mc", "train", "sweep", "claims", "report", "load", "register_activation", "InputError", "Verification", "Verdict", "Evidence",
           "RowKey", "Estimate", "Derivations", "MonteCarloCheck", "TrainingRun", "ClaimsCheck", "activations", "losses", "inits",
           "__version__"]


def __getattr__(name: str):
    if name in _API:
        from . import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'driftproof' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
