"""Shared helpers: seeding and argument checking."""

import numpy as np
import pytest

from meanfolio._rng import as_generator, spawn
from meanfolio._validation import check_array, check_choice, check_density, check_interval, check_number


def test_same_seed_same_numbers_and_generators_pass_through():
    assert np.array_equal(as_generator(7).normal(size=5), as_generator(7).normal(size=5))
    g = np.random.default_rng(1)
    assert as_generator(g) is g
    a = [r.normal() for r in spawn(3, 4)]
    b = [r.normal() for r in spawn(3, 4)]
    assert a == b and len(set(a)) == 4


@pytest.mark.parametrize("seed", [-1, 1.5, "x", True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed = .* expected a non-negative int, None or a numpy Generator"):
        as_generator(seed)


def test_messages_name_parameter_value_and_range():
    with pytest.raises(ValueError, match=r"^dt = 2.0 is not allowed: expected a finite number in \(0, 1\]$"):
        check_number("dt", 2.0, low=0, high=1, low_inclusive=False)
    with pytest.raises(ValueError, match=r"lower = 3.0 and upper = 1.0 .* lower < upper"):
        check_interval("lower", 3, "upper", 1)
    with pytest.raises(ValueError, match=r"kind = 'z' .*'a', 'b'"):
        check_choice("kind", "z", ["a", "b"])
    with pytest.raises(ValueError, match=r"prices contains 1 non-finite value\(s\) \(first at flat index 2: nan\)"):
        check_array("prices", [1.0, 2.0, np.nan])
    m, mass = check_density("m0", [1.0, 3.0], size=2, cell=0.5)
    assert mass == 2.0 and np.allclose(m, [0.5, 1.5])
