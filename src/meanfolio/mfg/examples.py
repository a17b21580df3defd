"""Ready-made games used by the demo, the benchmarks and the docs."""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import MFGConfig
from .lq import LQReference


def seed_example(m0: np.ndarray | None = None) -> dict[str, Any]:
    r"""The seed document's example: a 200 x 100 grid on [-5, 5], :math:`\nu = 0.1`, running cost :math:`x^2/2`.

    Parameters
    ----------
    m0 : ndarray, shape (200,), optional
        Initial density (default: the standard Gaussian).

    Returns
    -------
    dict
        The keyword arguments of :func:`~meanfolio.mfg.solve_mfg`: ``config``, ``m0``, ``f`` (shape (100, 200)).

    Examples
    --------
    >>> from meanfolio.mfg.examples import seed_example
    >>> game = seed_example()
    >>> game["config"].nx, game["f"].shape
    (200, (100, 200))
    """
    config = MFGConfig(
        nx=200, nt=100, x_min=-5, x_max=5, time_horizon=1.0, viscosity=0.1,
        tolerance=1e-6, max_iterations=500, relaxation=0.5,
    )  # fmt: skip
    x = np.linspace(-5, 5, 200)
    if m0 is None:
        m0 = np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi)
    return {"config": config, "m0": m0, "f": np.tile(0.5 * x**2, (100, 1))}


def lq_example(nx: int, nt: int, reference: LQReference | None = None, **config: Any) -> dict[str, Any]:
    """The LQ game of the user guide on [-2.5, 4], as keyword arguments of :func:`~meanfolio.mfg.solve_mfg`.

    Parameters
    ----------
    nx, nt : int
        Grid points in x and t.
    reference : LQReference, optional
        The game (default ``LQReference()``); its exact solution is the reference.
    **config
        Further :class:`MFGConfig` settings (tolerance defaults to 1e-9).

    Returns
    -------
    dict
        ``config``, ``m0``, ``f`` and ``terminal``.
    """
    ref = LQReference() if reference is None else reference
    cfg = MFGConfig(
        nx=nx,
        nt=nt,
        x_min=-2.5,
        x_max=4.0,
        time_horizon=ref.T,
        viscosity=ref.nu,
        **{"tolerance": 1e-9, **config},
    )
    x = np.linspace(-2.5, 4.0, nx)
    return {"config": cfg, "m0": ref.m0(x), "f": ref.coupling(), "terminal": ref.terminal(x)}
