import numpy as np
import pytest
import sympy as sp
from hypothesis import given

from strategies import seeds

from driftproof.errors import InputError
from driftproof.inits import get_init, get_scale
from driftproof.losses import LOSSES, get_loss


def test_ce_is_stable_for_huge_logits():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    y = np.array([1, 2])
    loss = get_loss("ce")
    assert np.all(np.isfinite(loss.value(z, y))) and np.all(np.isfinite(loss.grad(z, y)))
    assert loss.value(z, y)[0] == pytest.approx(2e4)


@pytest.mark.parametrize("name", list(LOSSES))
@given(seeds)
def test_gradient_matches_finite_differences_and_symbolic_form(name, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(1, 3))
    y = np.array([rng.integers(3)])
    loss = get_loss(name)
    numeric = np.array([(loss.value(z + e, y) - loss.value(z - e, y))[0] / 2e-6 for e in 1e-6 * np.eye(3)])
    assert np.allclose(loss.grad(z, y)[0], numeric, atol=1e-6)
    expr, zs, ys = loss.symbolic(3)
    subs = {**dict(zip(zs, z[0])), **{yk: float(k == y[0]) for k, yk in enumerate(ys)}}
    symbolic = [float(sp.diff(expr, zk).subs(subs)) for zk in zs]
    assert np.allclose(loss.grad(z, y)[0], symbolic, atol=1e-10)


def test_unknown_loss():
    with pytest.raises(InputError):
        get_loss("hinge")


@pytest.mark.parametrize("spec", ["normal", "uniform", "truncated_normal", "laplace", "rademacher",
                                  "student_t(nu=5)", "centered"])
def test_inits_have_requested_variance(spec):
    """Seed 1, 4e5 draws: the sample variance is within 5 standard errors of s^2 = 0.09."""
    w = get_init(spec).sample(np.random.default_rng(1), (400, 1000), 0.3)
    var, n = w.var(), w.size
    kurt = np.mean((w - w.mean()) ** 4) / var**2
    se = 0.09 * np.sqrt((kurt - 1) / n)
    assert abs(var - 0.09) < 5 * se
    assert abs(w.mean()) < 5 * 0.3 / np.sqrt(n)


def test_controls():
    w = get_init("centered").sample(np.random.default_rng(0), (50, 64), 1.0)
    assert np.allclose(w.sum(axis=1), 0, atol=1e-10)
    shifted = get_init("shifted(mean=0.5)").sample(np.random.default_rng(0), (500, 500), 0.1)
    assert shifted.mean() == pytest.approx(0.5, abs=0.001)
    assert not get_init("centered").independent and not get_init("shifted").zero_mean


@pytest.mark.parametrize("spec", ["student_t(nu=2)", "gaussian", "normal(a=1)", "shifted(mean='a')"])
def test_bad_inits(spec):
    with pytest.raises(InputError):
        get_init(spec)


def test_scales():
    assert get_scale("he").std(200, 10) == pytest.approx(0.1)
    assert get_scale("lecun").std(100, 10) == pytest.approx(0.1)
    assert get_scale("glorot").std(150, 50) == pytest.approx(0.1)
    assert get_scale("std=0.3").std(7, 7) == 0.3
    for bad in ("std=0", "std=abc", "kaiming", "std=nan"):
        with pytest.raises(InputError):
            get_scale(bad)
