"""Multi-chain MCMC diagnostics of Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021).

- :func:`split_rhat`: rank-normalised split R-hat, the larger of the bulk
  value (R-hat of the normal scores of the ranks of the split chains) and the
  tail value (the same on the values folded about the median).
- :func:`effective_sample_size`: ``method="bulk"`` is the ESS of the normal
  scores of the ranks of the split chains; ``"tail"`` the smaller ESS of the
  indicators ``x <= q_0.05`` and ``x <= q_0.95``; ``"mean"`` the split-chain
  ESS of the raw values. All chains enter one autocorrelation estimate
  (the multi-chain formula, with the between-chain variance), so chains
  stuck in different places give a small ESS, not the sum of the per-chain
  values.

The formulas, including Geyer's initial monotone sequence, the
``1 / log10(S)`` floor on the integrated autocorrelation time and the
``S`` returned for a constant array, follow ArviZ (``arviz.ess``,
``arviz.rhat``) so that the numbers are the same.

Shapes: ``(chains, draws)``, ``(chains, draws, d)`` (one value per
component, shape ``(d,)``) or ``(draws,)`` (one chain).
"""

from __future__ import annotations

import numpy as np
from scipy import fft, stats

__all__ = ["effective_sample_size", "split_rhat"]

ESS_METHODS = ("bulk", "tail", "mean")


