"""The activation registry: each activation is one SymPy expression in ``x``.

Derivatives, numpy callables and the ``math``-module source that :mod:`driftproof.compiled`
turns into Numba functions are all generated from that expression (DESIGN.md §5; STYLE.md
rule 4). Custom expressions are parsed with :mod:`ast` against a whitelist and built into
SymPy directly: never evaluated as Python.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Callable

import numpy as np
import sympy as sp
from sympy.printing.pycode import pycode

from .errors import InputError
from .specs import MAX_SPEC_LENGTH, format_spec, parse_spec, with_defaults

__all__ = ["x", "Activation", "ACTIVATIONS", "get_activation", "parse_expression", "CUSTOM_FUNCTIONS", "register_activation",
           "builtin_names", "stable_form", "numeric_function", "NUMERIC_FUNCTIONS", "check_expression", "core_names"]

x = sp.Symbol("x", real=True)


def _relu(v):
    return sp.Piecewise((0, v < 0), (v, True))


def _gelu(v):
    return v * (1 + sp.erf(v / sp.sqrt(2))) / 2


def _softplus(v):
    return sp.log(1 + sp.exp(v))


# name -> (builder(x, **params), default params, one-line description)
_BUILTINS: dict[str, tuple[Callable[..., sp.Expr], dict[str, float], str]] = {
    "relu": (lambda v: _relu(v), {}, "max(0, x)"),
    "leaky_relu": (lambda v, a: sp.Piecewise((a * v, v < 0), (v, True)), {"a": 0.01}, "x, or a*x for x < 0"),
    "elu": (lambda v, a: sp.Piecewise((a * (sp.exp(v) - 1), v < 0), (v, True)), {"a": 1.0},
            "x, or a*(exp(x)-1) for x < 0"),
    "gelu": (lambda v: _gelu(v), {}, "x*Phi(x), exact erf form"),
    "gelu_tanh": (lambda v: v / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (v + sp.Rational(44715, 10**6) * v**3))),
                  {}, "tanh approximation of GELU"),
    "silu": (lambda v: v / (1 + sp.exp(-v)), {}, "x*sigmoid(x)"),
    "softplus": (lambda v: _softplus(v), {}, "log(1+exp(x))"),
    "mish": (lambda v: v * sp.tanh(_softplus(v)), {}, "x*tanh(softplus(x))"),
    "relu2": (lambda v: sp.Piecewise((0, v < 0), (v**2, True)), {}, "relu(x)^2"),
    "clipped_relu2": (lambda v, c: sp.Piecewise((0, v < 0), (v**2, v < sp.sqrt(c)), (c, True)), {"c": 50.0},
                      "min(relu(x)^2, c); no gradient where the clip binds (x > sqrt(c)), as in the paper's code"),
    "gelu2": (lambda v: _gelu(v) ** 2, {}, "gelu(x)^2"),
    "tanh": (lambda v: sp.tanh(v), {}, "symmetric control"),
    "identity": (lambda v: v, {}, "symmetric control"),
}

_ORIGINAL = frozenset(_BUILTINS)  # the thirteen whose SymPy forms are written above
_SIGMOID = sp.Lambda(x, 1 / (1 + sp.exp(-x)))


def _formula_builder(name: str, formula: str) -> Callable[..., sp.Expr]:
    """A catalogue formula (the expression grammar, parameters by name) as a builder(v, **params)."""
    def build(value, /, **params):
        tree = ast.parse(formula, mode="eval")
        expr = sp.sympify(_Builder(format_spec(name, {k: float(p) for k, p in params.items()}), params).build(tree.body))
        return expr if value == x else expr.subs(x, value)
    return build


def _register_catalogue() -> None:
    """Every catalogue entry with a formula becomes a built-in (driftproof/catalogue.py)."""
    from .catalogue import CATALOGUE

    for entry in CATALOGUE.values():
        if entry.formula is not None and entry.name not in _BUILTINS:
            _BUILTINS[entry.name] = (_formula_builder(entry.name, entry.formula), dict(entry.defaults),
                                     entry.note or entry.formula)

# The whitelist of functions a custom expression may call, and the SymPy object each builds.
CUSTOM_FUNCTIONS: dict[str, Callable[..., sp.Expr]] = {
    "exp": sp.exp, "log": sp.log, "tanh": sp.tanh, "erf": sp.erf, "erfc": sp.erfc, "sqrt": sp.sqrt,
    "sigmoid": lambda a: _SIGMOID(a), "Abs": sp.Abs, "abs": sp.Abs,
    "Max": sp.Max, "Min": sp.Min, "max": sp.Max, "min": sp.Min, "Heaviside": sp.Heaviside,
    "sin": sp.sin, "cos": sp.cos, "atan": sp.atan, "asinh": sp.asinh, "sign": sp.sign,
    "log1p": lambda a: sp.log(1 + a), "expm1": lambda a: sp.exp(a) - 1,
    "Piecewise": None,  # parsed by _Builder._piecewise: Piecewise((expr, x < c), ..., (expr, True))
}
# How many arguments each takes: (fewest, most); most None: any number.
_ARITY = {**{name: (1, 1) for name in CUSTOM_FUNCTIONS}, **{name: (2, None) for name in ("Max", "Min", "max", "min")},
          "Piecewise": (1, None)}
_MAX_NODES = 600  # nodes of sigma*sigma' (SymPy's tree): beyond it every symbolic stage is too slow to bound
_CONSTANTS = {"pi": sp.pi, "E": sp.E}
# functions defined and continuous on every real (no domain computation needed)
_EVERYWHERE = (sp.exp, sp.tanh, sp.erf, sp.erfc, sp.sin, sp.cos, sp.atan, sp.asinh, sp.Abs, sp.Max, sp.Min)
_MAX_DEPTH = 40
_MAX_LITERAL = 1e6
_MAX_EXPONENT = 64


def _param_value(value: float) -> sp.Expr:
    """A parameter as an exact SymPy number where it is one (1 -> 1, 0.5 -> 1/2, 50 -> 50)."""
    rational = sp.nsimplify(value, rational=True)
    return rational if abs(float(rational) - value) <= 1e-15 * max(1.0, abs(value)) else sp.Float(value)


class _Builder:
    """Turn a parsed Python AST into a SymPy expression, refusing anything off the whitelist.

    One method per allowed node type; any other node is refused by :meth:`build`.
    """

    def __init__(self, text: str, names: dict | None = None):
        self.text = text
        self.names = names or {}  # parameter names of a catalogue formula -> their values

    def refuse(self, why: str) -> InputError:
        text = self.text if len(self.text) <= 80 else self.text[:60] + "..."
        return InputError(f"activation {text!r}: {why}")

    def build(self, node: ast.AST, depth: int = 0) -> sp.Expr:
        if depth > _MAX_DEPTH:
            raise self.refuse(f"nested more than {_MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return self._binary(node, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        raise self.refuse(f"{type(node).__name__} is not allowed in an expression")

    def _constant(self, node: ast.Constant) -> sp.Expr:
        if type(node.value) not in (int, float):
            what = "imaginary numbers are not allowed" if isinstance(node.value, complex) else "only numbers are allowed"
            raise self.refuse(f"{what} as constants, got {node.value!r}")
        if isinstance(node.value, int) and abs(node.value) > _MAX_LITERAL:
            raise self.refuse(f"a number with {len(str(abs(node.value)))} digits is out of range (|n| <= {_MAX_LITERAL:g})")
        if not math.isfinite(node.value) or abs(node.value) > _MAX_LITERAL:
            raise self.refuse(f"number {node.value!r} is out of range (|n| <= {_MAX_LITERAL:g})")
        return sp.Integer(node.value) if isinstance(node.value, int) else _param_value(node.value)

    def _name(self, node: ast.Name) -> sp.Expr:
        if node.id == "x":
            return x
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        if node.id in self.names:
            return self.names[node.id]
        raise self.refuse(f"unknown name {node.id!r}; the variable is x")

    def _binary(self, node: ast.BinOp, depth: int) -> sp.Expr:
        left = self.build(node.left, depth + 1)
        right = self.build(node.right, depth + 1)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            if right == 0:
                raise self.refuse("division by zero")
            return left / right
        if isinstance(node.op, ast.Pow):
            return self._power(left, right)
        raise self.refuse(f"operator {type(node.op).__name__} is not allowed")

    def _power(self, left: sp.Expr, right: sp.Expr) -> sp.Expr:
        if right.is_number and right.is_extended_real is False:
            raise self.refuse(f"exponent {right} is not real")
        if right.is_number and abs(float(right)) > _MAX_EXPONENT:
            raise self.refuse(f"exponent {right} is out of range (|e| <= {_MAX_EXPONENT})")
        if left.is_number and right.is_number and left != 0:
            # Refuse before SymPy expands a huge integer power.
            if abs(float(right)) * abs(math.log10(abs(float(abs(left))))) > 300:
                raise self.refuse("a constant power is out of range (> 1e300)")
            if left.is_negative and not right.is_integer:
                raise self.refuse(f"({left})**({right}) is not a real number")
        problem = _negative_base(left, right)
        if problem is not None:
            raise self.refuse(problem)
        return left**right

    def _call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.refuse("only plain calls such as tanh(x) are allowed")
        name = node.func.id
        if node.keywords:
            if name in _BUILTINS:
                raise self.refuse(f"{name}: parameters go in a spec of its own, e.g. --act '{name}(a=0.1)'; "
                                  "inside an expression a built-in takes its published defaults")
            raise self.refuse(f"{name} takes no keyword arguments")
        if name in _ARITY:
            fewest, most = _ARITY[name]
            count = len(node.args)
            if count < fewest or (most is not None and count > most):
                wanted = f"{fewest}" if fewest == most else f"at least {fewest}"
                raise self.refuse(f"{name} takes {wanted} argument{'s' if wanted != '1' else ''}, got {count}")
        if name == "Piecewise":
            return self._piecewise(node, depth)
        args = [self.build(arg, depth + 1) for arg in node.args]
        if name in CUSTOM_FUNCTIONS:
            return CUSTOM_FUNCTIONS[name](*args)
        if name in _BUILTINS and len(args) != 1:
            raise self.refuse(f"{name} takes 1 argument, got {len(args)}")
        if name in _BUILTINS and len(args) == 1:
            builder, defaults, _ = _BUILTINS[name]
            return builder(args[0], **{k: _param_value(v) for k, v in defaults.items()})
        allowed = ", ".join(sorted(CUSTOM_FUNCTIONS))
        raise self.refuse(f"function {name!r} is not allowed (allowed: {allowed}, or a built-in activation)")


_COMPARE = {ast.Lt: sp.StrictLessThan, ast.LtE: sp.LessThan, ast.Gt: sp.StrictGreaterThan, ast.GtE: sp.GreaterThan}


def _piecewise(self, node: ast.Call, depth: int) -> sp.Expr:
    """Piecewise((expr, condition), ..., (expr, True)): conditions compare expressions with <, <=, >, >=
    (one comparison each); the last must be True, so the function is defined everywhere."""
    pieces = []
    for i, arg in enumerate(node.args):
        if not (isinstance(arg, ast.Tuple) and len(arg.elts) == 2):
            raise self.refuse(f"Piecewise piece {i + 1} must be a pair (expression, condition)")
        value = self.build(arg.elts[0], depth + 2)
        cond = arg.elts[1]
        if isinstance(cond, ast.Constant) and cond.value is True:
            condition = sp.true
        elif isinstance(cond, ast.Compare) and len(cond.ops) == 1 and type(cond.ops[0]) in _COMPARE:
            condition = _COMPARE[type(cond.ops[0])](self.build(cond.left, depth + 2),
                                                   self.build(cond.comparators[0], depth + 2))
        else:
            raise self.refuse(f"Piecewise piece {i + 1}: the condition must be one comparison (x < 0) or True")
        pieces.append((value, condition))
    if pieces[-1][1] is not sp.true:
        raise self.refuse("the last piece of Piecewise must have the condition True, so that it is defined "
                          "for every x")
    return sp.Piecewise(*pieces)


_Builder._piecewise = _piecewise


def parse_expression(text: str) -> sp.Expr:
    """Parse a custom activation such as ``x*tanh(log(1+exp(x)))`` into a SymPy expression.

    Allowed: numbers, ``x``, ``pi``, ``E``, + - * / ** (or ^), and the functions in
    CUSTOM_FUNCTIONS or parameter-free built-in activations. Raises InputError otherwise.
    """
    if len(text) > MAX_SPEC_LENGTH:
        raise InputError(f"activation expression is longer than {MAX_SPEC_LENGTH} characters")
    source = text.strip().replace("^", "**")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise InputError(f"activation {text!r} is not a valid expression") from None
    except ValueError as error:  # e.g. null bytes
        raise InputError(f"activation {text!r} is not a valid expression: {error}") from None
    try:
        expr = sp.sympify(_Builder(text).build(tree.body))
    except RecursionError:
        raise InputError(f"activation {text!r} is nested too deeply (at most {_MAX_DEPTH} levels)") from None
    check_expression(text, expr)
    return expr


def check_expression(text: str, expr: sp.Expr, domain: bool = True) -> None:
    """The checks every activation expression passes, typed or handed over as SymPy (register_activation):
    one variable x, finite and real, degree, size, and defined and continuous on every real.

    Raises:
        InputError: naming what is wrong.
    """
    if expr.free_symbols - {x}:
        extra = ", ".join(sorted(map(str, expr.free_symbols - {x})))
        raise InputError(f"activation {text!r} must depend on x only (found {extra})")
    if not expr.has(x):
        raise InputError(f"activation {text!r} does not depend on x (a constant activation has no gradient)")
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I) or any(
            a.is_number and a.is_extended_real is False for a in sp.preorder_traversal(expr)):
        raise InputError(f"activation {text!r} is not a finite real expression")
    for power in expr.atoms(sp.Pow):  # a typed expression met this check in the parser; a SymPy one meets it here
        problem = _negative_base(*power.args)
        if problem is not None:
            raise InputError(f"activation {text!r}: {problem}")
    _check_degree(text, expr)
    _check_size(text, expr)
    if domain:
        _check_domain(text, expr)


def _negative_base(base: sp.Expr, exponent: sp.Expr) -> str | None:
    """Why ``base**exponent`` is not real somewhere on the real line (a non-integer power of a base that can be
    negative: SymPy's principal root is complex there), or None."""
    if not (exponent.is_number and not exponent.is_integer and base.has(x) and base.is_nonnegative is not True):
        return None
    from .bounded import bounded

    where = bounded(lambda: sp.solveset(base < 0, x, sp.S.Reals), DOMAIN_STEP_LIMIT)
    if where is not None and where.is_empty:
        return None
    place = f"for x in {_set_text(where)}" if where is not None else "where its base is negative"
    return (f"({base})**({exponent}) is not real {place} (a non-integer power of a negative number); for an odd "
            f"root write sign(u)*Abs(u)**({exponent})")


def _check_size(text: str, expr: sp.Expr) -> None:
    """Refuse an expression whose sigma*sigma' has more than _MAX_NODES nodes (GELU² nested 4 deep has
    ~2200): its sign map, moments and compiled code would take minutes with no bound."""
    try:
        normalized = _normalize(expr)
        product = normalized * sp.diff(normalized, x)
    except (RecursionError, TypeError, ValueError) as error:
        raise InputError(f"activation {text!r} could not be differentiated ({type(error).__name__})") from None
    nodes = 0
    for _ in sp.preorder_traversal(product):
        nodes += 1
        if nodes > _MAX_NODES:
            raise InputError(f"activation {text!r} is too large: sigma*sigma' has more than {_MAX_NODES} nodes "
                             f"(nest fewer levels, at most {_MAX_DEPTH} and typically 3 for GELU²)")


def _check_degree(text: str, expr: sp.Expr) -> None:
    """Refuse powers of x-expressions above _MAX_EXPONENT once nested powers are combined
    (((x+1)**64)**64 is (x+1)**4096): the exact moments of sigma^2 would need degree 8192."""
    for power in expr.atoms(sp.Pow):
        if power.base.has(x) and power.exp.is_number and abs(float(power.exp)) > _MAX_EXPONENT:
            raise InputError(f"activation {text!r} raises an expression in x to the power {power.exp}; "
                             f"powers are limited to |e| <= {_MAX_EXPONENT}")
    if expr.is_polynomial(x) and sp.degree(expr, x) > _MAX_EXPONENT:
        raise InputError(f"activation {text!r} is a polynomial of degree {sp.degree(expr, x)}; "
                         f"the limit is {_MAX_EXPONENT}")


def _check_domain(text: str, expr: sp.Expr) -> None:
    """Refuse an activation that is undefined, not real or not continuous somewhere on the real line
    (sqrt(x), log(x), 1/x): a network's pre-activations take every real value. Where SymPy cannot
    decide (erf, Heaviside), the expression is accepted and the evidence stages judge it."""
    from sympy.calculus.util import continuous_domain

    from .bounded import bounded

    if not _needs_domain_check(expr):
        return  # built from functions defined and continuous on every real
    domain = bounded(lambda: continuous_domain(expr, x, sp.S.Reals), DOMAIN_STEP_LIMIT)
    if domain is None:  # SymPy could not decide within its limit: the evidence stages judge it
        return
    if domain != sp.S.Reals:
        outside = sp.S.Reals - domain
        raise InputError(f"activation {text!r} is undefined, not real or not continuous for x in "
                         f"{_set_text(outside)}; pre-activations take every real value")


DOMAIN_STEP_LIMIT = 2.0  # CPU seconds for SymPy's continuous_domain (it runs away on tanh nested 20 deep)


def _needs_domain_check(expr: sp.Expr) -> bool:
    """False when every node is defined and continuous on the whole real line (polynomials, exp, tanh,
    erf, sin, ..., powers with a natural exponent or a positive base): no SymPy set computation needed."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow):
            if node.exp.is_Integer and node.exp >= 0:
                continue
            if node.base.is_positive or not node.base.has(x):
                continue
            return True
        if isinstance(node, (sp.log, sp.Piecewise, sp.Heaviside, sp.sign)) or (
                isinstance(node, sp.Function) and not isinstance(node, _EVERYWHERE)):
            return True
    return False


def _set_text(points: sp.Set) -> str:
    """A set of reals as a reader writes it: (-inf, 0], {0}, (-inf, -1) U (1, inf)."""
    if isinstance(points, sp.Union):
        return " U ".join(_set_text(part) for part in points.args)
    if isinstance(points, sp.Interval):
        def end(v):
            return "inf" if v == sp.oo else "-inf" if v == -sp.oo else sp.sstr(v)
        return (("(" if points.left_open else "[") + f"{end(points.start)}, {end(points.end)}"
                + (")" if points.right_open else "]"))
    if isinstance(points, sp.FiniteSet):
        return "{" + ", ".join(sp.sstr(v) for v in points) + "}"
    return sp.sstr(points)


class dp_logistic(sp.Function):  # noqa: N801 - the name the generated code calls
    """1/(1 + exp(-u)), for generated code only: printed as a form that never overflows
    (exp of a non-positive argument only). The symbolic stages never see it."""

    nargs = 1

    def _pythoncode(self, printer) -> str:
        u = printer._print(self.args[0])
        return (f"((1.0/(1.0 + math.exp(-({u})))) if ({u}) >= 0 else "
                f"(math.exp({u})/(1.0 + math.exp({u}))))")


class dp_softplus(sp.Function):  # noqa: N801
    """log(1 + exp(u)), for generated code only: max(u, 0) + log1p(exp(-|u|))."""

    nargs = 1

    def _pythoncode(self, printer) -> str:
        u = printer._print(self.args[0])
        return f"(max(({u}), 0.0) + math.log1p(math.exp(-abs({u}))))"


class dp_sech2(sp.Function):  # noqa: N801
    """1 - tanh(u)**2 = sech(u)**2, for generated code only: 4 e^{-2|u|} / (1 + e^{-2|u|})**2, which keeps
    its value (1.5e-43 at u = 50) where 1 - tanh(u)**2 cancels to 0, and never overflows."""

    nargs = 1

    def _pythoncode(self, printer) -> str:
        u = printer._print(self.args[0])
        return f"(4.0*math.exp(-2.0*abs({u}))/(1.0 + math.exp(-2.0*abs({u})))**2)"


class dp_usech2(sp.Function):  # noqa: N801
    """u * sech(u)**2, for generated code only: 0 where |u| > 400 (|u| sech(u)**2 < 1e-340 there, below the
    smallest double), so that u = inf (exp(800)) gives 0 where inf * sech(inf)**2 gives nan."""

    nargs = 1

    def _pythoncode(self, printer) -> str:
        u = printer._print(self.args[0])
        return (f"(0.0 if abs({u}) > 400.0 else "
                f"({u})*4.0*math.exp(-2.0*abs({u}))/(1.0 + math.exp(-2.0*abs({u})))**2)")


def _np_usech2(u):
    u = np.asarray(u, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(np.abs(u) > 400.0, 0.0, u * _np_sech2(u))


def _np_sech2(u):
    e = np.exp(-2.0 * np.abs(np.asarray(u, dtype=float)))
    return 4.0 * e / (1.0 + e) ** 2


def _np_logistic(u):
    u = np.asarray(u, dtype=float)
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _np_softplus(u):
    u = np.asarray(u, dtype=float)
    return np.maximum(u, 0.0) + np.log1p(np.exp(-np.abs(u)))


NUMERIC_FUNCTIONS = {"dp_logistic": _np_logistic, "dp_softplus": _np_softplus, "dp_sech2": _np_sech2,
                     "dp_usech2": _np_usech2}


def _split_exp_sum(base: sp.Expr):
    """(c, d, v) when base = c + d*exp(v) with numbers c > 0, d > 0, else None."""
    if not isinstance(base, sp.Add) or len(base.args) != 2:
        return None
    const, term = base.as_independent(x, as_Add=True)
    if not (const.is_number and const.is_positive):
        return None
    d, core = term.as_independent(x, as_Add=False)
    if not (isinstance(core, sp.exp) and d.is_number and d.is_positive):
        return None
    return const, d, core.args[0]


def _stable_pow(expr: sp.Pow) -> sp.Expr:
    """(c + d e^v)^-k -> c^-k logistic(-(v + log(d/c)))^k."""
    if not (expr.exp.is_Integer and expr.exp < 0):
        return expr
    parts = _split_exp_sum(expr.base)
    if parts is None:
        return expr
    c, d, v = parts
    shift = v + sp.log(d / c) if d != c else v
    return c**expr.exp * dp_logistic(-shift) ** (-expr.exp)


def _stable_log(expr: sp.log) -> sp.Expr:
    """log(c + d e^v) -> log(c) + softplus(v + log(d/c))."""
    parts = _split_exp_sum(expr.args[0])
    if parts is None:
        return _log1p(expr)
    c, d, v = parts
    return sp.log(c) + dp_softplus(v + sp.log(d / c) if d != c else v)


def _log1p(expr: sp.log) -> sp.Expr:
    """log(1 + u) -> log1p(u) for u other than a sum: log(1 + 2e-22) is 0 in floating point (logish at -50)."""
    from sympy.codegen.cfunctions import log1p

    const, rest = expr.args[0].as_independent(x, as_Add=True)
    if const == 1 and rest != 0 and not isinstance(rest, sp.Add):
        return log1p(rest)
    return expr


def _common_power(expr: sp.Add) -> sp.Expr:
    """sum c_i B**e_i (one base B, half-integer e_i) -> B**min(e) * cancel(sum c_i B**(e_i - min(e))):
    -x**2/(x**2 + 1)**(3/2) + 1/sqrt(x**2 + 1) is 1/(x**2 + 1)**(3/2), and cancels to 7 digits at 1e5."""
    powers = {p for p in expr.atoms(sp.Pow) if p.base.has(x) and p.exp.is_Rational and p.exp.q == 2}
    bases = {p.base for p in powers}
    if len(bases) != 1 or len(powers) < 2:
        return expr
    base = bases.pop()
    low = min(p.exp for p in powers)
    inside = sp.cancel(sp.expand(sp.powsimp(expr * base ** (-low))))
    if inside.has(sp.sqrt(base)) or any(p.base == base and not p.exp.is_Integer for p in inside.atoms(sp.Pow)):
        return expr
    return base ** low * inside


def _conjugate(expr: sp.Add) -> sp.Expr:
    """A + C r with r = sqrt(B)^(+-1) and A C < 0 somewhere (x + sqrt(x**2 + 4) at x = -1e5 cancels to 7
    digits): there its conjugate (A**2 - C**2 r**2) / (A - C r), the numerator cancelled symbolically."""
    combined = _common_power(expr)
    if combined is not expr:
        return combined
    roots = {p for p in expr.atoms(sp.Pow) if p.exp in (sp.S.Half, -sp.S.Half) and p.base.has(x)}
    if len(roots) != 1:
        return expr
    r = roots.pop()
    a, c = sp.S.Zero, sp.S.Zero
    for term in sp.Add.make_args(expr):
        coeff, rest = term.as_independent(r, as_Add=False)
        if rest == 1:
            a += term
        elif rest == r and not coeff.has(r):
            c += coeff
        else:
            return expr
    if a == 0 or c == 0 or not (a.is_polynomial(x) and c.is_polynomial(x)):
        return expr
    square = r.base if r.exp > 0 else 1 / r.base
    difference = sp.cancel(sp.together(a**2 - c**2 * square))
    if difference.has(sp.sqrt(r.base)) or sp.count_ops(difference) > sp.count_ops(expr):
        return expr
    return sp.Piecewise((expr, sp.Ge(a * c, 0)), (difference / (a - c * r), True))


def _stable_mul(expr: sp.Mul) -> sp.Expr:
    """exp(w) * logistic(a)^k with w = -a -> logistic(-a) * logistic(a)^(k-1), repeated; exp(a) * logistic(-a)
    the same way: an exponential that would overflow is folded into a bounded logistic."""
    factors = list(expr.args)
    changed = True
    while changed:
        changed = False
        exps = [i for i, f in enumerate(factors) if isinstance(f, sp.exp)]
        for i in exps:
            w = factors[i].args[0]
            for j, f in enumerate(factors):
                base, power = (f.base, f.exp) if isinstance(f, sp.Pow) else (f, sp.S.One)
                if not (isinstance(base, dp_logistic) and power.is_Integer and power > 0):
                    continue
                a = base.args[0]
                m = sp.cancel(-w / a)  # exp(-m a) logistic(a)^m = logistic(-a)^m
                if not (m.is_Integer and 0 < m <= power):
                    continue
                factors[j] = base ** (power - m) if power > m else sp.S.One
                factors[i] = dp_logistic(-a) ** m
                changed = True
                break
            if changed:
                break
    for i, f in enumerate(factors):  # u * sech2(u) -> usech2(u): inf * 0 is nan
        if isinstance(f, dp_sech2) and f.args[0] in factors:
            j = factors.index(f.args[0])
            factors[i], factors[j] = dp_usech2(f.args[0]), sp.S.One
            break
    return sp.Mul(*factors)


def _stable_add(expr: sp.Add) -> sp.Expr:
    """c - c*tanh(u)**2 -> c*sech2(u); exp(u) - 1 -> expm1(u) (both cancel in floating point)."""
    from sympy.codegen.cfunctions import expm1

    terms = list(sp.Add.make_args(expr))
    for i, term in enumerate(terms):  # c*L(a) - c*L(a)**2 = c*L(a)*L(-a)
        coeff, core = term.as_coeff_Mul()
        if isinstance(core, dp_logistic) and -coeff * core**2 in terms:
            rest = [t for k, t in enumerate(terms) if k != i and t != -coeff * core**2]
            return sp.Add(coeff * core * dp_logistic(-core.args[0]), *rest)
    const, rest = expr.as_independent(x, as_Add=True)
    if const == 0:
        return _conjugate(expr)
    terms = list(sp.Add.make_args(rest))
    for i, term in enumerate(terms):
        coeff, core = term.as_coeff_Mul()
        others = terms[:i] + terms[i + 1:]
        if isinstance(core, dp_logistic) and coeff == -const:  # c - c L(a) = c L(-a): 1 - L(40) cancels
            return sp.Add(const * dp_logistic(-core.args[0]), *others)
        if isinstance(core, sp.Pow) and core.exp == 2 and isinstance(core.base, sp.tanh) and coeff == -const:
            return sp.Add(const * dp_sech2(core.base.args[0]), *others)
        if isinstance(core, sp.exp) and coeff == -const:
            return sp.Add(coeff * expm1(core.args[0]), *others)
    return _conjugate(expr)


def stable_form(expr: sp.Expr) -> sp.Expr:
    """``expr`` rewritten for floating-point evaluation (equal as a function): logistic and softplus
    pieces written so that no exponential overflows where the function itself is moderate
    (x - 0.01*sigmoid((x-40)*10000) at x = 0, sigmoid(1000*x)*x at x = -1). For generated code
    only (numpy, Numba); the symbolic stages keep the expression as written."""
    out = expr.replace(lambda e: isinstance(e, sp.Pow), _stable_pow)
    out = out.replace(lambda e: isinstance(e, sp.log), _stable_log)
    out = out.replace(lambda e: isinstance(e, sp.Mul), _stable_mul)
    out = out.replace(lambda e: isinstance(e, sp.Add), _stable_add)
    # sech2 comes out of the sums: fold u * sech2(u) (exp(x) * sech2(exp(x)) at x = 800) once more
    return out.replace(lambda e: isinstance(e, sp.Mul) and e.has(dp_sech2), _stable_mul)


def _normalize(expr: sp.Expr) -> sp.Expr:
    """Rewrite Max/Min/Abs/Heaviside as Piecewise so every numeric printer handles it."""
    if expr.has(sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign):
        expr = expr.rewrite(sp.Piecewise)
    return sp.piecewise_fold(expr)


@dataclass(frozen=True)
class Activation:
    """An activation function sigma(x), written once as a SymPy expression."""

    name: str
    expr: sp.Expr = field(compare=False)
    params: tuple[tuple[str, float], ...] = ()
    description: str = ""
    custom: bool = False

    @cached_property
    def normalized(self) -> sp.Expr:
        return _normalize(self.expr)

    @cached_property
    def derivative(self) -> sp.Expr:
        """sigma'(x), by SymPy."""
        return sp.piecewise_fold(sp.diff(self.normalized, x))

    @cached_property
    def sigma_dsigma(self) -> sp.Expr:
        """sigma(x) sigma'(x): the sign of the expected gradient (R3)."""
        return sp.piecewise_fold(self.normalized * self.derivative)

    @property
    def is_piecewise(self) -> bool:
        return self.normalized.has(sp.Piecewise)

    @cached_property
    def is_odd(self) -> bool:
        """sigma(-x) == -sigma(x): the symmetric controls, which cannot drift (DESIGN.md §1)."""
        grid = np.linspace(-6.0, 6.0, 241)
        values = self.numpy(grid)
        return bool(np.allclose(values, -values[::-1], rtol=1e-12, atol=1e-12))

    @cached_property
    def breakpoints(self) -> tuple[float, ...]:
        """Finite points where a Piecewise form switches branch (kinks, jumps)."""
        points: set[float] = set()
        for piece in self.normalized.atoms(sp.Piecewise) | self.derivative.atoms(sp.Piecewise):
            for _, cond in piece.args:
                for rel in cond.atoms(sp.core.relational.Relational):
                    try:
                        for root in sp.solveset(sp.Eq(rel.lhs, rel.rhs), x, sp.S.Reals):
                            points.add(float(root))
                    except (TypeError, NotImplementedError):
                        continue
        return tuple(sorted(points))

    def _lambdify(self, expr: sp.Expr) -> Callable[[np.ndarray], np.ndarray]:
        function = numeric_function(expr)

        def call(values):
            values = np.asarray(values, dtype=float)
            with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
                result = function(values)
            return np.broadcast_to(np.asarray(result, dtype=float), values.shape).copy()

        return call

    @cached_property
    def numpy(self) -> Callable[[np.ndarray], np.ndarray]:
        """sigma as a vectorized numpy function."""
        return self._lambdify(self.normalized)

    @cached_property
    def numpy_derivative(self) -> Callable[[np.ndarray], np.ndarray]:
        """sigma' as a vectorized numpy function."""
        return self._lambdify(self.derivative)

    @cached_property
    def numpy_sigma_dsigma(self) -> Callable[[np.ndarray], np.ndarray]:
        return self._lambdify(self.sigma_dsigma)

    def python_source(self, expr: sp.Expr | None = None) -> str:
        """A Python expression in ``x`` using only the math module (default sigma): Numba compiles it."""
        return pycode(stable_form(self.normalized if expr is None else expr), fully_qualified_modules=True)

    def latex(self) -> str:
        return sp.latex(self.expr)

    def to_dict(self) -> dict:
        return {"name": self.name, "expression": str(self.expr), "params": dict(self.params),
                "custom": self.custom, "description": self.description}


def numeric_function(expr: sp.Expr) -> Callable:
    """``expr`` as a numpy function of x, from its :func:`stable_form` (the raw callable, no error state)."""
    return sp.lambdify(x, stable_form(expr), modules=[NUMERIC_FUNCTIONS, "scipy", "numpy"])


def builtin_names() -> list[str]:
    """Every built-in activation: the original thirteen, then the catalogue's (driftproof/catalogue.py)."""
    return list(_BUILTINS)


def core_names() -> list[str]:
    """The thirteen original built-ins (the paper's activations and their controls)."""
    return [name for name in _BUILTINS if name in _ORIGINAL]


# Activations registered by name in this process (register_activation): name -> (expression, description).
_REGISTERED: dict[str, tuple[sp.Expr, str]] = {}


def register_activation(name: str, expression: sp.Expr | str, description: str = "registered") -> Activation:
    """Make ``name`` an activation for this process: a SymPy expression in ``x`` or a safe string.

    Strings are parsed as ``--act`` is (never evaluated); SymPy expressions may use only the
    symbol :data:`x`. A registered name works wherever a built-in does (Config, verify, train)
    in this process; worker processes of a sweep do not see it (give them the expression).

    Raises:
        InputError: a name that is not an identifier or clashes with a built-in, or a bad expression.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"an activation name must be an identifier, got {name!r}")
    if name in _BUILTINS or name in CUSTOM_FUNCTIONS or name == "x":
        raise InputError(f"{name!r} is already a built-in name; choose another")
    if isinstance(expression, str):
        expr = parse_expression(expression)
    elif isinstance(expression, sp.Expr):
        # a user's own sp.Symbol("x") (no assumptions) is this module's real x: same name, same meaning
        expression = expression.xreplace({s: x for s in expression.free_symbols if getattr(s, "name", None) == "x"})
        extra = expression.free_symbols - {x}
        if extra:
            raise InputError(f"the expression may use only the symbol x, found {', '.join(sorted(map(str, extra)))}")
        check_expression(str(expression), expression)  # the checks of the string path
        expr = expression
    else:
        raise InputError(f"expression must be a SymPy expression or a string, got {type(expression).__name__}")
    _REGISTERED[name] = (expr, description)
    _build_activation.cache_clear()
    return get_activation(name)


ACTIVATIONS = _BUILTINS  # read-only view for listing


def get_activation(spec: str) -> Activation:
    """The activation named by ``spec``: a built-in (``gelu``, ``leaky_relu(a=0.1)``) or an expression in x.

    The same spec gives the same object (until :func:`register_activation` changes what a name means),
    so its numpy functions and symbolic forms are built once per process, not once per Config.

    Raises:
        InputError: unknown names, bad parameters, or an expression off the whitelist.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"activation must be a non-empty name or expression, got {spec!r}")
    return _build_activation(spec)


