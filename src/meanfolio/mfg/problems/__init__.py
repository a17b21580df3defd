"""The discrete mean-field-game systems.

Residuals and Newton Jacobians of the 1D, 2D, second-order and ergodic
(stationary) problems, and the coarse-grid start of the ergodic solver.
"""
