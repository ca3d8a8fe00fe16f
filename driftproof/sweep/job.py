"""Train one sweep configuration and measure what the claims need (issue 6).

Measured on the held-out set: loss and accuracy; per hidden layer, the fraction of exact
zeros in h (activation sparsity) and the spike statistics of h. Measured on a fixed probe
batch (the first ``PROBE`` held-out samples) every ``steps // 20`` steps: the sparsity
trajectory, so C1 can ask whether sparsity *rises during* training. The result is a plain
JSON-ready dict; the same job gives the same numbers in any process (BLAS on one thread).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from ..config import Config
from ..nets import build_net
from ..optim import make_optimizer
from ..training.loop import TrainSpec, dataset_for, net_config
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
    return TrainSpec(arch=job.arch, data=job.data, opt=job.opt, lr=job.lr, wd=job.wd, steps=job.steps,
                     batch=job.batch, seeds=1, n_train=job.n_train, n_test=job.n_test, control=None, threads=1)


def clip_threshold(job: Job, cfg: Config, x: np.ndarray) -> float:
    """c for clipped ReLU^2: ``job.clip`` x the median active ReLU^2 output of this network at init.

    The unclipped ReLU^2 network with the same seed (hence the same initial weights) is run on
    ``x``; its active outputs over all hidden layers give the scale. See ``grid.CLIP_RELATIVE``.
    """
    probe = build_net(job.arch, replace(cfg, act="relu2"), rng=np.random.default_rng([job.seed, 2]))
    probe.forward(x)
    h = np.concatenate([layer.ravel() for layer in probe.cache["h"]])
    return float(job.clip * np.median(h[h > 0]))


def _accuracy(z: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(z, axis=1) == y))


def _layers(net, x) -> list[np.ndarray]:
    net.forward(x)
    return [h for h in net.cache["h"]]


def run_job(job: Job | dict) -> dict:
    """Train ``job`` and return its measurements (a JSON-ready dict with the job and its key)."""
    from threadpoolctl import threadpool_limits

    job = job if isinstance(job, Job) else Job.from_dict(job)
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(job)


def _run(job: Job) -> dict:
    start = time.perf_counter()
    config, spec = _config(job), _spec(job)
    data = dataset_for(config, spec, job.seed)
    cfg = net_config(config, data)
    clip = None
    if job.act == "clipped_relu2" and job.clip is not None:
        clip = clip_threshold(job, cfg, data.x_test[:PROBE])
        cfg = replace(cfg, act=f"clipped_relu2(c={clip:.6g})")
    net = force_sparsity(build_net(job.arch, cfg, rng=np.random.default_rng([job.seed, 2])), job.force)
    opt = make_optimizer(job.opt, job.lr, steps=job.steps, wd=job.wd)
    loss = cfg.loss_fn
    batch_rng = np.random.default_rng([job.seed, 3])
    n_train = len(data.x_train)
    batch = min(job.batch, n_train)
    probe_x = data.x_test[:PROBE]
    every = max(1, job.steps // 20)
    trajectory = {"step": [], "sparsity": []}  # sparsity: per layer, fraction of h == 0 on the probe batch
    order, cursor, diverged, last_loss = batch_rng.permutation(n_train), 0, False, math.nan
    for step in range(job.steps + 1):
        if step % every == 0 or step == job.steps:
            trajectory["step"].append(step)
            trajectory["sparsity"].append([float(np.mean(h == 0)) for h in _layers(net, probe_x)])
        if step == job.steps:
            break
        if cursor + batch > n_train:
            order, cursor = batch_rng.permutation(n_train), 0
        index = order[cursor:cursor + batch]
        cursor += batch
        values, _, back = net.loss_and_backward(data.x_train[index], data.y_train[index], loss)
        last_loss = float(np.mean(values))
        if not math.isfinite(last_loss):
            diverged = True
            break
        opt.step(net.params, back.grads)
    out = {"key": job.key, "job": job.to_dict(), "label": job.label, "measure_version": MEASURE_VERSION,
           "act_resolved": cfg.act, "clip_c": clip, "diverged": diverged, "steps_done": step,
           "trajectory": trajectory}
    with np.errstate(all="ignore"):
        z = net.forward(data.x_test)
        hs = [h.copy() for h in net.cache["h"]]
        test_loss = float(np.mean(loss.value(z.astype(float), data.y_test)))
        train_n = min(n_train, 1024)
        zt = net.forward(data.x_train[:train_n])
        out.update({"test_loss": test_loss if math.isfinite(test_loss) else None,
                    "test_acc": _accuracy(z, data.y_test),
                    "train_loss": _finite(np.mean(loss.value(zt.astype(float), data.y_train[:train_n]))),
                    "train_acc": _accuracy(zt, data.y_train[:train_n]),
                    "last_batch_loss": _finite(last_loss)})
        out["layers"] = [{"sparsity": float(np.mean(h == 0)),
                          **{k: _finite(v) for k, v in spike_stats(h).items()}} for h in hs]
    sparsity = np.array(trajectory["sparsity"])
    out["sparsity_start"] = [float(v) for v in sparsity[0]]
    out["sparsity_max"] = [float(v) for v in sparsity.max(axis=0)]
    out["sparsity_end"] = [float(v) for v in sparsity[-1]]
    out["seconds"] = time.perf_counter() - start
    return out


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
