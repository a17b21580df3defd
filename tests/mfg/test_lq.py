"""The linear-quadratic MFG: closed form vs ODEs vs the discrete solver."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from meanfolio.mfg import solve_mfg

from .conftest import grid_of, lq_config

TABLE = [  # t, P, mbar, V from mfg.md
    (0.0, 1.1811697931, 1.0000000000, 0.2500000000),
    (0.5, 1.0825262307, 0.6912058456, 0.2602438245),
    (1.0, 0.8000000000, 0.4697161880, 0.2964085533),
]


@pytest.mark.parametrize("t, P, mbar, V", TABLE)
def test_closed_form_matches_spec_table(lq, t, P, mbar, V):
    assert lq.P(t) == pytest.approx(P, abs=1e-9)
    assert lq.mean(t) == pytest.approx(mbar, abs=1e-9)
    assert lq.variance(t) == pytest.approx(V, abs=1e-9)


def test_closed_form_solves_the_ode_system(lq):
    # Independent check: integrate P, S backward, then mbar, V forward with scipy.
    a, b, cT, nu, T = lq.a, lq.b, lq.cT, lq.nu, lq.T
    back = solve_ivp(
        lambda t, y: [y[0] ** 2 - (a + b), y[0] * y[1] + a * lq.mean(t)],
        (T, 0.0),
        [cT, 0.0],
        rtol=1e-12,
        atol=1e-13,
        dense_output=True,
    )
    fwd = solve_ivp(
        lambda t, y: [-(back.sol(t)[0] * y[0] + back.sol(t)[1]), -2 * back.sol(t)[0] * y[1] + 2 * nu],
        (0.0, T),
        [lq.mu0, lq.s0**2],
        rtol=1e-12,
        atol=1e-13,
        dense_output=True,
    )
    for t in (0.0, 0.3, 0.7, 1.0):
        P, S = back.sol(t)
        mbar, V = fwd.sol(t)
        assert P == pytest.approx(lq.P(t), abs=1e-8)
        assert S == pytest.approx(lq.S(t), abs=1e-8)
        assert mbar == pytest.approx(lq.mean(t), abs=1e-8)
        assert V == pytest.approx(lq.variance(t), abs=1e-8)


def _errors(lq, nx, nt):
    config = lq_config(nx, nt)
    grid = grid_of(config)
    sol = solve_mfg(config, lq.m0(grid.x), lq.coupling(), terminal=lq.terminal)
    assert sol.converged, sol.message
    mean = grid.moment(sol.m[-1])
    var = grid.moment(sol.m[-1], 2) - mean**2
    # u_x in the bulk (|x - mbar| < 1.2 at t = 0.5), away from the box edges
    n = (nt - 1) // 2
    du = grid.forward_difference(sol.u[n])[:-1]
    xm = grid.x[:-1] + grid.dx / 2
    bulk = np.abs(xm - lq.mean(grid.t[n])) < 1.2
    ux_err = np.max(np.abs(du[bulk] - lq.u_x(grid.t[n], xm[bulk])))
    return abs(mean - lq.mean(1.0)), abs(var - lq.variance(1.0)), ux_err


def test_lq_first_order_convergence(lq):
    e1 = np.array(_errors(lq, 100, 51))
    e2 = np.array(_errors(lq, 200, 101))
    e3 = np.array(_errors(lq, 400, 201))
    # First-order error bounds: C (dx + dt) with C measured ~ 0.6 for the mean.
    h = 6.5 / 399 + 1.0 / 200
    assert np.all(e3 < 1.0 * h), e3
    # Halving dx and dt halves the error (ratio 2 within 20 %).
    for coarse, fine in ((e1, e2), (e2, e3)):
        ratio = coarse / fine
        assert np.all((ratio > 1.6) & (ratio < 2.4)), ratio
