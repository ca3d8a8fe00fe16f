"""The estimator API: conditional and marginal Monte Carlo estimates of E[δ] with a sequential sign test.

``conditional`` fixes one pre-activation vector p^l (drawn from the seed's context stream,
or given) and resamples the downstream weights and labels: the theorem as stated. ``marginal``
resamples everything and pools δ^l over the units with p^l > 0, per layer (R4). Both sample
in batches on a fixed schedule and stop early once every tested sign is resolved.
"""

from __future__ import annotations

import time

import numpy as np

from ..config import Config
from ..errors import InputError
from ..results import Estimate
from .draws import draw_context
from .methods import RNGS, check_method, draws_used, largest_batch
from .outcomes import ConditionalResult, MarginalResult
from .reference import Antithetic, LastLayer
from .sequential import Progress, run_conditional, run_marginal
from .signtest import MIN_SAMPLES, schedule

__all__ = ["conditional", "marginal", "counter_based"]

MAX_COUNTER_BATCH = 4096  # the counter kernels keep only per-sample sums: batches are looks, not memory


def _load(draw) -> float:
    """Seconds to load (or, on a cold cache, compile) the kernels behind ``draw``, timed apart from the
    sampling: one sample drawn and discarded. Every stream is keyed by its coordinates (seed, batch or
    sample, ...), never advanced, so the discarded draw leaves the run's numbers unchanged."""
    started = time.perf_counter()
    draw(0, 0, 1)
    return time.perf_counter() - started


def _check_common(samples, alpha) -> tuple[int, float]:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < MIN_SAMPLES:
        raise InputError(f"samples must be an integer >= {MIN_SAMPLES}, got {samples!r}")
    if not isinstance(alpha, (int, float)) or not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be in (0, 1), got {alpha!r}")
    return int(samples), float(alpha)


def _check_rng(rng) -> str:
    if rng not in RNGS:
        raise InputError(f"rng must be one of {', '.join(RNGS)}, got {rng!r}")
    return rng


def counter_based(config: Config, layer: int, method: str, rng: str) -> bool:
    """Whether this estimate generates its numbers in the kernels: ``rng='philox'`` where a counter
    kernel exists (naive and cv at every layer; antithetic and reduced at the last; every marginal
    method), else numpy."""
    return rng == "philox" and (method in ("naive", "cv") or layer == config.depth)


def _check_p(config: Config, p) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    if p.shape != (config.width,) or not np.all(np.isfinite(p)):
        raise InputError(f"p must be {config.width} finite numbers (the layer's width), got shape {p.shape}")
    return p


def conditional(config: Config, *, layer: int | None = None, method: str = "cv", samples: int = 20000,
                alpha: float = 1e-6, p=None, first_batch: int = 1024, stop_early: bool = True,
                progress: Progress = None, rng: str = "philox", draws: str = "auto") -> ConditionalResult:
    """Estimate E[δ^l_i | p^l] for every unit i of ``layer`` (default the last hidden layer).

    Args:
        method: naive, cv (drop the zero-mean label term), reduced (CE, Gaussian init, last layer:
            sample the logits, R2) or antithetic (symmetric independent init, last layer).
        samples: the budget; alpha: family-wise error of the sign test over the units with p_i > 0.
        p: the layer's pre-activations; default one draw of x and W^1..W^l from the seed.
        stop_early: stop as soon as every tested unit's sign is resolved.
        progress: called with the number of samples after each batch.
        rng: ``philox`` (default) generates V and the labels inside the kernel from counters indexed by
            the sample; ``numpy`` draws them in the wrapper (the independent reference); ``config["rng"]`` of the
            result says which ran.
        draws: with ``rng='philox'``, ``projected`` draws p = W h and Wᵀδ in law, O(width) numbers per layer
            (naive and cv under the Gaussian inits, :mod:`.projected`), ``weights`` every weight; ``auto``
            (default) projects wherever that is exact; ``config["draws"]`` of the result says which ran.
    """
    layer = config.depth if layer is None else layer
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= config.depth:
        raise InputError(f"layer must be an integer in 1..{config.depth}, got {layer!r}")
    samples, alpha = _check_common(samples, alpha)
    check_method(config, method, layer, "conditional")
    rng = _check_rng(rng)
    p = draw_context(config, layer) if p is None else _check_p(config, p)
    activation = config.activation
    h, dphi = activation.numpy(p), activation.numpy_derivative(p)
    used = "philox" if counter_based(config, layer, method, rng) else "numpy"
    drawn = draws_used(config, method, layer, used, draws)
    loading = 0.0
    if used == "numpy" and layer == config.depth and method != "reduced":
        sampler = {"naive": LastLayer, "cv": LastLayer, "antithetic": Antithetic}[method](config, h, dphi, method)
        draw = (lambda batch, start, size: sampler.draw(batch, size))
    else:
        draw = _kernel_draw(config, layer, method, used, h, dphi, drawn == "projected")
        loading = _load(draw)
    sizes = schedule(samples, first_batch, largest_batch(config, layer))
    return run_conditional(draw, sizes, config={**config.to_dict(), "rng": used, "draws": drawn}, layer=layer,
                           method=method, p=p, alpha=alpha, budget=samples, seed=config.seed, stop_early=stop_early,
                           progress=progress, load_seconds=loading)


