"""``watch``: the paper's quantities logged during the user's own training loop, every ``every`` steps.

Per MLP layer (found as :func:`~.layers.find_layers` finds them): the sign statistic E[δ | p > 0] and
its standard error over the batch (the ratio estimator of :func:`driftproof.training.measure.sign_statistic`,
a sample being one row of the batch dimension), the fraction p ≤ 0, and at the down-projection input
the exact-zero fraction and the near-zero fraction (|h| < ``near_zero`` × RMS(h)). For every linear
layer's input: max, min and max|x| / median of the nonzero |x| (the spikes). For every weight matrix
(every 2-D parameter): its mean, its fraction of negative entries and the change of its mean since the
first logged step (the drift).

How: hooks at module boundaries (nothing changes in the model). On a logged step the first forward
with gradients enabled is measured: the up-projection's output p gets a tensor gradient hook for δ,
every statistic is reduced on the model's device to a 0-d tensor, and :meth:`Watch.step` copies them
to the host once (one ``torch.stack(...).tolist()``). Other steps cost one flag test per hook.
δ is reported per row of the loss (a token or a sample): R · ∂L/∂p with R the output's rows, as for a
loss that averages over them (PyTorch's default); pass ``rows=1`` for a summed loss.

Measurements describe the network before the update of the step they are logged at, on that step's
batch, as ``driftproof train`` logs them. ``out``: a run folder in ``driftproof train``'s format
(``driftproof.load(out)``, ``.plot()``), plus ``metrics.jsonl`` (one JSON object per logged step,
written as the run goes, for TensorBoard or any logger, in the scratch folder ``w.live`` beside ``out`` that
``close()`` moves into place: ``out`` follows ``driftproof train --out``'s rules).
"""

from __future__ import annotations

import json
import math
import shutil
import time
import weakref

import torch

from ..errors import InputError
from .capture import output_tensor
from .layers import MLPLayer, find_layers, linear_modules

__all__ = ["Watch", "watch", "NEAR_ZERO"]

NEAR_ZERO = 1e-2  # |h| below this fraction of the RMS of the down-projection's input counts as near zero


def _nan(device) -> torch.Tensor:
    return torch.tensor(math.nan, device=device)


def _fraction(mask: torch.Tensor) -> torch.Tensor:
    """The fraction of True entries, counted exactly (an integer count, then one division in float64)."""
    return mask.sum().to(torch.float64) / max(1, mask.numel())