def _as_chains(samples) -> tuple[np.ndarray, bool]:
    """(array (chains, draws, d), whether the input had a trailing component axis)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        return x[None, :, None], False
    if x.ndim == 2:
        return x[:, :, None], False
    if x.ndim == 3:
        return x, True
    raise ValueError(f"samples has shape {x.shape} which is not allowed: expected (draws,), (chains, draws) "
                     "or (chains, draws, d)")  # fmt: skip


def _split(x: np.ndarray) -> np.ndarray:
    """(chains, draws) -> (2 chains, draws // 2): first and last halves (the middle draw of an odd count is dropped)."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half :]], axis=0)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores of the average ranks of all values (Blom's offset 3/8)."""
    r = stats.rankdata(x, method="average").reshape(x.shape)
    return stats.norm.ppf((r - 0.375) / (x.size + 0.25))


def _rhat(x: np.ndarray) -> float:
    """Classic R-hat of (chains, draws)."""
    n = x.shape[1]
    between = n * np.var(x.mean(axis=1), ddof=1)
    within = np.mean(np.var(x, axis=1, ddof=1))
    with np.errstate(invalid="ignore", divide="ignore"):  # constant draws: nan, as ArviZ
        return float(np.sqrt((between / within + n - 1) / n))


def _autocov(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    m = fft.next_fast_len(2 * n)
    d = x - x.mean(axis=1, keepdims=True)
    f = np.fft.rfft(d, n=m, axis=1)
    f *= np.conjugate(f)
    return np.fft.irfft(f, n=m, axis=1)[:, :n] / n


def _ess(x: np.ndarray) -> float:
    """Multi-chain ESS of (chains, draws) with Geyer's initial monotone sequence."""
    if np.max(x) - np.min(x) < np.finfo(float).resolution:
        return float(x.size)
    m, n = x.shape
    acov = _autocov(x)
    mean_var = np.mean(acov[:, 0]) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus += np.var(x.mean(axis=1), ddof=1)
    rho = np.zeros(n)
    even, odd = 1.0, 1.0 - (mean_var - np.mean(acov[:, 1])) / var_plus
    rho[0], rho[1] = even, odd
    t = 1
    while t < n - 3 and even + odd > 0.0:  # initial positive sequence
        even = 1.0 - (mean_var - np.mean(acov[:, t + 1])) / var_plus
        odd = 1.0 - (mean_var - np.mean(acov[:, t + 2])) / var_plus
        if even + odd >= 0:
            rho[t + 1], rho[t + 2] = even, odd
        t += 2
    max_t = t - 2
    if even > 0:
        rho[max_t + 1] = even
    t = 1
    while t <= max_t - 2:  # initial monotone sequence
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2.0
        t += 2
    tau = -1.0 + 2.0 * np.sum(rho[: max_t + 1]) + np.sum(rho[max_t + 1 : max_t + 2])
    tau = max(tau, 1.0 / np.log10(x.size))
    return float(np.nan if np.isnan(rho).any() else x.size / tau)


def _ess_one(x: np.ndarray, method: str) -> float:
    if np.isnan(x).any() or x.shape[1] < 4:
        return float("nan")
    if method == "bulk":
        return _ess(_z_scale(_split(x)))
    if method == "mean":
        return _ess(_split(x))
    lo, hi = np.quantile(x, [0.05, 0.95])
    return min(_ess(_split((x <= lo).astype(float))), _ess(_split((x <= hi).astype(float))))


def _rhat_one(x: np.ndarray) -> float:
    if np.isnan(x).any() or x.shape[0] < 2 or x.shape[1] < 4:
        return float("nan")
    s = _split(x)
    return max(_rhat(_z_scale(s)), _rhat(_z_scale(np.abs(s - np.median(s)))))


def effective_sample_size(samples, method: str = "bulk"):
    r"""Effective sample size of MCMC draws over all chains (Vehtari et al. 2021, as ArviZ).

    The chains are split in halves (m chains of n draws, m twice the number
    of chains); for "bulk" the draws are replaced by the normal scores of
    their ranks over all chains, :math:`z = \Phi^{-1}((r - 3/8) / (m n + 1/4))`.
    With W the mean within-chain variance, B/n the variance of the chain
    means and :math:`\hat{var}^+ = (n-1) W / n + B / n`, the autocorrelation
    at lag t is :math:`\hat\rho_t = 1 - (W - \bar{C}_t) / \hat{var}^+`
    (:math:`\bar{C}_t` the mean autocovariance over chains) and

    .. math:: \mathrm{ESS} = \frac{m n}{\hat\tau}, \qquad
              \hat\tau = -1 + 2 \sum_{t=0}^{2k+1} \hat\rho_t

    with Geyer's initial positive and monotone sequences truncating the sum,
    and :math:`\hat\tau \ge 1 / \log_{10}(m n)`. Chains stuck in different
    places make B large, :math:`\hat\rho_t` close to 1 and the ESS small
    (not the sum of the per-chain values).

    Parameters
    ----------
    samples : array_like, shape (chains, draws), (chains, draws, d) or (draws,)
    method : {"bulk", "tail", "mean"}
        "bulk": rank-normalised split-chain ESS (location of the bulk);
        "tail": min of the ESS of the indicators :math:`x \le q_{0.05}` and
        :math:`x \le q_{0.95}`; "mean": split-chain ESS of the raw values.

    Returns
    -------
    float, or ndarray (d,) for 3D input
        ``nan`` with fewer than 4 draws or any NaN; the number of draws for a
        constant array (as ArviZ).

    References
    ----------
    .. [1] Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Buerkner, P.-C.
       (2021), Rank-normalization, folding, and localization: an improved R-hat
       for assessing convergence of MCMC, Bayesian Analysis 16(2), 667-718.
    .. [2] Geyer, C. J. (1992), Practical Markov chain Monte Carlo, Statistical
       Science 7(4), 473-483.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> iid = rng.normal(size=(4, 1000))
    >>> bool(3000 < effective_sample_size(iid) < 5000)
    True
    >>> stuck = iid * 0.01 + np.array([0.0, 5.0, 10.0, 15.0])[:, None]  # four chains, four places
    >>> bool(effective_sample_size(stuck) < 10)
    True
    """
    if method not in ESS_METHODS:
        raise ValueError(f"method = {method!r} is not allowed: expected one of {ESS_METHODS}")
    x, vector = _as_chains(samples)
    out = np.array([_ess_one(x[:, :, j], method) for j in range(x.shape[2])])
    return out if vector else float(out[0])


def split_rhat(samples):
    r"""Rank-normalised, folded split R-hat (Vehtari et al. 2021, as ``arviz.rhat``).

    With the chains split in halves (m chains of n draws), W the mean
    within-chain variance and B / n the variance of the chain means,

    .. math:: \hat R = \sqrt{\frac{(n - 1) W / n + B / n}{W}},

    computed on the normal scores of the ranks (bulk) and on those of the
    draws folded about the median, :math:`|x - \mathrm{median}(x)|` (tail);
    the larger of the two is returned.

    Parameters
    ----------
    samples : array_like, shape (chains, draws) or (chains, draws, d)

    Returns
    -------
    float, or ndarray (d,) for 3D input
        max(bulk R-hat, tail R-hat); ``nan`` with one chain, fewer than 4
        draws or any NaN. Values above 1.01 say the chains have not mixed.

    References
    ----------
    .. [1] Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Buerkner, P.-C.
       (2021), Rank-normalization, folding, and localization: an improved R-hat
       for assessing convergence of MCMC, Bayesian Analysis 16(2), 667-718.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> bool(split_rhat(rng.normal(size=(4, 1000))) < 1.01)
    True
    >>> shifted = rng.normal(size=(4, 1000)) + np.array([0.0, 0.0, 0.0, 1.0])[:, None]  # one chain apart
    >>> bool(split_rhat(shifted) > 1.05)
    True
    """
    x, vector = _as_chains(samples)
    out = np.array([_rhat_one(x[:, :, j]) for j in range(x.shape[2])])
    return out if vector else float(out[0])
