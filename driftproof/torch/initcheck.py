"""``check_init``: the claim at t = 0 on the user's own architecture (issue: driftproof for PyTorch models).

The model is re-initialized ``inits`` times from the user's factory (seeds seed, seed + 1, ...: any
initialization the factory writes is what is tested) and, on one fixed batch, every MLP layer's
sign statistic E[δ | p > 0] is measured (:mod:`.capture`). Per layer the mean over inits carries a
95% Student-t interval, and the layers' signs are decided by the same test ``verify --arch gpt`` uses
(:func:`driftproof.evidence.transformer.t0_result`: a normal-approximation sign test per layer, Holm
over the layers at family-wise α = 1e-3). A layer resolved positive *holds by sampling*, one resolved
negative is *violated*, one unresolved is *inconclusive*; the verdict combines them. For a
cross-entropy or MSE loss the self and label parts of the statistic (DESIGN.md §2 item D) are
reported beside it, with their own intervals.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from ..config import environment
from ..errors import InputError
from ..evidence.transformer import ALPHA, CONFIDENCE, t0_result
from ..payloads import ProbeLayerNumbers, SignTestNumbers
from ..results import HOLDS, INCONCLUSIVE, VIOLATED, Estimate, Evidence, RowKey, Verification, combine
from .capture import measure, sign_of
from .layers import find_layers, unwrap_compiled
from .losses import resolve_loss

__all__ = ["check_init", "ARCH", "INIT"]

ARCH = "torch"  # key.arch of the rows: a user's PyTorch model
INIT = "factory"  # key.init: the initialization the user's factory draws
MIN_INITS = 5  # seeds are the unit of replication: no t-interval from fewer


def _device_of(model: torch.nn.Module) -> torch.device:
    for parameter in model.parameters():
        return parameter.device
    return torch.device("cpu")


def _to(value, device):
    """A tensor on the model's device; a numpy array becomes one (integers as int64, as PyTorch's losses want)."""
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(np.ascontiguousarray(value))
        if not value.is_floating_point() and value.dtype != torch.bool:
            value = value.to(torch.int64)
    return value.to(device) if isinstance(value, torch.Tensor) else value


def _build(make_model, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    try:
        model = make_model()
    except InputError:
        raise
    except Exception as error:  # the user's code: one line naming it, not a traceback of ours
        name = getattr(make_model, "__qualname__", repr(make_model))
        raise InputError(f"the model factory {name} failed: {type(error).__name__}: {error}") from None
    if not isinstance(model, torch.nn.Module):
        raise InputError(f"the model factory must return a torch.nn.Module, got {type(model).__name__}")
    return unwrap_compiled(model)


def _one_init(make_model, seed: int, batch, loss, where) -> tuple[list[str], dict[str, np.ndarray], dict]:
    model = _build(make_model, seed)
    model.train()
    layers = find_layers(model, where)
    device = _device_of(model)
    x, y = (_to(part, device) for part in batch)
    m = measure(model, layers, x, y, loss)
    values = {"sign": [sign_of(d, p) for d, p in zip(m.delta, m.p)],
              "scale": [sign_of(d.abs(), p) for d, p in zip(m.delta, m.p)],
              "nonpos": [float((p <= 0).double().mean()) for p in m.p]}
    if m.self_part is not None:
        values["self"] = [sign_of(d, p) for d, p in zip(m.self_part, m.p)]
        values["label"] = [sign_of(d, p) for d, p in zip(m.label_part, m.p)]
    info = {"units": m.units, "rows": m.rows, "loss": m.loss, "gated": [layer.gated for layer in layers],
            "params": sum(p.numel() for p in model.parameters()), "device": str(device),
            "dtype": str(next(model.parameters()).dtype).replace("torch.", "")}
    return [layer.name for layer in layers], {k: np.array(v) for k, v in values.items()}, info


def _estimate(values: np.ndarray, seed: int) -> Estimate:
    return replace(Estimate.student_t(values, CONFIDENCE, f"student_t over {len(values)} inits"), seed=seed,
                   values=None)


def _verdicts(test, count: int) -> list:
    negative, open_ = set(test.negative_units), set(test.unresolved_units)
    return [VIOLATED if i in negative else INCONCLUSIVE if i in open_ else HOLDS for i in range(1, count + 1)]


def check_init(make_model, batch, loss_fn="ce", *, inits: int = 256, seed: int = 0, where=None, data: str = "batch",
               model_name: str | None = None, progress=None) -> Verification:
    """The sign of E[δ | p > 0] at initialization in every MLP layer of the factory's model.

    Args:
        make_model: a callable returning a fresh ``torch.nn.Module`` (called after ``torch.manual_seed``
            with seed, seed + 1, ...), measured in training mode, as the first step sees it. A
            ``torch.compile``'d model is measured through its eager module.
        batch: ``(inputs, targets)``, tensors or numpy arrays; the same batch for every init (moved to the
            model's device).
        loss_fn: ``"ce"``, ``"mse"`` (½‖z − y‖² summed over outputs), a PyTorch CrossEntropyLoss/MSELoss,
            or any ``(output, targets) -> scalar``; δ is reported per row of it (a token or a sample).
        inits: how many independent initializations (at least 5).
        where: which modules' outputs are p (see :func:`~.layers.find_layers`); None finds them by name.
        data: the batch's name in the rows' keys; model_name: the model's name in the result.
        progress: called with 1 after each init.

    Returns:
        A Verification: one row per layer (kind montecarlo, key ``RowKey("MC", layer, "factory", data,
        "torch")``), verdict holds (by sampling) / violated / inconclusive.
    """
    if not isinstance(inits, (int, np.integer)) or inits < MIN_INITS:
        raise InputError(f"inits must be an integer of at least {MIN_INITS} (seeds are the unit of replication), "
                         f"got {inits!r}")
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise InputError("batch must be a pair (inputs, targets)")
    loss = resolve_loss(loss_fn)
    start = time.perf_counter()
    names, runs, info = None, [], None
    for i in range(inits):
        layer_names, values, info_i = _one_init(make_model, seed + i, batch, loss, where)
        if names is None:
            names, info = layer_names, info_i
        elif layer_names != names:
            raise InputError(f"the factory's models differ: init {i} has layers {layer_names}, init 0 had {names}")
        runs.append(values)
        if progress is not None:
            progress(1)
    stacked = {key: np.array([run[key] for run in runs]) for key in runs[0]}
    estimates, test = t0_result(stacked["sign"], seed)
    verdicts = _verdicts(test, len(names))
    seconds = time.perf_counter() - start
    rows = []
    for index, (name, verdict) in enumerate(zip(names, verdicts)):
        estimate = replace(estimates[index], values=None)
        scale = float(np.nanmean(stacked["scale"][:, index]))
        numbers = ProbeLayerNumbers(
            module=name, gated=info["gated"][index], estimate=estimate, scale=scale,
            relative=estimate.mean / scale if scale else None, nonpos_frac=_estimate(stacked["nonpos"][:, index], seed),
            units=info["units"], inits=inits, seeds=(seed, seed + inits - 1), confidence=CONFIDENCE,
            sign_test=SignTestNumbers.of(test),
            self_part=_estimate(stacked["self"][:, index], seed) if "self" in stacked else None,
            label_part=_estimate(stacked["label"][:, index], seed) if "label" in stacked else None)
        rows.append(Evidence("montecarlo", RowKey("MC", layer=index + 1, init=INIT, data=data, arch=ARCH),
                             verdict, numbers))
    name = model_name or getattr(make_model, "__qualname__", repr(make_model))
    config = {"arch": ARCH, "model": name, "act": name, "init": INIT, "loss": loss.name, "loss_family": loss.family,
              "split": "self" in stacked, "inits": inits,
              "seed": seed, "data": data, "batch_shape": list(getattr(batch[0], "shape", ())),
              "rows": info["rows"], "delta_units": info["units"], "layers": names, "params": info["params"],
              "device": info["device"], "dtype": info["dtype"], "alpha": ALPHA, "seconds": seconds,
              "where": None if where is None else (where if isinstance(where, (str, list, tuple)) else repr(where))}
    return Verification(combine(verdicts), tuple(rows), config, {**environment(), "torch": torch.__version__})