def _spikes(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """max, min, max|x| / median of the nonzero |x| (NaN without one), on the device, no host sync."""
    x = x.detach()
    absolute = x.abs().flatten()
    median = torch.where(absolute != 0, absolute, torch.nan).nanmedian()
    return x.max(), x.min(), absolute.max() / median


class Watch:
    """A monitor attached to ``model``; see :func:`watch`. ``step()`` after each optimizer step, ``close()``
    at the end (or use it as a context manager)."""

    def __init__(self, model: torch.nn.Module, *, every: int = 50, out=None, where=None, near_zero: float = NEAR_ZERO,
                 rows: int | None = None, optimizer=None, name: str | None = None, force: bool = False):
        if not isinstance(model, torch.nn.Module):
            raise InputError(f"watch needs a torch.nn.Module, got {type(model).__name__}")
        if hasattr(model, "_orig_mod"):
            raise InputError("watch: this model is torch.compile'd, and hooks added to a compiled model are not "
                             "traced; attach watch to the model first, then compile it")
        if not isinstance(every, int) or every < 1:
            raise InputError(f"every must be a positive integer, got {every!r}")
        if not near_zero > 0:
            raise InputError(f"near_zero must be positive, got {near_zero!r}")
        self.model, self.every, self.near_zero, self.rows, self.optimizer = model, every, near_zero, rows, optimizer
        self.layers: list[MLPLayer] = find_layers(model, where)
        self.linear = linear_modules(model)
        self.matrices = {n: p for n, p in model.named_parameters() if p.dim() == 2}
        self.name = name or type(model).__name__
        self.folder, self.live, self._jsonl, self._whole = None, None, None, None
        if out is not None:
            self._open_folder(out, force)
        self.t = 0  # the training step the next forward belongs to
        self.diverged_at: int | None = None  # the first logged step whose given loss was not finite
        self.records: list[dict[str, float]] = []
        self._start: dict[str, torch.Tensor] = {}
        self._pending: dict[str, torch.Tensor] = {}
        self._seen: set[str] = set()
        self._scale = 1.0
        self._began = time.perf_counter()
        self._handles = [model.register_forward_pre_hook(self._before), model.register_forward_hook(self._after)]
        for index, layer in enumerate(self.layers, start=1):
            self._handles.append(layer.up.register_forward_hook(self._up_hook(index)))
            if layer.down is not None:
                self._handles.append(layer.down.register_forward_pre_hook(self._down_hook(index)))
        for lname, module in self.linear.items():
            self._handles.append(module.register_forward_pre_hook(self._input_hook(lname)))
        self.closed = False

    def _open_folder(self, out, force: bool) -> None:
        """``out`` checked as ``driftproof train --out`` is (:func:`~driftproof.folders.output_folder`: ``~user``,
        symbolic links, lengths, writability; an existing non-empty folder must hold a watched run of this model
        and these layers, unless ``force``), then a scratch folder beside it that :meth:`close` moves into place
        (:func:`~driftproof.folders.written_whole`): ``out`` never holds half a run, nor one run's figures beside
        another's records. A Watch dropped without :meth:`close` leaves nothing behind."""
        from ..folders import output_folder, written_whole
        from ..training.runfolder import OWNED
        from .runfolder import watch_folder_conflict

        layers = [layer.name for layer in self.layers]
        self.folder = output_folder(out, "out", accept=lambda existing: watch_folder_conflict(existing, self.name,
                                                                                               layers),
                                    force=force, beside=True)
        self._whole = written_whole(self.folder, OWNED + ("metrics.jsonl",))
        try:
            self.live = self._whole.__enter__()
            self._jsonl = open(self.live / "metrics.jsonl", "w")
        except OSError as error:
            self._discard()
            raise InputError(f"watch: cannot write the run folder {str(self.folder)!r}: {error.strerror}") from None
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.live, ignore_errors=True)

    def _discard(self) -> None:
        """Remove the scratch folder (nothing reaches ``out``)."""
        whole, self._whole = self._whole, None
        if whole is not None:
            whole.__exit__(RuntimeError, RuntimeError("discarded"), None)
        if getattr(self, "_cleanup", None) is not None:
            self._cleanup.detach()

    # -- hooks
    @property
    def _armed(self) -> bool:
        return self.t % self.every == 0 and torch.is_grad_enabled() and not self.closed

    def _first(self, key: str) -> bool:
        """True the first time ``key`` is measured in this logged step."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _before(self, module, inputs):
        if not self._armed or not self._first("weights"):
            return
        for pname, weight in self.matrices.items():
            w = weight.detach()
            mean = w.mean(dtype=torch.float64) if w.is_floating_point() else w.float().mean()
            self._start.setdefault(pname, mean.clone())
            self._pending[f"W:{pname}.mean"] = mean
            self._pending[f"W:{pname}.neg_frac"] = _fraction(w < 0)
            self._pending[f"W:{pname}.drift"] = mean - self._start[pname]
        for index, layer in enumerate(self.layers, start=1):
            self._pending[f"L{index}.w_mean"] = layer.up.weight.detach().mean(dtype=torch.float64)
            bias = getattr(layer.up, "bias", None)
            self._pending[f"L{index}.b_mean"] = (bias.detach().mean(dtype=torch.float64) if bias is not None
                                                 else _nan(layer.up.weight.device))

    def _after(self, module, inputs, output):
        if not self._armed or not self._first("output"):
            return
        if self.rows is not None:
            self._scale = float(self.rows)
            return
        try:
            out = output_tensor(output)
        except InputError:  # an output without logits: δ stays ∂L/∂p (the monitor never stops the training)
            self._scale = 1.0
            return
        self._scale = float(out.numel() // max(1, out.shape[-1])) if out.dim() > 1 else 1.0

    def _up_hook(self, index: int):
        def hook(module, inputs, p):
            if not self._armed or not isinstance(p, torch.Tensor) or not p.requires_grad or not self._first(f"up{index}"):
                return
            flat = p.detach().reshape(p.shape[0], -1)
            mask = flat > 0
            counts = mask.sum(1).to(torch.float64)
            self._pending[f"L{index}.nonpos_frac"] = _fraction(~mask)

            def on_grad(grad):
                # the ratio estimator over the batch's rows: sum of δ on p > 0 per row, over the count
                a = (grad.detach().reshape(grad.shape[0], -1) * mask).sum(1, dtype=torch.float64) * self._scale
                n, total = a.shape[0], counts.sum()
                ratio = a.sum() / total
                resid = a - ratio * counts
                se = torch.sqrt((resid @ resid) / (n * (n - 1))) / (total / n) if n > 1 else _nan(a.device)
                self._pending[f"L{index}.sign"], self._pending[f"L{index}.sign_se"] = ratio, se

            p.register_hook(on_grad)
        return hook

    def _down_hook(self, index: int):
        def hook(module, inputs):
            if (not self._armed or not inputs or not isinstance(inputs[0], torch.Tensor)
                    or not self._first(f"down{index}")):
                return
            h = inputs[0].detach()
            rms = h.float().pow(2).mean().sqrt()
            self._pending[f"L{index}.zero_frac"] = _fraction(h == 0)
            self._pending[f"L{index}.near_zero_frac"] = _fraction(h.float().abs() < self.near_zero * rms)
        return hook

    def _input_hook(self, lname: str):
        def hook(module, inputs):
            if (not self._armed or not inputs or not isinstance(inputs[0], torch.Tensor)
                    or not self._first(f"in:{lname}")):
                return
            for stat, value in zip(("max", "min", "max_med"), _spikes(inputs[0])):
                self._pending[f"in:{lname}.{stat}"] = value
        return hook

    # -- the loop's calls
    def step(self, loss=None) -> dict[str, float] | None:
        """Call once per optimizer step (after it). On a logged step returns the record (one host copy)."""
        if self.closed:
            raise InputError("watch: step() after close()")
        record = None
        if self.t % self.every == 0 and self._pending:
            record = self._collect(loss)
        self.t += 1
        return record

    def _collect(self, loss) -> dict[str, float]:
        if isinstance(loss, torch.Tensor):  # copied with the rest
            self._pending["loss"] = loss.detach()
        names = list(self._pending)
        values = torch.stack([v.detach().to(torch.float64).reshape(()) for v in self._pending.values()]).tolist()
        record = {"step": self.t, **dict(zip(names, values))}
        if not isinstance(loss, torch.Tensor):
            record["loss"] = math.nan if loss is None else float(loss)
        record["lr"] = float(self.optimizer.param_groups[0]["lr"]) if self.optimizer is not None else math.nan
        record["rows"] = self._scale  # δ = rows · ∂L/∂p: the units of this step's sign statistic
        self._pending, self._seen = {}, set()
        if loss is not None and not math.isfinite(record["loss"]) and self.diverged_at is None:
            self.diverged_at = self.t
        self.records.append(record)
        if self._jsonl is not None:
            self._jsonl.write(json.dumps({k: (v if math.isfinite(v) else None) for k, v in record.items()}) + "\n")
            self._jsonl.flush()
        return record

    def close(self):
        """Remove the hooks and write the run folder (if ``out``). Returns the TrainResult (None without records)."""
        if self.closed:
            return None
        self.closed = True
        for handle in self._handles:
            handle.remove()
        if self._jsonl is not None:
            self._jsonl.close()
        if not self.records:
            self._discard()
            return None
        from .runfolder import run_result

        result = run_result(self)
        if self._whole is not None:
            from ..training.runfolder import save_run

            try:
                save_run(result, self.live)
            except BaseException as error:
                self._discard()
                raise error
            whole, self._whole = self._whole, None
            whole.__exit__(None, None, None)  # every file moved into ``out`` (atomic renames), stale ones removed
            self._cleanup.detach()
        return result

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def watch(model: torch.nn.Module, every: int = 50, out=None, where=None, **options) -> Watch:
    """Attach the monitor to ``model``: ``w = watch(model, every=50, out="runs/mine")``, then ``w.step()``
    after each optimizer step and ``w.close()`` at the end; or ``with watch(...) as w:``.

    Args:
        every: log every ``every``-th step (0, every, 2 every, ...).
        out: a folder for the run (``driftproof train``'s format plus ``metrics.jsonl``), checked at once as
            ``driftproof train --out`` is: an existing non-empty folder must hold a watched run of this model and
            these layers (a rerun replaces it), unless ``force=True`` (driftproof's files there are replaced, any
            other file is left alone). The run is written beside it and moved in by ``close()`` (``metrics.jsonl``
            grows as the run goes in ``w.live``, that scratch folder); a Watch never closed leaves nothing. None
            keeps the records in memory only (``w.records``).
        where: which modules' outputs are p (see :func:`~.layers.find_layers`).
        options: ``near_zero`` (default 1e-2 of the RMS), ``rows`` (δ = rows · ∂L/∂p; default the output's
            rows), ``optimizer`` (its learning rate is logged), ``name``, ``force``.
    """
    return Watch(model, every=every, out=out, where=where, **options)
