"""The shared LQ engine against closed forms (scalar regulator with noise and a terminal cost)."""

import numpy as np
import pytest

from meanfolio.games._lq import LinearQuadratic, feedback_cost, optimal_cost, optimal_feedback


def regulator(T=1.3, sigma=0.7, G=0.0):
    one = np.ones((1, 1, 1))
    return LinearQuadratic(
        horizon=T, A=0 * one, B=one, R=one, Q=one, q=np.zeros((1, 1)), c=np.zeros((1, 1)),
        noise=sigma**2 * one, G=G * one,
    )  # fmt: skip


def test_optimal_cost_and_feedback_of_the_scalar_regulator():
    # dx = a dt + sigma dW, cost int (a^2 + x^2)/2: K = tanh(T - t), J* = tanh(T) x0^2/2 + sigma^2/2 log cosh T
    T, sigma, x0 = 1.3, 0.7, 0.9
    problem = regulator(T, sigma)
    exact = 0.5 * np.tanh(T) * x0**2 + 0.5 * sigma**2 * np.log(np.cosh(T))
    assert optimal_cost(problem, np.array([[x0]]))[0] == pytest.approx(exact, rel=1e-9)
    F, h = optimal_feedback(problem)(0.2)
    assert F[0, 0, 0] == pytest.approx(np.tanh(T - 0.2), rel=1e-9) and h[0, 0] == 0
    # the optimal feedback evaluated by the Lyapunov route costs the same; doing nothing costs more
    assert feedback_cost(problem, optimal_feedback(problem), np.array([[x0]]))[0] == pytest.approx(exact, rel=1e-9)
    idle = feedback_cost(problem, lambda t: (np.zeros((1, 1, 1)), np.zeros((1, 1))), np.array([[x0]]))[0]
    assert idle == pytest.approx(x0**2 * T / 2 + sigma**2 * T**2 / 4, rel=1e-9)
    # initial variance adds K(0) v0 / 2
    v0 = 0.3
    with_cov = optimal_cost(problem, np.array([[x0]]), np.full((1, 1, 1), v0))[0]
    assert with_cov - exact == pytest.approx(0.5 * np.tanh(T) * v0, rel=1e-9)


def test_terminal_cost_and_batches():
    # terminal cost G x^2/2: K(t) = (G + tanh(tau)) / (1 + G tanh(tau))
    T, G = 0.8, 2.0
    problem = regulator(T, 0.0, G)
    exact = 0.5 * (G + np.tanh(T)) / (1 + G * np.tanh(T))
    assert optimal_cost(problem, np.array([[1.0]]))[0] == pytest.approx(exact, rel=1e-9)
    # a batch of two different problems is the two problems
    one = np.ones((2, 1, 1))
    batch = LinearQuadratic(
        horizon=T, A=0 * one, B=one, R=one, Q=np.array([[[1.0]], [[4.0]]]), q=np.zeros((2, 1)),
        c=np.zeros((2, 1)), noise=0 * one, G=G * one,
    )  # fmt: skip
    costs = optimal_cost(batch, np.ones((2, 1)))
    k = 2.0  # Q = 4: K = k (G + k tanh(k tau)) / (k + G tanh(k tau))
    assert costs[0] == pytest.approx(exact, rel=1e-9)
    assert costs[1] == pytest.approx(0.5 * k * (G + k * np.tanh(k * T)) / (k + G * np.tanh(k * T)), rel=1e-9)
