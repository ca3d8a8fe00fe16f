"""``driftproof probe``: :func:`~.initcheck.check_init` on a model factory named on the command line.

``--model package.module:factory`` (imported with the working folder on the path, as ``python -m``
does) or ``path/to/file.py:factory``. Data: ``text`` (windows of the character corpus: token ids and
next-token targets), ``digits`` (8x8 images as 64 floats, labels 0-9), or a FILE: ``.npz`` with arrays
``x`` and ``y``, or ``.pt`` holding a pair (x, y) (read with ``weights_only=True``). The factory's
``vocab_size`` (text) or ``num_classes``/``classes`` (digits) parameter, if it has one, is filled from
the data.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError
from .initcheck import check_init

__all__ = ["load_factory", "probe_batch", "probe", "DATA"]

DATA = ("text", "digits")


def load_factory(spec: str):
    """The callable named by ``module:attr`` or ``file.py:attr``; InputError naming what is missing."""
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr:
        raise InputError(f"--model takes package.module:factory or file.py:factory, got {spec!r}")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise InputError(f"--model: no file {target!r}")
        module_spec = importlib.util.spec_from_file_location(f"driftproof_probe_{path.stem}", path)
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except Exception as error:
            raise InputError(f"--model: {target} failed to import: {type(error).__name__}: {error}") from None
    else:
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        try:
            module = importlib.import_module(target)
        except ImportError as error:
            raise InputError(f"--model: cannot import {target!r} ({error})") from None
        except Exception as error:
            raise InputError(f"--model: {target} failed to import: {type(error).__name__}: {error}") from None
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise InputError(f"--model: {target} has no callable {attr!r}")
    return factory


def _file_batch(path: Path) -> tuple:
    if not path.is_file():
        raise InputError(f"--data must be text, digits or a file (.npz, .pt), got {str(path)!r}")
    try:
        if path.suffix == ".npz":
            with np.load(path) as arrays:
                if "x" not in arrays or "y" not in arrays:
                    raise InputError(f"--data {path}: the .npz needs arrays x and y, has {', '.join(arrays.files)}")
                x, y = arrays["x"], arrays["y"]
        elif path.suffix == ".pt":
            pair = torch.load(path, weights_only=True)
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise InputError(f"--data {path}: the .pt must hold a pair (x, y)")
            x, y = pair
        else:
            raise InputError(f"--data {path}: a file must be .npz (arrays x, y) or .pt (a pair x, y)")
    except (OSError, ValueError, RuntimeError) as error:
        raise InputError(f"--data {path}: cannot read it ({error})") from None
    return _tensors(x, y)


def _tensors(x, y) -> tuple[torch.Tensor, torch.Tensor]:
    out = []
    for part in (x, y):
        tensor = part if isinstance(part, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(part))
        if not tensor.is_floating_point() and tensor.dtype != torch.bool:
            tensor = tensor.to(torch.int64)
        out.append(tensor)
    return out[0], out[1]


def probe_batch(data: str, batch: int, context: int, seed: int) -> tuple[tuple, dict]:
    """(x, y) for ``data`` and the factory arguments it fills (vocab_size, num_classes)."""
    from ..data import make_dataset

    rng = np.random.default_rng([seed, 11])
    if data == "text":
        dataset = make_dataset("text", input_dim=context, classes=0, n_train=0, n_test=1, rng=rng)
        rows = rng.integers(0, len(dataset.x_train), batch)
        return _tensors(dataset.x_train[rows], dataset.y_train[rows]), {"vocab_size": dataset.classes}
    if data == "digits":
        dataset = make_dataset("digits", input_dim=64, classes=10, n_train=0, n_test=360, rng=rng)
        rows = rng.choice(len(dataset.x_train), batch, replace=False)
        x = torch.from_numpy(np.asarray(dataset.x_train[rows], np.float32))
        return (x, torch.from_numpy(np.asarray(dataset.y_train[rows], np.int64))), {"num_classes": 10, "classes": 10}
    return _file_batch(Path(data)), {}


def _bound(factory, fills: dict):
    """The factory with the data's sizes filled where it has a parameter of that name."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return factory
    given = {name: value for name, value in fills.items() if name in parameters}
    return (lambda: factory(**given)) if given else factory


def probe(model: str, *, data: str = "text", inits: int = 256, seed: int = 0, batch: int = 8, context: int = 64,
          loss: str = "ce", where: str | None = None, progress=None):
    """``driftproof probe``: the factory ``model`` checked at t = 0 on a batch of ``data``; a Verification."""
    if batch < 1 or context < 2:
        raise InputError(f"--batch must be >= 1 and --context >= 2, got {batch} and {context}")
    factory = load_factory(model)
    pair, fills = probe_batch(data, batch, context, seed)
    if pair[0].is_floating_point():
        pair = (pair[0].to(torch.get_default_dtype()), pair[1])
    return check_init(_bound(factory, fills), pair, loss, inits=inits, seed=seed, where=where,
                      data=data if data in DATA else Path(data).name, model_name=model, progress=progress)
