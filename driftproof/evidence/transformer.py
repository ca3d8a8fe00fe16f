"""The transformer arms of ``verify`` (``--arch gpt``, ``--arch vit``): the claim at the MLPs of the
paper's own GPT (and of the ViT on the digits).

Three kinds of rows, each keyed ``arch="gpt"`` or ``"vit"`` (``init="pytorch"``: the paper's code draws
every weight, the tied embedding included, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch does):

- symbolic (R6): the derivation covers an *untied* i.i.d. Gaussian readout after RMSNorm with
  eps = 0, and there proves E[δ | p] = 0 in every block (``derive --arch resmlp``). The paper's GPT
  ties the readout to the token embedding (the stream starts at V[ids], so V is not independent of
  it) and draws it uniformly: outside the proof. The row says so; its verdict is *inconclusive*.
- Monte Carlo at t = 0: the sign statistic E[δ | p > 0] of every block's MLP over ``T0_INITS``
  independent inits (seeds seed, seed + 1, ...), each on its own batch of text windows; per block
  the mean over inits with a 95% Student-t interval, and a sign test over the blocks (normal
  approximation, Holm at family-wise ``ALPHA``). With the paper's tied readout the row decides;
  the same GPT with R6's untied Gaussian readout is the control (*info*: the derivation predicts 0).
  The ViT (untied uniform head on the mean over tokens of the normalized stream, also outside the
  proof) has one row, which decides; its batches are 8 digit images (16 patches each).
- training: a short AdamW run of the same network on its data (``TRAIN_SIZES``): per block, how long
  the sign statistic stays positive (fraction of steps, the first step its running mean turns
  negative) and the exact-zero sparsity of the MLP hidden layer at the start and the end.

Defaults: width 32, depth 2 (2 blocks), 2 heads, context 16, batch 8 windows (the shapes of
``scripts/r6_transformer.py``); about 15 s on one core (``budget`` states it before any work).
"""

from __future__ import annotations

import functools
import sys
import time
from dataclasses import replace

import numpy as np
from threadpoolctl import threadpool_limits

from ..archs import get_arch
from ..budget import Budget
from ..config import Config
from ..data import Dataset, make_dataset
from ..errors import InputError
from ..montecarlo.signtest import SignTest, signs
from ..nets import build_net
from ..payloads import (BlockEstimate, SignTestNumbers, TransformerBlock, TransformerMonteCarloNumbers,
                        TransformerTheoryNumbers, TransformerTrainingNumbers)
from ..results import INCONCLUSIVE, INFO, HOLDS, Estimate, Evidence, RowKey
from ..training.run import train
from ..training.spec import TrainSpec

__all__ = ["init_signs", "t0_signs", "t0_result", "symbolic_rows", "montecarlo_rows", "training_rows", "budget",
           "describe", "gpt_config", "check_shape", "train_spec", "text_data", "SHAPE", "T0_INITS", "ALPHA",
           "TRAIN_SIZES", "INIT", "CONTROL_INIT", "DEFAULT_WIDTH", "DEFAULT_DEPTH", "READOUTS", "ARCH_READOUTS",
           "arch_config", "digits_data", "DATA", "NAMES"]

INIT = "pytorch"  # key.init of the rows: every weight U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as the paper's code
CONTROL_INIT = "gaussian-readout"  # key.init of the control: the same GPT with an untied N(0, 1/width) head
DEFAULT_WIDTH, DEFAULT_DEPTH = 32, 2
SHAPE = {"heads": 2, "context": 16, "batch": 8}
T0_INITS = 1024  # block 2 of the default GPT: +2e-5 with a standard deviation of ~1e-4 over inits
ALPHA = 1e-3
CONFIDENCE = 0.95
READOUTS = ("tied", "gaussian")  # the GPT's; the ViT has one, untied head
ARCH_READOUTS = {"gpt": READOUTS, "vit": ("untied",)}
DATA = {name: get_arch(name).default_data for name in ARCH_READOUTS}  # each arm's data set, from the registry
NAMES = {name: get_arch(name).title for name in ARCH_READOUTS}
TRAIN_SIZES = {"steps": 300, "seeds": 3, "batch": 8, "lr": 3e-3, "n_test": 16}
# Seconds per pass (an init's forward and backward of one batch, or a training step): a fixed cost, one per block
# and a part proportional to tokens x width^2 x depth, per architecture. Fitted by scripts/calibrate_estimates.py
# (results/calibrate_estimates.json) to verify --arch gpt (width 32, 64; depth 2, 6) and vit (width 32, 64; depth 2,
# 4, 8, 16): the critical path's CPU seconds (parent and forked training child run at once) on the 2-core machine
# at load ~8, within 2% on all eight. The ViT costs more per product: its training row evaluates 360 held-out
# images about 21 times a seed. (Before: one 4 ms + 1e-8 for both, 1.5-2.8x high for the GPT, 2.5x low for a
# ViT 16 blocks deep.)
INIT_SECONDS = {"gpt": 1.5e-4, "vit": 2.6e-4}
BLOCK_SECONDS = {"gpt": 7.9e-4, "vit": 6.7e-4}  # per block and pass: norms, attention's small products, RoPE
PRODUCT_SECONDS = {"gpt": 3.0e-9, "vit": 6.4e-9}


