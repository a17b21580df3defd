"""Random-walk Metropolis-Hastings with adaptation during burn-in only.

Proposal ``x' = x + exp(log_s) L z`` with z ~ N(0, I). During burn-in
(warm-up):

- ``log_s`` follows a Robbins-Monro rule toward the optimal acceptance rate
  (0.44 in 1D, 0.234 from 5 dimensions, interpolated between; Roberts &
  Rosenthal 2001): ``log_s += (accepted - target) / k^0.6``. It is never
  reset, so the adaptation does not stall on targets (e.g. a banana) where a
  reset to the textbook scale would be far too large;
- in several dimensions L is refreshed every 100 steps from the covariance
  of the second half of the warm-up draws so far, times 2.38 / sqrt(d)
  (adaptive Metropolis, Haario et al. 2001). ``log_s`` then corrects that
  textbook factor; it is reset once, the first time L changes from the
  initial identity (so the initial ``scale`` does not carry over).

After burn-in the proposal is frozen, so the kept samples come from a valid
(non-adaptive) Markov chain. Diagnostics are the multi-chain ones of
:mod:`.diagnostics` (rank-normalised split R-hat, bulk ESS over all chains).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_array, check_choice, check_integer, check_number

from .diagnostics import effective_sample_size, split_rhat

__all__ = ["MCMCResult", "effective_sample_size", "metropolis_hastings", "split_rhat"]


@dataclass
class MCMCResult:
    """Draws and diagnostics of :func:`metropolis_hastings`.

    Attributes
    ----------
    samples : (n_chains, n_samples, d)
    acceptance_rate : (n_chains,) after burn-in
    ess : (d,) bulk effective sample size over all chains (Vehtari et al. 2021)
    ess_tail : (d,) tail effective sample size over all chains
    rhat : (d,) rank-normalised split R-hat (nan with one chain)
    proposal_cholesky : (d, d) frozen proposal factor of the last chain
    step_scale : (n_chains,) final ``exp(log_s)`` of each chain
    """

    samples: np.ndarray
    acceptance_rate: np.ndarray
    ess: np.ndarray
    rhat: np.ndarray
    proposal_cholesky: np.ndarray
    ess_tail: np.ndarray | None = None
    step_scale: np.ndarray | None = None

    def flat(self) -> np.ndarray:
        """All chains' samples stacked, (n_chains * n_samples, d)."""
        return self.samples.reshape(-1, self.samples.shape[-1])


def _target_rate(d: int) -> float:
    return 0.44 if d == 1 else (0.234 if d >= 5 else 0.44 - (0.44 - 0.234) * (d - 1) / 4)


