"""Package attributes imported on first use (PEP 562), so that a command pays only for what it runs."""

from __future__ import annotations

from importlib import import_module
from typing import Callable

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, namespace: dict, where: dict[str, str]) -> tuple[Callable, Callable]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``: ``where`` maps an attribute to
    the submodule that defines it; the first access imports that submodule and stores the value in
    ``namespace`` (the package's globals), so later accesses are plain lookups."""

    def __getattr__(name: str):
        if name in where:
            value = getattr(import_module(f".{where[name]}", package), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
