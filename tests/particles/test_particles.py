"""Particles against their McKean-Vlasov limit (scipy's ODE solver), exact Gaussian W2,
Milstein's exact second moment, thread, chunk and resume independence (bitwise), the particle MFG vs the grid."""

import pickle

import numba
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.stats import norm

from meanfolio.mfg import MeanTracking, MFGConfig, RunningCost, solve_mfg
from meanfolio.particles import (
    GridControl,
    McKeanVlasov,
    ParticleStabilityError,
    histogram_density,
    sample_density,
    simulate_particles,
    solve_mfg_particles,
)
from meanfolio.transport import wasserstein_1d


def gaussian_w2(samples, mu, s):
    """Exact W2 between the empirical law of ``samples`` and N(mu, s^2) (quantile formula,
    with the Gaussian's partial moments on each quantile interval)."""
    x = np.sort(samples)
    n = x.size
    z = norm.ppf(np.arange(n + 1) / n)
    pdf, cdf = norm.pdf(z), norm.cdf(z)
    zpdf = np.zeros_like(z)  # z pdf(z) -> 0 at +-inf
    inner = np.isfinite(z)
    zpdf[inner] = z[inner] * pdf[inner]
    first = mu * np.diff(cdf) - s * np.diff(pdf)  # int of G^-1(u) du on each interval
    second = (mu**2 + s**2) * np.diff(cdf) - 2 * mu * s * np.diff(pdf) - s**2 * np.diff(zpdf)
    return float(np.sqrt(max(np.sum(x * x / n - 2 * x * first + second), 0.0)))


def limit_moments(model, m0, v0, T):
    """The McKean-Vlasov limit of the linear model: mean and variance ODEs (scipy)."""
    k, lam, kap, s, eta, c = model.gain, model.lam, model.kappa, model.sigma, model.eta, model.target

    def rhs(t, y):
        return [-(1 + lam) * k * (y[0] - c), -2 * (k + kap) * y[1] + (s + eta * y[1]) ** 2]

    return solve_ivp(rhs, (0, T), [m0, v0], rtol=1e-11, atol=1e-12).y[:, -1]


MODEL = McKeanVlasov(sigma=0.3, eta=0.5, lam=0.4, kappa=0.5, gain=1.0, target=0.5)


def test_moments_follow_the_mckean_vlasov_limit():
    x0 = np.random.default_rng(0).normal(1.0, 0.4, 400_000)
    run = simulate_particles(MODEL, x0, 1.0, 800, seed=1)
    mean, var = limit_moments(MODEL, x0.mean(), x0.var(), 1.0)
    assert run.mean[-1] == pytest.approx(mean, abs=2e-3)
    assert run.variance[-1] == pytest.approx(var, rel=1e-2)
    assert run.mean[0] == pytest.approx(x0.mean(), abs=1e-12)
    # the kernel's last moments against the final positions themselves (independent reductions)
    assert run.mean[-1] == pytest.approx(run.x.mean(), abs=1e-12)
    assert run.variance[-1] == pytest.approx(run.x.var(), rel=1e-9)
    assert run.mean_control[-1] == pytest.approx(-(run.x.mean() - 0.5), abs=1e-12)


def test_propagation_of_chaos_rate():
    # W2 to the Gaussian limit law falls like N^(-1/2): x4 particles, half the distance.
    T = 1.0
    w = {}
    for n in (400, 1600, 6400):
        dists = []
        for seed in range(6):
            x0 = np.random.default_rng(100 + seed).normal(1.0, 0.4, n)
            run = simulate_particles(MODEL, x0, T, 200, seed=seed)
            mean, var = limit_moments(MODEL, 1.0, 0.16, T)
            dists.append(gaussian_w2(run.x, mean, np.sqrt(var)))
        w[n] = np.mean(dists)
    r1, r2 = w[400] / w[1600], w[1600] / w[6400]
    assert 1.5 < r1 < 2.6 and 1.5 < r2 < 2.6, w
    slope = np.polyfit(np.log(list(w)), np.log(list(w.values())), 1)[0]
    assert -0.62 < slope < -0.38, slope


