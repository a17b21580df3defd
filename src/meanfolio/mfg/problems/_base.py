"""What every discrete MFG problem (1D, 2D, second order) gives Newton and the solver besides its
equations: reused work arrays, the thread count, Newton's starting point and the point returned to
the user.

The problem classes derive from :class:`ProblemBase`; the 1D problem overrides
:meth:`~ProblemBase.initial_point` and :meth:`~ProblemBase.finish` to compute the upwind
terms once.
"""

from __future__ import annotations

import sys

import numpy as np

from meanfolio._parallel import free_threads

#: most arrays kept by :meth:`ProblemBase._spare` (a 2000 x 1000 1D solve uses 29)
MAX_SPARES = 48


class ProblemBase:
    """Shared machinery of the problem classes (see the module docstring)."""

    #: numba threads of the problem's parallel kernels (:meth:`threads`)
    _thread_count: int | None = None

    @property
    def parallel_work(self) -> int | None:
        """Units of work of one parallel kernel (steps x nodes), for :func:`free_threads`."""
        return None

    def threads(self, renew: bool = False) -> int:
        """Numba threads of the parallel kernels (level by level: upwind terms, residuals, Newton's
        operator and products; the sweeps in time stay serial): :func:`meanfolio._parallel.free_threads`,
        chosen at the first call and again with ``renew`` (once per Newton step, by the problem's
        ``newton_operator``)."""
        if renew or self._thread_count is None:
            self._thread_count = free_threads(self.parallel_work)
        return self._thread_count

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
