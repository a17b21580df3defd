"""The ergodic solver's Schur complement against the bordered LU it replaced."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from meanfolio.mfg import Congestion, LogDensity, MeanTracking, MFGConfig, RunningCost, solve_ergodic_mfg
from meanfolio.mfg.problems import ergodic


def _config(dim, n):
    return MFGConfig(nx=n, dim=dim, x_min=-3, x_max=3, viscosity=0.3, tolerance=1e-10, max_iterations=40)


def _cost(dim, local):
    if dim == 1:
        return RunningCost(lambda t, x: 0.5 * (x - 0.5) ** 2) + MeanTracking(0.5) + local
    return RunningCost(lambda t, x, y: 0.5 * ((x - 0.5) ** 2 + y**2)) + MeanTracking(0.5) + local


class BorderedLU:
    """The previous linear algebra: the whole bordered Jacobian in one sparse LU, every step."""

    factorisations = 0

    def solve(self, S, P, Q, rhs, rtol):
        J = sp.csc_matrix(S + sp.csr_matrix(P) @ sp.csr_matrix(Q.T))
        self.factorisations += 1
        return spla.splu(J).solve(rhs)


def _point(dim, n, local):
    """A generic point near the solution and its linearisation S + P Q^T."""
    config = _config(dim, n)
    system = ergodic._Stationary(config, _cost(dim, local), None)
    sol = solve_ergodic_mfg(config, _cost(dim, local))
    rng = np.random.default_rng(1)
    u = sol.u.ravel() + 0.01 * rng.standard_normal(system.K)
    m = sol.m.ravel() * (1 + 0.05 * rng.random(system.K))
    R, terms, G = system.residual(u, m, sol.lam, system.coupling)
    return system, R, system.linearisation(u, m, terms, G, system.coupling)


@pytest.mark.parametrize("dim, n", [(1, 60), (2, 14)])
def test_the_split_is_the_bordered_jacobian(dim, n):
    # J = S + P Q^T entry by entry, with the border rank 5 + 2 r (r = dim moments)
    system, R, (S, P, Q) = _point(dim, n, Congestion(1.0))
    K = system.K
    J = (S + sp.csr_matrix(P) @ sp.csr_matrix(Q.T)).toarray()
    r = dim
    assert J.shape == (2 * K + 1 + r,) * 2 and P.shape[1] == 5 + 2 * r
    np.testing.assert_array_equal(J[:K, 2 * K], 1.0)  # lambda column
    np.testing.assert_allclose(J[2 * K - 1, K : 2 * K], system.cell)  # mass row
    np.testing.assert_allclose(J[2 * K, :K], system.cell)  # normalisation row
    assert np.count_nonzero(J[2 * K - 1]) == K and np.count_nonzero(J[2 * K]) == K
    # the Schur solve is the LU solve of the whole matrix
    rhs = np.concatenate((-R, np.zeros(r)))
    x = ergodic._Schur(S, P, Q).solve(rhs)
    np.testing.assert_allclose(x, np.linalg.solve(J, rhs), rtol=0, atol=1e-9 * np.abs(x).max())


def test_schur_factors_far_fewer_nonzeros():
    system, _, (S, P, Q) = _point(2, 30, LogDensity(0.5))
    schur = ergodic._Schur(S, P, Q)
    J = sp.csc_matrix(S + sp.csr_matrix(P) @ sp.csr_matrix(Q.T))
    full = spla.splu(J)
    assert schur.nnz < 0.7 * (full.L.nnz + full.U.nnz), (schur.nnz, full.L.nnz + full.U.nnz)


@pytest.mark.parametrize("dim, n", [(1, 120), (2, 24)])
@pytest.mark.parametrize("local", [Congestion(1.0), LogDensity(0.5)], ids=["congestion", "log"])
def test_same_solution_as_the_bordered_lu(monkeypatch, dim, n, local):
    config, f = _config(dim, n), _cost(dim, local)
    new = solve_ergodic_mfg(config, f)
    monkeypatch.setattr(ergodic, "_Lagged", BorderedLU)
    old = solve_ergodic_mfg(config, f)
    assert new.converged and old.converged
    assert new.residual < 1e-10 and new.mass_error < 1e-12 and new.m.min() > 0
    assert abs(new.lam - old.lam) < 1e-10
    np.testing.assert_allclose(new.m, old.m, rtol=0, atol=1e-10)
    # (on finer grids with LogDensity, m drops below the log floor in the corners; there f moves
    # by 1e-8 for a round-off change of m, and u is only determined to about 1e-8 by either solver)
    np.testing.assert_allclose(new.u, old.u, rtol=0, atol=1e-10)


def test_factorisations_are_kept_across_newton_steps(monkeypatch):
    counts = []
    real = ergodic._Lagged

    class Counting(real):
        def __init__(self):
            super().__init__()
            counts.append(self)

    monkeypatch.setattr(ergodic, "_Lagged", Counting)
    sol = solve_ergodic_mfg(_config(2, 30), _cost(2, Congestion(1.0)))
    assert sol.converged
    newton = counts[0]  # created first, used by Newton
    assert newton.factorisations < sol.iterations, (newton.factorisations, sol.iterations)
