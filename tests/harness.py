"""The shared harness for "Monte Carlo agrees with theory": per-unit z-scores against an oracle
(conditional mode, :func:`assert_agrees`) and pooled per-layer estimates against a prediction
with a finite-width allowance (marginal mode, :func:`assert_agrees_marginal`)."""

from __future__ import annotations

import signal

import numpy as np

from driftproof.montecarlo import ConditionalResult, MarginalResult

# A per-unit |z| above this fails: with <= 256 units per check the chance that an honest
# estimator fails is about 256 * 6e-7 (normal tails), while a bias of 5 standard errors fails.
Z_TOLERANCE = 5.0


def assert_agrees(result: ConditionalResult, predicted: np.ndarray, *, units=None, oracle_stderr=None,
                  z_tolerance: float = Z_TOLERANCE) -> np.ndarray:
    """Assert |mean_i - predicted_i| <= z_tolerance * stderr_i for the tested units (or ``units``)."""
    units = np.array(result.tested if units is None else units)
    assert len(units) > 0
    stderr = result.stderrs[units]
    if oracle_stderr is not None:
        stderr = np.sqrt(stderr**2 + np.broadcast_to(oracle_stderr, predicted.shape)[units] ** 2)
    difference = result.means[units] - predicted[units]
    # A unit with zero variance (e.g. relu with p_i <= 0: δ_i = 0 on every sample) must match exactly.
    exact = stderr == 0
    assert np.all(np.abs(difference[exact]) <= 1e-12 * (1 + np.abs(predicted[units][exact]))), units[exact]
    z = np.where(exact, 0.0, difference / np.where(exact, 1.0, stderr))
    worst = int(np.argmax(np.abs(z)))
    assert np.all(np.abs(z) <= z_tolerance), (
        f"unit {units[worst]}: estimate {result.means[units][worst]:.6g} ± {stderr[worst]:.3g},"
        f" predicted {predicted[units][worst]:.6g}, z = {z[worst]:.2f} ({result.method}, n = {result.units[0].n})")
    return z


def assert_agrees_marginal(result: MarginalResult, predicted: dict[int, float], *, z_tolerance: float = 4.0,
                           relative: float = 0.03) -> None:
    """Assert each layer's E[δ | p > 0] is within z_tolerance standard errors + ``relative`` of
    its prediction (``predicted[layer]``); ``relative`` allows for finite-width corrections."""
    for layer in result.layers:
        estimate, value = layer.delta_given_positive, predicted[layer.layer]
        assert abs(estimate.mean - value) <= z_tolerance * estimate.stderr + relative * abs(value), (
            f"layer {layer.layer}: estimate {estimate.mean:.6g} ± {estimate.stderr:.3g}, predicted {value:.6g} "
            f"({result.method}, n = {estimate.n})")


def logit_curvature(std: float, classes: int, samples: int = 400_000, seed: int = 12345) -> tuple[float, float]:
    """E[Σ_k π_k(1-π_k)] for z ~ N(0, std² I_K), by plain numpy Monte Carlo: (mean, stderr)."""
    rng = np.random.default_rng(seed)
    z = std * rng.standard_normal((samples, classes))
    z -= z.max(axis=1, keepdims=True)
    pi = np.exp(z)
    pi /= pi.sum(axis=1, keepdims=True)
    trace = (pi * (1 - pi)).sum(axis=1)
    return float(trace.mean()), float(trace.std() / np.sqrt(samples))


def default_sigint() -> None:
    """``Popen(preexec_fn=default_sigint)``: the child starts with SIGINT at its default, as one started from a
    terminal. A test run launched in the background without job control (``pytest &`` in a script) ignores
    SIGINT, every child inherits that, and Python then leaves it ignored: a Ctrl-C test would wait forever."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
