"""nbgrader's "checksum has changed" warnings: none for honest work, one for an edited locked cell.

nbgrader keeps the checksum of every locked cell of the *source* notebook in the gradebook and, at
autograde, warns for each locked cell of a submission whose checksum differs (then puts the source's
text back). A test cell with a ``### BEGIN HIDDEN TESTS`` region differs between the source and the
release by construction, so it used to warn for every student: 39 false alarms per student for the
whole course (nbgrader issue 1961), which buried the one warning that matters, a student who edited
a locked given cell. The generated test cells are now the same text everywhere (build.test_cell_source).
"""

from __future__ import annotations

import json

import pytest

from autograder.notebooks import build
from autograder.notebooks.cells import module_cells, notebook_name
from autograder.units import UNITS

from .nbgrader_course import (ASSIGNMENT, KERNEL_AUTOGRADE, MODULE, NOTEBOOK, checksum_warnings, exported_scores,
                              fill, init_course, nbgrader, points, read_notebook)

pytest.importorskip("nbgrader")

#: Autograde's checks of locked cells run before execution; without execution they take seconds.
NO_EXECUTION = "--Autograde.autograde_preprocessors=[]"


def _submit(course, student: str, notebooks: dict[str, dict]) -> None:
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for name, document in notebooks.items():
        (folder / name).write_text(json.dumps(document), encoding="utf-8")


def _first_given_cell(document: dict, module: str) -> dict:
    return next(cell for _, cell, _ in module_cells(document, module)
                if cell["metadata"]["nbgrader"]["locked"] and not cell["metadata"]["nbgrader"]["solution"])


@pytest.fixture(scope="module")
def whole_course(tmp_path_factory):
    """Every unit's notebooks, released; three students handed in."""
    course = tmp_path_factory.mktemp("checksums") / "course"
    init_course(course)
    nbgrader(course, "generate_assignment", ASSIGNMENT)
    names = [notebook_name(index, unit.module) for index, unit in enumerate(UNITS.values(), start=1)]
    release = {name: read_notebook(course / "release" / ASSIGNMENT / name) for name in names}
    source = {name: read_notebook(course / "source" / ASSIGNMENT / name) for name in names}
    modules = {notebook_name(index, unit.module): unit.module for index, unit in enumerate(UNITS.values(), start=1)}

    _submit(course, "untouched", release)
    honest = {name: fill(json.loads(json.dumps(document)), source[name], None, modules[name])
              for name, document in release.items()}
    for document in honest.values():  # a scratch cell of the student's own: not nbgrader's business
        document["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                                  "source": "print('trying things out')"})
    _submit(course, "honest", honest)
    tampered = json.loads(json.dumps(honest))
    given = _first_given_cell(tampered[NOTEBOOK], MODULE)
    given["source"] = "".join(given["source"]) + "\nimport numpy as np  # the student's edit of a read-only cell\n"
    _submit(course, "tampered", tampered)
    return course, given["metadata"]["nbgrader"]["grade_id"], _first_given_cell(source[NOTEBOOK], MODULE)


def _autograde_warnings(course, student: str) -> list[str]:
    run = nbgrader(course, "autograde", ASSIGNMENT, "--create", "--student", student, NO_EXECUTION)
    return checksum_warnings(run.stdout + run.stderr)


@pytest.mark.parametrize("student", ["untouched", "honest"])
def test_an_honest_student_gets_no_checksum_warning_in_any_unit(whole_course, student):
    course, _, _ = whole_course
    assert _autograde_warnings(course, student) == []
    assert len(list((course / "autograded" / student / ASSIGNMENT).glob("*.ipynb"))) == len(UNITS)


def test_an_edited_locked_cell_gets_its_warning_and_is_put_back(whole_course):
    course, edited_id, original = whole_course
    assert _autograde_warnings(course, "tampered") == [edited_id]
    graded = read_notebook(course / "autograded" / "tampered" / ASSIGNMENT / NOTEBOOK)
    restored = next(cell for cell in graded["cells"]
                    if (cell["metadata"].get("nbgrader") or {}).get("grade_id") == edited_id)
    assert "".join(restored["source"]) == "".join(original["source"])


@pytest.mark.parametrize("execution, checks", [(None, "public"), ("validate", "public"), ("autograde", "all")])
def test_a_test_cell_runs_the_hidden_checks_under_nbgrader_autograde_only(monkeypatch, execution, checks):
    """The switch that replaced the hidden-tests region, run as the kernel runs it."""
    import autograder.notebooks.grade_cell as grade_cell

    calls = []
    monkeypatch.setattr(grade_cell, "grade_part", lambda part, which="public": calls.append((part, which)))
    if execution is None:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    else:
        monkeypatch.setenv("NBGRADER_EXECUTION", execution)
    for part in UNITS["linear"].parts:
        exec(build.test_cell_source(part, 1.0, has_hidden=True), {})  # noqa: S102 (our own generated cell)
    assert calls == [(part, checks) for part in UNITS["linear"].parts]
    calls.clear()
    exec(build.test_cell_source("linear.fit", 1.0, has_hidden=False), {})  # noqa: S102
    assert calls == [("linear.fit", "public")]


def test_kernel_autograde_still_runs_the_hidden_checks_and_stays_quiet(tmp_path):
    """With nbgrader's own kernel execution, the reference solution earns every point, the hidden
    checks' included, and no checksum warning is logged."""
    hidden = points(*{check.part for check in UNITS["linear"].checks if check.visibility.name == "HIDDEN"})
    assert hidden > 0
    course = tmp_path / "course"
    init_course(course, "--unit", "linear")
    nbgrader(course, "generate_assignment", ASSIGNMENT)
    reference = fill(read_notebook(course / "release" / ASSIGNMENT / NOTEBOOK),
                     read_notebook(course / "source" / ASSIGNMENT / NOTEBOOK), None)
    _submit(course, "reference", {NOTEBOOK: reference})
    run = nbgrader(course, "autograde", ASSIGNMENT, "--create", KERNEL_AUTOGRADE)
    assert checksum_warnings(run.stdout + run.stderr) == []
    assert exported_scores(course) == {"reference": points(*UNITS["linear"].parts)}
