"""Phase plots of sweeps: a metric against one parameter (mean +- std over seeds) or two (heatmap)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from meanfolio.plotting import heatmap, new_figure, save_figure

__all__ = ["phase_plot"]


def phase_plot(frame, x: str, metric: str, *, y: str | None = None, path: str | Path | None = None, title=""):
    """Phase plot of a sweep: the mean of ``metric`` over seeds against a parameter (two: a heatmap).

    Parameters
    ----------
    frame : polars.DataFrame
        Points of :func:`load_sweep`.
    x : str
        Parameter on the horizontal axis.
    metric : str
        Metric to average over seeds (with its standard deviation as error bars in 1D).
    y : str, optional
        Second parameter: a heatmap of the mean over (x, y).
    path : str or Path, optional
        Where to save the figure.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If a column is not in the frame.
    """
    import polars as pl

    for col in (x, metric, *([y] if y else [])):
        if col not in frame.columns:
            raise ValueError(f"{col!r} is not a column of the sweep: expected one of {frame.columns}")
    keys = [x] if y is None else [y, x]
    agg = frame.group_by(keys).agg(pl.col(metric).mean().alias("mean"), pl.col(metric).std().alias("std"),
                                   pl.len().alias("n")).sort(keys)  # fmt: skip
    if y is None:
        fig, (ax,) = new_figure(1, width=6.0)
        std = agg["std"].fill_null(0.0).to_numpy()
        ax.errorbar(agg[x].to_numpy(), agg["mean"].to_numpy(), yerr=std, marker="o", capsize=3)
        ax.set_xlabel(x)
        ax.set_ylabel(f"{metric} (mean +- std over seeds)")
        ax.set_title(title or f"{metric} vs {x}")
    else:
        xs = np.unique(agg[x].to_numpy())
        ys = np.unique(agg[y].to_numpy())
        Z = np.full((ys.size, xs.size), np.nan)
        for row in agg.iter_rows(named=True):
            Z[np.searchsorted(ys, row[y]), np.searchsorted(xs, row[x])] = row["mean"]
        fig, (ax,) = new_figure(1, width=6.0)
        heatmap(ax, Z, xs, ys, title or f"{metric} over ({x}, {y})", ylabel=y)
        ax.set_xlabel(x)
    if path is not None:
        save_figure(fig, path)
    return fig
