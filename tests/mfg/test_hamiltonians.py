"""Hamiltonians: derivatives, the monotone split, and the compiled split vs numpy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meanfolio.mfg import Custom, Grid1D, Linear, MFGConfig, PowerLaw, Quadratic
from meanfolio.mfg.hamiltonians import upwind
from meanfolio.mfg.hjb import upwind_terms

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
    H = Custom(lambda x, p: np.cosh(p) - 1, lambda x, p: np.sinh(p))
    x = np.zeros(3)
    p = np.array([-1.0, 0.2, 1.5])
    np.testing.assert_allclose(H.H_pp(x, p), np.cosh(p), rtol=1e-6)
    assert H.kernel is None
    with pytest.raises(ValueError, match="gradient = 3 is not allowed"):
        Custom(lambda x, p: p, 3)