def _kernel_draw(config: Config, layer: int, method: str, used: str, h: np.ndarray, dphi: np.ndarray,
                 projected: bool):
    """The conditional draw of the estimators that run Numba kernels (imported here: the numpy path
    of ``verify``'s rows never loads Numba)."""
    from .samplers import (CounterInner, CounterLastLayer, CounterReduced, Network, ProjectedInner,
                           ProjectedLastLayer, Reduced)

    if projected and layer < config.depth:
        draw = ProjectedInner(config, layer, h, dphi, method).draw
    elif projected:
        draw = ProjectedLastLayer(config, h, dphi, method).draw
    elif used == "philox" and layer < config.depth:
        draw = CounterInner(config, layer, h, dphi, method).draw
    elif used == "philox":
        counter = CounterReduced if method == "reduced" else CounterLastLayer
        draw = counter(config, h, dphi, method).draw
    elif layer == config.depth:  # reduced, numpy-drawn
        sampler = Reduced(config, h, dphi, method)
        draw = (lambda batch, start, size: sampler.draw(batch, size))
    else:
        network = Network(config, layer, h, dphi, split=method == "cv")

        def draw(batch, start, size):
            deltas, _ = network.draw(batch, size)
            parts = deltas[layer]
            naive = parts.sum(axis=1)
            return (naive, None) if method == "naive" else (parts[:, 0], naive)
    return draw


def marginal(config: Config, *, method: str = "cv", samples: int = 2000, alpha: float = 1e-6,
             first_batch: int = 32, stop_early: bool = False, progress: Progress = None,
             rng: str = "philox", draws: str = "auto") -> MarginalResult:
    """Estimate E[δ^l_i | p^l_i > 0], E[δ^l_i] and P(p^l_i > 0) for every hidden layer l (compare R4).

    Inputs, every weight and the labels are resampled; the sign test runs over the layers. With
    ``rng='philox'`` (default) the kernel generates every number from counters indexed by the
    sample, so batches are bounded by the output only; ``rng='numpy'`` is the numpy-drawn reference.
    ``draws`` as in :func:`conditional`: the Gaussian inits project by default (O(width) numbers per layer).
    """
    samples, alpha = _check_common(samples, alpha)
    check_method(config, method, config.depth, "marginal")
    rng = _check_rng(rng)
    drawn = draws_used(config, method, config.depth, rng, draws)
    layers = range(1, config.depth + 1)
    from .samplers import CounterNetwork, Network, ProjectedNetwork  # Numba kernels, imported on first use

    if rng == "philox":
        draw = (ProjectedNetwork if drawn == "projected" else CounterNetwork)(config, split=method == "cv").draw
        sizes = schedule(samples, first_batch, MAX_COUNTER_BATCH)
    else:
        network = Network(config, 0, split=method == "cv")

        def draw(batch, start, size):
            deltas, ps = network.draw(batch, size)
            return [deltas[layer] for layer in layers], [ps[layer] for layer in layers]

        sizes = schedule(samples, first_batch, largest_batch(config, 0))
    loading = _load(draw)
    return run_marginal(draw, sizes, config={**config.to_dict(), "rng": rng, "draws": drawn}, depth=config.depth,
                        width=config.width, method=method,
                        alpha=alpha, budget=samples, seed=config.seed, stop_early=stop_early, progress=progress,
                        load_seconds=loading)
