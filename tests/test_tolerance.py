"""The central tolerance policy: what counts as equal, and what a failed comparison reports."""

import numpy as np

from autograder.tolerance import DEFAULT, Tolerance, allclose, compare


def test_equal_arrays_match():
    a = np.arange(6.0).reshape(2, 3)
    assert compare(a, a.copy()).matches


def test_rounding_differences_of_float64_are_accepted():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 20))
    assert allclose(X.mean(axis=0), X.sum(axis=0) / 50)


def test_relative_error_above_rtol_is_rejected():
    expected = np.array([1.0, 2.0, 3.0])
    assert not allclose(expected * (1 + 10 * DEFAULT.rtol), expected)
    assert allclose(expected * (1 + 0.1 * DEFAULT.rtol), expected)


def test_shape_mismatch_never_matches_even_if_broadcastable():
    comparison = compare(np.ones((3, 1)), np.ones(3))
    assert not comparison.matches and not comparison.shape_matches
    assert comparison.received_shape == (3, 1) and comparison.expected_shape == (3,)


def test_nan_and_inf_never_match():
    assert not allclose(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    assert not allclose(np.array([np.inf]), np.array([1e308]))


def test_worst_element_and_relative_error_are_reported():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    received = expected.copy()
    received[1, 0] = 3.3
    comparison = compare(received, expected)
    assert comparison.worst_index == (1, 0)
    assert comparison.worst_expected == 3.0 and comparison.worst_received == 3.3
    assert abs(comparison.relative_error - 0.1) < 1e-12
    assert comparison.n_mismatched == 1 and comparison.n_total == 4


def test_small_element_beside_large_ones_uses_the_floor():
    # A cancellation-sized error on a near-zero entry next to entries of 1e3 is not a mistake...
    expected = np.array([1e3, 1e-9])
    assert allclose(np.array([1e3, 1e-9 + 1e-9]), expected)
    # ...but the same relative error on an array that is small everywhere is.
    assert not allclose(np.array([2e-9, 1e-9]), np.array([1e-9, 1e-9]))


def test_zero_expected_gives_infinite_relative_error_not_a_crash():
    comparison = compare(np.array(1.0), np.array(0.0))
    assert not comparison.matches and comparison.relative_error == float("inf")


def test_custom_tolerance_is_respected():
    loose = Tolerance(rtol=1e-2)
    assert allclose(np.array([1.005]), np.array([1.0]), loose)
    assert not allclose(np.array([1.005]), np.array([1.0]))
