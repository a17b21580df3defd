"""Manufactured solution for H = |p|^3 / 3 on the circle: first-order convergence.

u(t, x) = -beta cos x (so u_x = beta sin x) and m* = exp(-W/nu)/Z with
W' = H_p(u_x) = beta^2 sin x |sin x|: the FP flux nu m_x + m H_p(u_x) vanishes,
so m* is stationary. The HJB source f = -nu u_xx + H(u_x) is passed as
f(x) - m*(x) + m (a congestion term), so the game is truly coupled.
"""

import numpy as np
from scipy.integrate import quad

from meanfolio.mfg import Congestion, Grid1D, MFGConfig, PowerLaw, RunningCost, solve_mfg

BETA, NU, T = 1.0, 0.5, 0.5


def W(x):
    return BETA**2 * (np.minimum(x, 2 * np.pi - x) / 2 - np.sign(np.pi - x) * np.sin(2 * x) / 4)


Z = quad(lambda x: np.exp(-W(x) / NU), 0, 2 * np.pi, epsabs=1e-14)[0]


def m_star(x):
    return np.exp(-W(x) / NU) / Z


def errors(nx):
    config = MFGConfig(
        nx=nx,
        nt=nx // 4 + 1,
        x_min=0,
        x_max=2 * np.pi,
        time_horizon=T,
        viscosity=NU,
        boundary="periodic",
        tolerance=1e-10,
    )
    x = Grid1D.from_config(config).x
    source = -NU * BETA * np.cos(x) + np.abs(BETA * np.sin(x)) ** 3 / 3
    sol = solve_mfg(
        config,
        m_star(x),
        RunningCost(source - m_star(x)) + Congestion(1.0),
        terminal=-BETA * np.cos(x),
        hamiltonian=PowerLaw(3.0),
    )
    assert sol.converged, sol.message
    dx = x[1] - x[0]
    em = np.max(np.abs(sol.m - m_star(x)).sum(axis=1) * dx)
    du = sol.u + BETA * np.cos(x)
    eu = np.max(np.abs(du - du.mean(axis=1, keepdims=True)))
    return np.array([em, eu])


def test_power_law_first_order():
    e = [errors(n) for n in (50, 100, 200)]
    for coarse, fine in zip(e, e[1:], strict=False):
        ratio = coarse / fine
        assert np.all((ratio > 1.7) & (ratio < 2.3)), ratio
    assert np.all(e[-1] < 0.01)
