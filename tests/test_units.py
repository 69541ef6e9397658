"""What every unit promises, checked for all of them: the reference scores full marks, the stubs
score 0 with every check "not implemented yet (<function>)", public and hidden checks, and a corpus
of buggy variants (each unit's own test module proves the variants' hints)."""

from __future__ import annotations

import importlib

import pytest

from autograder.results import ResultStatus
from autograder.units import UNITS

MINIMUM_CORPUS = 10


def unit_results(report, unit: str):
    return [result for result in report.results if result.unit == unit]


@pytest.mark.parametrize("unit", list(UNITS))
def test_reference_scores_full_marks(reference_report, unit):
    results = unit_results(reference_report, unit)
    assert [(r.id, r.message, r.hint) for r in results if not r.passed] == []
    assert sum(r.score for r in results) == sum(r.max_score for r in results) > 0


@pytest.mark.parametrize("unit", list(UNITS))
def test_stubs_score_zero_and_name_what_to_write(stub_report, unit):
    for result in unit_results(stub_report, unit):
        assert result.score == 0
        assert result.status is ResultStatus.NOT_IMPLEMENTED, (result.id, result.message)
        assert result.message.startswith("not implemented yet ("), result.message


@pytest.mark.parametrize("unit", list(UNITS))
def test_unit_has_public_and_hidden_checks(unit):
    assert {check.visibility.value for check in UNITS[unit].checks} == {"public", "hidden"}


@pytest.mark.parametrize("unit", list(UNITS))
def test_unit_has_a_corpus_of_buggy_variants(unit):
    corpus = importlib.import_module(f"tests.corpus.{unit}").MUTATIONS
    assert len(corpus) >= MINIMUM_CORPUS
    checks = {check.id for check in UNITS[unit].checks}
    for mutation in corpus:
        assert mutation.must_fail and set(mutation.must_fail) <= checks, mutation.name


@pytest.mark.parametrize("unit", list(UNITS))
def test_hidden_checks_come_from_the_units_hidden_module(unit):
    """A unit declares its public checks in units/<unit>.py and its hidden ones in
    units/hidden/<unit>.py, so that the student release can leave every hidden check out."""
    public_module = importlib.import_module(f"autograder.units.{unit}")
    hidden_module = importlib.import_module(f"autograder.units.hidden.{unit}")
    assert all(check.visibility.value == "public" for check in public_module.UNIT.checks)
    assert hidden_module.CHECKS and all(check.visibility.value == "hidden" for check in hidden_module.CHECKS)
    registered = {check.id: check for check in UNITS[unit].checks if check.visibility.value == "hidden"}
    assert registered == {check.id: check for check in hidden_module.CHECKS}
    # each part lists its public checks first, then its hidden ones
    for part in UNITS[unit].parts:
        kinds = [check.visibility.value for check in UNITS[unit].checks if check.part == part]
        assert kinds == sorted(kinds, key=("public", "hidden").index), part
