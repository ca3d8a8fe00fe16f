"""Pre-flight estimates of memory and time for ``mc`` and ``verify``: refuse what the machine cannot finish.

Memory counts the largest arrays a run holds at once (the context draw of p, one batch's
outputs and scratch); time counts random numbers at a measured rate. Both are estimates, meant
to catch orders of magnitude, not seconds: a run over the memory limit or over the time limit
(:func:`time_limit`, one hour unless ``DRIFTPROOF_MAX_SECONDS`` says otherwise) is refused with
an InputError (one line, exit 2, the estimate in it) before any work; the command line announces a
long one (:func:`announcement`; the library never prints). The Monte Carlo rows of ``verify`` are
estimated beside their sizes, :func:`driftproof.evidence.montecarlo.verify_budget`.

The estimates also check that the network's numbers fit float64 (:mod:`driftproof.ranges`):
a network whose activations overflow or whose expected gradient underflows is refused too.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from .config import Config
from .errors import InputError
from .ranges import check_float_range

__all__ = ["Budget", "memory_limit", "time_limit", "mc_budget", "check_budget", "check_memory", "announcement"]

# Measured on the 2-core reference machine (scripts/bench_mc.py): normals generated and consumed
# per CPU-second per thread by the counter kernels (~2.2e8 at width 256, ~1.7e8 at width 1024 under
# load; the lower, rounded down), and drawn by numpy in the wrapper.
COUNTER_RATE, NUMPY_RATE = 1.5e8, 4.5e7
# The projected sampler (Gaussian inits, montecarlo/projected.py): CPU-seconds per sample per unit and
# layer, and per sample (scripts/bench_mc.py part (p): 2.6 µs + 28.6 ns × width × depth under CE/GELU at
# load 12; rounded up).
PROJECTED_UNIT_SECONDS, PROJECTED_SAMPLE_SECONDS = 4e-8, 4e-6
ANNOUNCE_SECONDS = 10.0
DEFAULT_MAX_SECONDS = 3600.0
_NUMPY_BATCH_BYTES = 8 << 22  # samplers._BUDGET_NUMBERS doubles


@dataclass(frozen=True)
class Budget:
    """What a run is expected to hold and take: bytes at peak, seconds of sampling."""

    bytes: int
    seconds: float
    what: str

    def text(self) -> str:
        return f"{self.what}: about {_size(self.bytes)} of memory and {_duration(self.seconds)}"


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.0f} TB"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def memory_limit() -> int:
    """Bytes this process may use: MemAvailable from /proc/meminfo, else physical memory."""
    try:
        with open("/proc/meminfo") as stream:
            for line in stream:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def time_limit() -> float:
    """Seconds a run may be estimated to take: ``DRIFTPROOF_MAX_SECONDS``, else one hour."""
    text = os.environ.get("DRIFTPROOF_MAX_SECONDS", "")
    try:
        value = float(text) if text.strip() else DEFAULT_MAX_SECONDS
    except ValueError:
        raise InputError(f"DRIFTPROOF_MAX_SECONDS must be a number of seconds, got {text!r}") from None
    if not value > 0:
        raise InputError(f"DRIFTPROOF_MAX_SECONDS must be positive, got {text!r}")
    return value


def _threads() -> int:
    """The threads Numba's kernels will use: its setting once loaded, else its default (NUMBA_NUM_THREADS,
    or the CPUs this process may run on), without importing it for a run that needs no kernel."""
    if "numba" in sys.modules:
        return sys.modules["numba"].get_num_threads()
    text = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _weights(config: Config, start: int) -> int:
    return sum(a * b for a, b in config.fans[start:])


def mc_budget(config: Config, *, mode: str, samples: int, method: str, layer: int | None = None,
              rng: str = "philox", first_batch: int = 1024) -> Budget:
    """The estimate of ``mc`` (and of one verify row) for this configuration.

    Raises:
        InputError: the network's numbers do not fit float64 (:func:`~driftproof.ranges.check_float_range`).
    """
    check_float_range(config)
    if mode == "conditional" and layer is not None and not (isinstance(layer, int) and 1 <= layer <= config.depth):
        # the estimator refuses it too; here it is refused before an estimate is announced for it
        raise InputError(f"layer must be an integer in 1..{config.depth}, got {layer!r}")
    from .montecarlo.estimators import MAX_COUNTER_BATCH, counter_based
    from .montecarlo.methods import draws_used

    threads, width, depth = _threads(), config.width, config.depth
    layer = depth if layer is None else layer
    projected = draws_used(config, method, layer, "philox" if counter_based(config, layer, method, rng) else "numpy",
                           "auto") == "projected"
    if projected:  # O(width) per layer: scratch per thread, the batch's rows or sums
        first = 0 if mode == "marginal" else layer
        seconds = samples * (PROJECTED_SAMPLE_SECONDS + PROJECTED_UNIT_SECONDS * width * (depth - first + 1)) / threads
        scratch = threads * 8 * (3 * depth + 10) * max(width, config.d_in)
        if mode == "marginal":
            held = MAX_COUNTER_BATCH * depth * 4 * 8 * 2
        else:  # the context draw of p (numpy, whole matrices), then batches of per-unit rows
            held = 8 * sum(a * b for a, b in config.fans[:layer]) + min(samples, first_batch) * width * 8 * 6
        where = "" if mode == "marginal" else f", layer {layer}"
        return Budget(int(scratch + held), seconds, f"mc {mode}{where}, width {width}, depth {depth}")
    if mode == "marginal":
        per_sample = _weights(config, 0)
        if rng == "philox":
            from .montecarlo.samplers import keeps_weights  # imports Numba: only where its kernels will run

            keep = keeps_weights(config)
            kept = (depth - 1) * width * width if keep else 0  # W^2..W^L, per thread
            peak = threads * 8 * (kept + (3 * depth + 6) * max(width, config.d_in))
            peak += MAX_COUNTER_BATCH * depth * 4 * 8 * 2
            numbers, rate = per_sample * (1 if keep else 2), COUNTER_RATE * threads
        else:
            batch = max(1, (1 << 22) // per_sample)
            peak = _NUMPY_BATCH_BYTES + batch * depth * width * 8 * 6
            numbers, rate = per_sample * (1 if batch > 1 else 2), NUMPY_RATE
        return Budget(int(peak), samples * numbers / rate, f"mc marginal, width {width}, depth {depth}")
    # conditional: the context draw of p (numpy, whole matrices), then batches of per-unit rows
    context = 8 * _weights(config, 0) if layer == 0 else 8 * sum(a * b for a, b in config.fans[:layer])
    per_sample = _weights(config, layer)
    batch = min(samples, first_batch)
    rows = batch * width * 8 * (6 if layer < depth else 3)
    if counter_based(config, layer, method, rng):
        rate = COUNTER_RATE * threads
        scratch = threads * 8 * config.classes * width
    else:
        rate = NUMPY_RATE
        scratch = min(batch * per_sample, 1 << 22) * 8 * 2
    return Budget(int(context + rows + scratch), samples * per_sample / rate,
                  f"mc conditional, layer {layer}, width {width}, depth {depth}")


def check_budget(budget: Budget, limit: int | None = None, seconds: float | None = None) -> Budget:
    """InputError if ``budget`` exceeds the memory limit (default: what the machine has available)
    or the time limit (default :func:`time_limit`)."""
    limit = memory_limit() if limit is None else limit
    if budget.bytes > limit:
        raise InputError(f"{budget.text()}, more than the {_size(limit)} available: reduce --width or --depth")
    seconds = time_limit() if seconds is None else seconds
    if budget.seconds > seconds:
        raise InputError(f"{budget.text()}, more than the {_duration(seconds)} allowed: reduce --samples, --width, "
                         f"--depth or --classes (or raise DRIFTPROOF_MAX_SECONDS)")
    return budget


check_memory = check_budget  # the name the API has used since memory was the only limit


def announcement(budget: Budget) -> str | None:
    """The line the command line prints before a long run (estimated over ``ANNOUNCE_SECONDS``), else None."""
    return f"{budget.text()} (estimated)" if budget.seconds > ANNOUNCE_SECONDS else None
