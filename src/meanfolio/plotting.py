"""Plotting helpers shared by every capability (matplotlib, headless-safe)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)  # no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["heatmap", "new_figure", "save_figure"]


def new_figure(panels: int, *, columns: int | None = None, width: float = 4.2, height: float = 3.4):
    """A matplotlib figure with ``panels`` panels, ``columns`` per row.

    Parameters
    ----------
    panels : int
        Number of axes.
    columns : int, optional
        Panels per row (default: all in one row).
    width, height : float, default 4.2, 3.4
        Size of one panel, in inches.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : list of matplotlib.axes.Axes
        Always a flat list, in reading order.

    Examples
    --------
    >>> from meanfolio.plotting import new_figure
    >>> fig, axes = new_figure(3, columns=2)
    >>> len(axes), fig.get_size_inches().round(1).tolist()
    (4, [8.4, 6.8])
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)
    """
    columns = panels if columns is None else columns
    rows = -(-panels // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    return fig, list(axes.ravel())


def heatmap(
    ax, values: np.ndarray, x: np.ndarray, t: np.ndarray, title: str, *, cmap: str = "viridis", ylabel: str = "t"
):
    """Draw a field on a grid as an image with x across and t (or y) upward, with a colour bar.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    values : ndarray, shape (nt, nx)
        The field.
    x : ndarray, shape (nx,)
        Horizontal coordinates.
    t : ndarray, shape (nt,)
        Vertical coordinates.
    title : str
        Axes title.
    cmap : str, default "viridis"
        Colour map.
    ylabel : str, default "t"
        Vertical axis label.

    Returns
    -------
    matplotlib.collections.QuadMesh
    """
    mesh = ax.pcolormesh(x, t, values, shading="auto", cmap=cmap)
    ax.set_xlabel("x")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.figure.colorbar(mesh, ax=ax)
    return mesh


def save_figure(fig, path: str | Path, *, dpi: int = 120) -> Path:
    """Save a figure (parent folders created) and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (laid out tightly first).
    path : str or Path
        Target file; the format follows the suffix.
    dpi : int, default 120
        Resolution of raster formats.

    Returns
    -------
    Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
