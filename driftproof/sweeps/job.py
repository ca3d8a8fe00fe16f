"""Train one sweep configuration and measure what the claims need (issue 6).

Measured on the held-out set: loss and accuracy; per hidden layer, the fraction of exact
zeros in h (activation sparsity), the other sparsity measures (``measure.sparsity_measures``:
p <= 0, |h| < 0.05 RMS(h)) and the spike statistics of h. Measured on a fixed probe batch (the
first ``PROBE`` held-out samples) every ``steps // 20`` steps: the sparsity trajectory of each
measure, so C1 can ask whether sparsity *rises during* training (``sparsity_measures``: start,
end, max per layer). Every step's batch loss decides, with the final losses, whether the run
diverged and at which step (the one rule of :mod:`driftproof.divergence`); ``scale`` records the
parameters, steps, samples and (GPT) tokens. Measured on each step's own
training batch, at every step: per hidden layer (per block's MLP for a transformer), the sign
statistic E[δ | p > 0] (``sign``: its value at t = 0 with the batch standard error and the counts,
and its persistence: the fraction of steps positive and the first step its running mean turns
negative, None if never within the run). The result is a plain JSON-ready dict; the same job gives
the same numbers in any process (BLAS on one thread).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from threadpoolctl import threadpool_limits

from ..config import Config
from ..archs import get_arch
from ..nets import build_net
from ..training.loop import Step, run_loop, shuffled_batches
from ..divergence import NOT_LEARNABLE, divergence_step, reference_loss
from ..training.measure import SPARSITY_MEASURES, accuracy, sign_statistic, sparsity_measures
from ..training.summary import first_negative_running_mean
from ..training.spec import TrainSpec, dataset_for, make_spec_optimizer, net_config, net_shape
from .forced import force_sparsity
from .grid import MEASURE_VERSION, Job
from .stats import spike_stats

__all__ = ["run_job", "clip_threshold", "PROBE"]

PROBE = 256
INPUT_DIM = 64  # noise data gets the digits' input dimension, so both see the same network shapes


def _config(job: Job, act: str | None = None) -> Config:
    return Config(loss="ce", act=act or job.act, scale=job.scale, width=job.width, depth=job.depth, classes=10,
                  input_dim=INPUT_DIM, seed=job.seed)


def _spec(job: Job) -> TrainSpec:
    # transformers: float32 (as ``driftproof train`` runs them) and the default shape (4 heads, context 64)
    return TrainSpec(arch=job.arch, data=job.data, opt=job.opt, lr=job.lr, wd=job.wd, steps=job.steps,
                     batch=job.batch, seeds=1, n_train=job.n_train, n_test=job.n_test, control=None, threads=1,
                     dtype=get_arch(job.arch).train_defaults["dtype"])


def _build(job: Job, cfg: Config):
    spec = _spec(job)
    # transformers: the compiled activation (a GPT job evaluates ~1e9 activations; the MLPs keep numpy)
    return build_net(job.arch, cfg, rng=np.random.default_rng([job.seed, 2]), dtype=spec.dtype,
                     kernel=get_arch(job.arch).sweep_kernel,
                     **net_shape(spec))


def clip_threshold(job: Job, cfg: Config, x: np.ndarray) -> float:
    """c for clipped ReLU^2: ``job.clip`` x the median active ReLU^2 output of this network at init.

    The unclipped ReLU^2 network with the same seed (hence the same initial weights) is run on
    ``x``; its active outputs over all hidden layers give the scale. See ``grid.CLIP_RELATIVE``.
    """
    probe = _build(job, replace(cfg, act="relu2"))
    probe.forward(x)
    h = np.concatenate([layer.ravel() for layer in probe.cache["h"]])
    return float(job.clip * np.median(h[h > 0]))


class SparsityTrajectory:
    """Loop observer: per layer, the sparsity of h on a fixed probe batch every ``every`` steps and the last:
    ``sparsity`` the fraction h == 0, and every measure of ``measure.sparsity_measures`` in ``measures``."""

    def __init__(self, probe: np.ndarray, every: int):
        self.probe, self.every = probe, every
        self.steps: list[int] = []
        self.sparsity: list[list[float]] = []
        self.measures: dict[str, list[list[float]]] = {name: [] for name in SPARSITY_MEASURES}

    def observe(self, step: Step, net) -> None:
        if step.t % self.every == 0 or step.last:
            with np.errstate(all="ignore"):
                net.forward(self.probe)
            self.steps.append(step.t)
            layers = [sparsity_measures(p, h) for p, h in zip(net.cache["p"], net.cache["h"])]
            self.sparsity.append([layer["zero"] for layer in layers])
            for name in SPARSITY_MEASURES:
                self.measures[name].append([_finite(layer[name]) for layer in layers])

    def summary(self) -> dict[str, dict[str, list]]:
        """Per measure: its value per layer at the first and last probe and its highest (None: undefined)."""
        out = {}
        for name, rows in self.measures.items():
            values = np.array([[math.nan if v is None else v for v in row] for row in rows], float)
            with np.errstate(all="ignore"):
                high = np.nanmax(values, axis=0) if np.isfinite(values).any() else np.full(values.shape[1], np.nan)
            out[name] = {"start": [_finite(v) for v in values[0]], "end": [_finite(v) for v in values[-1]],
                         "max": [_finite(v) for v in high]}
        return out


class BatchLosses:
    """Loop observer: every step's batch-mean loss, and the number of logits (the reference loss's K)."""

    def __init__(self):
        self.values: list[float] = []
        self.classes = 0

    def observe(self, step: Step, net) -> None:
        self.values.append(step.loss)
        self.classes = int(step.z.shape[-1])


class SignRecord:
    """Loop observer: per layer, the sign statistic E[δ | p > 0] of every step's batch (before its update).

    Must see the step before any observer that runs another forward (that overwrites ``net.cache``).
    """

    def __init__(self):
        self.steps: list[int] = []
        self.signs: list[list[float]] = []
        self.t0: list[dict] = []

    def observe(self, step: Step, net) -> None:
        pairs = [sign_statistic(delta, p) for delta, p in zip(step.back.deltas, net.cache["p"])]
        if step.t == 0:
            self.t0 = [{"mean": _finite(mean), "stderr": _finite(se), "n_samples": int(p.shape[0]),
                        "n_positive": int(np.count_nonzero(p > 0))}
                       for (mean, se), p in zip(pairs, net.cache["p"])]
        self.steps.append(step.t)
        self.signs.append([mean for mean, _ in pairs])

    def result(self) -> list[dict]:
        """Per layer: the t = 0 sign and its persistence over the observed steps (finite values only)."""
        steps, signs = np.array(self.steps), np.array(self.signs, dtype=np.float64).reshape(len(self.steps), -1)
        out = []
        for layer, t0 in enumerate(self.t0):
            column = signs[:, layer]
            finite = column[np.isfinite(column)]
            out.append({"t0": t0, "steps_observed": int(len(finite)), "last_step": int(steps[-1]),
                        "positive_fraction": float(np.mean(finite > 0)) if len(finite) else None,
                        "first_negative_running_mean": first_negative_running_mean(steps, column)})
        return out


class UpdateLoss:
    """Loop observer: the batch loss of the last step that was followed by an update."""

    def __init__(self):
        self.value = math.nan

    def observe(self, step: Step, net) -> None:
        if not step.last:
            self.value = step.loss


def run_job(job: Job | dict) -> dict:
    """Train ``job`` and return its measurements (a JSON-ready dict with the job and its key)."""
    job = job if isinstance(job, Job) else Job.from_dict(job)
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(job)


def _network(job: Job, cfg: Config, data):
    """The job's network at init (clipped ReLU^2 at its threshold; forced sparsity) and the threshold c."""
    clip = None
    if job.act == "clipped_relu2" and job.clip is not None:
        clip = clip_threshold(job, cfg, data.x_test[:PROBE])
        # repr: the shortest text that reads back as the same float (the registry takes activations by text)
        cfg = replace(cfg, act=f"clipped_relu2(c={clip!r})")
    net = force_sparsity(_build(job, cfg), job.force)
    return net, cfg, clip


