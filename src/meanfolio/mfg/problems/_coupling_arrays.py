"""The couplings' parts of Newton's operator as the compiled kernels read them (private; shared by
the 1D and 2D problems): the Jacobian of f packed into arrays, the gradient of a mean drift, which
terms of a sum depend on nothing (f(t, x)), and whether the coupling is only low-rank."""

from __future__ import annotations

import numpy as np

from ..couplings import Coupling, CouplingJacobian, CouplingState, CouplingSum
from ..couplings.base import all_zero
from ..hamiltonians import UpwindTerms

#: most rank-one terms per level for which the 1D GMRES on the moments (``_gmres_lowrank``) is used
LOWRANK_COLUMNS = 8


def mean_drift_gradient(terms: UpwindTerms, m: np.ndarray) -> np.ndarray:
    """Gradient with respect to u of ``dx * sum(drift * m)`` along the last axis (same shape as m).

    drift_i = -(H_p(a_i^+) + H_p(b_i^-)) with a = D- u, b = D+ u; the 1/dx of
    the differences cancels the dx of the sum (see ``couplings.MarketImpact``).
    """
    P = terms.dleft * m
    Q = terms.dright * m
    return -(P - np.roll(P, -1, axis=-1) + np.roll(Q, 1, axis=-1) - Q)


def lowrank_only(ops: tuple) -> bool:
    """Whether Newton's operator couples only through low-rank terms (``_gmres_lowrank``): no
    local term in f or g, no low-rank term in g, and a few columns per level."""
    cdiag, CM, CU, gdiag, gC = ops[8], ops[9], ops[11], ops[13], ops[14]
    K = CM.shape[1] + CU.shape[1]
    return cdiag.shape[1] == 0 and gC.shape[0] == 0 and 0 < K <= LOWRANK_COLUMNS and not gdiag.any()


def stack_jacobian(
    jac: CouplingJacobian,
    scale: float,
    N: int,
    nx: int,
    local_or_empty: bool = False,
    shared_rows: bool = False,
    spare=np.empty,
):
    """Pack a CouplingJacobian into C-contiguous arrays: diag (N, nx), C/W (N, K, nx); with
    ``local_or_empty``, diag (N, 0) when it is all zero; with ``shared_rows``, W of shape
    (1, K, nx) when every w is the same at all levels (a broadcast view, e.g. ``MeanTracking``'s
    x dx): the 1D kernels then read one row instead of N (a pass over memory less per product).
    The scaled C is written into ``spare(shape)`` (e.g. the problem's pool: no fresh memory)."""

    def pack(pairs):
        if not pairs:
            z = np.zeros((N, 0, nx))
            return z, z.copy()
        ws = [w for _, w in pairs]
        if shared_rows and all(w.ndim == 2 and w.shape[0] == N and w.strides[0] == 0 for w in ws):
            W = np.ascontiguousarray(np.stack([w[0] for w in ws]), dtype=np.float64).reshape(1, len(ws), nx)
        elif len(pairs) == 1:  # no stacking copy
            W = np.ascontiguousarray(ws[0], dtype=np.float64).reshape(N, 1, nx)
        else:
            W = np.ascontiguousarray(np.stack(ws, axis=1))
        C = spare((N, len(pairs), nx))
        for k, (c, _) in enumerate(pairs):
            np.multiply(c, scale, out=C[:, k, :])
        return C, W

    CM, WM = pack(jac.dm_lowrank)
    CU, WU = pack(jac.du_lowrank)
    if local_or_empty and all_zero(jac.dm_diag):  # no local term: (N, 0), which the 1D kernels skip
        return np.zeros((N, 0)), CM, WM, CU, WU
    return np.ascontiguousarray(scale * jac.dm_diag), CM, WM, CU, WU


def split_static(coupling: Coupling) -> tuple[tuple[Coupling, ...], tuple[Coupling, ...]]:
    """The terms of a sum that depend neither on m nor on controls (f(t, x)), and the others."""
    terms = coupling.terms if isinstance(coupling, CouplingSum) else (coupling,)
    static = tuple(t for t in terms if not t.depends_on_m and not t.uses_control)
    return static, tuple(t for t in terms if t.depends_on_m or t.uses_control)


def sum_values(terms: tuple[Coupling, ...], state: CouplingState, extra) -> np.ndarray:
    """The sum of the terms' values in their order, plus ``extra`` last, as a new array."""
    values = [t.value(state) for t in terms]
    out = values[0] + (values[1] if len(values) > 1 else extra)
    for v in values[2:]:
        out += v
    if len(values) > 1:
        out += extra
    return out