def test_gaussian_w2_oracle_against_the_quantile_formula():
    x = np.random.default_rng(5).normal(0.3, 1.2, 300)
    grid = np.linspace(-8, 8, 200_001)
    dens = norm.pdf(grid, 0.3, 1.2)
    assert gaussian_w2(x, 0.3, 1.2) == pytest.approx(wasserstein_1d(x, grid, None, dens, p=2), rel=2e-3)


def test_milstein_second_moment_is_exact():
    # Geometric noise, no drift: E[X_n^2] = x0^2 (1 + s^2 dt)^n (Euler) and
    # x0^2 (1 + s^2 dt + s^4 dt^2 / 2)^n (Milstein): the correction is really applied.
    model = McKeanVlasov(sigma=0.5, noise="geometric")
    n, steps, dt, s2 = 1_000_000, 10, 0.1, 0.25
    x0 = np.ones(n)
    for scheme, factor in (("euler", 1 + s2 * dt), ("milstein", 1 + s2 * dt + 0.5 * s2**2 * dt**2)):
        run = simulate_particles(model, x0, 1.0, steps, seed=7, scheme=scheme)
        second = run.variance[-1] + run.mean[-1] ** 2
        assert second == pytest.approx(factor**steps, rel=2.5e-3), scheme
    assert (1.0253125 / 1.025) ** steps - 1 > 3e-3  # the two schemes differ by more than the tolerance


def test_bitwise_reproducible_on_any_thread_count():
    x0 = np.random.default_rng(1).normal(size=10_000)
    a = simulate_particles(MODEL, x0, 1.0, 50, seed=11, threads=1)
    b = simulate_particles(MODEL, x0, 1.0, 50, seed=11, threads=2)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.variance, b.variance)
    c = simulate_particles(MODEL, x0, 1.0, 50, seed=12)
    assert not np.array_equal(a.x, c.x)


FIELDS = ("x", "t", "mean", "variance", "mean_control")


def _wavy_control(nt=6):
    """A grid control that changes strongly between levels, on a grid not aligned with the particle steps."""
    x = np.linspace(-2.0, 3.0, 41)
    t = np.linspace(0.0, 1.0, nt)
    alpha = -np.sin(2.0 * x)[None, :] * (1.0 + 3.0 * t[:, None]) - 0.5 * (x - 0.5)[None, :]
    return GridControl(alpha, x, t)