def _chain(log_prob, x, rng, burn_in, n_samples, scale, adapt, target, out):
    """Run one chain; writes the kept draws to ``out`` and returns (acceptance rate, L, step scale)."""
    d = x.size
    lp = float(log_prob(x))
    if not np.isfinite(lp):
        raise ValueError(f"log_prob(x0) = {lp}: expected a finite value at the start")
    log_s, L = 0.0, scale * np.eye(d)
    history = np.empty((burn_in, d))
    k, switched, accepted = 0, False, 0
    for it in range(burn_in + n_samples):
        y = x + np.exp(log_s) * (L @ rng.standard_normal(d))
        lq = float(log_prob(y))
        accept = bool(np.isfinite(lq) and np.log(rng.uniform()) < lq - lp)
        if accept:
            x, lp = y, lq
        if it < burn_in:
            history[it] = x
            if adapt:
                k += 1
                log_s += ((1.0 if accept else 0.0) - target) / k**0.6
                if d > 1 and (it + 1) % 100 == 0 and it + 1 >= 20 * d:
                    tail = history[(it + 1) // 2 : it + 1]
                    cov = np.cov(tail.T)
                    cov += 1e-10 * max(np.trace(cov) / d, 1e-300) * np.eye(d)
                    try:
                        L = 2.38 / np.sqrt(d) * np.linalg.cholesky(cov)
                    except np.linalg.LinAlgError:
                        continue
                    if not switched:
                        log_s, k, switched = 0.0, 0, True
        else:
            out[it - burn_in] = x
            accepted += accept
    return accepted / n_samples, L, np.exp(log_s)


def metropolis_hastings(
    log_prob: Callable[[np.ndarray], float],
    x0,
    n_samples: int,
    *,
    proposal: str = "gaussian",
    scale: float | None = None,
    adapt: bool = True,
    burn_in: int | None = None,
    n_chains: int = 1,
    seed: SeedLike = None,
) -> MCMCResult:
    r"""Sample from ``exp(log_prob(x))`` by random-walk Metropolis-Hastings.

    Proposal :math:`y = x + e^{s} L z`, :math:`z \sim N(0, I)`, accepted with
    probability :math:`\min(1, \pi(y) / \pi(x))`. During ``burn_in`` the log
    step follows the Robbins-Monro rule :math:`s \leftarrow s + (a_k -
    \alpha^*) / k^{0.6}` (:math:`a_k` 1 if step k was accepted) toward the
    optimal acceptance :math:`\alpha^*` (0.44 in 1D, 0.234 from d = 5,
    linear between), and for d > 1 L is refreshed every 100 steps from the
    covariance of the second half of the warm-up draws times
    :math:`2.38 / \sqrt{d}`. After burn-in the proposal is frozen.

    Parameters
    ----------
    log_prob : callable
        ``log_prob(x) -> float`` for x of shape (d,), the log density up to a
        constant (-inf outside the support).
    x0 : array_like, shape (d,) or (n_chains, d)
        Starting points (log_prob must be finite there).
    n_samples : int
        Kept draws per chain (>= 1).
    proposal : {"gaussian"}
    scale : float, optional
        Initial step, > 0 (default :math:`2.38 / \sqrt{d}`); zero or negative
        raises ValueError.
    adapt : bool
        Adapt the step (and, for d > 1, the proposal covariance) during burn-in.
    burn_in : int, optional
        Warm-up steps run first and discarded (default n_samples // 2).
    n_chains : int
        Independent chains, with streams spawned from ``seed``.
    seed : int or numpy Generator

    Returns
    -------
    MCMCResult
        Draws (n_chains, n_samples, d), acceptance rates after burn-in, bulk
        and tail ESS over all chains and the rank-normalised split R-hat
        (:func:`effective_sample_size`, :func:`split_rhat`).

    References
    ----------
    .. [1] Roberts, G. O. and Rosenthal, J. S. (2001), Optimal scaling for various
       Metropolis-Hastings algorithms, Statistical Science 16(4), 351-367.
    .. [2] Haario, H., Saksman, E. and Tamminen, J. (2001), An adaptive Metropolis
       algorithm, Bernoulli 7(2), 223-242.
    .. [3] Andrieu, C. and Thoms, J. (2008), A tutorial on adaptive MCMC,
       Statistics and Computing 18, 343-373.

    Examples
    --------
    >>> import numpy as np
    >>> res = metropolis_hastings(lambda x: -0.5 * float(x @ x), [0.0], 2000, n_chains=2, seed=0)
    >>> res.samples.shape
    (2, 2000, 1)
    >>> bool(abs(res.flat().mean()) < 0.2 and 0.3 < res.acceptance_rate.mean() < 0.6)
    True
    """
    check_choice("proposal", proposal, ("gaussian",))
    n_samples = check_integer("n_samples", n_samples, low=1)
    n_chains = check_integer("n_chains", n_chains, low=1)
    burn_in = n_samples // 2 if burn_in is None else check_integer("burn_in", burn_in, low=0)
    x0 = check_array("x0", x0)
    d = x0.shape[-1] if x0.ndim else 1
    if scale is not None:
        scale = check_number("scale", scale, low=0, low_inclusive=False)
    starts = np.broadcast_to(x0.reshape(-1, d) if x0.ndim else x0.reshape(1, 1), (n_chains, d))
    target = _target_rate(d)
    samples = np.empty((n_chains, n_samples, d))
    rates, steps = np.empty(n_chains), np.empty(n_chains)
    L_final = np.eye(d)
    s0 = 2.38 / np.sqrt(d) if scale is None else float(scale)
    for c, rng in enumerate(as_generator(seed).spawn(n_chains)):
        try:
            rates[c], L, steps[c] = _chain(log_prob, starts[c].astype(np.float64).copy(), rng, burn_in, n_samples,
                                           s0, adapt, target, samples[c])  # fmt: skip
        except ValueError as exc:
            raise ValueError(f"chain {c}: {exc}") from None
        L_final = steps[c] * L
    ess = effective_sample_size(samples, "bulk")
    ess_tail = effective_sample_size(samples, "tail")
    rhat = split_rhat(samples) if n_chains > 1 else np.full(d, np.nan)
    return MCMCResult(samples, rates, ess, rhat, L_final, ess_tail, steps)
