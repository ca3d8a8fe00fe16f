import math
import os
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st

from driftproof.activations import get_activation, x
from driftproof.compiled import activation_kernels
from driftproof.errors import InputError
from strategies import BUILTINS, builtin_activation, positive_p, real_p


def _mp_value(act, value):
    f = sp.lambdify(x, act.normalized, modules="mpmath")
    with mpmath.workdps(40):
        return f(mpmath.mpf(value))


@given(builtin_activation, real_p)
def test_derivative_matches_mpmath_numerical_derivative(name, p):
    """An independent oracle for every derivative: mpmath's numerical differentiation."""
    act = get_activation(name)
    if any(abs(p - b) < 1e-3 for b in act.breakpoints):
        return  # no derivative at a kink
    f = sp.lambdify(x, act.normalized, modules="mpmath")
    with mpmath.workdps(40):
        expected = float(mpmath.diff(f, mpmath.mpf(p)))
    assert act.numpy_derivative(np.array([p]))[0] == pytest.approx(expected, rel=1e-9, abs=1e-12)


@given(builtin_activation, real_p)
def test_numpy_and_numba_forms_agree_with_mpmath(name, p):
    """The numpy callable and the compiled scalar sigma (the generated module's ``act``) against mpmath."""
    act = get_activation(name)
    expected = float(_mp_value(act, p))
    assert act.numpy(np.array([p]))[0] == pytest.approx(expected, rel=1e-10, abs=1e-12)
    numba_sigma = activation_kernels(act).act
    assert numba_sigma(p) == pytest.approx(expected, rel=1e-10, abs=1e-12)


@given(builtin_activation, positive_p)
@example("gelu", 1e-3)
@example("silu", 1e-3)
def test_sigma_dsigma_positive_for_positive_p(name, p):
    """The theorem's pointwise inequality: sigma(p) sigma'(p) > 0 for p > 0 (>= 0 past a clip)."""
    act = get_activation(name)
    value = act.numpy_sigma_dsigma(np.array([p]))[0]
    if name == "clipped_relu2" and p >= math.sqrt(50):
        assert value == 0
    else:
        assert value > 0


def test_custom_expression_equals_builtin():
    custom = get_activation("x*tanh(log(1+exp(x)))")
    grid = np.linspace(-5, 5, 101)
    assert np.allclose(custom.numpy(grid), get_activation("mish").numpy(grid), rtol=1e-12)
    assert custom.custom


@pytest.mark.parametrize("text", [
    "__import__('os').system('touch /tmp/driftproof_pwned')",
    "x.__class__", "lambda: 1", "y + 1", "foo(x)", "exec('1')", "open('/etc/passwd')",
    "[x for x in ()]", "x if x else 1", "'abc'", "1/0", "9**9**9", "(10**6)**64**64", "x; import os",
    "tanh(x, y=1)", "", "   ", "x" * 600, "getattr(x, 'y')", "True", "x\x00",
])
def test_parser_refuses_unsafe_or_malformed_input(text, tmp_path):
    with pytest.raises(InputError):
        get_activation(text)
    assert not os.path.exists("/tmp/driftproof_pwned")


@pytest.mark.parametrize("spec,expected", [("leaky_relu(a=0.1)", -0.1), ("elu(a=2)", 2 * (math.exp(-1) - 1))])
def test_parameters(spec, expected):
    assert get_activation(spec).numpy(np.array([-1.0]))[0] == pytest.approx(expected)


@pytest.mark.parametrize("spec", ["leaky_relu(b=1)", "clipped_relu2(c=-1)", "relu(a=1)", "gelu(a='x')"])
def test_bad_parameters(spec):
    with pytest.raises(InputError):
        get_activation(spec)


def test_symmetric_controls_detected():
    assert get_activation("tanh").is_odd and get_activation("identity").is_odd
    assert not any(get_activation(n).is_odd for n in BUILTINS if n not in ("tanh", "identity"))


@given(st.floats(min_value=-1e4, max_value=1e4))
def test_softplus_and_silu_are_finite_everywhere(p):
    for name in ("softplus", "silu", "mish", "gelu"):
        assert np.isfinite(get_activation(name).numpy(np.array([p]))[0]) or abs(p) > 700


@pytest.mark.parametrize("text,where", [("sqrt(x)", "(-inf, 0)"), ("log(x)", "(-inf, 0]"), ("1/x", "{0}"),
                                        ("x**0.5", "(-inf, 0)"), ("log(x**2)", "{0}"), ("1/(x-3)", "{3}")])
def test_an_activation_undefined_somewhere_on_the_line_is_refused_saying_where(text, where):
    with pytest.raises(InputError) as caught:
        get_activation(text)
    assert where in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("text", ["sqrt(x**2+1)", "log(1+exp(x))", "Abs(x)**0.5", "x/(1+Abs(x))", "Max(x, 0)**2"])
def test_activations_defined_everywhere_are_accepted(text):
    assert get_activation(text).custom


def test_clipped_relu2_says_and_has_no_gradient_where_the_clip_binds():
    """`list` states the clip's gradient semantics, and σ' is 0 above sqrt(c) (c = 50 and c = 2)."""
    import math

    from driftproof.activations import get_activation

    for c in (50.0, 2.0):
        act = get_activation(f"clipped_relu2(c={c:g})")
        assert "no gradient where the clip binds" in act.description
        above = math.sqrt(c) * np.array([1.001, 2.0, 10.0])
        assert np.all(act.numpy_derivative(above) == 0.0)
        assert np.all(act.numpy_derivative(math.sqrt(c) * np.array([0.5, 0.999])) > 0.0)


def test_generated_kernels_are_renamed_when_a_called_module_changes(tmp_path, monkeypatch):
    """Numba's disk cache keys a module by its own file: a change in a module the generated kernel
    calls (montecarlo/) must give the generated module a new name, or stale machine code is reused."""
    import shutil

    from driftproof import compiled

    package = Path(compiled.__file__).resolve().parent / "montecarlo"
    copy = tmp_path / "montecarlo"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(compiled, "_FUSED", copy / "fused.py")
    compiled._dependencies_digest.cache_clear()
    before = compiled._dependencies_digest()
    compiled._dependencies_digest.cache_clear()
    assert compiled._dependencies_digest() == before  # a function of the files alone
    (copy / "normals.py").write_text((copy / "normals.py").read_text() + "\n# changed\n")
    compiled._dependencies_digest.cache_clear()
    assert compiled._dependencies_digest() != before
    compiled._dependencies_digest.cache_clear()
