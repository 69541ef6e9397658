"""Unit 1: the reference scores full marks, the stubs score 0, and every buggy variant in the
corpus loses points with the hint a student needs."""

from __future__ import annotations

import pytest

from autograder import api
from autograder.results import ResultStatus
from autograder.units import UNITS

from .conftest import SOLUTIONS, assert_caught_with_hints, results_by_id
from .corpus.linear import MUTATIONS


def test_reference_scores_full_marks(reference_report):
    failed = [(r.id, r.message, r.hint) for r in reference_report.results if not r.passed]
    assert failed == []
    assert reference_report.score == reference_report.max_score > 0


def test_stubs_score_zero_and_say_not_implemented(stub_report):
    assert stub_report.score == 0
    for result in stub_report.results:
        assert result.status is ResultStatus.NOT_IMPLEMENTED, (result.id, result.message)
        assert result.message.startswith("not implemented yet (")


def test_unit_has_public_and_hidden_checks():
    checks = UNITS["linear"].checks
    assert {c.visibility.value for c in checks} == {"public", "hidden"}
    assert len({c.part for c in checks}) == 6


def test_corpus_is_large_enough():
    assert len(MUTATIONS) >= 10


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
