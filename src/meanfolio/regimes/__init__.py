"""Regime detection: Gaussian hidden Markov models and Metropolis-Hastings sampling."""

from .hmm import GaussianHMM
from .mcmc import MCMCResult, effective_sample_size, metropolis_hastings, split_rhat

__all__ = ["GaussianHMM", "MCMCResult", "effective_sample_size", "metropolis_hastings", "split_rhat"]
