"""Generic diagnosis: each classic mistake is named from the numbers alone."""

import warnings

import numpy as np
import pytest

from autograder import api
from autograder.diagnosis import DiagnosisContext, KnownMistake, diagnose

from .conftest import SOLUTIONS, edited_reference, results_by_id
from .corpus.linear import MUTATIONS

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


# ----------------------------------------------------------------------------- float32, factors, nan


def test_values_rounded_through_float32_are_named():
    hint = diagnose(EXPECTED.astype(np.float32).astype(np.float64), EXPECTED, CONTEXT)
    assert hint == (
        "dW holds float32 numbers (converted back to float64): keep every computation in float64 "
        "(no np.float32, no .astype(np.float32))."
    )


def test_float32_rounding_upstream_is_recognised_by_its_size():
    # What a float32 array upstream leaves in a float64 result: errors near 1e-7 of its scale,
    # not representable in float32 themselves (so only the size tells).
    noise = np.random.default_rng(1).standard_normal(EXPECTED.shape)
    received = EXPECTED + 3e-7 * np.abs(EXPECTED).max() * noise
    hint = diagnose(received, EXPECTED, CONTEXT)
    assert hint.startswith("dW differs from the reference only by about ") and "float32 rounding" in hint
    assert "rows" not in hint  # not "only some rows are wrong"


def test_a_single_number_is_never_called_off_by_an_arbitrary_constant_factor():
    assert diagnose(np.array(0.7471 * 3.0), np.array(3.0), DiagnosisContext("loss", batch_size=4)) is None
    assert diagnose(0.7471 * EXPECTED[0, :2], EXPECTED[0, :2], CONTEXT) is None  # two numbers neither
    # ... but a named constant is still recognised: one number at 1e-6 is no coincidence
    assert "N=4 times too large" in diagnose(np.array(12.0), np.array(3.0), DiagnosisContext("loss", batch_size=4))


def test_huge_values_never_give_a_nan_factor():
    expected = 1e160 * (1.0 + np.random.default_rng(3).random((4, 2)))
    hint = diagnose(1.5 * expected, expected, DiagnosisContext("loss terms", batch_size=4))
    assert hint == "loss terms is off by a constant factor of about 1.5."
    # expected * expected overflows to inf here; the factor is computed on scaled values instead
    assert diagnose(np.array(7e300), np.array(3e160), DiagnosisContext("loss")) is None


def test_diagnosis_prints_no_warning_even_when_warnings_are_errors():
    expected = 1e300 * (1.0 + np.random.default_rng(4).random((3, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):  # the float32 test casts 1e300 to float32: inf, silently
            # rounding errors are scattered: different sizes and signs element by element
            rounding = 3e-7 * np.random.default_rng(5).uniform(-1.0, 1.0, expected.shape)
            hint = diagnose(expected * (1 + rounding), expected, CONTEXT)
            consistent = diagnose(expected * (1 + 3e-7), expected, CONTEXT)
    assert "float32 rounding" in hint
    # one consistent relative offset is a mistake (an eps, a tiny factor), not rounding: no claim
    assert consistent is None


def test_a_consistent_tiny_offset_is_not_called_float32_rounding():
    expected = np.random.default_rng(6).normal(size=(4, 3))
    assert diagnose(expected + 1e-7, expected, CONTEXT) is None  # var + eps where a clamp was due
    assert diagnose(expected * (1 + 1e-6), expected, CONTEXT) is None
    assert diagnose(np.array(3.0 * (1 + 3e-7)), np.array(3.0), CONTEXT) is None  # one number: cannot tell
    float32 = expected.astype(np.float32).astype(np.float64)
    assert "holds float32 numbers" in diagnose(float32, expected, CONTEXT)


def test_only_some_rows_is_claimed_only_for_whole_rows():
    expected = np.random.default_rng(7).normal(size=(5, 4))
    skipped = expected.copy()
    skipped[3] = 0.0  # a loop bound that skips sample 3
    assert "only some rows" in diagnose(skipped, expected, CONTEXT)
    masked = expected.copy()
    masked[1, 2] = masked[3, 0] = 0.0  # scattered elements: a mask or threshold, not a row
    assert diagnose(masked, expected, CONTEXT) is None


# ----------------------------------------------------------------------------- graded: blame upstream first


def _grade_linear(mutation_name, tmp_path):
    mutation = next(m for m in MUTATIONS if m.name == mutation_name)
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "submission"), parts=["linear"])
    return report, results_by_id(report)


