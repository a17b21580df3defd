"""Continuation (homotopy) for hard games: solve easier problems first.

A large viscosity smooths everything, a weak coupling is nearly a control
problem, and a smoothed Hamiltonian (``Linear(speed, smoothing=delta)``,
``PowerLaw(a, smoothing=delta)``) removes the kink at p = 0; Newton
converges from almost anywhere on those. Each stage starts from the previous
stage's solution and the last stage is the requested problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meanfolio._validation import check_choice, check_number

__all__ = ["Continuation", "stages"]


@dataclass(frozen=True)
class Continuation:
    """Stages before the target problem.

    Parameters
    ----------
    parameter : {"viscosity", "coupling", "smoothing"}
        What is varied: the viscosity nu, a factor multiplying the coupling f,
        or the smoothing delta of a ``Linear`` or ``PowerLaw`` Hamiltonian
        (``solve_mfg`` only).
    values : sequence of float
        The values of the earlier stages, in order (viscosities > 0, coupling
        factors in [0, 1), or smoothings delta > 0, usually decreasing); the
        target (config.viscosity, factor 1, or the Hamiltonian as given,
        e.g. ``Linear(1.0, smoothing=1e-3)``) is appended.

    Raises
    ------
    ValueError
        For an unknown parameter or values outside the ranges above.

    Examples
    --------
    Solve at viscosity 0.5 and 0.2 before the target 0.05, each Newton run starting from the previous answer:

    >>> from meanfolio.mfg import Congestion, Continuation, solve_mfg
    >>> from meanfolio.mfg.examples import lq_example
    >>> game = lq_example(100, 50)
    >>> game["config"] = game["config"].replace(viscosity=0.05)
    >>> sol = solve_mfg(**game, continuation=Continuation("viscosity", (0.5, 0.2)))
    >>> sol.converged
    True
    """

    parameter: str
    values: tuple[float, ...]

    def __post_init__(self):
        check_choice("parameter", self.parameter, ("viscosity", "coupling", "smoothing"))
        if isinstance(self.values, (int, float)) or len(self.values) == 0:
            raise ValueError(f"values = {self.values!r} is not allowed: expected a non-empty sequence of numbers")
        if self.parameter in ("viscosity", "smoothing"):
            vals = tuple(check_number("values", v, low=0, low_inclusive=False) for v in self.values)
        else:
            vals = tuple(check_number("values", v, low=0, high=1, high_inclusive=False) for v in self.values)
        object.__setattr__(self, "values", vals)


def stages(continuation: Continuation | None, config, hamiltonian=None) -> list[dict[str, Any]]:
    """The (viscosity, factor) of every stage, the target last.

    With ``hamiltonian`` (the game's), every stage also has a "hamiltonian"
    (smoothed for the earlier stages of a continuation in "smoothing", which
    is only allowed then) and its "smoothing".
    """
    target: dict[str, Any] = {"viscosity": config.viscosity, "factor": 1.0}
    if hamiltonian is not None:
        target.update(hamiltonian=hamiltonian, smoothing=float(hamiltonian.smoothing))
    if continuation is None:
        return [target]
    if not isinstance(continuation, Continuation):
        raise ValueError(f"continuation = {continuation!r} is not allowed: expected a Continuation or None")
    if continuation.parameter == "smoothing":
        if hamiltonian is None:
            raise ValueError("continuation in 'smoothing' is not allowed here: expected 'viscosity' or 'coupling'")
        return [{**target, "hamiltonian": hamiltonian.smoothed(v), "smoothing": v} for v in continuation.values] + [
            target
        ]
    key = "viscosity" if continuation.parameter == "viscosity" else "factor"
    return [{**target, key: v} for v in continuation.values] + [target]
