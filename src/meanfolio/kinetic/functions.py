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
    r"""The value function U of the fundamentalist estimate: prospect theory or the identity.

    With ``value_function="prospect"`` and :math:`d = z - \gamma`,

    .. math::

        U_\gamma(z) = \begin{cases} d^{\alpha} & d \ge 0 \\ -\lambda\, (-d)^{\alpha} & d < 0 \end{cases}
        \; - U_0, \qquad U_\gamma(0) = 0,

    (Kahneman-Tversky with :math:`\alpha` = ``u_alpha``, :math:`\lambda` = ``u_lambda``,
    :math:`\gamma` = ``u_gamma``); otherwise :math:`U(z) = z`.

    Parameters
    ----------
    z : array_like
        Relative mispricing :math:`c (s_f - S)/S` (dimensionless).
    params : KineticParams
        The model.

    Returns
    -------
    ndarray
        U(z), same shape as z.

    References
    ----------
    .. [1] D. Kahneman, A. Tversky, "Prospect theory: an analysis of decision
       under risk", Econometrica 47 (1979).

    Examples
    --------
    >>> from meanfolio.kinetic import KineticParams, value_function
    >>> value_function([-0.1, 0.0, 0.1], KineticParams(value_function="prospect")).round(4)
    array([-0.2966,  0.    ,  0.1318])
    """
    z = np.ascontiguousarray(z, dtype=np.float64)
    P, C = _pack(params)
    out = np.empty(z.size)
    kern.values_on(P, C, z.ravel(), out)
    return out.reshape(z.shape)


def weight_function(g_f, g_c, params: KineticParams) -> np.ndarray:
    r"""The weight W of the fundamentalist estimate against the chartist one, in [0, 1].

    With ``weight="tanh"``,
    :math:`W(g_f, g_c) = \tfrac12 \big(1 + \tanh(\beta a (g_f - g_c))\big)`
    (:math:`\beta` = ``beta`` the trust coefficient, a = ``weight_scale``);
    ``"heaviside"`` is its :math:`\beta \to \infty` limit, and the pure types give 1 or 0.

    Parameters
    ----------
    g_f, g_c : array_like
        Fundamentalist and chartist return estimates (1/time), broadcast together.
    params : KineticParams
        The model.

    Returns
    -------
    ndarray
        W, of the broadcast shape.

    Examples
    --------
    >>> from meanfolio.kinetic import KineticParams, weight_function
    >>> weight_function([0.1, -0.1], 0.0, KineticParams(beta=5.0)).round(4)
    array([0.7311, 0.2689])
    """
    gf, gc = np.broadcast_arrays(np.asarray(g_f, dtype=np.float64), np.asarray(g_c, dtype=np.float64))
    P, C = _pack(params)
    out = np.empty(gf.size)
    kern.weights_on(P, C, np.ascontiguousarray(gf).ravel(), np.ascontiguousarray(gc).ravel(), out)
    return out.reshape(gf.shape)


def return_estimate(params: KineticParams, S: float, R: float, s_f: float) -> tuple[float, float]:
    r"""The agents' return estimate g and its weight W at a market state.

    .. math::

        g_f = U\big(c (s_f - S)/S\big) + D/S - r, \qquad g_c = R + D_c/S - r, \qquad
        g = W g_f + (1 - W) g_c .

    Parameters
    ----------
    params : KineticParams
        The model.
    S : float
        Price.
    R : float
        Chartist signal (realised return rate).
    s_f : float
        Fundamental price.

    Returns
    -------
    g : float
        The return estimate (1/time).
    W : float
        The weight of the fundamentalist estimate.
    """
    P, C = _pack(params)
    g, W = kern.estimate(P, C, float(S), float(R), float(s_f))
    return float(g), float(W)


def plot_functions(path=None):
    """The paper's Figure 2: :math:`U_\\gamma` for two reference points and the identity; W for several beta.

    Parameters
    ----------
    path : str or Path, optional
        Where to save the figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
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