@functools.cache
def text_data(context: int = SHAPE["context"]) -> Dataset:
    """The text corpus as windows of ``context`` characters (the same for every init and seed)."""
    return make_dataset("text", input_dim=context, classes=0, n_train=0, n_test=64, rng=np.random.default_rng(0))


@functools.cache
def digits_data() -> Dataset:
    """The digits, 360 held out (the ViT's split), the same for every init and seed."""
    return make_dataset("digits", input_dim=64, classes=10, n_train=0, n_test=360, rng=np.random.default_rng(0))


def check_shape(config: Config, arch: str = "gpt") -> None:
    """InputError unless the width splits into ``SHAPE["heads"]`` heads of even size (RoPE rotates pairs)."""
    heads = SHAPE["heads"]
    if config.width % heads or (config.width // heads) % 2:
        raise InputError(f"--arch {arch}: width must split into {heads} heads of even size (a multiple of "
                         f"{2 * heads}), got {config.width}")


def gpt_config(config: Config, context: int = SHAPE["context"]) -> Config:
    """``config`` as the GPT's: cross-entropy over the corpus's vocabulary, inputs of ``context`` tokens."""
    check_shape(config)
    if config.loss != "ce":
        raise InputError(f"--arch gpt trains on next-token cross-entropy: loss must be ce, got {config.loss!r}")
    return replace(config, classes=text_data(context).classes, input_dim=context)


def arch_config(config: Config, arch: str) -> Config:
    """``config`` as the network ``arch`` (gpt or vit) is built from: its outputs and input size."""
    if arch == "gpt":  # this module's two arms differ here: the GPT reads windows of the text's characters
        return gpt_config(config)
    check_shape(config, arch)
    if config.loss != "ce":
        raise InputError(f"--arch vit classifies the digits with cross-entropy: loss must be ce, got {config.loss!r}")
    return replace(config, classes=10, input_dim=64)


def init_signs(config: Config, readout: str, seed: int, data: Dataset, *, heads: int = SHAPE["heads"],
               context: int = SHAPE["context"], batch: int = SHAPE["batch"]) -> tuple[list[float], list[float]]:
    """Per block, for one init (``seed``) and one batch: the sign statistic E[δ | p > 0] and the mean |δ|
    over the same entries. The network and the batch's windows (images) come from the generator [seed, 7].
    ``readout``: tied or gaussian (a GPT), untied (the ViT)."""
    config = replace(config, seed=seed)
    rng = np.random.default_rng([seed, 7])
    if readout == "untied":
        net = build_net("vit", config, rng=rng, heads=heads)
    else:
        net = build_net("gpt", config, rng=rng, heads=heads, context=context, readout=readout)
    rows = rng.integers(0, len(data.x_train), batch)
    _, _, back = net.loss_and_backward(data.x_train[rows], data.y_train[rows], config.loss_fn)
    out_signs, scales = [], []
    for delta, p in zip(back.deltas, net.cache["p"]):
        positive = p > 0
        out_signs.append(float(delta[positive].mean()))
        scales.append(float(np.abs(delta[positive]).mean()))
    return out_signs, scales


def t0_signs(config: Config, readout: str, inits: int, *, progress=None, **shape) -> tuple[np.ndarray, np.ndarray]:
    """(signs, scales), each (inits, blocks), over the inits seeded config.seed, config.seed + 1, ...
    ``readout`` untied: the ViT on the digits; tied or gaussian: the GPT on the text."""
    if readout == "untied":
        config, data = arch_config(config, "vit"), digits_data()
    else:
        config = gpt_config(config, shape.get("context", SHAPE["context"]))
        data = text_data(shape.get("context", SHAPE["context"]))
    pairs = []
    for i in range(inits):
        pairs.append(init_signs(config, readout, config.seed + i, data, **shape))
        if progress is not None:
            progress(1)
    return np.array([s for s, _ in pairs]), np.array([c for _, c in pairs])


def t0_result(values: np.ndarray, seed: int, alpha: float = ALPHA) -> tuple[list[Estimate], SignTest]:
    """Per block the mean over inits (95% Student t, the first seed recorded) and the sign test over blocks."""
    estimates = [replace(Estimate.student_t(values[:, b], CONFIDENCE, f"student_t over {len(values)} inits"),
                         seed=seed) for b in range(values.shape[1])]
    means, stderrs = np.array([e.mean for e in estimates]), np.array([e.stderr for e in estimates])
    sign = signs(means, stderrs, alpha)
    test = SignTest.from_signs(sign, np.arange(1, len(estimates) + 1), alpha, looks=1, samples=len(values),
                               budget=len(values))
    return estimates, test


def _outcome(estimates: list[Estimate], test: SignTest) -> str:
    if test.negative:
        return "negative"
    if test.positive == test.tested:
        return "positive"
    return "zero_within_interval" if all(e.contains(0.0) for e in estimates) else "unresolved"


def _mc_row(config: Config, arch: str, readout: str, inits: int, bar) -> Evidence:
    start = time.perf_counter()
    values, scales = t0_signs(config, readout, inits, progress=bar.update if bar is not None else None)
    estimates, test = t0_result(values, config.seed)
    outcome = _outcome(estimates, test)
    blocks = tuple(BlockEstimate(block=b + 1, estimate=replace(e, values=None), scale=float(scales[:, b].mean()),
                                 relative=e.mean / float(scales[:, b].mean())) for b, e in enumerate(estimates))
    numbers = TransformerMonteCarloNumbers(
        outcome=outcome, readout=readout, inits=inits, seed=config.seed, seeds=(config.seed, config.seed + inits - 1),
        width=config.width, depth=config.depth, **SHAPE, loss="ce", data=DATA[arch], confidence=CONFIDENCE,
        blocks=blocks, sign_test=SignTestNumbers.of(test), seconds=time.perf_counter() - start)
    if readout != "gaussian":  # the paper's networks: the sign test decides
        return Evidence("montecarlo", RowKey("MC", init=INIT, data=DATA[arch], arch=arch), test.verdict, numbers)
    # R6's assumption (an untied Gaussian readout): a control the derivation predicts to be 0
    return Evidence("montecarlo", RowKey("MC", init=CONTROL_INIT, data="text", arch="gpt"), INFO, numbers)


def _bar(progress: bool, total: int, desc: str, unit: str):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False, unit=unit)