def _names_a_builtin_call(spec: str) -> bool:
    """True when ``spec`` is a call of a built-in activation with keyword arguments (a spec, not an expression)."""
    try:
        tree = ast.parse(spec.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return False
    return (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id in _BUILTINS
            and bool(tree.keywords) and not tree.args)


@lru_cache(maxsize=128)
def _build_activation(spec: str) -> Activation:
    try:
        name, params = parse_spec(spec, "activation")
    except InputError as error:
        if _names_a_builtin_call(spec):  # leaky_relu(a=nan): the spec's own message, not the expression parser's
            raise
        name, params = None, None
    if name is not None and name in _BUILTINS:
        builder, defaults, description = _BUILTINS[name]
        values = with_defaults("activation", name, params, defaults)
        for key, value in values.items():
            if abs(value) > _MAX_LITERAL:
                raise InputError(f"{name} parameter {key} = {value:g} is out of range (|{key}| <= {_MAX_LITERAL:g})")
        if name == "clipped_relu2" and values["c"] <= 0:
            raise InputError(f"clipped_relu2 parameter c must be positive, got {values['c']:g}")
        expr = builder(x, **{k: _param_value(v) for k, v in values.items()})
        if name not in _ORIGINAL:  # a catalogue formula: the checks of any expression but continuity
            check_expression(format_spec(name, params), expr, domain=False)  # (a jump is allowed and stated)
        return Activation(format_spec(name, params), expr, tuple(values.items()), description)
    if name is not None and name in _REGISTERED and not params:
        expr, description = _REGISTERED[name]
        return Activation(name, expr, (), description, custom=True)
    expr = parse_expression(spec)
    return Activation(spec.strip(), expr, (), "custom expression", custom=True)


_register_catalogue()