def _targets(y: np.ndarray) -> np.ndarray:
    """Labels as the rows of the logits: a GPT's (n, T) next tokens flattened to (n*T,)."""
    return y.reshape(-1) if y.ndim == 2 and y.dtype.kind in "iu" else y


def _evaluate(net, loss, data) -> dict:
    """Held-out loss and accuracy, the same on up to 1024 training samples, per-layer sparsity and spikes.

    Transformers: as many training samples as held out, evenly spaced (consecutive text windows overlap).
    """
    if get_arch(net.arch).paper_metrics:
        train = np.linspace(0, len(data.x_train) - 1, min(len(data.x_train), len(data.x_test))).astype(int)
    else:
        train = np.arange(min(len(data.x_train), 1024))
    y_test, y_train = _targets(data.y_test), _targets(data.y_train[train])
    with np.errstate(all="ignore"):
        z = net.forward(data.x_test)
        hs = [h.copy() for h in net.cache["h"]]
        ps = [p.copy() for p in net.cache["p"]]
        test_loss = float(np.mean(loss.value(z.astype(float), y_test)))
        zt = net.forward(data.x_train[train])
        return {"test_loss": test_loss if math.isfinite(test_loss) else None,
                "test_acc": accuracy(z, y_test),
                "train_loss": _finite(np.mean(loss.value(zt.astype(float), y_train))),
                "train_acc": accuracy(zt, y_train),
                "layers": [{"sparsity": float(np.mean(h == 0)),
                            **{k: _finite(v) for k, v in sparsity_measures(p, h).items()},
                            **{k: _finite(v) for k, v in spike_stats(h).items()}} for p, h in zip(ps, hs)]}


