"""Value functions U and weight functions W of the return estimate (spec section 1).

Vectorised wrappers over the kernels' scalar functions, so that plots and
tests see exactly what the simulation uses. :func:`plot_functions` draws the
paper's Figure 2.
"""

from __future__ import annotations

import numpy as np

from . import _kernels as kern
from .params import KineticParams
from .simulate import _pack

__all__ = ["plot_functions", "return_estimate", "value_function", "weight_function"]


def value_function(z, params: KineticParams) -> np.ndarray:
    """U(z): prospect-theory U_gamma (with U_gamma(0) = 0) or the identity."""
    z = np.ascontiguousarray(z, dtype=np.float64)
    P, C = _pack(params)
    out = np.empty(z.size)
    kern.values_on(P, C, z.ravel(), out)
    return out.reshape(z.shape)


def weight_function(g_f, g_c, params: KineticParams) -> np.ndarray:
    """W(g_f, g_c) in [0, 1] (tanh trust coefficient, Heaviside, or pure types)."""
    gf, gc = np.broadcast_arrays(np.asarray(g_f, dtype=np.float64), np.asarray(g_c, dtype=np.float64))
    P, C = _pack(params)
    out = np.empty(gf.size)
    kern.weights_on(P, C, np.ascontiguousarray(gf).ravel(), np.ascontiguousarray(gc).ravel(), out)
    return out.reshape(gf.shape)


def return_estimate(params: KineticParams, S: float, R: float, s_f: float) -> tuple[float, float]:
    """(g, W) at price S, chartist signal R and fundamental s_f."""
    P, C = _pack(params)
    g, W = kern.estimate(P, C, float(S), float(R), float(s_f))
    return float(g), float(W)


def plot_functions(path=None):
    """Figure 2: U_gamma for two reference points and the identity; W for several beta."""
    from meanfolio.plotting import new_figure, save_figure

    fig, (ax_u, ax_w) = new_figure(2)
    z = np.linspace(-1.0, 1.0, 401)
    for gamma in (0.0, 0.2):
        p = KineticParams(value_function="prospect", u_gamma=gamma)
        ax_u.plot(z, value_function(z, p), label=f"U_gamma, gamma = {gamma:g}")
    ax_u.plot(z, value_function(z, KineticParams(value_function="identity")), "k--", label="identity")
    ax_u.set_xlabel("z")
    ax_u.set_title("value functions")
    ax_u.legend()
    d = np.linspace(-0.5, 0.5, 401)
    for beta in (-1.0, 0.2, 1.0, 5.0):
        ax_w.plot(d, weight_function(d, 0.0, KineticParams(beta=beta)), label=f"tanh, beta = {beta:g}")
    ax_w.plot(d, weight_function(d, 0.0, KineticParams(weight="heaviside")), "k--", label="Heaviside")
    ax_w.set_xlabel("g_f - g_c")
    ax_w.set_title("weight W(g_f, g_c)")
    ax_w.legend()
    if path is not None:
        save_figure(fig, path)
    return fig
