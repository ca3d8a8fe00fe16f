"""Parse registry specs such as ``leaky_relu(a=0.01)`` or ``student_t(nu=5)`` safely.

The text is parsed with :func:`ast.parse` and walked; nothing is ever evaluated as Python.
"""

from __future__ import annotations

import ast
import math

from .errors import InputError

__all__ = ["parse_spec", "format_spec", "parse_number", "with_defaults"]

MAX_SPEC_LENGTH = 500


def parse_number(text: str, what: str) -> float:
    """A finite float from ``text``, or an InputError naming ``what``."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{what} must be finite, got {text!r}")
    return value


def _number(node: ast.AST, what: str) -> float:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _number(node.operand, what)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if isinstance(node.value, int) and abs(node.value) > 1e300:
            raise InputError(f"{what} is out of range ({len(str(abs(node.value)))} digits)")
        if not math.isfinite(node.value):
            raise InputError(f"{what} must be finite, got {node.value!r}")
        return float(node.value)
    if isinstance(node, ast.Name) and node.id.lower() in ("nan", "inf", "infinity"):
        raise InputError(f"{what} must be a finite number, got {node.id!r}")
    raise InputError(f"{what} must be a number, got {ast.unparse(node)!r}")


def parse_spec(text: str, kind: str) -> tuple[str, dict[str, float]]:
    """Split ``name`` or ``name(key=number, ...)`` into the name and its parameters.

    Args:
        text: the spec as the user typed it.
        kind: what is being named ("activation", "init", ...), for error messages.
    Returns:
        (name, params) with every parameter a float.
    Raises:
        InputError: anything other than a bare name or a call with numeric keyword arguments.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{kind} must be a non-empty name, got {text!r}")
    if len(text) > MAX_SPEC_LENGTH:
        raise InputError(f"{kind} spec is longer than {MAX_SPEC_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise InputError(f"{kind} {text!r} is not of the form name or name(key=value, ...)") from None
    if isinstance(tree, ast.Name):
        return tree.id, {}
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and not tree.args:
        params = {}
        for keyword in tree.keywords:
            if keyword.arg is None:
                raise InputError(f"{kind} {text!r}: parameters must be key=number")
            if keyword.arg in params:
                raise InputError(f"{kind} {text!r}: parameter {keyword.arg!r} is given twice")
            params[keyword.arg] = _number(keyword.value, f"{kind} parameter {keyword.arg!r}")
        return tree.func.id, params
    raise InputError(f"{kind} {text!r} is not of the form name or name(key=value, ...)")


def format_spec(name: str, params: dict[str, float]) -> str:
    """The canonical text of a spec: ``name`` or ``name(a=0.01)``."""
    if not params:
        return name
    inner = ", ".join(f"{key}={_number_text(value)}" for key, value in params.items())
    return f"{name}({inner})"


def _number_text(value: float) -> str:
    """A parameter as short as it reads (0.01, 5) but never rounded: 2.0000001 stays 2.0000001."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def with_defaults(kind: str, name: str, params: dict[str, float], defaults: dict[str, float]) -> dict[str, float]:
    """The parameters of a registry entry: ``defaults`` updated by ``params``; InputError for a name
    the entry does not have (``kind`` is "activation" or "init", for the message)."""
    unknown = set(params) - set(defaults)
    if unknown:
        raise InputError(f"{kind} {name!r} has no parameter {sorted(unknown)[0]!r}"
                         f" (parameters: {', '.join(defaults) or 'none'})")
    return {**defaults, **params}
