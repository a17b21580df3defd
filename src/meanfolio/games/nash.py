"""N players against the mean field: the epsilon-Nash gap and its rate.

For a game whose mean-field equilibrium feedback is played by N - 1 players,
the epsilon-Nash gap is what the remaining player gains by its best response
instead of the same feedback:

    eps_N = J_N(mean-field feedback) - J_N(best response)   (>= 0, costs),

computed for each game exactly by :mod:`meanfolio.games._lq` (the deviation
problem is linear-quadratic in the player's state and the mean of the others).
Its decay eps_N ~ C N^rate is fitted by least squares on log-log axes and
printed beside the rate derived for the game.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meanfolio._validation import check_array, check_integer

__all__ = ["EpsilonNash", "check_player_counts", "fit_rate"]


def check_player_counts(n_players) -> np.ndarray:
    """Validate a list of player counts (integers >= 2, increasing) and return them as an int array."""
    values = np.atleast_1d(np.asarray(n_players))
    if values.ndim != 1 or values.size == 0 or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"n_players = {n_players!r} is not allowed: expected a non-empty list of integers >= 2")
    for v in values:
        check_integer("n_players", int(v), low=2)
    if np.any(np.diff(values) <= 0):
        raise ValueError(f"n_players = {values.tolist()!r} is not allowed: expected strictly increasing counts")
    return values.astype(np.int64)


def fit_rate(n_players, gap, *, n_min: int = 1) -> float:
    r"""Least-squares slope of :math:`\log \varepsilon_N` against :math:`\log N`.

    Fits :math:`\varepsilon_N \approx C N^{r}` over the counts :math:`N \ge` ``n_min``
    with a positive gap.

    Parameters
    ----------
    n_players : array_like, shape (k,)
        Player counts N.
    gap : array_like, shape (k,)
        The gaps :math:`\varepsilon_N`.
    n_min : int, default 1
        Smallest N used in the fit.

    Returns
    -------
    float
        The fitted rate r.

    Raises
    ------
    ValueError
        If fewer than two counts with N >= n_min have a positive gap.

    Examples
    --------
    >>> from meanfolio.games import fit_rate
    >>> fit_rate([10, 100, 1000], [1e-2, 1e-4, 1e-6])
    -2.0
    """
    n = np.asarray(n_players, dtype=float)
    gap = check_array("gap", gap, shape=(n.size,))
    keep = (n >= n_min) & (gap > 0)
    if keep.sum() < 2:
        raise ValueError(f"gap has {int(keep.sum())} positive value(s) with N >= {n_min}: expected at least 2 to fit")
    slope, _ = np.polyfit(np.log(n[keep]), np.log(gap[keep]), 1)
    return float(slope)


@dataclass
class EpsilonNash:
    r"""The epsilon-Nash gap of the mean-field feedback in the N-player game.

    .. math::

        \varepsilon_N = J_N(\text{mean-field feedback}) - J_N(\text{best response}) \ge 0,

    what one player gains by its best response while the N - 1 others play the
    mean-field feedback, with its decay :math:`\varepsilon_N \approx C N^{r}`.

    Attributes
    ----------
    game : str
        The game's name.
    n_players : ndarray, shape (k,)
        Player counts N.
    gap : ndarray, shape (k,)
        :math:`\varepsilon_N`, in the game's cost units per player.
    derived_rate : float
        The exponent r derived for the game.
    fitted_rate : float
        Least-squares slope over N >= ``fit_from`` (nan with fewer than two such counts).
    fit_from : int
        Smallest N in the fit.
    method : str
        How the gaps were computed.
    derivation : str
        One line on where the derived rate comes from.

    See Also
    --------
    fit_rate
    allocation_epsilon_nash, systemic_risk_epsilon_nash, trade_crowding_epsilon_nash
    """

    game: str
    n_players: np.ndarray
    gap: np.ndarray
    derived_rate: float
    fitted_rate: float
    fit_from: int
    method: str
    derivation: str

    @classmethod
    def from_gaps(
        cls, game: str, n_players, gap, *, derived_rate: float, method: str, derivation: str, fit_from: int = 1
    ) -> EpsilonNash:
        n_players = np.asarray(n_players)
        gap = np.asarray(gap, dtype=float)
        usable = int(np.sum((n_players >= fit_from) & (gap > 0)))
        # one count (or gaps at round-off) cannot give a slope: nan says so, never a made-up number
        fitted = fit_rate(n_players, gap, n_min=fit_from) if usable >= 2 else float("nan")
        return cls(
            game=game,
            n_players=n_players,
            gap=gap,
            derived_rate=float(derived_rate),
            fitted_rate=fitted,
            fit_from=int(fit_from),
            method=method,
            derivation=derivation,
        )

    def summary(self) -> dict:
        return {
            "game": self.game,
            "fitted_rate": self.fitted_rate,
            "derived_rate": self.derived_rate,
            "fit_from": self.fit_from,
            "gap_at_smallest_N": float(self.gap[0]),
            "gap_at_largest_N": float(self.gap[-1]),
            "method": self.method,
        }

    def plot(self, ax=None):
        """Log-log plot of the gap against N with the fitted and derived slopes; returns the figure."""
        from meanfolio.plotting import new_figure

        if ax is None:
            _, (ax,) = new_figure(1)
        n = self.n_players.astype(float)
        ax.loglog(n, self.gap, "o-", label="epsilon-Nash gap")
        keep = n >= self.fit_from
        anchor_n, anchor_gap = n[keep][-1], self.gap[keep][-1]
        for rate, style, name in ((self.fitted_rate, "--", "fitted"), (self.derived_rate, ":", "derived")):
            ax.loglog(n[keep], anchor_gap * (n[keep] / anchor_n) ** rate, style, label=f"{name} slope {rate:.2f}")
        ax.set_xlabel("number of players N")
        ax.set_ylabel("gain of a best response")
        ax.set_title(f"{self.game}: epsilon-Nash")
        ax.legend()
        return ax.figure
