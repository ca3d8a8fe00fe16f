"""Monte Carlo estimates of E[δ] at initialization (DESIGN.md §4): Numba kernels apart from the estimator API."""

from .compare import Comparison, compare_conditional, compare_marginal
from .estimators import conditional, marginal
from .outcomes import ConditionalResult, LayerResult, MarginalResult
from .methods import METHODS
from .signtest import SignTest

__all__ = ["conditional", "marginal", "compare_conditional", "compare_marginal", "Comparison",
           "ConditionalResult", "MarginalResult", "LayerResult", "SignTest", "METHODS"]
