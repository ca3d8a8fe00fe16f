"""How long and how large a ``train`` run will be, estimated before any work (the CLI states a long one).

MLP-like networks: :func:`~driftproof.training.spec.estimate_seconds`. Transformers (gpt, vit): floating-point
operations counted per token — per block, forward ~24 C^2 (q, k, v, output and the 4x MLP) plus 4 T C
(attention scores and their weighted sum), backward twice that; the readout 6 V C — over every step, seed and run,
plus the held-out evaluations (forward only), at TRANSFORMER_FLOP_RATE, and TRANSFORMER_EVAL_SECONDS for each
evaluation's measurements. Calibrated against measurement (scripts/calibrate_estimates.py): within 10% at load ~7.
"""

from __future__ import annotations

from ..archs import get_arch
from ..budget import Budget, _duration, time_limit
from ..errors import InputError
from ..config import Config
from .spec import TrainSpec, estimate_bytes, estimate_seconds

__all__ = ["train_budget", "check_train_budget", "TRANSFORMER_FLOP_RATE", "TRANSFORMER_EVAL_SECONDS"]

# Fitted by scripts/calibrate_estimates.py (results/calibrate_estimates.json) to train --arch gpt|vit runs of width
# 32-64, depth 2-4, 40-120 steps, one seed and the control, CPU seconds on the 2-core machine at load ~7: 8.5e9
# counted flop/s (rounded down to 8e9) and 0.25 s per held-out evaluation (the paper's metrics on the held-out set,
# about 21 a run whatever its length), within 10% on every case; a per-step constant fitted to 0. The earlier
# 1e10 and nothing per evaluation estimated short runs 1.4-5.7x low.
TRANSFORMER_FLOP_RATE = 8e9
TRANSFORMER_EVAL_SECONDS = 0.25  # per held-out evaluation, beside its flops


def _transformer_seconds(config: Config, spec: TrainSpec, runs: int) -> float:
    from ..transformer.model import check_heads

    check_heads(config.width, spec.heads)  # the network's own check, before an estimate of a run that cannot start
    arch = get_arch(spec.arch)
    C, L = config.width, config.depth
    tokens = getattr(arch, "tokens", None) or spec.context
    vocab = getattr(arch, "vocab", None) or config.classes
    per_token = L * (72 * C * C + 12 * tokens * C) + 6 * vocab * C
    train = spec.steps * spec.batch * tokens * per_token
    passes = spec.steps // spec.eval_interval + 1  # held-out evaluations, each with the paper's metrics
    evaluations = passes * spec.n_test * tokens * per_token / 3
    return ((train + evaluations) / TRANSFORMER_FLOP_RATE + passes * TRANSFORMER_EVAL_SECONDS) * spec.seeds * runs


def train_budget(config: Config, spec: TrainSpec, runs: int) -> Budget:
    """The memory and time of ``runs`` (1, or 2 with the control) x ``spec.seeds`` training runs."""
    arch = get_arch(spec.arch)
    seconds = _transformer_seconds(config, spec, runs) if arch.pytorch_init else estimate_seconds(config, spec, runs)
    control = " and its control" if runs == 2 else ""
    return Budget(estimate_bytes(config, spec), seconds,
                  f"train --arch {spec.arch}, width {config.width}, depth {config.depth}, {spec.steps} steps x "
                  f"{spec.seeds} seeds{control}")


def check_train_budget(budget: Budget) -> Budget:
    """InputError (one line) for a run estimated to take longer than the time limit (``DRIFTPROOF_MAX_SECONDS``,
    one hour by default); the memory is checked by :func:`~driftproof.training.run.check_size`."""
    limit = time_limit()
    if budget.seconds > limit:
        raise InputError(f"{budget.text()}, more than the {_duration(limit)} allowed: reduce --steps, --seeds, "
                         "--width or --depth (or raise DRIFTPROOF_MAX_SECONDS)")
    return budget
