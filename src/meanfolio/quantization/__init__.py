"""Optimal quantization: the optimal N(0, 1) grids (Lloyd, Newton), Lloyd and CLVQ on samples."""

from .gaussian import Quantizer, gaussian_distortion, lloyd_gaussian, optimal_gaussian_grid
from .samples import clvq, lloyd_samples

__all__ = ["Quantizer", "clvq", "gaussian_distortion", "lloyd_gaussian", "lloyd_samples", "optimal_gaussian_grid"]
