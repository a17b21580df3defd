"""Helpers shared by the lab's pages: error display, bounded inputs, estimates, the Stop button, plotly figures.

Stop: clicking it while a run is going makes Streamlit interrupt the run at its next progress update (the
run's frames, and with them its arrays, are released) and forgets the page's previous result, so no stale
result is shown after a Stop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

#: errors shown to the user as a readable message (anything else is a bug and shows a traceback)
USER_ERRORS = (ValueError, FloatingPointError, KeyError, RuntimeError, MemoryError)


def size_text(nbytes: float) -> str:
    """'1.2 GB' from a number of bytes."""
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.3g} {unit}"
        nbytes /= 1024
    return f"{nbytes:.3g} GB"  # pragma: no cover


def time_text(seconds: float) -> str:
    """'0.5 s', '12 s', '3 min' from seconds."""
    return f"{seconds:.2g} s" if seconds < 60 else f"{seconds / 60:.2g} min"


def number(where, label: str, value, low, high, step, key: str, **kwargs):
    """A number input bounded to [low, high] (Streamlit refuses values outside them); the help says the range.
    A value kept from before that the bounds now exclude (e.g. 1D space points after switching to 2D) is
    brought into the range instead of failing."""
    kwargs.setdefault("help", f"from {low:g} to {high:g}")
    if key in st.session_state and not low <= st.session_state[key] <= high:
        st.session_state[key] = min(max(st.session_state[key], low), high)
    return where.number_input(label, min_value=low, max_value=high, value=value, step=step, key=key, **kwargs)


def guarded(action: Callable[[], Any], what: str) -> Any | None:
    """Run ``action``; on a user error show ``what failed: message`` and return None."""
    try:
        return action()
    except USER_ERRORS as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        st.error(f"{what} failed: {message}")
        return None


def release_memory() -> None:
    """Collect the interrupted run's objects and hand freed heap pages back to the system (glibc keeps them
    otherwise: the server would stay hundreds of MB larger after a Stop)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _stop(key: str) -> None:
    import threading

    st.session_state[f"{key}_stopped"] = True
    st.session_state.pop(f"{key}_result", None)  # no stale result after a Stop
    release_memory()
    for delay in (1.0, 3.0):  # the interrupted run finishes unwinding after this callback: release again
        timer = threading.Timer(delay, release_memory)
        timer.daemon = True
        timer.start()


def stop_button(key: str) -> None:
    """A Stop button: a run in progress is interrupted at its next progress update and the previous result
    is forgotten."""
    st.button("Stop", key=f"{key}_stop", on_click=_stop, args=(key,))


def run_controls(key: str, label: str, action: Callable[[], Any], what: str, hint: str,
                 estimate: str | None = None) -> Any | None:  # fmt: skip
    """The page's run button (``key``_run), Stop button and the run's estimate (memory and time, shown before
    running); runs ``action`` when pressed.

    Returns the latest successful result (kept in the session as ``key``_result) or None,
    after showing ``hint`` when there is none yet.
    """
    b1, b2, b3 = st.columns([1, 1, 8])
    if estimate:
        b3.caption(f"estimate: {estimate}")
    if b1.button(label, type="primary", key=f"{key}_run"):
        clear_stop(key)
        try:
            result = guarded(action, what)
        except BaseException as exc:  # a Stop (Streamlit interrupts the run) or a bug: free the run's arrays now
            exc = exc.with_traceback(None)  # the traceback holds the run's frames and their arrays
            release_memory()
            raise exc
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
