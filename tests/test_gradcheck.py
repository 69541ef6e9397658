"""The gradient checker: few forward calls on large tensors, localisation only on failure."""

import numpy as np
import pytest

from autograder.gradcheck import assess_gradient, check_gradient, probe_gradient

N = 100_000


class CountingFunction:
    """f(x) = sum(A * sin(x)) + 0.5 * |x|^2, counting its calls; gradient A cos(x) + x."""

    def __init__(self, n: int, seed: int = 123):
        rng = np.random.default_rng(seed)
        self.A = rng.standard_normal(n)
        self.x = rng.standard_normal(n)
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return float(np.sum(self.A * np.sin(x)) + 0.5 * np.sum(x * x))

    def gradient(self):
        return self.A * np.cos(self.x) + self.x


def test_correct_gradient_of_100k_elements_passes_with_four_forward_calls():
    f = CountingFunction(N)
    report = check_gradient(f, f.x, f.gradient(), seed=7)
    assert report.passed
    assert f.calls == report.n_forward_calls == 4
    assert report.worst_index is None


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda g: 2 * g,
        lambda g: -g,
        lambda g: 1.1 * g,
        lambda g: np.concatenate([g[: g.size // 2], np.zeros(g.size - g.size // 2)]),
    ],
    ids=["factor 2", "sign", "ten percent too large", "second half missing"],
)
def test_wrong_gradient_of_100k_elements_fails(corrupt):
    f = CountingFunction(N)
    report = check_gradient(f, f.x, corrupt(f.gradient()), seed=7)
    assert not report.passed


def test_detection_itself_takes_four_forward_calls():
    f = CountingFunction(N)
    evidence = probe_gradient(f, f.x, 2 * f.gradient(), seed=7, localize_on_failure=False)
    assert f.calls == evidence.n_forward_calls == 4
    assert not assess_gradient(evidence, 2 * f.gradient()).passed


def test_single_wrong_element_is_caught_and_localised_by_bisection():
    f = CountingFunction(N)
    gradient = f.gradient()
    gradient[31_337] += 50.0
    report = check_gradient(f, f.x, gradient, seed=7)
    assert not report.passed
    assert report.worst_index == (31_337,)
    assert abs(report.worst_numeric - f.gradient()[31_337]) < 1e-4
    # Detection (4) + bisection (2 per halving down to 8 candidates: 28) + 8 elements (16).
    assert report.n_forward_calls <= 4 + 2 * 14 + 16


def test_missing_term_is_caught():
    f = CountingFunction(N)
    report = check_gradient(f, f.x, f.A * np.cos(f.x), seed=7)
    assert not report.passed


def test_small_tensor_localises_every_element():
    rng = np.random.default_rng(5)
    M = rng.standard_normal((4, 3))
    W = rng.standard_normal((3, 2))

    def f(w):
        return float(np.sum((M @ w) ** 2))

    gradient = 2 * M.T @ (M @ W)
    gradient[2, 1] *= -1
    report = check_gradient(f, W, gradient, seed=1)
    assert not report.passed and report.worst_index == (2, 1)


def test_the_verdict_is_decided_from_raw_numbers_only():
    f = CountingFunction(1000)
    evidence = probe_gradient(f, f.x, f.gradient(), seed=3)
    assert assess_gradient(evidence, f.gradient()).passed
    # The same forward values do not vouch for a different gradient.
    assert not assess_gradient(evidence, 1.5 * f.gradient()).passed


def test_non_finite_gradient_fails():
    f = CountingFunction(100)
    gradient = f.gradient()
    gradient[3] = np.nan
    assert not check_gradient(f, f.x, gradient, seed=2).passed
