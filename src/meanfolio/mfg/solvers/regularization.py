"""Robust solution of one game: smoothing of kinked Hamiltonians, coupling homotopy.

:func:`solve_stage` solves one game (viscosity, coupling factor, H) for
``solve_mfg``'s Newton:

- a *kinked* Hamiltonian (``Linear``, ``PowerLaw`` with a < 2: a kink or an
  unbounded H_pp at p = 0, so the discrete system is not smooth, its
  Jacobian is near-singular, and an exact discrete equilibrium may need
  agents indifferent at p = 0, which no pure feedback gives) is smoothed,
  ``H_delta`` of ``hamiltonians``, with delta decreasing geometrically from
  the scale of the gradients of u to ``MIN_SMOOTHING`` times it; then a
  short Newton run on the unsmoothed game starts from the last smoothed
  solution and is returned if it converges; otherwise the smoothed solution
  is, with the delta it solves (``MFGSolution.smoothing``, ``.hamiltonian``);
- any other game is solved by Newton directly, and if Newton fails (no step
  decreases the residual, or it stagnates) through a path in the coupling
  strength, from a quarter of it to all of it.

Each Newton run starts from the previous one's solution; steps along a path
adapt (doubled after a converged stage, halved from the last converged one
after a failure). ``|H_delta - H| <= speed * delta`` (``<= delta^a / a``) on
all gradients, so the smoothed solutions converge as delta -> 0; the stages
record the path (parameter values, iterations, residuals, GMRES work).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..couplings import Scaled
from .iterative import IterationLog
from .newton import NewtonStats, newton

__all__ = ["MAX_STAGES", "MIN_SMOOTHING", "POLISH_ITERATIONS", "Stage", "StageRunner", "describe", "solve_stage"]

#: the smallest smoothing, relative to the gradient scale of u
MIN_SMOOTHING = 1e-3
#: the most Newton runs one path may use
MAX_STAGES = 40
#: Newton iterations on the unsmoothed game from the last smoothed solution
POLISH_ITERATIONS = 30
#: the smallest step along a path (log delta, or coupling factor) before giving up
MIN_STEP = 1.0 / 64.0


@dataclass
class Stage:
    """One Newton run: the problem it solved, its log and diagnostics, and its parameters."""

    problem: Any
    log: IterationLog
    stats: NewtonStats
    viscosity: float
    factor: float
    hamiltonian: Any
    kind: str = "target"
    #: False for a smoothed stage returned although its path stopped early
    complete: bool = True

    @property
    def converged(self) -> bool:
        return self.log.converged

    def record(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "viscosity": self.viscosity,
            "factor": self.factor,
            "smoothing": float(getattr(self.hamiltonian, "smoothing", 0.0)),
            "iterations": max(len(self.log.history) - 1, 0),
            "converged": self.log.converged,
            "residual": self.log.history[-1] if self.log.history else float("nan"),
            "gmres_iterations": int(sum(self.log.linear_iterations)),
        }


class StageRunner:
    """Builds the problem of one stage (viscosity, coupling factor, Hamiltonian) and runs Newton on it."""

    def __init__(self, problem_class, config, m0, f, terminal, hamiltonian, callback, distance=None):
        self.problem_class = problem_class
        self.config = config
        self.m0, self.f, self.terminal = m0, f, terminal
        self.hamiltonian = hamiltonian
        self.user_callback = callback
        self.distance = distance
        #: the callback asked to stop / Ctrl-C was pressed: no further stage is run
        self.stopped = False
        self.interrupted = False

    def callback(self, iteration: int, residual: float) -> bool:
        if self.user_callback is not None and self.user_callback(iteration, residual) is True:
            self.stopped = True
        return self.stopped

    def problem(self, viscosity: float, factor: float, hamiltonian):
        config = self.config.replace(viscosity=viscosity)
        problem = self.problem_class.create(config, self.m0, self.f, terminal=self.terminal, hamiltonian=hamiltonian)
        if factor != 1.0:
            problem.coupling = Scaled(problem.coupling, factor)
        return problem

    def log(self) -> IterationLog:
        log = IterationLog(self.config.tolerance, self.config.max_iterations, self.callback)
        if self.distance is not None:
            log.distance = self.distance
        return log

    def run(self, *, viscosity, factor, hamiltonian, initial, kind="target", stagnation=False, budget=None) -> Stage:
        """One Newton run; after a stop (callback, Ctrl-C) it only returns a failed, empty stage."""
        problem = self.problem(viscosity, factor, hamiltonian)
        log = self.log()
        stats = NewtonStats()
        if self.stopped or self.interrupted:
            log.message = "not run: the solver was stopped"
            return Stage(problem, log, stats, viscosity, factor, problem.hamiltonian, kind)
        try:
            stats = newton(problem, log, initial, stagnation=stagnation, budget=budget)
        except KeyboardInterrupt:
            self.interrupted = True
        return Stage(problem, log, stats, viscosity, factor, problem.hamiltonian, kind)


def _gradient_scale(problem, u: np.ndarray) -> float:
    """``max |D u|`` over the grid (both axes in 2D), or 1 if u is flat."""
    grid = problem.grid
    if hasattr(grid, "gx"):
        g = max(np.abs(np.diff(u, axis=-1)).max() / grid.gx.dx, np.abs(np.diff(u, axis=-2)).max() / grid.gy.dx)
    else:
        g = np.abs(np.diff(u, axis=-1)).max() / grid.dx
    return float(g) if np.isfinite(g) and g > 0 else 1.0


def _path(run, start: float, end: float, first_step: float, initial, runs: list[Stage], halted):
    """Adaptive continuation in t from ``start`` to ``end``; ``run(t, initial)`` -> Stage.

    Doubles the step after a converged stage, halves it (from the last
    converged t) after a failed one. Every run is appended to ``runs``.
    Returns (the last converged stage or None, the t it reached).
    """
    t_done, last = None, None
    step = first_step
    direction = 1.0 if end > start else -1.0
    t = start
    budget = len(runs) + MAX_STAGES
    while len(runs) < budget and not halted():
        stage = run(t, initial if last is None else last.log.last)
        runs.append(stage)
        if stage.converged:
            t_done, last = t, stage
            if t == end:
                break
            step *= 2.0
        else:
            step *= 0.5
            if (t_done is None and t == start) or step < MIN_STEP:
                break
        base = start if t_done is None else t_done
        t = end if abs(end - base) <= step else base + direction * step
    return last, t_done


def solve_stage(runner: StageRunner, *, viscosity, factor, hamiltonian, initial, kind="target"):
    """Solve one game (viscosity, coupling factor, H) robustly; returns (the final Stage, every run in order).

    Newton on the game first. If it fails: for a kinked H (unsmoothed), the
    smoothing path from delta = the gradient scale of u down to
    ``MIN_SMOOTHING`` times it, then a short Newton run on the unsmoothed
    game from there (``POLISH_ITERATIONS``), returned if it converges;
    otherwise the path in the coupling strength. A final stage that is not
    the requested game carries ``kind`` "smoothing"; its log says converged
    only if its path reached the smallest delta.
    """
    H = hamiltonian
    kinked = H.kinked and H.smoothing == 0.0

    def halted():
        return runner.stopped or runner.interrupted

    # A kinked game is probed: its Newton fails fast (first inexact linear solve,
    # no halving in 5 iterations) since the smoothing path is the better route then.
    direct = runner.run(
        viscosity=viscosity, factor=factor, hamiltonian=H, initial=initial, kind=kind, stagnation=True,
        budget=runner.config.max_iterations if kinked else None,
    )  # fmt: skip
    runs = [direct]
    if direct.converged or halted() or not (kinked or direct.stats.failure is not None):
        return direct, runs
    if kinked:
        return _smoothing_path(runner, direct, initial, runs, halted)

    def weaker(t, init):
        return runner.run(
            viscosity=viscosity, factor=factor * t, hamiltonian=H, initial=init, kind="coupling", stagnation=True
        )

    last, reached = _path(weaker, 0.25, 1.0, 0.25, initial, runs, halted)
    if last is None or reached != 1.0:
        return direct, runs
    last.kind = kind
    return last, runs


def _smoothing_path(runner: StageRunner, direct: Stage, initial, runs: list[Stage], halted):
    H, viscosity, factor = direct.hamiltonian, direct.viscosity, direct.factor
    start = direct.problem.initial_guess() if initial is None else initial
    scale = _gradient_scale(direct.problem, start[0])

    def smoothed(t, init):
        delta = scale * MIN_SMOOTHING**t
        return runner.run(
            viscosity=viscosity, factor=factor, hamiltonian=H.smoothed(delta), initial=init, kind="smoothing",
            stagnation=True,
        )  # fmt: skip

    last, reached = _path(smoothed, 0.0, 1.0, 0.25, start, runs, halted)
    if last is None:
        return direct, runs
    last.complete = reached == 1.0
    last.log.converged = last.complete
    if halted():
        return last, runs
    polish = runner.run(
        viscosity=viscosity, factor=factor, hamiltonian=H, initial=last.log.last, kind=direct.kind,
        stagnation=True, budget=POLISH_ITERATIONS,
    )  # fmt: skip
    runs.append(polish)
    return (polish if polish.converged else last), runs


def describe(final: Stage, runs: list[Stage]) -> str:
    """The message of a solution reached by :func:`solve_stage`."""
    direct = runs[0]
    if len(runs) <= 1 or final is direct:
        extra = f"; the homotopy ({len(runs) - 1} further stages) did not reach a solution either"
        return direct.log.message + (extra if len(runs) > 1 else "")
    if final.kind == "smoothing":
        d = final.hamiltonian.smoothing
        smoothing = [r for r in runs if r.kind == "smoothing"]
        polish = runs[-1] if runs[-1].kind != "smoothing" else None
        if final.complete:
            head = f"converged for the smoothed Hamiltonian (smoothing delta = {d:.3g}, {len(smoothing)} stages)"
        else:
            head = (
                f"not converged: the smoothing continuation stopped at delta = {d:.3g} (the returned (u, m) solves "
                f"that smoothed game to tolerance; smaller delta failed: {smoothing[-1].log.message})"
            )
        tail = f"; Newton on the unsmoothed game failed ({direct.stats.failure or direct.log.message})"
        if polish is not None:
            tail += f", also from the smoothed solution ({polish.stats.failure or polish.log.message})"
        return head + tail
    kinds = sorted({r.kind for r in runs[1:] if r is not final})
    return (
        f"{final.log.message} (after Newton failed on the game directly: {direct.stats.failure}; "
        f"reached through {len(runs) - 1} more Newton runs: {', '.join(kinds)})"
    )
