"""The stationary (ergodic) mean-field game, 1D and 2D, by Newton's method.

Unknowns (u, m, lambda) on the grid of an :class:`MFGConfig` (its time
fields are ignored):

    nu L u + H_h(x, D u) + lambda = f(x, m)      (HJB, L = -Lap_h)
    (nu L + A(u))^T m = 0                         (FP: transpose of the linearised HJB)
    dx sum(m) = 1,   dx sum(u) = 0                (mass; u is defined up to a constant)

The FP rows sum to zero identically (A's rows do), so one of them is dropped
and the system is square: 2K + 1 equations for K nodes. Non-local couplings
enter through their moments s_k = w_k . m, kept as extra unknowns.

Linear solves. The Jacobian is sparse but for a border: the lambda column
(all ones), the mass and normalisation rows (all cell) and the moments'
rows and columns. Factored as one matrix, that border fills the sparse LU
(2D, 80x80, log coupling and mean tracking: 8 M nonzeros). Instead
J = S + P Q^T with S the sparse blocks (made regular by a unit on the
diagonal at one node) and P, Q of 5 + 2 r columns: S is factored, and
J x = b is solved through the Schur complement C = I + Q^T S^{-1} P (5 + 2 r
extra solves, see :class:`_Schur`). The factorisation is kept across Newton
steps as the preconditioner of GMRES on the current J, and redone only when
GMRES needs more than ``LAGGED_ITERATIONS`` iterations.

Reference: Y. Achdou, I. Capuzzo-Dolcetta, Mean field games: numerical
methods, SIAM J. Numer. Anal. 48 (2010), section 5 (ergodic problem).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..config import MFGConfig
from ..couplings import Scaled
from ..hamiltonians import Hamiltonian
from ..solvers.continuation import Continuation, stages
from .ergodic_start import coarse_start
from .ergodic_system import FORCING, _Lagged, _Schur, _Stationary  # noqa: F401 (_Schur: tests reach it here)

__all__ = ["ErgodicSolution", "solve_ergodic_mfg"]

LINE_SEARCH_MIN_STEP = 1.0 / 256.0


@dataclass
class ErgodicSolution:
    """Result of :func:`solve_ergodic_mfg`.

    Attributes
    ----------
    u, m : ndarray, shape (nx,) or (ny, nx)
        Value function (zero mean) and invariant density (unit mass).
    lam : float
        The ergodic constant :math:`\\lambda` (the long-run average cost per unit time).
    alpha : ndarray, shape (nx,) or (ny, nx, 2)
        The scheme's feedback :math:`\\alpha^*`.
    x : ndarray, shape (nx,)
        The x nodes.
    y : ndarray, shape (ny,), or None
        The y nodes (2D).
    converged : bool
        Whether Newton reached the tolerance.
    iterations : int
        Newton steps.
    residual_history : list of float
        Scaled residual after each step.
    mass_error : float
        :math:`|dx \\sum m - 1|`.
    wall_time : float
        Seconds.
    message : str
        Why Newton stopped.
    stages : list of dict
        The continuation stages, if any.
    """

    u: np.ndarray
    m: np.ndarray
    lam: float
    alpha: np.ndarray
    x: np.ndarray
    y: np.ndarray | None
    converged: bool
    iterations: int
    residual_history: list[float]
    mass_error: float
    wall_time: float
    message: str
    stages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def residual(self) -> float:
        return self.residual_history[-1] if self.residual_history else float("nan")


def _sweep(system: _Stationary, coupling, u, m, lam, norm: float):
    """The best response to m and its invariant law, mixed with (u, m, lambda) by weights 1, 1/2, ...,
    1/16; the first mix that decreases ``|R|`` (as a tuple like the residual's), or None."""
    try:
        ub, mb, lb = system.best_response(u, m, lam, coupling, 1e-10, 30, _Lagged())
    except (RuntimeError, FloatingPointError, np.linalg.LinAlgError):
        return None
    for w in (1.0, 0.5, 0.25, 0.125, 0.0625):
        u1, m1, lam1 = u + w * (ub - u), m + w * (mb - m), lam + w * (lb - lam)
        R1, terms1, G1 = system.residual(u1, m1, lam1, coupling)
        n1 = float(np.linalg.norm(R1) * np.sqrt(system.cell))
        if np.isfinite(n1) and n1 <= (1 - 1e-4 * w) * norm:
            return u1, m1, lam1, R1, terms1, G1, n1
    return None


def _newton(system: _Stationary, coupling, u, m, lam, tolerance, max_iterations, history, linear: _Lagged):
    """Newton with backtracking on ``|R|`` (a damped best response when no step decreases it: no step
    ever raises ``|R|``); returns (u, m, lam, converged, message)."""
    K = system.K
    R, terms, G = system.residual(u, m, lam, coupling)
    norm = float(np.linalg.norm(R) * np.sqrt(system.cell))
    history.append(norm)
    for _ in range(max_iterations):
        if norm <= tolerance:
            return u, m, lam, True, f"converged: residual {norm:.3e} <= tolerance {tolerance:.1e}"
        S, P, Q = system.linearisation(u, m, terms, G, coupling)
        rhs = np.concatenate((-R, np.zeros(S.shape[0] - R.size)))
        # inexact Newton: loose far away, exact to round-off near the solution (quadratic steps)
        delta = linear.solve(S, P, Q, rhs, max(1e-12, min(FORCING, norm**2)))
        step = 1.0
        while True:
            u1, m1 = u + step * delta[:K], m + step * delta[K : 2 * K]
            lam1 = lam + step * delta[2 * K]
            R1, terms1, G1 = system.residual(u1, m1, lam1, coupling)
            n1 = float(np.linalg.norm(R1) * np.sqrt(system.cell))
            if np.isfinite(n1) and n1 <= (1 - 1e-4 * step) * norm:
                break
            if step <= LINE_SEARCH_MIN_STEP:  # never take a step that does not decrease |R|:
                swept = _sweep(system, coupling, u, m, lam, norm)  # fall back on a damped best response
                if swept is None:
                    return u, m, lam, False, (
                        f"not converged: no Newton step down to {LINE_SEARCH_MIN_STEP:g} and no damped best "
                        f"response decreased the residual {norm:.3e} (the iterate with the lowest residual is returned)"
                    )
                u1, m1, lam1, R1, terms1, G1, n1 = swept
                break
            step *= 0.5
        u, m, lam, R, terms, G, norm = u1, m1, lam1, R1, terms1, G1, n1
        history.append(norm)
    if norm <= tolerance:
        return u, m, lam, True, f"converged: residual {norm:.3e} <= tolerance {tolerance:.1e}"
    message = f"not converged: residual {norm:.3e} > tolerance {tolerance:.1e} after max_iterations = {max_iterations}"
    return u, m, lam, False, message


def solve_ergodic_mfg(
    config: MFGConfig,
    f=None,
    *,
    hamiltonian: Hamiltonian | None = None,
    continuation: Continuation | None = None,
    initial: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> ErgodicSolution:
    r"""Solve the stationary (ergodic) mean-field game, 1D or 2D, by Newton's method.

    The unknowns :math:`(u, m, \lambda)` solve

    .. math::

        -\nu \Delta u + H(x, \nabla u) + \lambda = f(x, m), \qquad
        -\nu \Delta m - \operatorname{div}(m\, H_p(x, \nabla u)) = 0, \qquad
        \int m = 1,\ \int u = 0,

    discretised with the monotone upwind Hamiltonian; the discrete
    Fokker-Planck operator is the transpose of the linearised HJB one.
    :math:`\lambda` is the long-run average cost of an agent and m the
    invariant law of the crowd. The bordered Jacobian is solved through a
    Schur complement, its factorisation kept as the preconditioner of GMRES
    across Newton steps.

    Parameters
    ----------
    config : MFGConfig
        Grid (1D or 2D), viscosity (> 0 for a unique invariant law),
        boundary, tolerance and max_iterations; time fields are ignored.
    f : Coupling, array or callable f(x) (2D: f(x, y)), or None
        The running cost, as for :func:`solve_mfg`. ``MarketImpact`` is not
        available here.
    hamiltonian : Hamiltonian, default Quadratic()
        The Hamiltonian.
    continuation : Continuation, optional
        Solve a sequence of easier problems first (larger viscosity or a
        weaker coupling), each starting from the previous solution.
    initial : (u, m, lambda), optional
        Starting point; default: in 2D with at least 40 points per axis (and
        no continuation), the solution of the same game on a grid with half
        the points, interpolated (``ergodic_start``); otherwise the best
        response (u, lambda) to the uniform law and the invariant law m of that u.

    Returns
    -------
    ErgodicSolution
        ``converged`` False (with the residual history) if Newton stops early.

    Raises
    ------
    ValueError
        If ``config`` is not an :class:`MFGConfig` or the coupling depends on
        the controls (:class:`MarketImpact`).

    See Also
    --------
    meanfolio.mfg.solve_mfg : The time-dependent game.

    References
    ----------
    .. [1] Y. Achdou, I. Capuzzo-Dolcetta, "Mean field games: numerical
       methods", SIAM J. Numer. Anal. 48(3) (2010), section 5.

    Examples
    --------
    Quadratic Hamiltonian, confinement :math:`x^2/2` and the entropic
    coupling :math:`\log m`: the invariant law is Gaussian with variance
    :math:`\nu/c`, :math:`c^2 + c/\nu = 1` (1.207 for :math:`\nu = 0.5`).

    >>> import numpy as np
    >>> from meanfolio.mfg import LogDensity, MFGConfig, RunningCost, solve_ergodic_mfg
    >>> config = MFGConfig(nx=101, x_min=-4, x_max=4, viscosity=0.5, tolerance=1e-10)
    >>> x = np.linspace(-4, 4, 101)
    >>> sol = solve_ergodic_mfg(config, RunningCost(0.5 * x**2) + LogDensity())
    >>> sol.converged, round(sol.lam, 3)
    (True, -0.801)
    >>> variance = float(np.sum(x**2 * sol.m) * (x[1] - x[0]))
    >>> round(variance, 1)
    1.2
    """
    if not isinstance(config, MFGConfig):
        raise ValueError(f"config = {type(config).__name__} is not allowed: expected an MFGConfig")
    if callable(f) and not hasattr(f, "value"):
        func = f
        f = (lambda t, x: func(x)) if config.dim == 1 else (lambda t, x, y: func(x, y))
    start = time.perf_counter()
    system = _Stationary(config, f, hamiltonian)
    if system.coupling.uses_control:
        raise ValueError("f = MarketImpact is not allowed in the stationary problem: expected a coupling of m")
    K = system.K
    if initial is None and continuation is None:
        initial = coarse_start(config, f, hamiltonian, solve_ergodic_mfg)
    if initial is None:
        u, m, lam = np.zeros(K), np.full(K, 1.0 / (K * system.cell)), 0.0
    else:
        u, m, lam = np.ravel(initial[0]).astype(float), np.ravel(initial[1]).astype(float), float(initial[2])
    history: list[float] = []
    records = []
    linear = _Lagged()
    with threadpool_limits(limits=1):
        for stage in stages(continuation, config):
            stage_system = system
            if stage["viscosity"] != config.viscosity:
                stage_system = _Stationary(config.replace(viscosity=stage["viscosity"]), f, hamiltonian)
            coupling = system.coupling if stage["factor"] == 1.0 else Scaled(system.coupling, stage["factor"])
            if not records and initial is None:
                u, m, lam = stage_system.best_response(u, m, lam, coupling, 1e-8, 30, _Lagged())
            u, m, lam, converged, message = _newton(
                stage_system, coupling, u, m, lam, config.tolerance, config.max_iterations, history, linear
            )
            records.append({**stage, "converged": converged, "iterations": len(history)})
            if not converged:
                message = f"stage {stage}: {message}"
                break
    m = system.invariant_density(u, m)
    alpha = system.problem.controls(u.reshape(1, *system.shape))[0]
    grid = system.problem.grid
    x, y = (grid.gx.x.copy(), grid.gy.x.copy()) if system.dim == 2 else (grid.x.copy(), None)
    mass_error = float(abs(system.cell * m.sum() - 1.0))
    iterations, wall = len(history) - len(records), time.perf_counter() - start
    shape = system.shape
    return ErgodicSolution(
        u.reshape(shape), m.reshape(shape), float(lam), alpha, x, y, converged, iterations, history, mass_error, wall,
        message, stages=records,
    )  # fmt: skip
