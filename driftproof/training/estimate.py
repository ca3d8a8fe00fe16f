"""How long and how large a ``train`` run will be, estimated before any work (the CLI states a long one).

MLP-like networks: :func:`~driftproof.training.spec.estimate_seconds`. Transformers (gpt, vit): floating-point
operations counted per token — per block, forward ~24 C^2 (q, k, v, output and the 4x MLP) plus 4 T C
(attention scores and their weighted sum), backward twice that; the readout 6 V C — over every step, seed and run,
plus the held-out evaluations (forward only), at TRANSFORMER_FLOP_RATE. An estimate catches orders of magnitude,
not seconds.
"""

from __future__ import annotations

from ..archs import get_arch
from ..budget import Budget, _duration, time_limit
from ..errors import InputError
from ..config import Config
from .spec import TrainSpec, estimate_bytes, estimate_seconds

__all__ = ["train_budget", "check_train_budget", "TRANSFORMER_FLOP_RATE", "TRANSFORMER_STEP_SECONDS"]

# float32 numpy, one BLAS thread: 30 steps of the default GPT and ViT (evaluating every step) measured 26 s and
# 29 s of CPU time for ~3.6e11 and ~4.3e11 counted operations (1.4e10/s and 1.5e10/s); rounded down.
TRANSFORMER_FLOP_RATE = 1e10
TRANSFORMER_STEP_SECONDS = 0.0  # per training step, beside the flops (Python and small-matrix overhead)


def _transformer_seconds(config: Config, spec: TrainSpec, runs: int) -> float:
    from ..transformer.model import check_heads

    check_heads(config.width, spec.heads)  # the network's own check, before an estimate of a run that cannot start
    arch = get_arch(spec.arch)
    C, L = config.width, config.depth
    tokens = getattr(arch, "tokens", None) or spec.context
    vocab = getattr(arch, "vocab", None) or config.classes
    per_token = L * (72 * C * C + 12 * tokens * C) + 6 * vocab * C
    train = spec.steps * spec.batch * tokens * per_token
    evaluations = (spec.steps // spec.eval_interval + 1) * spec.n_test * tokens * per_token / 3
    return ((train + evaluations) / TRANSFORMER_FLOP_RATE + spec.steps * TRANSFORMER_STEP_SECONDS) * spec.seeds * runs


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
