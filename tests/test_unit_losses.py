"""Unit 3 (losses): the reference scores full marks, the stubs score 0, every buggy variant in the
corpus loses points with the hint a student needs, and the checks' inputs keep their promises."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import api
from autograder.evidence import GradientCheck, call_recording_warnings
from autograder.gradcheck import finite_difference_step
from autograder.units import UNITS
from autograder.units import losses as unit

from .conftest import (
    SOLUTIONS,
    assert_caught_with_hints,
    load_reference,
    results_by_id,
)
from .corpus.losses import MUTATIONS

LOSS_PARTS = ("mse", "l1", "huber", "ce", "bce", "gaussian_nll")
EXERCISE_PARTS = ("outliers", "relative_logits", "gaussian_mle")


def test_unit_has_the_promised_parts_and_hidden_checks_for_every_loss():
    checks = UNITS["losses"].checks
    assert UNITS["losses"].parts == [f"losses.{part}" for part in LOSS_PARTS + EXERCISE_PARTS]
    hidden = {check.part for check in checks if check.visibility.value == "hidden"}
    assert hidden == {f"losses.{part}" for part in LOSS_PARTS}
    for part in LOSS_PARTS:  # every backward is held to finite differences of its own forward
        assert any(isinstance(c, GradientCheck) and c.part == f"losses.{part}" for c in checks), part


def test_exercises_name_the_parts_they_run():
    depends = {check.id: check.depends_on for check in UNITS["losses"].checks}
    assert depends["losses.outliers.l1_stays_close"] == ("losses.l1",)
    assert depends["losses.outliers.l2_pulled_away"] == ("losses.mse",)
    assert depends["losses.gaussian_mle.unit_variance"] == ("losses.mse", "losses.gaussian_nll")
    assert depends["losses.relative_logits.no_overflow_warnings"] == ("losses.ce",)


def test_gradient_checks_step_over_no_kink_and_no_clamp():
    """L1 at r = 0, Huber at |r| = delta, the variance below eps: finite differences there would
    disagree with a correct backward. The cases keep every element far from them, by construction."""
    checks = {check.id: check for check in UNITS["losses"].checks}
    for check_id, kink_of in (
        ("losses.l1.finite_differences", lambda inputs: 0.0),
        ("losses.huber.finite_differences", lambda inputs: inputs.get("delta", 1.0)),
    ):
        for case in checks[check_id].cases:
            inputs = case.inputs
            distance = np.abs(np.abs(inputs["Y_hat"] - inputs["Y"]) - kink_of(inputs))
            # Directions have unit norm, so no element moves by more than the step h: a distance
            # above h keeps both evaluations on one smooth piece; demand a hundredfold margin.
            assert distance.min() > 100 * finite_difference_step(inputs["Y_hat"]), (check_id, case.label)
    learned = [c.inputs for c in checks["losses.gaussian_nll.finite_differences"].cases if "var" in c.inputs]
    assert learned
    for inputs in learned:  # even after a step of h, var stays above the clamp
        assert inputs["var"].min() - finite_difference_step(inputs["var"]) > inputs.get("eps", 1e-6)


def test_clamp_cases_really_exercise_the_clamp():
    for case in unit.GAUSSIAN_CLAMP:
        below = case.inputs["var"] < case.inputs.get("eps", 1e-6)
        assert below.any() and (~below).any() and (case.inputs["var"] == 0).any(), case.label


def test_tied_cases_hold_exact_zero_residuals():
    check = next(c for c in UNITS["losses"].checks if c.id == "losses.l1.zero_residual")
    for case in check.cases:
        assert (case.inputs["Y_hat"] == case.inputs["Y"]).any(), case.label


def test_first_cases_keep_the_batch_size_the_width_and_2_apart():
    """A consistent mistake is reported on a check's first case: there N ("N times too large"), D
    ("divided by N*D") and 2 ("the factor 2 of the square") must be different numbers."""
    for check in UNITS["losses"].checks:
        cases = getattr(check, "cases", None)
        if not cases:
            continue
        prediction = next((cases[0].inputs[k] for k in ("Y_hat", "Z", "mu") if k in cases[0].inputs), None)
        if prediction is not None:
            n, d = prediction.shape
            assert n >= 3 and d not in (2, n), (check.id, cases[0].label)


def test_reference_at_extreme_logits_raises_no_warning():
    """A stable softmax meets exp(-20000) == 0 by design: call_recording_warnings leaves underflow
    out, and nothing else is raised."""
    losses = load_reference("losses")
    Z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]])
    for loss, Y in ((losses.CrossEntropyLoss(0.1), np.array([1, 0])), (losses.BCEWithLogitsLoss(), np.ones_like(Z))):
        (value, grad), caught = call_recording_warnings(lambda: (loss.forward(Z, Y), loss.backward()))
        assert np.isfinite(value) and np.all(np.isfinite(grad))
        assert caught == []
    _, caught = call_recording_warnings(lambda: np.exp(np.array([1e4])))
    assert any("overflow encountered in exp" in text for text in caught)


def test_corpus_is_large_enough():
    assert len(MUTATIONS) >= 14


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_buggy_variant_loses_points_with_the_right_hint(mutation, tmp_path):
    assert_caught_with_hints(mutation, tmp_path, parts=["losses"])


def test_failing_loss_is_named_in_the_exercise_that_runs_it(tmp_path):
    mutation = next(m for m in MUTATIONS if m.name == "L1 gradient without the 1/N")
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=["losses.l1", "losses.outliers"])
    result = results_by_id(report)["losses.outliers.l1_stays_close"]
    assert not result.passed and result.failing_dependencies == ("losses.l1",)
    assert "fix that first" in "\n".join(result.feedback_lines())
    # the MSE half of the exercise does not run L1Loss and keeps its points
    assert results_by_id(report)["losses.outliers.l2_pulled_away"].passed