def _assert_exactly_failing(report, results, failing):
    assert {r.id for r in report.results if not r.passed} == failing
    assert report.score == report.max_score - sum(results[i].max_score for i in failing)


def test_float32_predict_is_blamed_on_predict(tmp_path):
    report, results = _grade_linear("predict returns float32", tmp_path)
    _assert_exactly_failing(report, results, {
        "linear.predict.returns_array", "linear.gradients.values", "linear.gradients.finite_differences",
        "linear.gradients.hidden",
    })
    predict_problem = results["linear.predict.returns_array"].hint
    for check_id in ("linear.gradients.values", "linear.gradients.finite_differences", "linear.gradients.hidden"):
        assert results[check_id].hint == f"fix linear.predict first: {predict_problem}", check_id
        assert results[check_id].failing_dependencies == ("linear.predict",)


def test_squeezed_predict_is_blamed_on_predict_and_blocks_the_gradient_check(tmp_path):
    report, results = _grade_linear("predict squeezes a single output column away", tmp_path)
    _assert_exactly_failing(report, results, {
        "linear.predict.values", "linear.predict.hidden", "linear.gradients.values",
        "linear.gradients.finite_differences", "linear.gradients.hidden",
    })
    shape = "Y_hat has the right numbers in the wrong shape: expected (8, 1), got (8,)."
    assert results["linear.predict.values"].hint == shape
    assert results["linear.gradients.values"].hint == f"fix linear.predict first: {shape}"
    blocked = results["linear.gradients.finite_differences"]
    assert (blocked.message, blocked.hint, blocked.score) == (
        "blocked: fix linear.predict first", f"linear.predict: {shape}", 0.0
    )
    assert "batch axis" not in "\n".join(results["linear.gradients.values"].feedback_lines())


#: Numbers that make the grader's own arithmetic overflow: an inf forward (the gradient check then
#: subtracts inf from inf) and a loss near 1e301 off by float32-sized rounding (the diagnosis then
#: casts it to float32).
NAN_PRODUCING = {
    "return X @ W + b\n": "return (X @ W + b) * 1e300 * 1e300\n",
    "return float(np.sum(residual * residual) / Y.shape[0])":
        "return float(np.sum(residual * residual) / Y.shape[0]) * (1 + 3e-7)",
}


def test_grading_nan_and_inf_prints_no_grader_warning(tmp_path, capfd):
    folder = edited_reference(tmp_path / "submission", "linear_model", NAN_PRODUCING)
    capfd.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning raised by the grader would now fail its check
        with np.errstate(all="raise"):
            report = api.grade(folder, parts=["linear"])
    parent_stderr = capfd.readouterr().err
    assert "Warning" not in parent_stderr
    messages = "\n".join(line for r in report.results for line in [r.message, r.hint or "", *r.details])
    assert "could not be graded" not in messages and "Warning" not in messages
    assert "nan" not in " ".join(r.hint or "" for r in report.results).replace("NaN", "")
    results = results_by_id(report)
    assert results["linear.predict.values"].hint.startswith("Y_hat contains inf or NaN")
    # one number off by 3e-7 of itself: rounding or a tiny factor cannot be told apart, so no hint
    assert not results["linear.loss.huge_values"].passed and results["linear.loss.huge_values"].hint is None
