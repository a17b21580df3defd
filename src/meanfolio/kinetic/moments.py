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
    """The moment model's path, from :func:`solve_moments`.

    Attributes
    ----------
    t : ndarray, shape (steps + 1,)
        Times (row 0 is the initial state).
    S : ndarray, shape (steps + 1,)
        Price.
    X, Y : ndarray, shape (steps + 1,)
        Mean stock and bond wealth.
    ED : ndarray, shape (steps + 1,)
        Excess demand decided at each row's state.
    g : ndarray, shape (steps + 1,)
        Return estimate decided at each row's state.
    """

    t: np.ndarray
    S: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    ED: np.ndarray
    g: np.ndarray


def solve_moments(
    params: KineticParams, steps: int, *, X0: float | None = None, Y0: float | None = None, s_f_path=None
) -> MomentSolution:
    r"""Integrate the moment (macroscopic) model of the kinetic market for ``steps`` steps of ``params.dt``.

    For the model-predictive control the mean stock and bond wealth X, Y and the price S obey

    .. math::

        \dot X = (\kappa\, ED + D/S) X + ED, \qquad \dot Y = r Y - ED, \qquad \dot S = \kappa S\, ED,

    with :math:`ED = \mu g Z`, :math:`Z = H(g) Y + H(-g) X`: the mean of the
    agents' controls is the control of the mean agent. Solved with the Monte
    Carlo's explicit step, so a deterministic particle run equals it to round-off.

    Parameters
    ----------
    params : KineticParams
        The model, without brokers.
    steps : int
        Number of steps (>= 1).
    X0, Y0 : float, optional
        Initial means; default the means :math:`e^{m + s^2/2}` of the log-normal initial laws.
    s_f_path : array_like, shape (steps + 1,) or (steps,), optional
        The fundamental at each row (the last value is repeated if short by
        one), e.g. ``result.series["s_f"]`` of a Monte Carlo run; default the constant ``params.s_f``.

    Returns
    -------
    MomentSolution

    Raises
    ------
    ValueError
        If the model has brokers or ``s_f_path`` is malformed.
    KineticStabilityError
        If the explicit step leaves the model's domain.

    Examples
    --------
    >>> from meanfolio.kinetic import preset, solve_moments
    >>> sol = solve_moments(preset("long_term_constant"), 1000)
    >>> sol.S.shape, round(float(sol.t[-1]), 6)
    ((1001,), 20.0)
    """
    steps = check_integer("steps", steps, low=1)
    if params.n_brokers:
        raise ValueError("n_brokers > 0 is not allowed in the moment model: expected n_brokers = 0")
    X0 = float(np.exp(params.x0_logmean + params.x0_logstd**2 / 2)) if X0 is None else float(X0)
    Y0 = float(np.exp(params.y0_logmean + params.y0_logstd**2 / 2)) if Y0 is None else float(Y0)
    if s_f_path is None:
        sf = np.full(steps + 1, params.s_f)
    else:
        sf = check_array("s_f_path", s_f_path, ndim=1)[: steps + 1]
        if sf.size < steps or np.any(sf <= 0):
            raise ValueError(f"s_f_path must hold {steps} positive prices: got {sf.size} (min {sf.min():.3g})")
        if sf.size == steps:  # the decision at the last row uses the last value
            sf = np.append(sf, sf[-1])
    P, C = _pack(params)
    out = np.zeros((steps + 1, 6))
    status, done = kern.moment_steps(P, C, steps, params.S0, X0, Y0, sf, out)
    if status != kern.OK:
        raise KineticStabilityError(_MESSAGES[status].format(step=int(done), dt=params.dt))
    return MomentSolution(*(out[:, i].copy() for i in range(6)))
