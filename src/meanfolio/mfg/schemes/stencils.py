"""Sparse centred-difference operators on the 1D or 2D node grid (for the second-order scheme).

Nodes are flattened as in ``Grid2D`` (node (j, i) has index ``j * nx + i``;
in 1D simply i). Per axis:

    G u_i = (u_{i+1} - u_{i-1}) / (2 dx)      (centred gradient)
    L u_i = -(u_{i+1} - 2 u_i + u_{i-1}) / dx^2

In the no-flux box the gradient row of an end node is 0 (mirror ghost node,
u_{-1} = u_1) and L is the first-order scheme's ``diffusion_operator``
(symmetric, zero row and column sums); periodic axes wrap. Rows of G sum to
zero, so any operator ``diag(c) G`` has zero row sums and its transpose
zero column sums: a Fokker-Planck equation written with ``G^T`` conserves
mass exactly.

All operators are stored on one common sparsity pattern (``rows``,
``cols``) so that a whole space-time family of them is a (levels, nnz)
array of values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..grid import Grid1D, Grid2D
from .hjb import diffusion_operator

__all__ = ["Stencil", "centred_gradient", "stencil"]


def centred_gradient(grid: Grid1D) -> sp.csr_matrix:
    """The centred gradient G of one axis as an (nx, nx) CSR matrix (see the module docstring)."""
    n, h = grid.nx, 0.5 / grid.dx
    i = np.arange(n)
    if grid.periodic:
        rows = np.r_[i, i]
        cols = np.r_[(i + 1) % n, (i - 1) % n]
        vals = np.r_[np.full(n, h), np.full(n, -h)]
    else:
        inner = i[1:-1]
        rows = np.r_[inner, inner]
        cols = np.r_[inner + 1, inner - 1]
        vals = np.r_[np.full(n - 2, h), np.full(n - 2, -h)]
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def _laplacian(grid: Grid1D) -> sp.csr_matrix:
    """L = -Lap_h of one axis (viscosity 1) as CSR, wrap-around entries included when periodic."""
    lo, di, up = diffusion_operator(grid, 1.0)
    n = grid.nx
    i = np.arange(n)
    rows = np.r_[i, i, i]
    cols = np.r_[(i - 1) % n, i, (i + 1) % n]
    mat = sp.csr_matrix((np.r_[lo, di, up], (rows, cols)), shape=(n, n))
    mat.eliminate_zeros()
    return mat


@dataclass(frozen=True)
class Stencil:
    """The centred operators on a common pattern.

    ``rows``, ``cols`` (nnz,): the pattern; ``laplacian`` (nnz,): L on it;
    ``gradients``: one (nnz,) array per axis (G_x, then G_y); ``matrices``:
    the same gradients as CSR (K, K), ``laplacian_matrix`` L as CSR; ``coordinates``: the node coordinate
    along each axis (K,). ``triples`` per axis (k, i, j, value): the entries
    ``G[k, i] G[k, j]`` of ``G^T diag(d) G`` (summed over k), the derivative
    of the Fokker-Planck transport with respect to u.
    """

    size: int
    rows: np.ndarray
    cols: np.ndarray
    laplacian: np.ndarray
    gradients: tuple[np.ndarray, ...]
    matrices: tuple[sp.csr_matrix, ...]
    laplacian_matrix: sp.csr_matrix
    coordinates: tuple[np.ndarray, ...]
    triples: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], ...]

    def assemble(self, values: np.ndarray, *, transpose: bool = False, identity: float = 0.0) -> sp.csc_matrix:
        """One operator with ``values`` (nnz,) on the pattern (transposed if asked) plus ``identity * I``."""
        r, c = (self.cols, self.rows) if transpose else (self.rows, self.cols)
        mat = sp.csc_matrix((values, (r, c)), shape=(self.size, self.size))
        return mat + identity * sp.identity(self.size, format="csc") if identity else mat

    def assemble_blocks(self, blocks, rows: int, cols: int) -> sp.csr_matrix:
        """A (rows x cols)-block matrix of K x K blocks from ``(block row, block column, values,
        transpose, identity)``: values (nnz,) on the pattern (transposed if asked), or a triple
        (rows, cols, values) of another pattern, or None; plus ``identity`` (scalar or (K,)) on the diagonal."""
        K = self.size
        r_all, c_all, v_all = [], [], []
        eye = np.arange(K)
        for br, bc, values, transpose, identity in blocks:
            if values is not None:
                r, c = (self.cols, self.rows) if transpose else (self.rows, self.cols)
                if isinstance(values, tuple):
                    r, c, values = values
                r_all.append(br * K + r)
                c_all.append(bc * K + c)
                v_all.append(values)
            if np.any(identity):
                r_all.append(br * K + eye)
                c_all.append(bc * K + eye)
                v_all.append(np.broadcast_to(identity, (K,)))
        r, c, v = (np.concatenate(a) for a in (r_all, c_all, v_all))
        return sp.csr_matrix((v, (r, c)), shape=(rows * K, cols * K))


def _triples(G: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All (k, i, j, G[k, i] G[k, j]) over pairs of non-zeros in the same row k."""
    G = G.tocsr()
    k_all, i_all, j_all, v_all = [], [], [], []
    counts = np.diff(G.indptr)
    for a in range(counts.max(initial=0)):
        for b in range(counts.max(initial=0)):
            rows = np.flatnonzero(counts > max(a, b))
            ia = G.indices[G.indptr[rows] + a]
            ib = G.indices[G.indptr[rows] + b]
            k_all.append(rows)
            i_all.append(ia)
            j_all.append(ib)
            v_all.append(G.data[G.indptr[rows] + a] * G.data[G.indptr[rows] + b])
    return tuple(np.concatenate(a) for a in (k_all, i_all, j_all, v_all))


def stencil(grid: Grid1D | Grid2D) -> Stencil:
    """The centred operators of a 1D or 2D grid."""
    if isinstance(grid, Grid2D):
        ix, iy = sp.identity(grid.gx.nx, format="csr"), sp.identity(grid.gy.nx, format="csr")
        grads = [
            sp.kron(iy, centred_gradient(grid.gx), format="csr"),
            sp.kron(centred_gradient(grid.gy), ix, format="csr"),
        ]
        lap = sp.kron(iy, _laplacian(grid.gx)) + sp.kron(_laplacian(grid.gy), ix)
        X, Y = grid.mesh()
        coords = (X.ravel(), Y.ravel())
    else:
        grads = [centred_gradient(grid)]
        lap = _laplacian(grid)
        coords = (grid.x,)
    lap = sp.csr_matrix(lap)
    pattern = abs(lap) + sum(abs(g) for g in grads)
    pattern = sp.coo_matrix(pattern)
    rows, cols = pattern.row.astype(np.int64), pattern.col.astype(np.int64)

    def on_pattern(mat: sp.csr_matrix) -> np.ndarray:
        return np.asarray(mat[rows, cols]).ravel()

    return Stencil(
        size=lap.shape[0],
        rows=rows,
        cols=cols,
        laplacian=on_pattern(lap),
        gradients=tuple(on_pattern(g) for g in grads),
        matrices=tuple(grads),
        laplacian_matrix=lap,
        coordinates=coords,
        triples=tuple(_triples(g) for g in grads),
    )
