"""Random-walk Metropolis-Hastings with adaptation during burn-in only.

Proposal ``x' = x + L z`` with z ~ N(0, I). During burn-in the step scale
follows a Robbins-Monro rule toward the optimal acceptance rate (0.44 in 1D,
0.234 from 5 dimensions, interpolated between; Roberts & Rosenthal 2001) and,
in several dimensions, L is refreshed from the chain's covariance (Haario et
al. 2001); after burn-in the proposal is frozen, so the kept samples come
from a valid (non-adaptive) Markov chain. Several chains give split R-hat
(Gelman et al., BDA3); the effective sample size uses Geyer's initial
positive sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_array, check_choice, check_integer

__all__ = ["MCMCResult", "effective_sample_size", "metropolis_hastings", "split_rhat"]


@dataclass
class MCMCResult:
    """samples (n_chains, n_samples, d); acceptance_rate per chain (after burn-in);
    ess (d,) summed over chains; rhat (d,) (nan with one chain); proposal_cholesky (d, d)."""

    samples: np.ndarray
    acceptance_rate: np.ndarray
    ess: np.ndarray
    rhat: np.ndarray
    proposal_cholesky: np.ndarray

    def flat(self) -> np.ndarray:
        """All chains' samples stacked, (n_chains * n_samples, d)."""
        return self.samples.reshape(-1, self.samples.shape[-1])


def _target_rate(d: int) -> float:
    return 0.44 if d == 1 else (0.234 if d >= 5 else 0.44 - (0.44 - 0.234) * (d - 1) / 4)


def effective_sample_size(chain: np.ndarray) -> float:
    """ESS of one 1D chain with Geyer's initial positive sequence of autocorrelation pairs."""
    x = np.asarray(chain, dtype=np.float64)
    n = x.size
    d = x - x.mean()
    f = np.fft.rfft(d, 2 * n)
    acov = np.fft.irfft(f * np.conj(f))[:n] / n
    if acov[0] == 0:
        return float(n)
    rho = acov / acov[0]
    s = 0.0
    for k in range(0, n - 1, 2):
        pair = rho[k] + rho[k + 1]
        if pair <= 0:
            break
        s += pair
    tau = max(2.0 * s - 1.0, 1.0 / n)
    return float(n / tau)


def split_rhat(samples: np.ndarray) -> np.ndarray:
    """Split R-hat per dimension of samples (n_chains, n, d)."""
    m, n, d = samples.shape
    half = n // 2
    if m * 2 < 2 or half < 2:
        return np.full(d, np.nan)
    chains = np.concatenate([samples[:, :half], samples[:, half : 2 * half]], axis=0)  # (2m, half, d)
    means = chains.mean(axis=1)
    W = chains.var(axis=1, ddof=1).mean(axis=0)
    B = half * means.var(axis=0, ddof=1)
    var_hat = (half - 1) / half * W + B / half
    return np.sqrt(var_hat / W)


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
    """Sample from ``exp(log_prob(x))`` by random-walk Metropolis-Hastings.

    ``x0`` (d,) or (n_chains, d) starting points; ``burn_in`` steps (default
    n_samples // 2) are run first and discarded; ``scale`` is the initial
    step (default 2.38 / sqrt(d)). Chains use independent streams spawned
    from ``seed``. A non-finite ``log_prob`` at x0 raises ValueError.
    """
    check_choice("proposal", proposal, ("gaussian",))
    n_samples = check_integer("n_samples", n_samples, low=1)
    n_chains = check_integer("n_chains", n_chains, low=1)
    burn_in = n_samples // 2 if burn_in is None else check_integer("burn_in", burn_in, low=0)
    x0 = check_array("x0", x0)
    d = x0.shape[-1] if x0.ndim else 1
    starts = np.broadcast_to(x0.reshape(-1, d) if x0.ndim else x0.reshape(1, 1), (n_chains, d))
    target = _target_rate(d)
    samples = np.empty((n_chains, n_samples, d))
    rates = np.empty(n_chains)
    L_final = np.eye(d)
    for c, rng in enumerate(as_generator(seed).spawn(n_chains)):
        x = starts[c].astype(np.float64).copy()
        lp = float(log_prob(x))
        if not np.isfinite(lp):
            raise ValueError(f"log_prob(x0) = {lp} for chain {c}: expected a finite value at the start")
        log_s = np.log(2.38 / np.sqrt(d) if scale is None else scale)
        L = np.eye(d)
        history = []
        accepted = 0
        for it in range(burn_in + n_samples):
            y = x + np.exp(log_s) * (L @ rng.standard_normal(d))
            lq = float(log_prob(y))
            accept = np.isfinite(lq) and np.log(rng.uniform()) < lq - lp
            if accept:
                x, lp = y, lq
            if it < burn_in:
                if adapt:
                    log_s += ((1.0 if accept else 0.0) - target) / (it + 1) ** 0.6
                    history.append(x.copy())
                    if d > 1 and (it + 1) % 100 == 0 and len(history) > 10 * d:
                        cov = np.cov(np.array(history[len(history) // 2 :]).T) + 1e-10 * np.eye(d)
                        L = np.linalg.cholesky(cov)
                        log_s = np.log(2.38 / np.sqrt(d))
            else:
                samples[c, it - burn_in] = x
                accepted += accept
        rates[c] = accepted / n_samples
        L_final = np.exp(log_s) * L
    ess = np.array([sum(effective_sample_size(samples[c, :, j]) for c in range(n_chains)) for j in range(d)])
    return MCMCResult(samples, rates, ess, split_rhat(samples) if n_chains > 1 else np.full(d, np.nan), L_final)
