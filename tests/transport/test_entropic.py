"""Entropic OT and the Sinkhorn divergence against POT, closed forms and bounds derived from eps."""

import warnings

import numpy as np
import ot
import pytest

from meanfolio.transport import (
    SinkhornConvergenceWarning,
    entropic_ot,
    entropic_ot_linear,
    sinkhorn_divergence,
    wasserstein,
)


def _pot_full(x, y, eps, a=None, b=None):
    """The full regularised value of POT's log-domain Sinkhorn plan (an independent reference)."""
    a = np.full(len(x), 1 / len(x)) if a is None else a / a.sum()
    b = np.full(len(y), 1 / len(y)) if b is None else b / b.sum()
    M = ot.dist(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        P = ot.sinkhorn(a, b, M, eps, method="sinkhorn_log", stopThr=1e-14, numItermax=100_000)
    ab = np.outer(a, b)
    kl = np.sum(np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0) / np.where(ab > 0, ab, 1.0)), 0.0))
    return float(np.sum(P * M) + eps * kl), P


def _gaussians(n, m, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)), 1 + rng.normal(size=(m, 2)) / np.sqrt(2)


def _certified(res, ref):
    """value <= OT_eps <= value + gap_bound, up to the rounding bound."""
    return res.value - res.rounding_bound <= ref <= res.value + res.gap_bound + res.rounding_bound


@pytest.mark.parametrize("eps", [0.05, 0.5])
def test_values_against_pot_on_every_path(eps):
    rng = np.random.default_rng(1)
    xa, xb = rng.normal(size=(150, 2)), rng.normal(size=(100, 2)) + 0.5
    wa, wb = rng.random(150), rng.random(100)
    wa[:7] = 0.0  # points without mass
    ref, P = _pot_full(xa, xb, eps, wa, wb)
    for newton in (None, True, False):
        res = entropic_ot(xa, xb, wa, wb, eps=eps, tol=1e-11, newton=newton)
        assert res.converged and res.marginal_error <= 1e-11
        assert res.value == pytest.approx(ref, rel=1e-9)
        assert _certified(res, ref)
        assert np.allclose(res.plan(ot.dist(xa, xb), wa / wa.sum(), wb / wb.sum()), P, atol=1e-9)
        swapped = entropic_ot(xb, xa, wb, wa, eps=eps, tol=1e-11, newton=newton)  # n < m: Newton on the rows
        assert swapped.value == pytest.approx(ref, rel=1e-9)
    assert entropic_ot_linear(xa, xb, wa, wb, eps=eps, tol=1e-11) == pytest.approx(np.sum(P * ot.dist(xa, xb)), 1e-8)
    # warm start from the solution converges at once
    res = entropic_ot(xa, xb, wa, wb, eps=eps, tol=1e-11)
    again = entropic_ot(xa, xb, wa, wb, eps=eps, tol=1e-11, warm_start=(res.f, res.g))
    assert again.iterations <= 3 and again.value == pytest.approx(res.value, rel=1e-12)


def test_non_convergence_is_flagged_warned_and_bounded():
    xa, xb = _gaussians(80, 60)
    ref = entropic_ot(xa, xb, eps=1e-3, tol=1e-12)  # converged (Newton polish), certified below
    assert ref.converged and ref.gap_bound < 1e-9
    for max_iter in (5, 40, 150):
        with pytest.warns(SinkhornConvergenceWarning, match="did not reach tol"):
            res = entropic_ot(xa, xb, eps=1e-3, tol=1e-9, max_iter=max_iter)
        assert not res.converged and res.marginal_error > 1e-9 and res.iterations == max_iter
        assert res.history.shape == (max_iter,)
        assert _certified(res, ref.value)  # the bound holds even when it is far from converged
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning when the tolerance is met
        assert entropic_ot(xa, xb, eps=0.1, tol=1e-9).converged


@pytest.mark.parametrize("eps", [0.1, 0.01, 0.001])
def test_small_eps_converges_in_a_bounded_number_of_iterations(eps):
    # 2-D Gaussians x ~ N(0, I), y ~ N(1, I/2): the seed code took 10,213 iterations at eps = 0.01 for
    # n = 500 and stopped at an error of 1.6e-6 above tol = 1e-9
    xa, xb = _gaussians(300, 300, seed=2)
    res = entropic_ot(xa, xb, eps=eps, tol=1e-9)
    assert res.iterations < 800 and res.marginal_error <= 1e-9 and res.converged
    assert res.gap_bound < 1e-7
    w2sq = wasserstein(xa, xb) ** 2
    assert w2sq <= res.value <= w2sq + eps * np.log(300)  # OT_0 <= OT_eps <= OT_0 + eps KL(optimal plan | a x b)


