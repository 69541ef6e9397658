"""Shared fixtures: the repository's folders and a grading helper for submission folders."""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from autograder import api
from autograder.paths import REPOSITORY
from autograder.stubs import write_assignments

SOLUTIONS = REPOSITORY / "solutions"
# The working copy's assignments/: a student fills it in, so only the one sync test reads it
# (tests/test_stubs.py::test_assignments_are_in_sync_with_solutions, which guards the committed stubs).
WORKING_ASSIGNMENTS = REPOSITORY / "assignments"


def _generate_stubs() -> Path:
    """Fresh stubs (and student notebooks) generated from solutions/, exactly what `autograder stubs`
    writes: every other test grades these, so the tests pass however far a student has got."""
    root = Path(tempfile.mkdtemp(prefix="autograder-test-stubs-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    write_assignments(SOLUTIONS, root / "assignments")
    return root / "assignments"


ASSIGNMENTS = _generate_stubs()


@pytest.fixture(scope="session")
def reference_report():
    return api.grade(SOLUTIONS)


@pytest.fixture(scope="session")
def stub_report():
    return api.grade(ASSIGNMENTS)


def results_by_id(report):
    return {result.id: result for result in report.results}


def feedback_text(result) -> str:
    return "\n".join([result.message, result.hint or "", *result.details]).lower()


def assert_caught_with_hints(mutation, tmp_path, parts):
    """Grades ``mutation`` applied to the reference on ``parts``: it must lose points, and every
    check it names must fail with its promised hint fragment. The body of every unit's corpus test."""
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "submission"), parts=parts)
    assert report.score < report.max_score
    results = results_by_id(report)
    for check_id, fragment in mutation.must_fail.items():
        result = results[check_id]
        assert not result.passed, f"{check_id} passed for {mutation.name!r}"
        assert fragment.lower() in feedback_text(result), (check_id, result.message, result.hint)
    return report


def load_reference(name: str):
    """Imports solutions/<name>.py in-process under a private name (for oracle tests only)."""
    module_name = f"reference_{name}"
    spec = importlib.util.spec_from_file_location(module_name, SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: dataclasses look their module up in sys.modules.
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def edited_reference(folder, module: str, replacements: dict[str, str]):
    """A copy of the reference at ``folder`` whose ``module``.py has each ``find`` (present exactly
    once) replaced: a submission with one deliberate edit."""
    import shutil

    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / f"{module}.py"
    source = path.read_text()
    for find, replace in replacements.items():
        assert source.count(find) == 1, find
        source = source.replace(find, replace)
    path.write_text(source)
    return folder