def montecarlo_rows(config: Config, progress: bool = False, inits: int = T0_INITS, arch: str = "gpt"
                    ) -> list[Evidence]:
    """The t = 0 rows. GPT: the paper's tied readout (decides), then R6's untied Gaussian readout (control);
    ViT: its untied head (decides)."""
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):
        for readout in ARCH_READOUTS[arch]:
            bar = _bar(progress, inits, f"{arch} t=0, {readout} readout", "init")
            try:
                rows.append(_mc_row(config, arch, readout, inits, bar))
            finally:
                if bar is not None:
                    bar.close()
    return rows


_FAILS = {"gpt": ["the readout is tied to the token embedding, so the stream x_0 = V[ids] depends on V",
                  "V is drawn uniformly, not Gaussian", "RMSNorm has eps = 1e-6, not 0"],
          "vit": ["the head reads the mean over the 16 tokens of the normalized stream, whose norm is not constant",
                  "the head is drawn uniformly, not Gaussian", "RMSNorm has eps = 1e-6, not 0"]}


def symbolic_rows(config: Config, arch: str = "gpt") -> list[Evidence]:
    """R6 at the GPT (ViT): what the derivation proves (an untied Gaussian readout of a normalized stream)
    and why the paper's network is outside it."""
    numbers = TransformerTheoryNumbers(
        outcome="outside_proof", readout=ARCH_READOUTS[arch][0], norm="rms", eps=1e-6,
        proved_for="an untied readout V with i.i.d. Gaussian entries, independent of the stream and the labels, "
                   "after RMSNorm with eps = 0: E[δ|p] = 0 in every block, attention included",
        fails=tuple(_FAILS[arch]))
    return [Evidence("symbolic", RowKey("R6", init=INIT, arch=arch), INCONCLUSIVE, numbers)]


