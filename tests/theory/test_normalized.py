"""R6: the derivation's exact steps, and the derivation against Monte Carlo (stated seeds, budgets, tolerances)."""

import numpy as np
import pytest
import sympy as sp

from driftproof.config import Config
from driftproof.montecarlo.residual import conditional, context, marginal
from driftproof.theory import normalized
from driftproof.theory.normalized import Residual, conditional_block, derive_residual, predict, radial

from harness import assert_agrees, assert_agrees_marginal


def test_expected_output_gradient_vanishes_exactly_at_eps_zero():
    """d|n|^2/da = 0 at eps = 0 (both norms), not for eps > 0 or without a norm; J_n^T n = 0 (N = 3)."""
    for norm in ("layernorm", "rmsnorm"):
        d1 = radial(norm)[0]
        assert sp.simplify(d1.subs(normalized.eps, 0)) == 0
        assert sp.simplify(d1) != 0
    assert radial("none")[0] == normalized.psi1
    assert normalized._jacobian_check() == sp.zeros(3, 1)


def test_radial_laplacian_matches_finite_differences():
    """4 a f'' + 2 trP f' for f = psi(rho(a)), psi(v) = v^2 / 2, against a numeric Laplacian of psi(rho(|P x|^2))."""
    rng = np.random.default_rng(0)
    n, eps_value = 5, 0.7
    x = rng.standard_normal(n)
    centre = lambda v: v - v.mean()
    rho = lambda v: n * (centre(v) @ centre(v)) / (centre(v) @ centre(v) + n * eps_value)
    phi = lambda v: rho(v) ** 2 / 2
    h = 1e-4
    numeric = sum((phi(x + h * e) - 2 * phi(x) + phi(x - h * e)) / h**2 for e in np.eye(n))
    a_value = centre(x) @ centre(x)
    rho_value = n * a_value / (a_value + n * eps_value)
    derived = radial("layernorm")[2](a_value, n, eps_value, n - 1, rho_value, 1.0)
    assert abs(numeric - derived) < 1e-5 * abs(derived)


def test_derivation_renders_and_says_zero():
    res = Residual(Config(loss="ce", act="gelu", width=64, depth=2), "rmsnorm", 0.0)
    derivation = derive_residual(res)
    assert derivation.key == "R6" and "0 exactly" in derivation.conclusion
    assert "[exact] eps = 0" in derivation.to_text()
    # every block vanishes, not only the last (the design notes' R6 paragraph said the last; the output says so)
    assert "every block, not only the last" in derivation.to_text() and "supersedes" in derivation.to_text()
    assert all(block.coefficient.mean == 0 and block.exact for block in predict(res).blocks)


@pytest.mark.parametrize("loss", ["ce", "mse"])
@pytest.mark.parametrize("norm", ["rmsnorm", "layernorm"])
def test_every_block_is_zero_at_eps_zero_and_not_without_a_norm(loss, norm):
    """eps = 0: each block's pooled E[delta | p > 0] within its 99.9999% interval of 0 and below 5% of the
    plain residual network's (seed 0, N = 64, 2 blocks, 1024 samples); without a norm: resolved positive."""
    config = Config(loss=loss, act="gelu", width=64, depth=2, seed=0)
    plain = marginal(Residual(config, "none"), samples=256)
    zero = marginal(Residual(config, norm, 0.0), samples=1024)
    for normed, reference in zip(zero.layers, plain.layers):
        assert reference.delta_given_positive.sign == 1
        estimate = normed.delta_given_positive
        assert estimate.contains(0.0)
        assert max(abs(estimate.ci_low), abs(estimate.ci_high)) < 0.05 * reference.delta_given_positive.mean


@pytest.mark.parametrize("init", ["normal", "uniform"])
def test_last_block_with_a_large_eps_matches_stein(init):
    """RMSNorm, eps = 1 (a correction large enough to measure), MSE, N = 64, seed 2, 4096 samples:
    every tested unit within 5 standard errors of s_2^2 T_L sigma sigma'(p_i). Stein is exact for a Gaussian
    W2; for the uniform init the prediction is the Gaussian one (its error, O(kurtosis / N), is below the noise)."""
    res = Residual(Config(loss="mse", act="relu", init=init, width=64, depth=2, seed=2), "rmsnorm", 1.0)
    result = conditional(res, samples=4096, stop_early=False)
    x, p = context(res, 2)
    assert_agrees(result, conditional_block(res, 2, x, p)[0])


@pytest.mark.parametrize("norm,eps", [("none", 0.0), ("rmsnorm", 1.0)])
def test_earlier_block_matches_mean_field(norm, eps):
    """Block 1 of 2, GELU, CE, N = 128, seed 2, 2048 samples: each unit within 5 standard errors of the
    radial mean field plus 8% (the mean-field error, relative O(1/N) and fluctuations of |x_L|^2)."""
    res = Residual(Config(loss="ce", act="gelu", width=128, depth=2, seed=2), norm, eps)
    result = conditional(res, block=1, samples=2048, stop_early=False)
    x, p = context(res, 1)
    predicted = conditional_block(res, 1, x, p)[0]
    assert_agrees(result, predicted, oracle_stderr=0.08 * np.abs(predicted))


def test_plain_residual_marginal_matches_mean_field():
    """No norm, ReLU, MSE, N = 128, 3 blocks, seed 4, 512 samples: within 4 standard errors + 6%."""
    res = Residual(Config(loss="mse", act="relu", width=128, depth=3, seed=4), "none")
    result = marginal(res, samples=512)
    assert_agrees_marginal(result, {b.block: b.delta_given_positive.mean for b in predict(res).blocks},
                           relative=0.06)


def test_derive_with_arch_resmlp_adds_R6_with_the_gpt_steps():
    """``derive --arch resmlp`` carries R6 for the verified network, including what the GPT's attention
    blocks (exact at eps = 0) and its tied readout (no exact statement: measured) do."""
    import driftproof

    plain = driftproof.derive("ce", "gelu", width=32, depth=2)
    residual = driftproof.derive("ce", "gelu", width=32, depth=2, arch="resmlp")
    assert [d.key for d in residual.derivations][:-1] == [d.key for d in plain.derivations]
    r6 = residual.derivations[-1]
    assert r6.key == "R6"
    titles = {step.title: step.tag for step in r6.steps}
    assert any("whatever makes the stream" in t and tag == "exact" for t, tag in titles.items())
    assert any(t.startswith("tied readout") and tag == "numeric" for t, tag in titles.items())
    with pytest.raises(driftproof.InputError):
        driftproof.derive("ce", "gelu", arch="gpt2")
