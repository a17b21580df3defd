"""Continuation (homotopy) for hard games: solve easier problems first.

A large viscosity smooths everything and a weak coupling is nearly a
control problem; Newton converges from almost anywhere on those. Each stage
starts from the previous stage's solution and the last stage is the
requested problem.
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
    parameter : {"viscosity", "coupling"}
        What is varied: the viscosity nu, or a factor multiplying the coupling f.
    values : sequence of float
        The values of the earlier stages, in order (viscosities > 0, or
        coupling factors in [0, 1)); the target (config.viscosity, or factor
        1) is appended.
    """

    parameter: str
    values: tuple[float, ...]

    def __post_init__(self):
        check_choice("parameter", self.parameter, ("viscosity", "coupling"))
        if isinstance(self.values, (int, float)) or len(self.values) == 0:
            raise ValueError(f"values = {self.values!r} is not allowed: expected a non-empty sequence of numbers")
        if self.parameter == "viscosity":
            vals = tuple(check_number("values", v, low=0, low_inclusive=False) for v in self.values)
        else:
            vals = tuple(check_number("values", v, low=0, high=1, high_inclusive=False) for v in self.values)
        object.__setattr__(self, "values", vals)


def stages(continuation: Continuation | None, config) -> list[dict[str, Any]]:
    """The (viscosity, factor) of every stage, the target last."""
    target = {"viscosity": config.viscosity, "factor": 1.0}
    if continuation is None:
        return [target]
    if not isinstance(continuation, Continuation):
        raise ValueError(f"continuation = {continuation!r} is not allowed: expected a Continuation or None")
    key = "viscosity" if continuation.parameter == "viscosity" else "factor"
    return [{**target, key: v} for v in continuation.values] + [target]
