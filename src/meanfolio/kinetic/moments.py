"""The moment (macroscopic) model of spec section 2.

For the control (2) the mean stock and bond wealth X, Y and the price obey

    dX/dt = (kappa ED + D/S) X + ED,   dY/dt = r Y - ED,   dS/dt = kappa S ED,

with ED = mu g Z and Z = H(g) Y + H(-g) X: the mean of the agents' controls
is exactly the control of the mean agent. Solved here with the Monte Carlo's
explicit step, so the deterministic particle mean equals it to round-off and
the noisy one within a central-limit bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meanfolio._validation import check_array, check_integer

from . import _kernels as kern
from .params import KineticParams
from .simulate import _MESSAGES, KineticStabilityError, _pack

__all__ = ["MomentSolution", "solve_moments"]


@dataclass
class MomentSolution:
    """t, S, X, Y, ED, g: arrays of length steps + 1 (row 0 initial)."""

    t: np.ndarray
    S: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    ED: np.ndarray
    g: np.ndarray


def solve_moments(
    params: KineticParams, steps: int, *, X0: float | None = None, Y0: float | None = None, s_f_path=None
) -> MomentSolution:
    """Integrate the moment model for ``steps`` steps of ``params.dt``.

    X0, Y0 default to the means of the log-normal initial laws,
    exp(m + s^2/2). ``s_f_path`` (length >= steps) gives the fundamental at
    each step, e.g. ``result.series["s_f"]`` of a Monte Carlo run; default:
    constant ``params.s_f``.
    """
    steps = check_integer("steps", steps, low=1)
    if params.n_brokers:
        raise ValueError("n_brokers > 0 is not allowed in the moment model: expected n_brokers = 0")
    X0 = float(np.exp(params.x0_logmean + params.x0_logstd**2 / 2)) if X0 is None else float(X0)
    Y0 = float(np.exp(params.y0_logmean + params.y0_logstd**2 / 2)) if Y0 is None else float(Y0)
    if s_f_path is None:
        sf = np.full(steps, params.s_f)
    else:
        sf = check_array("s_f_path", s_f_path, ndim=1)[:steps]
        if sf.size < steps or np.any(sf <= 0):
            raise ValueError(f"s_f_path must hold {steps} positive prices: got {sf.size} (min {sf.min():.3g})")
    P, C = _pack(params)
    out = np.zeros((steps, 6))
    status, done = kern.moment_steps(P, C, steps, params.S0, X0, Y0, sf, out)
    if status != kern.OK:
        raise KineticStabilityError(_MESSAGES[status].format(step=int(done), dt=params.dt))
    g0, _, ed0, _ = kern.market(P, C, params.S0, 0.0, sf[0], X0, Y0)
    first = np.array([[0.0, params.S0, X0, Y0, ed0, g0]])
    full = np.vstack([first, out])
    return MomentSolution(*(full[:, i].copy() for i in range(6)))
