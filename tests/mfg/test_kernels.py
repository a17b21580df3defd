"""Compiled kernels against dense linear algebra (numpy/scipy as oracles)."""

import numpy as np
import pytest
from scipy.sparse.linalg import gmres as scipy_gmres

from meanfolio.mfg.schemes import _kernels
from meanfolio.mfg.solvers import _newton_kernels

from .conftest import dense_operator as _dense_operator
from .conftest import grid_of, lq_config


def _dense(lo, di, up):
    n = di.size
    A = np.diag(di) + np.diag(lo[1:], -1) + np.diag(up[:-1], 1)
    A[0, n - 1] += lo[0]
    A[n - 1, 0] += up[n - 1]
    return A


@pytest.mark.parametrize("cyclic", [False, True])
@pytest.mark.parametrize("n", [3, 4, 17])
def test_tridiagonal_solve_matches_dense(n, cyclic):
    rng = np.random.default_rng(n)
    lo, up = -rng.uniform(0, 1, n), -rng.uniform(0, 1, n)
    if not cyclic:
        lo[0] = up[-1] = 0.0
    di = 1.0 + np.abs(lo) + np.abs(up) + rng.uniform(0, 1, n)
    rhs = rng.normal(size=n)
    out = np.empty(n)
    _kernels.solve_tridiagonal(lo, di, up, rhs, out, np.empty(3 * n))
    np.testing.assert_allclose(out, np.linalg.solve(_dense(lo, di, up), rhs), rtol=1e-12, atol=1e-12)
    y = np.empty(n)
    _kernels.tridiagonal_matvec(lo, di, up, out, y)
    np.testing.assert_allclose(y, rhs, atol=1e-12)


def test_sweeps_solve_block_bidiagonal_systems():
    rng = np.random.default_rng(0)
    N, n = 5, 6
    lo, up = -rng.uniform(0, 1, (N, n)), -rng.uniform(0, 1, (N, n))
    lo[:, 0] = up[:, -1] = 0.0
    di = 1.0 + np.abs(lo) + np.abs(up)
    rhs = rng.normal(size=(N, n))
    last = rng.normal(size=n)
    out = np.empty((N, n))
    _kernels.backward_sweep(lo, di, up, rhs, last, out)
    for k in range(N):
        nxt = last if k == N - 1 else out[k + 1]
        np.testing.assert_allclose(_dense(lo[k], di[k], up[k]) @ out[k] - nxt, rhs[k], atol=1e-12)
    _kernels.forward_sweep(lo, di, up, rhs, last, out)
    for k in range(N):
        prev = last if k == 0 else out[k - 1]
        np.testing.assert_allclose(_dense(lo[k], di[k], up[k]) @ out[k] - prev, rhs[k], atol=1e-12)


