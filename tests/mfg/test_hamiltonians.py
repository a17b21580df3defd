"""Hamiltonians: derivatives, the monotone split, and the compiled split vs numpy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meanfolio.mfg import Custom, Grid1D, Linear, MFGConfig, PowerLaw, Quadratic
from meanfolio.mfg.hamiltonians import upwind
from meanfolio.mfg.schemes.hjb import upwind_terms

BUILTINS = [Quadratic(), Linear(0.7), PowerLaw(1.5), PowerLaw(2.0), PowerLaw(3.2)]


@pytest.mark.parametrize("H", BUILTINS, ids=lambda h: f"{h.name}{h.kernel[1]}")
@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
def test_compiled_split_equals_numpy_split(H, boundary):
    grid = Grid1D.from_config(MFGConfig(nx=31, nt=3, x_min=-1, x_max=2, boundary=boundary))
    u = np.random.default_rng(0).normal(size=(4, 31)).cumsum(axis=1) * 0.2
    fast = upwind_terms(grid, H, u)
    slow = upwind(H, grid.x, grid.backward_difference(u), grid.forward_difference(u))
    for name in ("value", "left", "right", "dleft", "dright"):
        np.testing.assert_allclose(getattr(fast, name), getattr(slow, name), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("H", BUILTINS, ids=lambda h: f"{h.name}{h.kernel[1]}")
def test_derivatives_by_central_differences(H):
    x = np.zeros(7)
    p = np.array([-2.0, -1.1, -0.3, 0.4, 0.9, 1.7, 2.5])
    h = 1e-6
    np.testing.assert_allclose(H.H_p(x, p), (H.H(x, p + h) - H.H(x, p - h)) / (2 * h), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H.H_pp(x, p), (H.H_p(x, p + h) - H.H_p(x, p - h)) / (2 * h), rtol=1e-5, atol=1e-7)


@settings(max_examples=200, deadline=None)
@given(
    a=st.floats(-5, 5),
    b=st.floats(-5, 5),
    da=st.floats(0, 1),
    db=st.floats(0, 1),
    k=st.sampled_from(range(len(BUILTINS))),
)
def test_split_is_monotone_and_consistent(a, b, da, db, k):
    H = BUILTINS[k]
    x = np.zeros(1)
    val = lambda a_, b_: upwind(H, x, np.array([a_]), np.array([b_])).value[0]  # noqa: E731
    # nondecreasing in a = D-u, nonincreasing in b = D+u (monotone scheme)
    assert val(a + da, b) >= val(a, b) - 1e-12
    assert val(a, b + db) <= val(a, b) + 1e-12
    # consistent: H_h(p, p) = H(p)
    assert val(a, a) == pytest.approx(H.H(x, np.array([a]))[0], rel=1e-12, abs=1e-12)


def test_custom_hamiltonian_uses_given_derivatives():
    # The gradient given is deliberately 2x the derivative of H: a Custom that differentiated H
    # itself would return sinh, not 2 sinh, in H_p, in the upwind split and in the drift.
    H = Custom(lambda x, p: np.cosh(p) - 1, lambda x, p: 2.0 * np.sinh(p))
    x = np.zeros(3)
    p = np.array([-1.0, 0.2, 1.5])
    np.testing.assert_array_equal(H.H_p(x, p), 2.0 * np.sinh(p))
    # no hessian given: the central difference of the *given* gradient (2 cosh), not of H's own (cosh)
    np.testing.assert_allclose(H.H_pp(x, p), 2.0 * np.cosh(p), rtol=1e-6)
    assert H.kernel is None
    # the scheme takes them as given: left = H_p(a^+), right = H_p(b^-) and their derivatives
    a, b = np.array([0.7, -0.4, 0.0]), np.array([-0.9, 0.3, 0.0])
    split = upwind(H, x, a, b)
    np.testing.assert_array_equal(split.left, [2.0 * np.sinh(0.7), 0.0, 0.0])
    np.testing.assert_array_equal(split.right, [2.0 * np.sinh(-0.9), 0.0, 0.0])
    np.testing.assert_array_equal(split.drift, -(split.left + split.right))
    np.testing.assert_allclose(split.dleft, [2.0 * np.cosh(0.7), 0.0, 0.0], rtol=1e-6)
    # ... and so does the solver's path (hjb.upwind_terms): its alpha* is built from the given gradient
    grid = Grid1D.from_config(MFGConfig(nx=9, nt=3, x_min=-1, x_max=1))
    u = np.sin(3.0 * grid.x)[None, :]
    ap, bm = np.maximum(grid.backward_difference(u), 0.0), np.minimum(grid.forward_difference(u), 0.0)
    np.testing.assert_allclose(upwind_terms(grid, H, u).drift, -2.0 * (np.sinh(ap) + np.sinh(bm)), rtol=1e-14)
    # a hessian given is used as given (here a constant no derivative could produce)
    H3 = Custom(H.hamiltonian, H.gradient, lambda x, p: np.full_like(p, 7.0))
    np.testing.assert_array_equal(H3.H_pp(x, p), [7.0, 7.0, 7.0])
    np.testing.assert_array_equal(upwind(H3, x, a, b).dright, [7.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="gradient = 3 is not allowed"):
        Custom(lambda x, p: p, 3)
