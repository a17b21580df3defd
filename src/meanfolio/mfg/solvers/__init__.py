"""Solvers of the discrete systems.

Globalised Newton with GMRES on the Newton system, the iterative methods
(fixed point, fictitious play, policy iteration), continuation, and the
smoothing of kinked Hamiltonians with its continuation to zero.
"""
