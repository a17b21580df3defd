"""Benchmark functions: classic values and the official CEC 2014 values."""

import numpy as np
import pytest

from meanfolio.optimize.benchmarks import CLASSIC, cec2014, cec2014_data_dir, cec2014_evaluate
from meanfolio.optimize.benchmarks.cec2014 import load_data


@pytest.mark.parametrize("name", sorted(CLASSIC))
@pytest.mark.parametrize("D", [2, 10])
def test_classic_minimum(name, D):
    f, _, argmin = CLASSIC[name]
    assert f(np.full(D, argmin)) == pytest.approx(0.0, abs=1e-4 * D if name == "schwefel" else 1e-12)


def test_classic_fixed_points():
    f = CLASSIC
    x = np.ones(5)
    assert f["sphere"][0](x) == 5.0
    assert f["rastrigin"][0](x) == pytest.approx(5.0)  # 1 - 10 cos(2 pi) + 10 per coordinate
    assert f["rosenbrock"][0](np.zeros(5)) == 4.0
    assert f["ackley"][0](x) == pytest.approx(3.6253849384403627)
    assert f["griewank"][0](np.array([np.pi * 2, 0.0])) == pytest.approx((4 * np.pi**2) / 4000 - np.cos(2 * np.pi) + 1)
    assert f["schwefel"][0](np.zeros(3)) == pytest.approx(3 * 418.9828872724338)


needs_data = pytest.mark.skipif(cec2014_data_dir() is None, reason="opfunu (test extra) not installed")

OFFICIAL = [  # f(x) - F* from the competition's reference code
    (1, 10, 0.0, 4604017118.0),
    (5, 10, 0.0, 21.92704322),
    (9, 30, 0.0, 479.6383369),
    (16, 10, 0.0, 4.783841364),
    (19, 10, 50.0, 1709.414353),
    (24, 30, 50.0, 1366.201395),
    (30, 10, 50.0, 7741081.083),
]


@needs_data
@pytest.mark.parametrize("fid, D, value, expected", OFFICIAL)
def test_cec2014_official_values(fid, D, value, expected):
    f = cec2014(fid, D)
    assert f(np.full(D, value)) - f.f_star == pytest.approx(expected, rel=1e-9)


@needs_data
@pytest.mark.parametrize("fid", range(1, 31))
def test_cec2014_optimum_is_the_first_shift(fid):
    D = 10
    O, M, S = load_data(fid, D)
    f_star = 100.0 * fid
    # the Schwefel components leave a residual of ~1e-5 per coordinate at their optimum
    assert cec2014_evaluate(O[0].copy(), fid, O, M, S) == pytest.approx(f_star, abs=1e-3)
    assert cec2014_evaluate(O[0] + 1.0, fid, O, M, S) > f_star + 1e-6
