"""Regime detection: Gaussian and Student-t hidden Markov models, Metropolis-Hastings, MCMC diagnostics."""

from .hmm import GaussianHMM
from .mcmc import MCMCResult, effective_sample_size, metropolis_hastings, split_rhat
from .student import StudentTHMM, select_hmm

__all__ = [
    "GaussianHMM",
    "MCMCResult",
    "StudentTHMM",
    "effective_sample_size",
    "metropolis_hastings",
    "select_hmm",
    "split_rhat",
]
