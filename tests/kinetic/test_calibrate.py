"""Calibration by the simulated method of moments."""

import json

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from meanfolio.cli import app
from meanfolio.kinetic import autocorrelation
from meanfolio.kinetic.calibrate import BASE, MOMENT_NAMES, Objective, bundled_index_returns, moments, simulated_returns

runner = CliRunner()


def test_moments_against_direct_formulas():
    rng = np.random.default_rng(1)
    r = rng.standard_t(4, size=5000) * 0.01
    m = moments(r)
    assert m.size == len(MOMENT_NAMES) == 24
    assert m[0] == pytest.approx(np.std(r, ddof=1)) and m[1] == pytest.approx(stats.kurtosis(r))
    a = np.sort(np.abs(r))[::-1]
    k = int(np.sqrt(r.size))
    assert m[2] == pytest.approx(1 / np.mean(np.log(a[:k] / a[k])))
    d = r - r.mean()
    assert m[3] == pytest.approx(np.dot(d[:-1], d[1:]) / np.dot(d, d))
    np.testing.assert_allclose(m[4:], autocorrelation(np.abs(r), 20))


def test_bundled_index_is_the_equal_weight_mean():
    from meanfolio.data import load_sp500

    r, dates = bundled_index_returns()
    prices = load_sp500().prices
    simple = prices[1:] / prices[:-1] - 1
    assert r.size == dates.size and r.size > 8000
    assert r[100] == pytest.approx(np.log1p(np.nanmean(simple[100])))
    assert 0.005 < r.std() < 0.03  # a daily index volatility


def test_common_random_numbers_make_the_objective_exactly_zero_at_the_truth():
    truth = BASE.replace(kappa=1.2, reversion=0.8, chartist_memory=1.0, beta=0.5, sigma_broker=0.1)
    names = ("kappa", "reversion", "chartist_memory", "beta", "sigma_broker")
    x = np.array([getattr(truth, n) for n in names])
    data = simulated_returns(truth, 1500, 11)
    obj = Objective(moments(data), np.ones(24), names, 1500, [11])
    assert obj(x) == 0.0  # same seed, same parameters: the same path
    assert obj(x * np.array([1.2, 1, 1, 1, 1])) > 1e-6
    # another seed at the truth: not zero (the random numbers matter), but the volatility moment is far
    # closer than with a doubled sigma_B
    w = np.zeros(24)
    w[0] = 1 / data.std() ** 2
    other = Objective(moments(data), w, names, 1500, [12])
    assert 0 < other(x) < 0.1 * other(x * np.array([1, 1, 1, 1, 2.0]))


def test_calibrate_cli_writes_calibration_json(tmp_path):
    result = runner.invoke(app, ["kinetic", "calibrate", "--data", "bundled", "--max-evals", "24", "--seed", "3",
                                 "--days", "1000", "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    cal = json.loads((tmp_path / "calibration.json").read_text())
    assert {"params", "targets", "simulated", "seed"} <= set(cal) and cal["seed"] == 3
    for block in ("targets", "simulated"):
        assert set(cal[block]) == {"volatility", "excess_kurtosis", "hill", "acf1", "acf_abs"}
        assert len(cal[block]["acf_abs"]) == 20
    assert set(cal["params"]) == {"kappa", "reversion", "chartist_memory", "beta", "sigma_broker"}
    r, _ = bundled_index_returns()
    assert cal["targets"]["volatility"] == pytest.approx(r[-1000:].std(ddof=1))
    assert cal["nfev"] <= 24 + 8  # the budget (checked after each generation of 8)
    for name in ("qq", "acf_abs", "paths"):
        assert (tmp_path / f"kinetic_calibration_{name}.png").stat().st_size > 5000
    assert "J = " in result.output


def test_calibrate_cli_rejects_bad_data(tmp_path):
    result = runner.invoke(app, ["kinetic", "calibrate", "--data", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "--data" in result.output


def test_calibrate_sends_the_candidates_to_a_dask_client():
    from meanfolio.kinetic.calibrate import calibrate

    class FakeClient:  # the two calls calibrate makes on a dask.distributed.Client
        def __init__(self):
            self.mapped = 0

        def map(self, f, xs):
            self.mapped += len(xs)
            return [f(x) for x in xs]

        def gather(self, futures):
            return futures

    r, _ = bundled_index_returns()
    client = FakeClient()
    cal = calibrate(r[-400:], max_evals=20, seed=2, replications=2, paths=1, client=client)
    assert client.mapped == cal.nfev >= 20
    plain = calibrate(r[-400:], max_evals=20, seed=2, replications=2, paths=1)
    assert plain.params == cal.params  # same seed: the cluster changes where, not what
