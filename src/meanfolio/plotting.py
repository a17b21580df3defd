"""Plotting helpers shared by every capability (matplotlib, headless-safe)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)  # no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["heatmap", "new_figure", "save_figure"]


def new_figure(panels: int, *, columns: int | None = None, width: float = 4.2, height: float = 3.4):
    """Return ``(fig, axes)`` with ``panels`` panels, ``columns`` per row (default: one row).

    ``axes`` is always a flat list in reading order.
    """
    columns = panels if columns is None else columns
    rows = -(-panels // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    return fig, list(axes.ravel())


def heatmap(
    ax, values: np.ndarray, x: np.ndarray, t: np.ndarray, title: str, *, cmap: str = "viridis", ylabel: str = "t"
):
    """Draw ``values`` of shape (nt, nx) as an image with x across and t (or y) upward."""
    mesh = ax.pcolormesh(x, t, values, shading="auto", cmap=cmap)
    ax.set_xlabel("x")
    ax.set_ylabel(ylabel)
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