def test_sinkhorn_divergence_of_identical_measures_is_exactly_zero():
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(200, 2)), rng.random(200)
    perm = rng.permutation(200)
    for eps in (1e-4, 0.05):
        d = sinkhorn_divergence(x, x[perm], w, w[perm], eps=eps)
        assert float(d) == 0.0 and d.value == 0.0 and d.same_measure and d.iterations == 0
    # the same measure reordered: the symmetric iteration, potentials permuted with the points
    res, res_p = entropic_ot(x, x, w, w, eps=0.05), entropic_ot(x, x[perm], w, w[perm], eps=0.05)
    assert res_p.value == res.value and np.array_equal(res_p.g, res.g[perm])
    # a different weighting of the same points is not the same measure
    assert not sinkhorn_divergence(x, x, w, w[perm], eps=0.05).same_measure


@pytest.mark.parametrize("eps", [0.01, 0.1, 1.0])
def test_sinkhorn_divergence_of_a_translated_copy_is_the_squared_shift(eps):
    # quadratic cost: |x - y - d|^2 = |x - y|^2 - 2 <x - y, d> + |d|^2, the middle term is separable,
    # so OT_eps(a, a + d) = OT_eps(a, a) + |d|^2 and S_eps(a, a + d) = |d|^2 exactly, for any eps
    x = np.random.default_rng(4).normal(size=(150, 2))
    for shift in (np.array([0.3, -0.2]), np.array([1e-6, 0.0])):
        d = sinkhorn_divergence(x, x + shift, eps=eps)
        assert float(d) >= 0.0 and abs(float(d) - shift @ shift) <= 1e-6
        assert d.converged and not d.same_measure
        assert d.error_bound < 1e-6
        assert abs(d.value - shift @ shift) <= d.error_bound
        assert d.raw >= -d.error_bound  # the clip at 0 never hides more than the bound


def test_divergence_and_values_within_the_entropic_bias_of_w2():
    # uniform n = m: W2^2 <= OT_eps <= W2^2 + eps log n, 0 <= OT_eps(a, a) <= eps log n, hence
    # |S_eps - W2^2| <= eps log n; the bias bound shrinks with eps and the assertions tighten with it
    xa, xb = _gaussians(120, 120, seed=5)
    w2sq = wasserstein(xa, xb) ** 2
    for eps in (0.003, 0.03, 0.3):
        bias = eps * np.log(120)
        d = sinkhorn_divergence(xa, xb, eps=eps)
        assert d.converged
        assert w2sq <= d.ab.value <= w2sq + bias
        assert 0 <= d.aa.value <= bias and 0 <= d.bb.value <= bias
        assert abs(d.value - w2sq) <= bias
        assert w2sq <= entropic_ot_linear(xa, xb, eps=eps) <= w2sq + bias


def test_symmetric_iteration_against_pot():
    # OT(a, a) goes through the averaged symmetric map: same value as POT's plain Sinkhorn
    x = np.random.default_rng(0).normal(size=(120, 2))
    res = entropic_ot(x, x, eps=0.5, tol=1e-12)
    assert res.iterations < 100
    assert np.allclose(res.f, res.g, atol=1e-10)  # g = T(f): the symmetric potential up to tol
    assert res.value == pytest.approx(_pot_full(x, x, 0.5)[0], rel=1e-10)
    # a cost matrix given directly is recognised as symmetric too
    assert entropic_ot(None, None, cost=ot.dist(x, x), eps=0.5, tol=1e-12).value == pytest.approx(res.value, 1e-12)


@pytest.mark.parametrize("omega", [1.0, 1.3, 1.9])
def test_overrelaxation_changes_speed_not_the_answer(omega):
    rng = np.random.default_rng(6)
    xa, xb = rng.normal(size=(90, 2)), rng.normal(size=(70, 2)) + 0.3
    ref = _pot_full(xa, xb, 0.05)[0]
    res = entropic_ot(xa, xb, eps=0.05, tol=1e-12, overrelaxation=omega, newton=False, max_iter=50_000)
    assert res.converged and res.overrelaxation == omega
    assert res.value == pytest.approx(ref, rel=1e-9)
    adaptive = entropic_ot(xa, xb, eps=0.05, tol=1e-12, newton=False)
    assert adaptive.value == pytest.approx(ref, rel=1e-9) and 1.0 < adaptive.overrelaxation < 2.0


def test_arguments_are_validated():
    xa, xb = _gaussians(10, 8)
    for kw, name in [
        ({"eps": 0.0}, r"eps = 0.0 .*> 0"),
        ({"tol": -1.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"scaling": 1.0}, "scaling"),
        ({"overrelaxation": 2.0}, "overrelaxation"),
        ({"newton": "yes"}, "newton"),
        ({"warm_start": (np.zeros(3), np.zeros(8))}, "warm_start"),
    ]:
        with pytest.raises(ValueError, match=name):
            entropic_ot(xa, xb, **kw)
    with pytest.raises(ValueError, match="eps"):
        sinkhorn_divergence(xa, xb, eps=-1.0)
