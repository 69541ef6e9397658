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
from .corpus.losses import CORRECT_VARIANTS, MUTATIONS

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
    """A consistent mistake is reported on a check's first case: there N ("N times too large"), K
    ("divided by N*K") and 2 ("the factor 2 of the square") must be different numbers."""
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


#: Variants with one mistake of one convention or edge case: they must lose exactly the checks their
#: corpus entry names (one check, one concept), and keep every other point of the unit.
ISOLATED = (
    "softmax without the max shift",
    "softmax shifted by the batch's max, not each row's",
    "log of the softmax plus 1e-12",
    "log of the softmax clipped at 1e-15",
    "log of the softmax instead of the log-softmax",
    "label smoothing not implemented (label_smoothing ignored)",
    "probability targets not supported (labels only)",
    "label smoothing applied to integer labels only",
    "label smoothing forgotten in backward",
    "L1 subgradient 1 at zero (r >= 0)",
    "Huber ignores delta",
    "BCE in the naive log-sigmoid form",
    "BCE sigmoid as 1 / (1 + exp(-z))",
    "log of the unclamped variance",
    "variance gradient 0 where the clamp is active",
    "variance clamped in place",
    "probability targets smoothed in place (Y *= 1 - eps)",
    "Huber as torch's SmoothL1Loss (divided by delta)",
    "MSE backward scales the cached residual in place and returns it",
)


@pytest.mark.parametrize("part, variant", CORRECT_VARIANTS, ids=[v.name for _, v in CORRECT_VARIANTS])
def test_correct_code_in_another_style_keeps_every_point_of_its_part(part, variant, tmp_path):
    """Summation order, np.float64 instead of float, logaddexp, a loop over rows: none may cost a point."""
    report = api.grade(variant.apply(SOLUTIONS, tmp_path / "s"), parts=[part])
    assert report.results and all(r.passed for r in report.results), [(r.id, r.message) for r in report.results
                                                                      if not r.passed]


@pytest.mark.parametrize("name", ISOLATED)
def test_one_mistake_loses_exactly_its_own_checks(name, tmp_path):
    mutation = next(m for m in MUTATIONS if m.name == name)
    report = assert_caught_with_hints(mutation, tmp_path, parts=["losses"])
    failed = {result.id for result in report.results if not result.passed}
    assert failed == set(mutation.must_fail), name
    assert report.score == report.max_score - sum(r.max_score for r in report.results if r.id in failed)


def test_correct_ce_without_label_smoothing_earns_everything_else(tmp_path):
    """The review's case: a correct, stable CE whose label_smoothing is ignored. It must earn the
    plain, target and stability checks, and lose the four label-smoothing checks only (7 points)."""
    mutation = next(m for m in MUTATIONS if m.name == "label smoothing not implemented (label_smoothing ignored)")
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=["losses.ce", "losses.relative_logits"])
    results = results_by_id(report)
    failed = {check_id for check_id, result in results.items() if not result.passed}
    assert failed == {"losses.ce.label_smoothing", "losses.ce.label_smoothing_backward",
                      "losses.ce.label_smoothing_targets", "losses.ce.hidden_label_smoothing"}
    for earned in ("forward", "backward", "targets", "large_logits", "small_probabilities", "row_max",
                   "finite_differences", "hidden", "hidden_targets"):
        assert results[f"losses.ce.{earned}"].passed, earned
    assert report.max_score - report.score == 2 + 1 + 1 + 1


def test_stability_cases_keep_their_concepts_apart():
    """Each stability check's inputs fail for its own mistake only: large gaps share each row's max
    (a batch-wide max is exact there) and keep the true class near the top (no tiny probability);
    the row levels stay below exp's overflow (no shift at all is exact there) but 800 apart (a
    batch-wide max underflows whole rows); the small-probability cases make log(p + 1e-12) wrong."""
    checks = {check.id: check for check in UNITS["losses"].checks}
    for case in [*checks["losses.ce.large_logits"].cases, checks["losses.relative_logits.no_overflow_warnings"].case]:
        Z, Y = case.inputs["Z"], case.inputs["Y"]
        assert np.all(Z.max(axis=1) == Z.max()) and Z.max() >= 1000.0, case.label
        log_p = unit._log_softmax(Z)[np.arange(len(Y)), Y]
        assert log_p.min() > -4.0, case.label  # the true class keeps a probability above e^-4
    for case in checks["losses.ce.row_max"].cases:
        Z = case.inputs["Z"]
        assert Z.max() + np.log(Z.shape[1]) < np.log(np.finfo(np.float64).max), case.label
        with np.errstate(under="ignore"):
            assert np.any(np.all(np.exp(Z - Z.max()) == 0.0, axis=1)), case.label
    for case in checks["losses.ce.small_probabilities"].cases:
        Z, Y = case.inputs["Z"], case.inputs["Y"]
        p = np.exp(unit._log_softmax(Z))[np.arange(len(Y)), Y]
        padded = -np.mean(np.log(p + 1e-12))
        if np.all(p > 0):  # logits of scale 10 and 20: off by more than 10%
            exact = -np.mean(np.log(p))
            assert abs(padded - exact) > 0.1 * exact, case.label
        else:  # a probability that underflows to 0: log(0 + 1e-12) = -27.6 in place of about -1000
            assert -np.mean(unit._log_softmax(Z)[np.arange(len(Y)), Y]) > 10 * padded, case.label
    for check_id in ("losses.ce.large_logits", "losses.ce.small_probabilities", "losses.ce.row_max",
                     "losses.ce.targets", "losses.ce.label_smoothing", "losses.ce.label_smoothing_targets"):
        for case in checks[check_id].cases:
            assert ("label_smoothing" in case.inputs) == ("label_smoothing" in check_id), (check_id, case.label)
            labels = np.ndim(case.inputs["Y"]) == 1
            assert labels == (check_id not in ("losses.ce.targets", "losses.ce.label_smoothing_targets")), case.label


def test_failing_loss_is_named_in_the_exercise_that_runs_it(tmp_path):
    mutation = next(m for m in MUTATIONS if m.name == "L1 gradient without the 1/N")
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=["losses.l1", "losses.outliers"])
    result = results_by_id(report)["losses.outliers.l1_stays_close"]
    assert not result.passed and result.failing_dependencies == ("losses.l1",)
    text = "\n".join(result.feedback_lines())
    assert "losses.l1" in text and "first" in text  # "fix losses.l1 first" / "...losses.l1...: fix that first"
    # the MSE half of the exercise does not run L1Loss and keeps its points
    assert results_by_id(report)["losses.outliers.l2_pulled_away"].passed
