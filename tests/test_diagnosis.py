"""Generic diagnosis: each classic mistake is named from the numbers alone."""

import numpy as np
import pytest

from autograder.diagnosis import DiagnosisContext, KnownMistake, diagnose

RNG = np.random.default_rng(42)
EXPECTED = RNG.standard_normal((5, 3))
CONTEXT = DiagnosisContext("dW", batch_size=5)


@pytest.mark.parametrize(
    "received, fragment",
    [
        (-EXPECTED, "opposite sign"),
        (5 * EXPECTED, "N=5 times too large"),
        (EXPECTED / 5, "N=5 times too small"),
        (2 * EXPECTED, "twice too large"),
        (0.5 * EXPECTED, "factor 2"),
        (-2 * EXPECTED, "wrong sign and is off by a factor of 2"),
        (3.7 * EXPECTED, "constant factor of about 3.7"),
        (EXPECTED.T, "transposed"),
        (np.zeros_like(EXPECTED), "all zeros"),
        (EXPECTED.reshape(3, 5), "right numbers in the wrong shape"),
        (EXPECTED.astype(np.float32), "float32"),
    ],
)
def test_generic_hints(received, fragment):
    hint = diagnose(received, EXPECTED, CONTEXT)
    assert hint is not None and fragment in hint


def test_rows_partially_wrong_are_named():
    received = EXPECTED.copy()
    received[[1, 3]] += 1.0
    hint = diagnose(received, EXPECTED, CONTEXT)
    assert "rows 1, 3" in hint


def test_unsummed_batch_axis():
    hint = diagnose(np.ones((5, 3)), np.ones(3), DiagnosisContext("db", batch_size=5))
    assert "batch axis" in hint and "axis=0" in hint


def test_nan_is_located():
    received = EXPECTED.copy()
    received[2, 1] = np.nan
    assert "index (2, 1)" in diagnose(received, EXPECTED, CONTEXT)


def test_scalar_expected_but_array_received():
    hint = diagnose(np.ones(4), np.array(3.0), DiagnosisContext("loss", batch_size=4))
    assert "single number" in hint


def test_known_mistake_is_preferred_over_generic_hints():
    mistake = KnownMistake("dW", "you forgot X", lambda inputs, expected: 2 * expected)
    hint = diagnose(2 * EXPECTED, EXPECTED, CONTEXT, inputs={}, known_mistakes=(mistake,))
    assert hint == "you forgot X"


def test_unexplained_difference_gives_no_hint():
    assert diagnose(RNG.standard_normal((5, 3)), EXPECTED, CONTEXT) is None


def test_sequence_that_drifts_after_some_steps():
    expected = np.linspace(1.0, 0.1, 10)
    received = expected.copy()
    received[4:] *= 1.5
    assert "first 4 entries and differs from index 4 on" in diagnose(received, expected, DiagnosisContext("losses"))