def test_gmres_agrees_with_scipy_and_dense_solve(lq_problem_operator):
    ops, size = lq_problem_operator
    rng = np.random.default_rng(1)
    b = rng.normal(size=size)
    x, its, rel = _newton_kernels.gmres(ops, b, 1e-12, 40, 500)
    J = _dense_operator(ops, size)
    np.testing.assert_allclose(x, np.linalg.solve(J, b), rtol=1e-8, atol=1e-9)
    assert rel <= 1e-12 and its < size
    xs, info = scipy_gmres(J, b, rtol=1e-12, atol=0.0, restart=size, maxiter=10)
    assert info == 0
    np.testing.assert_allclose(x, xs, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
def test_fused_residual_kernel_equals_the_numpy_formulas(boundary):
    # The compiled one-pass residuals against hjb_residual / fokker_planck_residual (array formulas).
    from meanfolio.mfg import Grid1D, PowerLaw
    from meanfolio.mfg.schemes.fokker_planck import fokker_planck_residual
    from meanfolio.mfg.schemes.hjb import hjb_residual, upwind_terms

    rng = np.random.default_rng(5)
    grid = Grid1D.uniform(17, -1.0, 2.0, 6, 0.5, boundary)
    u, m = rng.normal(size=(6, 17)), rng.random((6, 17))
    f = rng.normal(size=(5, 17))
    terms = upwind_terms(grid, PowerLaw(1.7), u[:-1])
    rh, rf = np.empty((5, 17)), np.empty((5, 17))
    _kernels.mfg_residuals(u, m, terms.value, terms.left, terms.right, f, grid.dx, grid.dt, 0.3, grid.periodic, rh, rf)
    np.testing.assert_allclose(rh, hjb_residual(grid, 0.3, terms, u, f), rtol=1e-13, atol=1e-11)
    np.testing.assert_allclose(rf, fokker_planck_residual(grid, 0.3, terms, m), rtol=1e-13, atol=1e-11)


@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
def test_level_coefficients_equal_the_numpy_operators(boundary):
    # The compiled per-level blocks of Newton's operator against hjb_operator, fokker_planck_operator
    # (the transpose, which the kernels solve with the HJB block's factors) and fokker_planck_derivative.
    from meanfolio.mfg import Grid1D, PowerLaw
    from meanfolio.mfg.schemes._march import level_coefficients, transpose_coefficients
    from meanfolio.mfg.schemes.fokker_planck import fokker_planck_derivative, fokker_planck_operator
    from meanfolio.mfg.schemes.hjb import hjb_operator, upwind_terms

    rng = np.random.default_rng(7)
    grid = Grid1D.uniform(13, -1.0, 2.0, 5, 0.5, boundary)
    u, m = rng.normal(size=(5, 13)), rng.random((5, 13))
    terms = upwind_terms(grid, PowerLaw(2.5), u[:-1])
    H, F = hjb_operator(grid, 0.3, terms), fokker_planck_operator(grid, 0.3, terms)
    B = [grid.dt * a for a in fokker_planck_derivative(grid, terms, m[1:])]
    k = grid.dt / grid.dx**2
    P, Q = k * terms.dleft * m[1:], k * terms.dright * m[1:]
    z = rng.normal(size=13)
    for n in range(4):
        lo, di, up, tlo, tdi, tup = (np.empty(13) for _ in range(6))
        level_coefficients(terms.left[n], terms.right[n], grid.dx, grid.dt, 0.3, grid.periodic, lo, di, up)
        transpose_coefficients(lo, di, up, tlo, tdi, tup)
        for got, want in zip((lo, di, up, tlo, tdi, tup), (*(a[n] for a in H), *(a[n] for a in F)), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-12)
        # F is H^T exactly (so H's factors solve both)
        np.testing.assert_array_equal(_dense(tlo, tdi, tup), _dense(lo, di, up).T)
        Bz = np.ones(13)
        _newton_kernels._b_apply(P[n], Q[n], z, Bz, -1.0)  # out += sign B z
        Bz = 1.0 - Bz
        np.testing.assert_allclose(Bz, _dense(*(a[n] for a in B)) @ z, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("transpose", [False, True])
def test_thomas_factors_solve_h_and_its_transpose(transpose):
    # the twisted factorisation (two chains meeting at row n // 2) on every small size, odd and
    # even, and larger ones, for one level and for a group of levels factored together
    from meanfolio.mfg.schemes import _thomas

    rng = np.random.default_rng(11)
    for n in [*range(1, 12), 64, 101]:
        lo, up = -rng.uniform(0, 1, (2, _thomas.GROUP, n))
        lo[:, 0] = up[:, -1] = 0.0
        di = 1.0 + np.abs(lo) + np.abs(up) + rng.uniform(0, 1, (_thomas.GROUP, n))
        a, c, ib, e = (np.full((_thomas.GROUP, n), np.nan) for _ in range(4))
        _thomas.factor_group(lo, di, up, a, c, ib, e, _thomas.GROUP)
        a1, c1, ib1, e1 = (np.full((_thomas.GROUP, n), np.nan) for _ in range(4))
        _thomas.factor_group(lo[:3], di[:3], up[:3], a1[:3], c1[:3], ib1[:3], e1[:3], 3)
        for g in range(_thomas.GROUP):
            one = [np.full(n, np.nan) for _ in range(4)]
            _thomas.thomas_factor(lo[g], di[g], up[g], *one)
            b = rng.normal(size=n)
            A = _dense(lo[g], di[g], up[g])
            factors = [(a[g], c[g], ib[g], e[g]), tuple(one)] + ([(a1[g], c1[g], ib1[g], e1[g])] if g < 3 else [])
            for fa, fc, fib, fe in factors:
                x = np.full(n, np.nan)
                if transpose:
                    _thomas.thomas_ht(fa, fc, fib, fe, b, x)
                else:
                    _thomas.thomas_h(fa, fc, fib, b, x)
                np.testing.assert_allclose(x, np.linalg.solve(A.T if transpose else A, b), rtol=1e-12, atol=1e-12)
                y = b.copy()  # in place
                (_thomas.thomas_ht(fa, fc, fib, fe, y, y) if transpose else _thomas.thomas_h(fa, fc, fib, y, y))
                np.testing.assert_array_equal(y, x)


def test_gmres_reuses_its_workspace_without_carrying_anything_over(lq_problem_operator):
    # gmres_into with a dirty workspace gives what a fresh gmres gives (the scratch is re-initialised)
    ops, size = lq_problem_operator
    rng = np.random.default_rng(2)
    work = rng.normal(size=(_newton_kernels.gmres_rows(40), size // 2))
    for seed in (3, 4):
        b = np.random.default_rng(seed).normal(size=size)
        x = np.zeros(size)
        its, rel, _ = _newton_kernels.gmres_into(ops, b, 1e-11, 40, 500, x, work)
        x_ref, its_ref, _ = _newton_kernels.gmres(ops, b, 1e-11, 40, 500)
        assert its == its_ref and rel <= 1e-11
        np.testing.assert_allclose(x, x_ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(_dense_operator(ops, size) @ x, b, atol=1e-9 * np.abs(b).max())


@pytest.mark.parametrize("restart", [3, 12])
def test_gmres_restarted_and_long_cycles_solve_the_system(lq_problem_operator, restart):
    # restart 3: several cycles, x combined from the kept sweeps of each; restart 12: a cycle longer
    # than the kept sweeps (STORED), x by two final sweeps. Either way x must be what GMRES says.
    ops, size = lq_problem_operator
    b = np.random.default_rng(5).normal(size=size)
    J = _dense_operator(ops, size)
    if restart == 3:
        x, its, rel = _newton_kernels.gmres(ops, b, 1e-11, restart, 2000)
        assert rel <= 1e-11 and its > 3
    else:  # an unreachable tolerance: the cycle runs to the cap, past STORED
        x, its, rel = _newton_kernels.gmres(ops, b, 1e-300, restart, _newton_kernels.STORED + 2)
        assert its == _newton_kernels.STORED + 2
    true_rel = np.linalg.norm(b - J @ x) / np.linalg.norm(b)
    assert true_rel <= max(1e-11, 1.01 * rel) and rel <= max(1e-11, 1.01 * true_rel)


def test_level_parallel_kernels_give_the_same_bits_on_any_thread_count(lq_problem_operator):
    # upwind terms, residuals, Newton's factors and the true residual run one level per
    # parallel iteration: on 1 and 2 threads they equal the serial kernels bit for bit
    import numba

    from meanfolio._parallel import numba_threads
    from meanfolio.mfg.schemes import _kernels, _march

    rng = np.random.default_rng(5)
    N, nx = 37, 23
    u, m = rng.normal(size=(N + 1, nx)), rng.random((N + 1, nx))
    f = rng.normal(size=(N, nx))
    dx, dt, nu = 0.1, 0.02, 0.3
    serial = [np.empty((N, nx)) for _ in range(5)]
    _kernels.upwind_split(0, 0.0, u[:-1].copy(), dx, False, *serial)
    rh, rf = np.empty((N, nx)), np.empty((N, nx))
    _kernels.mfg_residuals(u, m, serial[0], serial[1], serial[2], f, dx, dt, nu, False, rh, rf)
    ops, size = lq_problem_operator
    x, b = rng.normal(size=size), rng.normal(size=size)
    want = b - _dense_operator(ops, size) @ x
    for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
        with numba_threads(threads):
            par = [np.empty((N, nx)) for _ in range(5)]
            _kernels.upwind_split_parallel(0, 0.0, u[:-1].copy(), dx, False, *par)
            for a, c in zip(par, serial, strict=True):
                np.testing.assert_array_equal(a, c)
            ph, pf = np.empty((N, nx)), np.empty((N, nx))
            _kernels.mfg_residuals_parallel(u, m, serial[0], serial[1], serial[2], f, dx, dt, nu, False, ph, pf)
            np.testing.assert_array_equal(ph, rh)
            np.testing.assert_array_equal(pf, rf)
            factors = np.empty((6, N, nx))
            _march.newton_arrays(serial[1], serial[2], serial[3], serial[4], m[1:].copy(), dx, dt, nu, False, factors)
            if threads == 1:
                first = factors.copy()
            np.testing.assert_array_equal(factors, first)
            out = np.empty(size)
            squares = _newton_kernels.newton_residual(ops, x, b, out)
            np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
            assert squares == pytest.approx(want @ want, rel=1e-12)
            if threads == 1:
                first_out, first_squares = out.copy(), squares
            np.testing.assert_array_equal(out, first_out)
            assert squares == first_squares


def test_spare_arrays_are_reused_only_when_nothing_refers_to_them(lq):
    # the pool behind upwind terms, residuals and trial points: an array still held (directly
    # or through a view) is never handed out again; a released one is
    from meanfolio.mfg import MFGProblem

    config = lq_config(30, 12)
    x = grid_of(config).x
    problem = MFGProblem.create(config, lq.m0(x), lq.coupling(), terminal=lq.terminal(x))
    u, m = problem.initial_guess()
    held = problem.terms(u)
    snapshot = [a.copy() for a in (held.value, held.left, held.right, held.dleft, held.dright)]
    rh, rf, other = problem.residual_and_terms(u + 0.3, m)  # new terms and residuals while held lives
    for a, b in zip((held.value, held.left, held.right, held.dleft, held.dright), snapshot, strict=True):
        np.testing.assert_array_equal(a, b)
    ids = {id(a.base) for a in (held.value, held.left, held.right, held.dleft, held.dright, other.value)}
    assert len(ids) == 6 and id(rh) != id(rf)
    view = rh[2:]
    base = id(rh.base)  # (R_H and R_F are the two rows of one pool array)
    del rh, rf, other
    taken = [problem._spare(view.base.shape) for _ in range(len(problem._spares) + 1)]
    assert base not in {id(a) for a in taken}  # rh is still seen through ``view``
    del view, taken
    pool = {id(a) for a in problem._spares}
    reused = problem._spare(held.value.shape)
    assert id(reused) in pool  # released arrays come back instead of new memory


@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
def test_terms_and_residuals_in_one_pass_equal_the_two_passes(lq, boundary):
    # residual_and_terms without known terms makes them and the residuals level by level in one
    # pass (terms_and_residuals_parallel): the same bits as the terms first, then the residuals
    from meanfolio.mfg import Linear, MFGProblem, PowerLaw, Quadratic

    config = lq_config(40, 16, boundary=boundary)
    x = grid_of(config).x
    rng = np.random.default_rng(5)
    for hamiltonian in (Quadratic(), PowerLaw(1.7), Linear(0.8)):
        problem = MFGProblem.create(config, lq.m0(x), lq.coupling(), terminal=lq.terminal(x), hamiltonian=hamiltonian)
        u, m = problem.initial_guess()
        u = u + 0.05 * rng.normal(size=u.shape)
        rh, rf, terms = problem.residual_and_terms(u, m)
        separate = problem.terms(np.concatenate((u[:-1], [problem.terminal_cost(m[-1])])))
        rh2, rf2, _ = problem.residual_and_terms(u, m, separate)
        np.testing.assert_array_equal(rh, rh2)
        np.testing.assert_array_equal(rf, rf2)
        for name in ("value", "left", "right", "dleft", "dright"):
            np.testing.assert_array_equal(getattr(terms, name), getattr(separate, name))
        assert np.abs(rh).max() > 1e-3  # (not trivially zero)
