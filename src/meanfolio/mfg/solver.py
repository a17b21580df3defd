"""Public entry points of the 1D solver: `solve_mfg` and the seed's `solve_mfg_1d`."""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from meanfolio.transport import wasserstein_grid

from .config import MFGConfig
from .grid import Grid1D
from .hamiltonians import Hamiltonian, Quadratic
from .problems.problem import MFGProblem
from .problems.problem2d import MFGProblem2D
from .problems.second_order import SecondOrderProblem
from .solvers.continuation import Continuation, stages
from .solvers.iterative import IterationLog, fictitious_play, fixed_point, policy_iteration
from .solvers.newton import NewtonStats
from .solvers.regularization import Stage, StageRunner, describe, solve_stage

__all__ = ["MFGConvergenceWarning", "MFGSolution", "solve_mfg", "solve_mfg_1d"]


class MFGConvergenceWarning(RuntimeWarning):
    """The solver stopped before reaching its tolerance, or answered for a smoothed Hamiltonian.

    Issued by :func:`solve_mfg_1d` (which returns bare arrays); :func:`solve_mfg` reports the same in
    ``MFGSolution.converged``, ``smoothing`` and ``message``.
    """


@dataclass
class MFGSolution:
    """Result of :func:`solve_mfg`.

    Attributes
    ----------
    u, m : ndarray, shape (nt, nx), or (nt, ny, nx) in 2D
        Value function and density (mass ``dx * m.sum(axis=1)`` is 1, ``dx dy
        m.sum(axis=(1, 2))`` in 2D).
    alpha : ndarray, shape (nt, nx), or (nt, ny, nx, 2) in 2D
        The feedback alpha*(t, x) of the scheme (mean velocity of an agent at
        x; in 2D its x and y components on the last axis).
    x, t : ndarray
        Grids, shapes (nx,) and (nt,).
    y : ndarray (ny,) or None
        The second axis in 2D.
    converged : bool
    iterations : int
        Outer iterations performed (Newton steps or sweeps).
    residual_history : list[float]
        Scaled residual after each iteration (the first is the start).
    mass_error : float
        ``max_t |dx sum m(t) - 1|``.
    wall_time : float
        Seconds, including any first-call compilation.
    linear_iterations : list[int]
        GMRES iterations per Newton step (empty for other methods).
    wasserstein_history : list[(float, float)]
        1D with ``diagnostics=True``: ``max_t W1`` and ``max_t W2`` between the
        densities of successive iterates (negative round-off in an iterate
        clipped to 0); empty otherwise (they cost a transport solve per
        iterate and time level).
    stages : list[dict]
        Every Newton run before the returned one: with ``continuation`` its
        stages, and when Newton failed on the game the homotopy's stages
        (see ``regularization``): kind ("continuation", "target",
        "smoothing", "coupling"), viscosity, coupling factor, smoothing,
        iterations, convergence, last residual and GMRES iterations.
    message : str
        How the run ended; says so when the answer solves a smoothed game.
    hamiltonian : Hamiltonian
        The Hamiltonian of the game the returned (u, m) solves: the one given,
        or its smoothed version when Newton failed on a kinked Hamiltonian
        (``Linear``, ``PowerLaw`` with a < 2) and the smoothing homotopy
        stopped at ``smoothing`` > 0.
    smoothing : float
        The smoothing delta of ``hamiltonian`` (0: the game as given).
    final_residual : float
        The scaled residual of the returned pair (u, m), recomputed (m is the
        exact FP density of u, so it can differ from the last history entry).
    linear_residuals : list[float]
        Newton: the relative residual each step's GMRES solve achieved.
    unconverged_linear_solves : int
        Newton: linear solves (over all stages) that stopped above their
        tolerance even after restarts; their directions were only used when
        the line search confirmed a decrease.
    fallback_steps : int
        Newton: steps taken by the best-response fallback instead of a Newton step.
    """

    u: np.ndarray
    m: np.ndarray
    alpha: np.ndarray
    x: np.ndarray
    t: np.ndarray
    converged: bool
    iterations: int
    residual_history: list[float]
    mass_error: float
    wall_time: float
    method: str
    message: str
    config: MFGConfig
    linear_iterations: list[int] = field(default_factory=list)
    line_search_steps: list[float] = field(default_factory=list)
    y: np.ndarray | None = None
    wasserstein_history: list[tuple[float, float]] = field(default_factory=list)
    stages: list[dict] = field(default_factory=list)
    hamiltonian: Hamiltonian | None = None
    smoothing: float = 0.0
    final_residual: float = float("nan")
    linear_residuals: list[float] = field(default_factory=list)
    unconverged_linear_solves: int = 0
    fallback_steps: int = 0

    @property
    def residual(self) -> float:
        return self.residual_history[-1] if self.residual_history else float("nan")

    def summary(self) -> dict:
        """Scalars for reports and the CLI."""
        return {
            "method": self.method,
            "converged": self.converged,
            "iterations": self.iterations,
            "residual": self.residual,
            "mass_error": self.mass_error,
            "min_m": float(self.m.min()),
            "gmres_iterations": int(sum(self.linear_iterations)),
            "unconverged_linear_solves": self.unconverged_linear_solves,
            "smoothing": self.smoothing,
            "final_residual": self.final_residual,
            "wall_time_s": self.wall_time,
            "message": self.message,
        }

    def save(self, path: str | Path) -> Path:
        """Write u, m, alpha, x, t and the residual history to an ``.npz`` file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            u=self.u,
            m=self.m,
            alpha=self.alpha,
            x=self.x,
            t=self.t,
            **({} if self.y is None else {"y": self.y}),
            residual_history=np.asarray(self.residual_history),
            converged=self.converged,
        )
        return path

    def plot(self, path: str | Path | None = None, snapshots: int = 4):
        """Heatmaps of u, m and alpha* over (x, t); saved to ``path`` if given.

        In 2D: the density at ``snapshots`` times (top row) and u (bottom row).
        """
        from meanfolio.plotting import heatmap, new_figure, save_figure

        if self.y is not None:
            levels = np.linspace(0, self.t.size - 1, snapshots).round().astype(int)
            fig, axes = new_figure(2 * snapshots, columns=snapshots)
            for k, n in enumerate(levels):
                heatmap(axes[k], self.m[n], self.x, self.y, f"m(t={self.t[n]:.2f})", cmap="magma", ylabel="y")
                heatmap(axes[snapshots + k], self.u[n], self.x, self.y, f"u(t={self.t[n]:.2f})", ylabel="y")
            if path is not None:
                save_figure(fig, path)
            return fig
        fig, axes = new_figure(3)
        heatmap(axes[0], self.u, self.x, self.t, "value u(t, x)")
        heatmap(axes[1], self.m, self.x, self.t, "density m(t, x)", cmap="magma")
        heatmap(axes[2], self.alpha, self.x, self.t, "control alpha*(t, x)", cmap="coolwarm")
        if path is not None:
            save_figure(fig, path)
        return fig


_METHODS = {
    "fixed_point": fixed_point,
    "fictitious_play": fictitious_play,
    "policy_iteration": policy_iteration,
}


def solve_mfg(
    config: MFGConfig,
    m0,
    f=None,
    *,
    terminal=None,
    hamiltonian: Hamiltonian | None = None,
    callback: Callable[[int, float], bool | None] | None = None,
    continuation: Continuation | None = None,
    initial: tuple[np.ndarray, np.ndarray] | None = None,
    diagnostics: bool = False,
) -> MFGSolution:
    """Solve the mean-field game (1D, or 2D when ``config.dim == 2``) on the grid of ``config``.

    .. math::
        -\\partial_t u - \\nu u_{xx} + H(x, u_x) = f(x, m(t)),\\quad u(T) = g(x, m(T)) \\\\
        \\partial_t m - \\nu m_{xx} - (m H_p(x, u_x))_x = 0,\\quad m(0) = m_0

    Parameters
    ----------
    config : MFGConfig
        Grid and solver settings; ``config.method`` picks the algorithm.
    m0 : array (nx,), or (ny, nx) in 2D
        Initial density, >= 0 with positive mass; rescaled to unit mass.
    f : Coupling, array (nt, nx) or (nx,), callable f(t, x), or None
        Running cost. Couplings of m: ``Congestion``, ``LogDensity``,
        ``MeanTracking``, ``MarketImpact``, ``LocalCoupling``; they add.
        In 2D arrays are (nt, ny, nx) or (ny, nx), callables f(t, x, y), and
        the couplings of controls (``MarketImpact``) are not available.
    terminal : array (nx,) / (ny, nx), callable g(x) / g(X, Y), Coupling g(x, m) or None (g = 0)
    hamiltonian : Hamiltonian, default Quadratic()
        In 2D, H(p) means H(x, p_1) + H(y, p_2) (see ``problem2d``).
    callback : callable(iteration, residual) -> bool, optional
        Return True to stop. Ctrl-C also stops and returns the last iterate.
    continuation : Continuation, optional
        Solve easier games first (larger viscosity, a weaker coupling or a
        smoothed Hamiltonian), each Newton run starting from the previous
        solution (Newton only). Independently, when Newton fails on the game
        (no step decreases the residual, or it stagnates), a homotopy takes
        over (``regularization``): in the smoothing of a kinked Hamiltonian,
        else in the coupling strength.
    initial : (u, m), optional
        Newton's starting point, arrays shaped like the solution.
    diagnostics : bool, default False
        1D: also record the Wasserstein distances between successive
        iterates (``MFGSolution.wasserstein_history``).

    Returns
    -------
    MFGSolution
        ``converged`` is False if the tolerance was not reached; the history
        and the best finite iterate are returned, never NaN arrays. If the
        answer solves a smoothed game, ``smoothing`` > 0 and the message say so.

    References
    ----------
    Y. Achdou, I. Capuzzo-Dolcetta, Mean field games: numerical methods,
    SIAM J. Numer. Anal. 48 (2010). Y. Achdou, M. Lauriere, Mean field games
    and applications: numerical aspects, LNM 2281 (2020).

    Examples
    --------
    The linear-quadratic game of the user guide, whose mean :math:`\\mu(t)` is
    known in closed form (:class:`LQReference`):

    >>> import numpy as np
    >>> from meanfolio.mfg import LQReference, solve_mfg
    >>> from meanfolio.mfg.examples import lq_example
    >>> sol = solve_mfg(**lq_example(200, 100))
    >>> sol.converged, sol.iterations, bool(sol.mass_error < 1e-13)
    (True, 3, True)
    >>> mean = (sol.x[1] - sol.x[0]) * (sol.m * sol.x).sum(axis=1)
    >>> bool(np.abs(mean - LQReference().mean(sol.t)).max() < 0.01)   # first order in dx and dt
    True
    """
    problem_class = MFGProblem2D if config.dim == 2 else MFGProblem
    if config.scheme == "second_order":
        problem_class = SecondOrderProblem
    hamiltonian = Quadratic() if hamiltonian is None else hamiltonian
    if not isinstance(hamiltonian, Hamiltonian):
        raise ValueError(f"hamiltonian = {hamiltonian!r} is not allowed: expected a Hamiltonian")
    plan = stages(continuation, config, hamiltonian)
    if len(plan) > 1 and config.method != "newton":
        raise ValueError(f"continuation is not allowed with method = {config.method!r}: expected 'newton'")
    start = time.perf_counter()
    distance = None
    if diagnostics and config.dim == 1:
        distance = functools.partial(_wasserstein_change, Grid1D.from_config(config).x)
    runner = StageRunner(problem_class, config, m0, f, terminal, hamiltonian, callback, distance)
    runs: list[Stage] = []
    # One BLAS thread: the kernels are numba; multithreaded BLAS on the small
    # vector operations in between only adds overhead on small machines.
    with threadpool_limits(limits=1):
        final, message = _dispatch(runner, plan, initial, runs)
        log, problem = final.log, final.problem
        if log.last is None:
            raise RuntimeError(f"the {config.method} solver produced no finite iterate: {log.message}")
        u, m = log.last
        u = u.copy()
        # Return the exact FP density of the returned u (mass to round-off, m >= 0).
        u, m, alpha, final_residual = problem.finish(u)
        note = problem.scheme_note(u) if hasattr(problem, "scheme_note") else None
        if note:
            message = f"{message}; {note}" if message else note
    wall = time.perf_counter() - start
    mass_error = float(np.max(np.abs(problem.mass(m) - 1.0)))
    axes = (problem.grid.gx, problem.grid.gy) if config.dim == 2 else (problem.grid, None)
    return MFGSolution(
        u=u,
        m=m,
        alpha=alpha,
        x=axes[0].x.copy(),
        t=problem.grid.t.copy(),
        y=None if axes[1] is None else axes[1].x.copy(),
        converged=log.converged,
        iterations=max(len(log.history) - 1, 0),
        residual_history=log.history,
        mass_error=mass_error,
        wall_time=wall,
        method=config.method,
        message=message,
        config=config,
        linear_iterations=log.linear_iterations,
        line_search_steps=log.steps,
        wasserstein_history=log.distance_history,
        stages=[r.record() for r in runs if r is not final],
        hamiltonian=final.hamiltonian,
        smoothing=float(final.hamiltonian.smoothing),
        final_residual=float(final_residual),
        linear_residuals=final.stats.linear_residuals,
        unconverged_linear_solves=sum(r.stats.unconverged_linear for r in runs),
        fallback_steps=sum(r.stats.sweeps for r in runs),
    )


def _dispatch(runner: StageRunner, plan: list[dict], initial, runs: list[Stage]) -> tuple[Stage, str]:
    """Run the configured method; Newton through the continuation plan, then the homotopy if it fails.

    Ctrl-C stops and keeps the last finished iterate of the run in progress.
    """
    config = runner.config
    if config.method != "newton":
        problem = runner.problem(config.viscosity, 1.0, runner.hamiltonian)
        log = runner.log()
        try:
            _METHODS[config.method](problem, log)
        except KeyboardInterrupt:
            _interrupted(log)
        runs.append(Stage(problem, log, NewtonStats(), config.viscosity, 1.0, problem.hamiltonian))
        message = log.message
        if not log.converged and getattr(problem.hamiltonian, "kinked", False):
            # The best responses of a kinked H jump (bang-bang controls): these sweeps need not settle.
            message += (
                f"; {type(problem.hamiltonian).__name__} has a kink at p = 0, which the iterative methods do not "
                "smooth: method = 'newton' solves it (through the smoothing homotopy)"
            )
        return runs[-1], message
    message = ""
    for k, stage in enumerate(plan):
        last = k == len(plan) - 1
        final, tried = solve_stage(
            runner,
            viscosity=stage["viscosity"],
            factor=stage["factor"],
            hamiltonian=stage["hamiltonian"],
            initial=initial,
            kind="target" if last else "continuation",
        )
        runs.extend(tried)
        message = describe(final, tried)
        if runner.interrupted:
            final.log.converged = False
            return final, f"interrupted: {message}"
        if not final.log.converged or final.log.last is None:
            if not last:
                summary = {key: stage[key] for key in ("viscosity", "factor", "smoothing")}
                message = f"continuation stage {summary} did not converge: {message}"
            return final, message
        initial = final.log.last
    return final, message


def _interrupted(log: IterationLog) -> None:
    log.message = f"interrupted after {max(len(log.history) - 1, 0)} iterations"
    log.converged = False


def _wasserstein_change(x: np.ndarray, m_prev: np.ndarray, m: np.ndarray) -> tuple[float, float]:
    """(max_t W1, max_t W2) between two density paths on the grid x."""
    a, b = np.maximum(m_prev, 0.0), np.maximum(m, 0.0)
    w1, w2 = wasserstein_grid(a, b, x, (1.0, 2.0))
    return float(w1.max()), float(w2.max())


def solve_mfg_1d(config: MFGConfig, m0, f, **kwargs) -> tuple[np.ndarray, np.ndarray, int]:
    """The seed's call: ``u, m, iterations = solve_mfg_1d(config, m0, f)``.

    Same arguments as :func:`solve_mfg`; warns with :class:`MFGConvergenceWarning`
    if the solver stops before its tolerance, and also when the answer solves
    the game with a smoothed Hamiltonian (``MFGSolution.smoothing > 0``):
    this call returns bare arrays, so the warning is the only place to say so.

    Parameters
    ----------
    config : MFGConfig
        Grid and solver settings.
    m0 : array_like, shape (nx,)
        Initial density.
    f : Coupling, array or callable
        Running cost, as in :func:`solve_mfg`.
    **kwargs
        Further keywords of :func:`solve_mfg` (``terminal``, ``hamiltonian``, ...).

    Returns
    -------
    u, m : ndarray, shape (nt, nx)
        Value function and density.
    iterations : int
        Outer iterations performed.

    Warns
    -----
    MFGConvergenceWarning
        If the solver did not converge or solved a smoothed game.

    Examples
    --------
    >>> from meanfolio.mfg import solve_mfg_1d
    >>> from meanfolio.mfg.examples import seed_example
    >>> u, m, iterations = solve_mfg_1d(**seed_example())
    >>> u.shape, m.shape
    ((100, 200), (100, 200))
    """
    sol = solve_mfg(config, m0, f, **kwargs)
    if not sol.converged:
        warnings.warn(sol.message, MFGConvergenceWarning, stacklevel=2)
    elif sol.smoothing > 0.0:
        warnings.warn(
            f"the returned (u, m) solve the game with the Hamiltonian smoothed by delta = {sol.smoothing:.3g} "
            f"({sol.message}); use solve_mfg for the details",
            MFGConvergenceWarning,
            stacklevel=2,
        )
    return sol.u, sol.m, sol.iterations
