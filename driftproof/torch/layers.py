"""Finding a model's MLP layers without changing its code: the up-projections (whose output is p) and
their down-projections (whose input is the hidden activation h = σ(p)).

An MLP layer is found by the name of its up-projection (the last part of the module's name, see
:data:`UP_NAMES`), or by a user selector ``where``. In a gated FFN (LLaMA's ``gate_proj``/``up_proj``,
the original LLaMA's ``w1``/``w3``, T5's ``wi_0``/``wi_1``) p is taken at the *gate* branch, the one
the activation is applied to (DESIGN.md §2 R7). The down-projection is the sibling module (same
parent) named as in :data:`DOWN_NAMES`; where there is none, the metrics read at its input are NaN.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import torch

from ..errors import InputError

__all__ = ["MLPLayer", "find_layers", "linear_modules", "unwrap_compiled", "UP_NAMES", "DOWN_NAMES", "GATES"]

# The up-projection's name in the common codebases: LLaMA/Mistral/Qwen (gate_proj, up_proj), GPT-2 and
# nanoGPT (c_fc), BERT-style and OPT/Phi (fc1), the original LLaMA and Mixtral experts (w1), xLSTM-style
# (up_projection), T5 (wi, wi_0), GPT-NeoX (dense_h_to_4h), GPT-J (fc_in).
UP_NAMES = ("up_proj", "gate_proj", "c_fc", "fc1", "w1", "up_projection", "wi", "wi_0", "dense_h_to_4h", "fc_in")
# gated pairs: where both names sit in one parent, the first (the gate, which the activation sees) is p
GATES = (("gate_proj", "up_proj"), ("w1", "w3"), ("wi_0", "wi_1"))
DOWN_NAMES = ("down_proj", "c_proj", "fc2", "w2", "down_projection", "wo", "dense_4h_to_h", "fc_out")


@dataclass(frozen=True)
class MLPLayer:
    """One MLP layer of a model: the module whose output is p, and its down-projection (or None)."""

    name: str
    up: torch.nn.Module
    down_name: str | None
    down: torch.nn.Module | None
    gated: bool = False


def unwrap_compiled(model: torch.nn.Module) -> torch.nn.Module:
    """The eager module under ``torch.compile`` (the same parameters; hooks on it run eagerly), else the model."""
    return getattr(model, "_orig_mod", model)


def linear_modules(model: torch.nn.Module) -> dict[str, torch.nn.Module]:
    """Every linear layer by name: ``nn.Linear`` and modules with a 2-D ``weight`` applied as a matrix
    (GPT-2's ``Conv1D`` in Hugging Face), embeddings excluded."""
    out = {}
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if isinstance(module, torch.nn.Embedding) or not isinstance(weight, torch.Tensor) or weight.dim() != 2:
            continue
        if isinstance(module, torch.nn.Linear) or type(module).__name__ == "Conv1D":
            out[name] = module
    return out


def _selected(where, name: str, module: torch.nn.Module) -> bool:
    if callable(where):
        return bool(where(name, module))
    patterns = [where] if isinstance(where, str) else list(where)
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _leaf(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _parent(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else ""


def _down_of(name: str, modules: dict[str, torch.nn.Module]) -> tuple[str | None, torch.nn.Module | None]:
    parent = _parent(name)
    for down in DOWN_NAMES:
        full = f"{parent}.{down}" if parent else down
        if full in modules and full != name:
            return full, modules[full]
    return None, None


def _seen(model: torch.nn.Module, limit: int = 24) -> str:
    names = [name for name, _ in model.named_modules() if name]
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "") if names else "none"


def find_layers(model: torch.nn.Module, where=None) -> list[MLPLayer]:
    """The model's MLP layers in module order.

    Args:
        where: None (find up-projections by name), a glob pattern or a list of them on module names
            (``"h.*.mlp.c_fc"``), or a callable ``(name, module) -> bool`` choosing the modules whose
            output is p.

    Raises:
        InputError: no layer found; the message names the modules the model has.
    """
    model = unwrap_compiled(model)
    modules = dict(model.named_modules())
    if where is not None:
        chosen = [name for name, module in modules.items() if name and _selected(where, name, module)]
        if not chosen:
            raise InputError(f"where={where!r} selects no module; the model has: {_seen(model)}")
        gated = set()
    else:
        chosen = [name for name in modules if name and _leaf(name) in UP_NAMES]
        gated = set()
        for gate, up in GATES:  # a gated FFN: keep the gate branch, drop its partner
            for name in list(chosen):
                partner = f"{_parent(name)}.{up}" if _parent(name) else up
                if _leaf(name) == gate and partner in modules:
                    gated.add(name)
                    if partner in chosen:
                        chosen.remove(partner)
        if not chosen:
            raise InputError("found no MLP up-projection (a module named " + ", ".join(UP_NAMES)
                             + f"); the model has: {_seen(model)}. Select them with where=")
    linear = linear_modules(model)
    layers = []
    for name in chosen:
        down_name, down = _down_of(name, linear)
        layers.append(MLPLayer(name, modules[name], down_name, down, name in gated))
    return layers
