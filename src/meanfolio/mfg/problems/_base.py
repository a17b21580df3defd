"""What every discrete MFG problem (1D, 2D, second order) gives Newton and the solver besides its
equations: reused work arrays, Newton's starting point and the point returned to the user.

The problem classes derive from :class:`ProblemBase`; the 1D problem overrides
:meth:`~ProblemBase.initial_point` and :meth:`~ProblemBase.finish` to compute the upwind
terms once.
"""

from __future__ import annotations

import sys

import numpy as np

#: most arrays kept by :meth:`ProblemBase._spare` (a 2000 x 1000 1D solve uses 29)
MAX_SPARES = 48


class ProblemBase:
    """Shared machinery of the problem classes (see the module docstring)."""

    def _spare(self, shape: tuple[int, ...]) -> np.ndarray:
        """An uninitialised array from a pool kept on the problem: one that nothing else refers to
        any more (a rejected line-search point, an earlier Newton step's operator, residuals or
        GMRES scratch), else a new one.

        Fresh memory costs a page fault per page touched (about 8% of a 2000 x 1000 solve), so
        the work arrays of one Newton step are reused by the next. An array still referred to
        (an operator tuple kept by a caller holds views of it) is never handed out again.
        """
        pool = self.__dict__.setdefault("_spares", [])
        for buf in pool:
            # references: the list, ``buf`` and getrefcount's argument (a view holds one more)
            if buf.shape == shape and sys.getrefcount(buf) <= 3:
                return buf
        buf = np.empty(shape)
        if len(pool) < MAX_SPARES:
            pool.append(buf)
        return buf

    def initial_point(self) -> tuple[np.ndarray, np.ndarray, object]:
        """Newton's start ``(u, m, terms)``: :meth:`initial_guess` (terms None: not known here)."""
        u, m = self.initial_guess()
        return u, m, None

    def finish(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """What the solver returns from Newton's last u: ``(u, m, alpha, residual)``.

        m is the exact discrete FP density of u's controls (mass to round-off, m >= 0), then
        u[-1] = g(m[-1]) (u is changed in place), alpha the controls at every level and
        residual the norm of the residuals of (u, m).
        """
        m = self.fokker_planck(u)
        u[-1] = self.terminal_cost(m[-1])
        return u, m, self.controls(u), self.residual_norm(u, m)
