"""Discretisations of the HJB and Fokker-Planck equations.

The monotone upwind scheme (1D and 2D compiled kernels, level-by-level marches),
the second-order stencils, and the one-sided differences the couplings use.
"""
