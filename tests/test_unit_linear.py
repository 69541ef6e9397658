"""Unit 1: every buggy variant in the corpus loses points with the hint a student needs (full marks
for the reference and 0 for the stubs: tests/test_units.py, for every unit)."""

from __future__ import annotations

import pytest

from autograder import api
from autograder.units import UNITS

from .conftest import SOLUTIONS, assert_caught_with_hints, results_by_id
from .corpus.linear import MUTATIONS


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
    assert "fix that first" in "\n".join(history.feedback_lines())