def train_spec(config: Config, arch: str = "gpt") -> TrainSpec:
    s = TRAIN_SIZES
    return TrainSpec(arch=arch, data=DATA[arch], opt="adamw", lr=s["lr"], steps=s["steps"], batch=s["batch"],
                     # held out: 16 text windows for the GPT; the ViT's split of the digits (360 images)
                     seeds=s["seeds"], n_test=s["n_test"] if arch == "gpt" else 360, kernel="numpy", control=None,
                     threads=1, eval_every=s["steps"], heads=SHAPE["heads"], context=SHAPE["context"])


def _block(layer) -> TransformerBlock:
    return TransformerBlock(sign_t0=layer.sign_t0, positive_fraction=layer.positive_fraction,
                            first_negative_running_mean=tuple(layer.first_negative_running_mean),
                            zero_frac_start=layer.zero_frac_start, zero_frac_end=layer.zero_frac_end)


def training_rows(config: Config, progress: bool = False, arch: str = "gpt") -> list[Evidence]:
    """One row: a short run of the GPT on the text (the ViT on the digits); the sign's persistence and the
    sparsity per block.

    holds: the running mean of the sign statistic stayed positive for the whole run in every seed and
    block; info: it turned negative somewhere (the row says where). Training rows inform verify's verdict.
    """
    spec = train_spec(config, arch)
    bar = _bar(progress, spec.steps * spec.seeds, f"{arch} training row", "step")
    try:
        result = train(arch_config(config, arch), spec, tick=bar.update if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    main = result.summary.roles["main"]
    blocks = [_block(main.layers[f"L{b}"]) for b in range(1, config.depth + 1)]
    persisted = all(s is None for block in blocks for s in block.first_negative_running_mean)
    # SHAPE's batch (the t = 0 batch) is the one this row has always recorded under "batch"
    numbers = TransformerTrainingNumbers(
        steps=spec.steps, seeds=tuple(result.seeds), opt=spec.opt, lr=spec.lr, width=config.width, depth=config.depth,
        **SHAPE, blocks=tuple(blocks), persisted=persisted, test_loss=main.final["test_loss"],
        diverged_seeds=tuple(main.diverged), seconds=result.seconds)
    return [Evidence("training", RowKey("train", init=INIT, data=DATA[arch], arch=arch),
                     HOLDS if persisted else INFO, numbers)]


def budget(config: Config, inits: int = T0_INITS, arch: str = "gpt") -> Budget:
    """Time and memory of ``verify --arch gpt|vit``: the inits of each readout and the training row's steps
    (16 tokens a window or image, 8 a batch; the ViT's held-out evaluations are 360 images)."""
    check_shape(config, arch)
    tokens = SHAPE["batch"] * SHAPE["context"]
    per_pass = (INIT_SECONDS[arch] + BLOCK_SECONDS[arch] * config.depth
                + PRODUCT_SECONDS[arch] * tokens * config.width**2 * config.depth)
    steps = TRAIN_SIZES["steps"] * TRAIN_SIZES["seeds"]
    readouts = len(ARCH_READOUTS[arch])
    seconds = per_pass * (readouts * inits + steps)
    params = 12 * config.width**2 * config.depth + 2 * 128 * config.width
    cached = config.depth * tokens * 16 * config.width + tokens * 128 * 3
    return Budget(int(8 * (4 * params + 2 * cached)), seconds,
                  f"verify --arch {arch}, width {config.width}, depth {config.depth}, {inits} inits x {readouts} "
                  f"readout{'s' if readouts > 1 else ''}, {TRAIN_SIZES['seeds']} x {TRAIN_SIZES['steps']} "
                  "training steps")


def describe(config: Config, arch: str = "gpt") -> dict:
    """The verification's configuration entries that differ for a transformer (its init, outputs, shape)."""
    net = arch_config(config, arch)
    # the GPT's shape names its context; the ViT's images are 16 tokens
    shape = SHAPE if arch == "gpt" else {"heads": SHAPE["heads"], "batch": SHAPE["batch"], "tokens": 16}
    return {"init": INIT, "init_name": "pytorch-default", "scale": "U(±1/√fan_in)",
            "classes": net.classes, "input_dim": net.d_in, **shape, "inits": T0_INITS, "norm": "rms"}
