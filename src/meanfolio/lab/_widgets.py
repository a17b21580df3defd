"""Helpers shared by the lab's pages: error display, stop button, plotly figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

#: errors shown to the user as a readable message (anything else is a bug and shows a traceback)
USER_ERRORS = (ValueError, FloatingPointError, KeyError, RuntimeError)


def guarded(action: Callable[[], Any], what: str) -> Any | None:
    """Run ``action``; on a user error show ``what failed: message`` and return None."""
    try:
        return action()
    except USER_ERRORS as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        st.error(f"{what} failed: {message}")
        return None


def stop_button(key: str) -> None:
    """A Stop button: clicking it during a run makes the run's next progress check stop it."""
    st.button("Stop", key=f"{key}_stop", on_click=lambda: st.session_state.__setitem__(f"{key}_stopped", True))


def run_controls(key: str, label: str, action: Callable[[], Any], what: str, hint: str) -> Any | None:
    """The page's run button (``key``_run) and Stop button; runs ``action`` when pressed.

    Returns the latest successful result (kept in the session as ``key``_result) or None,
    after showing ``hint`` when there is none yet.
    """
    b1, b2, _ = st.columns([1, 1, 8])
    if b1.button(label, type="primary", key=f"{key}_run"):
        clear_stop(key)
        result = guarded(action, what)
        if result is not None:
            st.session_state[f"{key}_result"] = result
    with b2:
        stop_button(key)
    result = st.session_state.get(f"{key}_result")
    if result is None:
        st.info(hint)
    return result


def stop_requested(key: str) -> bool:
    return bool(st.session_state.get(f"{key}_stopped", False))


def clear_stop(key: str) -> None:
    st.session_state[f"{key}_stopped"] = False


def chart(where, fig: go.Figure, key: str) -> None:
    """Show a plotly figure with its own colours (Streamlit's theme would replace the colour scales)."""
    where.plotly_chart(fig, key=key, theme=None)


def heatmap(z: np.ndarray, x: np.ndarray, y: np.ndarray, title: str, *, xlabel="x", ylabel="t",
            colorscale="Viridis") -> go.Figure:  # fmt: skip
    # Plain lists and an explicit range. Colour scales whose lowest stop is "#000004" (Magma,
    # Inferno) were drawn lavender at the minimum by Streamlit's plotly.js: the pages use Plasma.
    z = np.asarray(z, dtype=float)
    fig = go.Figure(go.Heatmap(z=z.tolist(), x=np.asarray(x).tolist(), y=np.asarray(y).tolist(),
                               colorscale=colorscale, zmin=float(z.min()), zmax=float(z.max())))  # fmt: skip
    fig.update_layout(title=title, xaxis_title=xlabel, yaxis_title=ylabel, height=360, margin=dict(t=40, b=40))
    return fig


def surface(z: np.ndarray, x: np.ndarray, y: np.ndarray, title: str, *, xlabel="x", ylabel="t") -> go.Figure:
    fig = go.Figure(go.Surface(z=np.asarray(z).tolist(), x=np.asarray(x).tolist(), y=np.asarray(y).tolist(),
                               colorscale="Viridis", showscale=False))  # fmt: skip
    fig.update_layout(title=title, height=420, margin=dict(t=40, b=10, l=10, r=10),
                      scene=dict(xaxis_title=xlabel, yaxis_title=ylabel))  # fmt: skip
    return fig


def lines(x, series: dict[str, np.ndarray], title: str, *, xlabel="", ylabel="", log_y=False) -> go.Figure:
    fig = go.Figure([go.Scatter(x=x, y=v, mode="lines", name=k) for k, v in series.items()])
    fig.update_layout(title=title, xaxis_title=xlabel, yaxis_title=ylabel, height=340, margin=dict(t=40, b=40))
    if log_y:
        fig.update_yaxes(type="log")
    return fig
