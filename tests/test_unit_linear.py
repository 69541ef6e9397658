"""Unit 1: every buggy variant in the corpus loses points with the hint a student needs (full marks
for the reference and 0 for the stubs: tests/test_units.py, for every unit)."""

from __future__ import annotations

import pytest

from autograder import api
from autograder.units import UNITS

from .conftest import SOLUTIONS, assert_caught_with_hints, results_by_id
from .corpus.linear import CORRECT_VARIANTS, MUTATIONS


def test_unit_has_six_parts():
    assert UNITS["linear"].parts == [
        "linear.predict", "linear.loss", "linear.gradients", "linear.step", "linear.fit", "linear.collapse"
    ]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_buggy_variant_loses_points_with_the_right_hint(mutation, tmp_path):
    assert_caught_with_hints(mutation, tmp_path, parts=["linear"])


def test_failing_dependency_is_named_in_dependent_checks(tmp_path):
    mutation = next(m for m in MUTATIONS if m.name == "missing 1/N in the gradient")
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=["linear.fit"])
    # Only fit was selected, so the dependency is unknown: no note.
    assert all(not r.failing_dependencies for r in report.results)
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "t"), parts=["linear"])
    history = results_by_id(report)["linear.fit.history"]
    assert not history.passed and history.failing_dependencies == ("linear.gradients",)
    assert history.hint == "fix linear.gradients first: dW is N=5 times too large (N is the batch size): divide by N exactly once."


@pytest.mark.parametrize("part, variant", CORRECT_VARIANTS, ids=[v.name for _, v in CORRECT_VARIANTS])
def test_correct_but_unusual_code_keeps_every_point_of_its_part(part, variant, tmp_path):
    report = api.grade(variant.apply(SOLUTIONS, tmp_path / "s"), parts=[part])
    assert report.results and all(r.passed for r in report.results), [(r.id, r.message) for r in report.results
                                                                      if not r.passed]


def test_predict_returning_a_list_costs_the_contract_check_only(tmp_path):
    """The value checks convert what predict returns, so a list of the right numbers passes them;
    the contract check sees the type itself."""
    mutation = next(m for m in MUTATIONS if m.name == "predict returns a Python list")
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=["linear.predict"])
    assert {r.id for r in report.results if not r.passed} == {"linear.predict.returns_array"}


@pytest.mark.parametrize("kind, dtype, fragment", [
    ("builtins.tuple", "", "returned a tuple"),
    ("numpy.matrix", "float64", "not np.matrix"),
    ("numpy.ndarray", "float32", "dtype float32"),
    ("numpy.ndarray", "int64", "dtype int64"),
    ("numpy.float64", "float64", "returned a numpy.float64"),
])
def test_predict_contract_judge_names_what_came_back(kind, dtype, fragment):
    check = next(c for c in UNITS["linear"].checks if c.id == "linear.predict.returns_array")
    verdict = check.judge({"type": kind, "dtype": dtype}, None)
    assert not verdict.passed and fragment in f"{verdict.message} {verdict.hint}"
    assert check.judge({"type": "numpy.ndarray", "dtype": "float64"}, None).passed
    assert not check.judge({}, None).passed  # no evidence, no points
