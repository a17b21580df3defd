"""Plotting helpers shared by every capability (matplotlib, headless-safe)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)  # no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["heatmap", "new_figure", "save_figure"]


def new_figure(ncols: int, *, width: float = 4.2, height: float = 3.4):
    """Return ``(fig, axes)`` with ``ncols`` panels side by side (axes always a list)."""
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, list(axes[0])


def heatmap(ax, values: np.ndarray, x: np.ndarray, t: np.ndarray, title: str, *, cmap: str = "viridis"):
    """Draw ``values`` of shape (nt, nx) as an image with x across and t upward."""
    mesh = ax.pcolormesh(x, t, values, shading="auto", cmap=cmap)
    ax.set_xlabel("x")
    ax.set_ylabel("t")
    ax.set_title(title)
    ax.figure.colorbar(mesh, ax=ax)
    return mesh


def save_figure(fig, path: str | Path, *, dpi: int = 120) -> Path:
    """Save ``fig`` to ``path`` (parent folders created) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
