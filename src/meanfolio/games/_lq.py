"""Finite-horizon linear-quadratic control: the engine behind every epsilon-Nash gap.

The deviation problem of a player in an N-player linear-quadratic game, when
the others play a fixed linear feedback, is itself a linear-quadratic
control problem: its state X stacks the player's own state and the mean of
the others (whose law the others' feedback fixes). One module solves it for
all the games, for a batch of K independent problems at once (one per
principal portfolio, say):

    dX = (A(t) X + B a + c(t)) dt + dM_t,        d<M>_t = N dt,
    J  = E[ int_0^T (1/2 a'R a + a'S X + 1/2 X'Q(t) X + q(t)'X + r(t)) dt
            + 1/2 X_T'G X_T + g'X_T ],

with X in R^n, a in R^p, X_0 ~ (x0, C0). Shapes carry the batch first:
A, Q (K, n, n), B (K, n, p), R (K, p, p), S (K, p, n), c, q (K, n), r (K,),
G (K, n, n), g (K, n), N (K, n, n). A, c, Q, q, r may be callables of t.

* :func:`optimal_cost` integrates the Riccati system of the optimal value
  V = 1/2 X'K X + k'X + k0 backward (M = B'K + S):

      -K' = A'K + K A + Q - M'R^-1 M,               K(T) = G
      -k' = (A - B R^-1 M)'k + K c + q,               k(T) = g
      -k0' = k'c - 1/2 k'B R^-1 B'k + 1/2 tr(K N) + r, k0(T) = 0,

  and J* = 1/2 x0'K(0) x0 + 1/2 tr(K(0) C0) + k(0)'x0 + k0(0); the optimal
  feedback is a* = -R^-1 (M X + B'k).
* :func:`feedback_cost` gives the cost of a given feedback a = -F(t) X + h(t)
  by the linear (Lyapunov) system of the same form with A - B F in place of A
  and the cost of a written into Q, q, r.

Both use ``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-11) in reversed time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

__all__ = ["LinearQuadratic", "feedback_cost", "optimal_cost", "optimal_feedback"]

Coefficient = np.ndarray | Callable[[float], np.ndarray]
_RTOL, _ATOL = 1e-11, 1e-13


@dataclass(frozen=True)
class LinearQuadratic:
    """A batch of K linear-quadratic control problems on [0, horizon] (see the module)."""

    horizon: float
    A: Coefficient
    B: np.ndarray
    R: np.ndarray
    Q: Coefficient
    q: Coefficient
    c: Coefficient
    noise: np.ndarray
    S: np.ndarray | None = None
    r: Coefficient | None = None
    G: np.ndarray | None = None
    g: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        """(K, n, p)."""
        return self.B.shape

    def at(self, name: str, t: float) -> np.ndarray:
        """The coefficient ``name`` at time t (zeros for the optional ones left out)."""
        K, n, p = self.shape
        value = getattr(self, name)
        if value is None:
            return np.zeros({"S": (K, p, n), "r": (K,), "G": (K, n, n), "g": (K, n)}[name])
        return value(t) if callable(value) else value


def _pack(*arrays: np.ndarray) -> np.ndarray:
    return np.concatenate([a.reshape(a.shape[0], -1) for a in arrays], axis=1).ravel()


def _unpack(y: np.ndarray, K: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = y.reshape(K, n * n + n + 1)
    return y[:, : n * n].reshape(K, n, n), y[:, n * n : n * n + n], y[:, -1]


def _tr(X: np.ndarray) -> np.ndarray:
    return np.einsum("kii->k", X)


def _mv(M: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.einsum("kij,kj->ki", M, v)


def _integrate(rhs, problem: LinearQuadratic, dense: bool = False):
    """Integrate d/ds (K, k, k0) = rhs(t = T - s, K, k) from s = 0 to T."""
    K, n, _ = problem.shape
    T = problem.horizon
    start = _pack(problem.at("G", T), problem.at("g", T), np.zeros((K, 1)))

    def f(s, y):
        Km, km, _ = _unpack(y, K, n)
        return _pack(*rhs(T - s, Km, km))

    sol = solve_ivp(f, (0.0, T), start, method="DOP853", rtol=_RTOL, atol=_ATOL, dense_output=dense)
    if not sol.success:  # pragma: no cover - smooth linear/Riccati systems on a finite horizon
        raise RuntimeError(f"the Riccati integration failed: {sol.message}")
    return sol


def _cost_at_start(y_end: np.ndarray, K: int, n: int, x0: np.ndarray, cov0: np.ndarray | None) -> np.ndarray:
    Km, km, k0 = _unpack(y_end, K, n)
    cost = 0.5 * np.einsum("ki,kij,kj->k", x0, Km, x0) + np.einsum("ki,ki->k", km, x0) + k0
    if cov0 is not None:
        cost = cost + 0.5 * np.einsum("kij,kji->k", Km, cov0)
    return cost


def _riccati_rhs(problem: LinearQuadratic):
    B, R = problem.B, problem.R
    Rinv = np.linalg.inv(R)
    BRB = B @ Rinv @ np.swapaxes(B, 1, 2)

    def rhs(t, Km, km):
        A, Q, q, c = (problem.at(name, t) for name in ("A", "Q", "q", "c"))
        M = np.swapaxes(B, 1, 2) @ Km + problem.at("S", t)
        dK = np.swapaxes(A, 1, 2) @ Km + Km @ A + Q - np.swapaxes(M, 1, 2) @ Rinv @ M
        closed = A - B @ Rinv @ M
        dk = _mv(np.swapaxes(closed, 1, 2), km) + _mv(Km, c) + q
        dk0 = (
            np.einsum("ki,ki->k", km, c)
            - 0.5 * np.einsum("ki,kij,kj->k", km, BRB, km)
            + 0.5 * np.einsum("kij,kji->k", Km, problem.noise)
            + problem.at("r", t)
        )
        return dK, dk, dk0[:, None]

    return rhs


def optimal_cost(problem: LinearQuadratic, x0: np.ndarray, cov0: np.ndarray | None = None) -> np.ndarray:
    """Optimal expected cost J* (K,) from X_0 ~ (x0 (K, n), cov0 (K, n, n))."""
    K, n, _ = problem.shape
    sol = _integrate(_riccati_rhs(problem), problem)
    return _cost_at_start(sol.y[:, -1], K, n, np.asarray(x0, float), cov0)


def optimal_feedback(problem: LinearQuadratic) -> Callable[[float], tuple[np.ndarray, np.ndarray]]:
    """The optimal feedback as ``t -> (F (K, p, n), h (K, p))`` with a* = -F X + h."""
    K, n, _ = problem.shape
    sol = _integrate(_riccati_rhs(problem), problem, dense=True)
    B, Rinv, T = problem.B, np.linalg.inv(problem.R), problem.horizon

    def gains(t: float):
        Km, km, _ = _unpack(sol.sol(T - t), K, n)
        F = Rinv @ (np.swapaxes(B, 1, 2) @ Km + problem.at("S", t))
        h = -_mv(Rinv @ np.swapaxes(B, 1, 2), km)
        return F, h

    return gains


def feedback_cost(
    problem: LinearQuadratic,
    feedback: Callable[[float], tuple[np.ndarray, np.ndarray]],
    x0: np.ndarray,
    cov0: np.ndarray | None = None,
) -> np.ndarray:
    """Expected cost (K,) of the feedback a = -F(t) X + h(t), ``feedback(t) -> (F, h)``."""
    K, n, _ = problem.shape
    B, R = problem.B, problem.R

    def rhs(t, W, w):
        A, Q, q, c = (problem.at(name, t) for name in ("A", "Q", "q", "c"))
        S = problem.at("S", t)
        F, h = feedback(t)
        Ft, St = np.swapaxes(F, 1, 2), np.swapaxes(S, 1, 2)
        closed = A - B @ F
        Qf = Q + Ft @ R @ F - St @ F - Ft @ S
        qf = q - _mv(Ft @ R, h) + _mv(St, h)
        drift = _mv(B, h) + c
        dW = np.swapaxes(closed, 1, 2) @ W + W @ closed + Qf
        dw = _mv(np.swapaxes(closed, 1, 2), w) + _mv(W, drift) + qf
        dw0 = (
            np.einsum("ki,ki->k", w, drift)
            + 0.5 * np.einsum("ki,kij,kj->k", h, R, h)
            + 0.5 * np.einsum("kij,kji->k", W, problem.noise)
            + problem.at("r", t)
        )
        return dW, dw, dw0[:, None]

    sol = _integrate(rhs, problem)
    return _cost_at_start(sol.y[:, -1], K, n, np.asarray(x0, float), cov0)