def _run(job: Job) -> dict:
    start = time.perf_counter()
    config, spec = _config(job), _spec(job)
    data = dataset_for(config, spec, job.seed)
    net, cfg, clip = _network(job, net_config(config, data), data)
    trajectory, last, signs = SparsityTrajectory(data.x_test[:PROBE], max(1, job.steps // 20)), UpdateLoss(), \
        SignRecord()
    losses = BatchLosses()
    batches = shuffled_batches(data.x_train, data.y_train, min(job.batch, len(data.x_train)),
                               np.random.default_rng([job.seed, 3]))
    # the sign first: the trajectory's forward on the probe overwrites the step's cache
    outcome = run_loop(net, make_spec_optimizer(spec), batches, cfg.loss_fn, job.steps, [signs, losses, trajectory, last],
                       stop_on_divergence=True)
    out = {"key": job.key, "job": job.to_dict(), "label": job.label, "measure_version": MEASURE_VERSION,
           "act_resolved": cfg.act, "clip_c": clip, "steps_done": outcome.updates,
           "trajectory": {"step": trajectory.steps, "sparsity": trajectory.sparsity, **trajectory.measures},
           "sign": signs.result()}
    out.update(_evaluate(net, cfg.loss_fn, data))
    out.update(_divergence(job, cfg, losses, out))
    out["scale"] = _scale(job, net, spec)
    out["last_batch_loss"] = _finite(last.value)
    sparsity = np.array(trajectory.sparsity)
    out["sparsity_start"] = [float(v) for v in sparsity[0]]
    out["sparsity_max"] = [float(v) for v in sparsity.max(axis=0)]
    out["sparsity_end"] = [float(v) for v in sparsity[-1]]
    out["sparsity_measures"] = trajectory.summary()
    out["seconds"] = time.perf_counter() - start
    return out


def _scale(job: Job, net, spec: TrainSpec) -> dict:
    """What the run saw: parameters, updates, training samples (sequences for the GPT) and tokens."""
    tokens = spec.context if job.arch == "gpt" else 1
    return {"params": int(net.n_params), "steps": job.steps, "samples": job.steps * job.batch,
            "tokens": job.steps * job.batch * tokens if job.arch == "gpt" else None}


def _divergence(job: Job, cfg: Config, losses: BatchLosses, measured: dict) -> dict:
    """``diverged``, ``diverged_at`` and the reference loss, by the one rule of :mod:`driftproof.divergence`."""
    reference = reference_loss(cfg.loss_fn.family, losses.classes)  # the sweep trains with cross-entropy
    step = divergence_step(losses.values, reference, final_train=measured["train_loss"],
                           final_test=measured["test_loss"], learnable=job.data not in NOT_LEARNABLE, steps=job.steps)
    return {"diverged": step is not None, "diverged_at": step, "reference_loss": reference}


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