CASES = {
    "linear": (MODEL, "euler", None),
    "grid-box-milstein": (McKeanVlasov(sigma=0.4, eta=0.3, lam=0.5, kappa=0.2, noise="geometric", box=(-2.0, 3.0)),
                          "milstein", _wavy_control()),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_chunked_resumed_and_one_shot_runs_are_bitwise_equal(case):
    # Every quantity of a step is a function of (x, global step): the moments use a shift taken
    # from x (not the previous step's mean), the clock is start + j dt, the last row goes through
    # the kernel's own moments; so chunks, callbacks, an interruption and a resume after pickling
    # (a saved state) give bitwise the one-shot run, on 1 or 2 threads.
    model, scheme, control = CASES[case]
    x0 = np.random.default_rng(4).normal(0.5, 0.6, 5_000)  # 3 blocks of the parallel sums
    x0 = np.clip(x0, -1.9, 2.9)
    steps = 40
    pool = min(2, numba.config.NUMBA_NUM_THREADS)
    runs = {}
    for threads in (1, pool):
        used = []

        def count(done, x, used=used):
            used.append(numba.get_num_threads())

        kw = dict(seed=11, scheme=scheme, control=control, threads=threads)
        runs[threads, "one-shot"] = simulate_particles(model, x0, 1.0, steps, chunk=steps, **kw)
        runs[threads, "chunk 7"] = simulate_particles(model, x0, 1.0, steps, chunk=7, **kw)
        runs[threads, "chunk 1"] = simulate_particles(model, x0, 1.0, steps, chunk=1, callback=count, **kw)
        stopped = simulate_particles(model, x0, 1.0, steps, chunk=5, callback=lambda done, x: done >= 13, **kw)
        assert not stopped.completed and stopped.t.size == 16
        runs[threads, "stopped"] = stopped
        saved = pickle.loads(pickle.dumps(stopped))
        runs[threads, "resumed"] = simulate_particles(model, x0, 1.0, steps, chunk=11, resume=saved, **kw)
        assert set(used) == {threads}  # the runs really used that many numba threads
    reference = runs[1, "one-shot"]
    assert reference.completed and reference.t.size == steps + 1
    for (threads, name), run in runs.items():
        assert run.completed == (name != "stopped"), name
        for field in FIELDS[1:] if name == "stopped" else FIELDS:  # the stopped run: the first 16 rows
            expected = getattr(reference, field)[: getattr(run, field).size]
            np.testing.assert_array_equal(getattr(run, field), expected, err_msg=f"{threads} threads, {name}: {field}")
    assert not np.array_equal(reference.x, x0)


def test_continuing_by_offsets_is_bitwise_in_positions_and_moments():
    # The manual continuation (x of the first half, start_step and start_time) draws the same
    # numbers and does the same arithmetic when dt is bitwise the same (0.5 / 30 == 1 / 60 here);
    # only the clock start_time + j dt may differ from (30 + j) dt in the last bit (bound tested).
    x0 = np.random.default_rng(4).normal(0.5, 0.6, 5_000)
    whole = simulate_particles(MODEL, x0, 1.0, 60, seed=3)
    first = simulate_particles(MODEL, x0, 0.5, 30, seed=3)
    assert 0.5 / 30 == 1.0 / 60
    rest = simulate_particles(MODEL, first.x, 0.5, 30, seed=3, start_step=30, start_time=float(first.t[-1]))
    np.testing.assert_array_equal(rest.x, whole.x)
    for field in ("mean", "variance", "mean_control"):
        np.testing.assert_array_equal(getattr(rest, field), getattr(whole, field)[30:])
    np.testing.assert_allclose(rest.t, whole.t[30:], rtol=0, atol=2 * np.finfo(float).eps)


def test_resume_checks_it_continues_the_same_run():
    x0 = np.random.default_rng(4).normal(size=100)
    stopped = simulate_particles(MODEL, x0, 1.0, 20, seed=5, chunk=4, callback=lambda done, x: True)
    with pytest.raises(ValueError, match="seed"):
        simulate_particles(MODEL, x0, 1.0, 20, seed=6, resume=stopped)
    with pytest.raises(ValueError, match="same x0, horizon, steps and start_time"):
        simulate_particles(MODEL, x0, 2.0, 20, seed=5, resume=stopped)
    with pytest.raises(ValueError, match="resume"):
        simulate_particles(MODEL, x0, 1.0, 20, seed=5, resume=x0)
    resumed = simulate_particles(MODEL, x0, 1.0, 20, resume=stopped)  # the key comes from the saved run
    np.testing.assert_array_equal(resumed.x, simulate_particles(MODEL, x0, 1.0, 20, seed=5).x)


def test_grid_control_levels_count_from_its_first_time():
    # A control given on [1, 2] used from start_time = 1 is the same control as on [0, 1] from 0.
    c0 = _wavy_control()
    c1 = GridControl(c0.alpha, c0.x, c0.t + 1.0)
    x0 = np.random.default_rng(4).normal(0.5, 0.6, 1_000)
    a = simulate_particles(MODEL, x0, 1.0, 40, seed=2, control=c0)
    b = simulate_particles(MODEL, x0, 1.0, 40, seed=2, control=c1, start_time=1.0)
    np.testing.assert_array_equal(a.x, b.x)


def test_reflecting_box_and_chunks():
    model = McKeanVlasov(sigma=1.0, box=(-1.0, 1.0))
    x0 = np.zeros(20_000)
    seen = []
    run = simulate_particles(model, x0, 2.0, 100, seed=3, chunk=25, callback=lambda done, x: seen.append(done))
    assert seen == [25, 50, 75, 100]
    assert run.x.min() >= -1.0 and run.x.max() <= 1.0
    assert run.variance[-1] == pytest.approx(1 / 3, rel=0.05)  # close to uniform on [-1, 1]
    stopped = simulate_particles(model, x0, 2.0, 100, seed=3, chunk=25, callback=lambda done, x: done >= 50)
    assert not stopped.completed and stopped.t.size == 51


def test_bad_input_and_instability():
    x0 = np.zeros(10)
    with pytest.raises(ParticleStabilityError, match="dt = 0.5"):
        simulate_particles(McKeanVlasov(gain=5.0), x0, 1.0, 2)
    with pytest.raises(ParticleStabilityError, match="non-finite at step"):
        simulate_particles(McKeanVlasov(sigma=1.0, eta=1e3), np.linspace(-5, 5, 100), 10.0, 1000, seed=1)
    with pytest.raises(ValueError, match="box"):
        McKeanVlasov(box=(1.0, 0.0))
    with pytest.raises(ValueError, match="x0 lies outside"):
        simulate_particles(McKeanVlasov(box=(0.5, 1.0)), x0, 1.0, 2)
    with pytest.raises(ValueError, match="scheme"):
        simulate_particles(McKeanVlasov(), x0, 1.0, 2, scheme="rk4")
    with pytest.raises(ValueError, match="sigma"):
        McKeanVlasov(sigma=-1.0)
    with pytest.raises(ValueError, match="x0"):
        simulate_particles(McKeanVlasov(), [0.0, np.nan], 1.0, 2)


def test_sampling_and_histograms_round_trip():
    x = np.linspace(-3, 3, 61)
    m = norm.pdf(x)
    samples = sample_density(m, x, 400_000, seed=2)
    h = histogram_density(samples, x)
    assert h.sum() * (x[1] - x[0]) == pytest.approx(1.0)
    assert np.abs(h - m / (m.sum() * 0.1)).max() < 0.01


def _lq_game(nx=400, nt=161):
    # Fine grid: the upwind scheme's own O(dx + dt) error sets a floor under W2
    # (measured 0.026 at 120 x 41, 0.008 at 400 x 161) that must stay below the
    # statistical error of the sizes tested.
    config = MFGConfig(nx=nx, nt=nt, x_min=-3, x_max=4, viscosity=0.2, tolerance=1e-9, max_iterations=30,
                       relaxation=0.7)  # fmt: skip
    x = np.linspace(-3, 4, nx)
    m0 = norm.pdf(x, 1.0, 0.5)
    f = MeanTracking(1.0) + RunningCost(lambda t, x: 0.25 * x**2)
    return config, m0, f, 0.4 * x**2


def test_particle_mfg_approaches_the_grid_law_at_rate_half():
    config, m0, f, g = _lq_game()
    grid_sol = solve_mfg(config, m0, f, terminal=g)
    w = {}
    for n in (250, 1000, 4000):
        d = []
        for seed in range(3):
            sol = solve_mfg_particles(config, m0, f, terminal=g, n_particles=n, substeps=4, seed=seed, tolerance=1e-3)
            assert sol.converged, sol.message
            d.append(wasserstein_1d(sol.particles, grid_sol.x, None, grid_sol.m[-1], p=2))
        w[n] = np.mean(d)
    assert 1.4 < w[250] / w[1000] < 2.8 and 1.4 < w[1000] / w[4000] < 2.8, w


def test_particle_mfg_bad_input():
    config, m0, f, g = _lq_game(20, 5)
    with pytest.raises(ValueError, match="1D no-flux box"):
        solve_mfg_particles(config.replace(boundary="periodic"), m0, f)
    with pytest.raises(ValueError, match="n_particles"):
        solve_mfg_particles(config, m0, f, n_particles=1)
    assert GridControl(np.zeros((2, 3)), np.arange(3.0), np.arange(2.0)).alpha.shape == (2, 3)
    with pytest.raises(ValueError, match="alpha"):
        GridControl(np.zeros((2, 4)), np.arange(3.0), np.arange(2.0))


def test_a_run_too_large_for_memory_is_refused_before_allocating():
    from meanfolio._validation import MemoryLimitError
    from meanfolio.particles import McKeanVlasov, simulate_particles

    x0 = np.linspace(-1.0, 1.0, 100)
    with pytest.raises(MemoryLimitError, match="100 particles over 1,000,000,000 steps needs about 22.4 GB"):
        simulate_particles(McKeanVlasov(sigma=0.3, kappa=1.0), x0, 1e3, 10**9, max_memory="1G")
    # the limit is the caller's to raise: the same small run passes under a generous one
    assert simulate_particles(McKeanVlasov(sigma=0.3, kappa=1.0), x0, 1.0, 10, max_memory="1G").completed
