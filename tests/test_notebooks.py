"""The course as notebooks: cut into cells, built from lessons, graded as the modules they hold."""

from __future__ import annotations

import ast
import json
import shutil
import sys
from pathlib import Path

import pytest

from autograder import api, cli
from autograder.checks import Visibility
from autograder.notebooks import build
from autograder.notebooks.build import LessonError, build_notebook, course_notebooks
from autograder.notebooks.cells import dumps, module_cells
from autograder.notebooks.chunks import join_chunks, split_module
from autograder.notebooks.grade_cell import grade_part
from autograder.notebooks.kernel import import_notebooks_as_modules
from autograder.stubs import make_stub, solution_regions
from autograder.units import UNITS

from .conftest import ASSIGNMENTS, SOLUTIONS
from .corpus.linear import MUTATIONS as LINEAR_MUTATIONS


def _write_course_notebooks(folder: Path, solutions: Path = SOLUTIONS, *, student: bool, units=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in course_notebooks(solutions, student=student, units=units).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _scores(report) -> dict[str, float]:
    return {result.id: result.score for result in report.results}


@pytest.mark.parametrize("unit", list(UNITS.values()), ids=list(UNITS))
def test_the_chunks_of_a_module_are_the_module(unit):
    source = (SOLUTIONS / f"{unit.module}.py").read_text(encoding="utf-8")
    chunks = split_module(source, unit.module)
    assert ast.dump(ast.parse(join_chunks([chunk.source for chunk in chunks]))) == ast.dump(ast.parse(source))
    # A chunk never starts inside a definition, and every solution region sits in an answer chunk.
    assert all(not chunk.source[0].isspace() for chunk in chunks)
    answers = "\n".join(chunk.source for chunk in chunks if chunk.is_answer)
    for region in solution_regions(source):
        assert "\n".join(region.body) in answers


def test_building_is_deterministic_and_assignments_hold_the_student_notebooks():
    first = course_notebooks(SOLUTIONS, student=True)
    assert first == course_notebooks(SOLUTIONS, student=True)
    for name, text in first.items():
        assert (ASSIGNMENTS / "notebooks" / name).read_text(encoding="utf-8") == text, (
            f"assignments/notebooks/{name} is stale: run `autograder stubs`"
        )


def test_student_notebooks_hold_no_solution_and_no_hidden_test():
    for unit in UNITS.values():
        source = (SOLUTIONS / f"{unit.module}.py").read_text(encoding="utf-8")
        student = build_notebook(unit, 1, source, student=True)
        teacher = build_notebook(unit, 1, source, student=False)
        student_text = dumps(student)
        assert build.BEGIN_HIDDEN not in student_text and "### BEGIN SOLUTION" not in student_text
        # Test cells are identical in both flavours (no hidden-tests region: nbgrader's checksums);
        # a part with hidden checks switches to them under nbgrader autograde only.
        tests = [[cell for cell in notebook["cells"] if "test" in cell["metadata"].get("autograder", {})]
                 for notebook in (student, teacher)]
        assert tests[0] == tests[1]
        assert any(build.AUTOGRADE_ALL_CHECKS in "".join(cell["source"]).splitlines() for cell in tests[0]) == any(
            check.visibility is Visibility.HIDDEN for check in unit.checks
        )
        given = {line.strip() for line in make_stub(source).splitlines()}  # lines students get anyway
        for region in solution_regions(source):
            body = [line.strip() for line in region.body if len(line.strip()) > 20 and line.strip() not in given]
            student_lines = {line.strip() for cell in student["cells"] for line in "".join(cell["source"]).splitlines()}
            leaked = [line for line in body if line in student_lines]
            assert not leaked, f"{unit.name}: {region.owner} leaks {leaked[:2]}"


def test_test_cells_carry_the_points_of_their_part_and_nbgrader_metadata():
    unit = UNITS["linear"]
    document = build_notebook(unit, 1, (SOLUTIONS / "linear_model.py").read_text(), student=False)
    tests = {cell["metadata"]["autograder"]["test"]: cell for cell in document["cells"]
             if "test" in cell["metadata"].get("autograder", {})}
    assert list(tests) == unit.parts
    for part, cell in tests.items():
        grader = cell["metadata"]["nbgrader"]
        assert grader["grade"] and grader["locked"] and not grader["solution"]
        assert grader["points"] == sum(check.points for check in unit.checks if check.part == part)
    answers = [cell for cell in document["cells"] if cell["metadata"].get("nbgrader", {}).get("solution")]
    assert {cell["metadata"]["autograder"]["chunk"] for cell in answers} >= {"predict", "fit"}


@pytest.mark.parametrize("lesson, message", [
    ("@@ code header\n@@ test linear.predict\n", "does not place the chunks"),
    ("@@ code predict header\n", "out of file order"),
    ("@@ code no_such_function\n", "has no top-level 'no_such_function'"),
    ("@@ code header\n@@ test linear.nothing\n", "not an untested part"),
])
def test_a_lesson_that_does_not_match_its_module_is_refused(lesson, message, tmp_path, monkeypatch):
    (tmp_path / "linear.md").write_text(lesson, encoding="utf-8")
    monkeypatch.setattr(build, "LESSONS", tmp_path)
    with pytest.raises(LessonError, match=message):
        build_notebook(UNITS["linear"], 1, (SOLUTIONS / "linear_model.py").read_text(), student=True)


def test_a_unit_without_a_lesson_gets_a_plain_notebook(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "LESSONS", tmp_path)
    document = build_notebook(UNITS["linear"], 1, (SOLUTIONS / "linear_model.py").read_text(), student=True)
    tests = [cell for cell in document["cells"] if "test" in cell["metadata"].get("autograder", {})]
    assert len(tests) == len(UNITS["linear"].parts)


# ----------------------------------------------------------------------------- graded as modules


def test_reference_and_untouched_notebooks_score_as_their_modules(tmp_path, reference_report, stub_report):
    filled = api.grade(_write_course_notebooks(tmp_path / "filled", student=False))
    assert _scores(filled) == _scores(reference_report)
    assert "graded the code cells of the notebooks 01_linear_model.ipynb" in filled.notes[0]
    untouched = api.grade(ASSIGNMENTS / "notebooks")
    assert untouched.score == 0 and _scores(untouched) == _scores(stub_report)


@pytest.mark.parametrize("mutation", LINEAR_MUTATIONS[:6], ids=[m.name for m in LINEAR_MUTATIONS[:6]])
def test_the_same_buggy_code_scores_the_same_as_py_and_as_notebook(mutation, tmp_path):
    modules = mutation.apply(SOLUTIONS, tmp_path / "py")
    notebooks = _write_course_notebooks(tmp_path / "nb", modules, student=False, units=["linear"])
    as_py = api.grade(modules, parts=["linear"])
    as_notebook = api.grade(notebooks, parts=["linear"])
    assert as_py.score < as_py.max_score
    assert _scores(as_notebook) == _scores(as_py)


def _edit(path: Path, change) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def _linear_cell_positions(document) -> dict[str, int]:
    return {tag["chunk"]: position for position, _, tag in module_cells(document, "linear_model")}


def _delete_cell(document):
    del document["cells"][_linear_cell_positions(document)["predict"]]


def _swap_cells(document):
    positions = _linear_cell_positions(document)
    cells = document["cells"]
    cells[positions["predict"]], cells[positions["fit"]] = cells[positions["fit"]], cells[positions["predict"]]


def _duplicate_cell(document):
    position = _linear_cell_positions(document)["fit"]
    document["cells"].insert(position, dict(document["cells"][position]))


@pytest.mark.parametrize("damage, message", [
    (lambda path: path.write_text('{"cells": [', encoding="utf-8"), "is not a valid notebook (broken JSON at line 1"),
    (lambda path: path.write_bytes(b"\xff\xfe\x00binary"), "is not UTF-8 text"),
    (lambda path: path.write_text("[1, 2]", encoding="utf-8"), "not a Jupyter notebook"),
    (lambda path: _edit(path, _delete_cell), "were deleted (the first missing is cell 4 of"),
    (lambda path: _edit(path, _swap_cells), "reordered: the cell for 'mse_loss' now comes after the cell for 'fit'"),
    (lambda path: _edit(path, _duplicate_cell), "the cell for 'fit' appears 2 times"),
])
def test_a_damaged_notebook_gets_a_clear_message_and_the_others_are_still_graded(damage, message, tmp_path):
    folder = _write_course_notebooks(tmp_path / "nb", student=False, units=["linear", "losses"])
    damage(folder / "01_linear_model.ipynb")
    report = api.grade(folder, parts=["linear", "losses"])
    linear = [result for result in report.results if result.unit == "linear"]
    # The reason once, in the note; each check of the unit scores 0 and points to it.
    assert all(result.score == 0 and "01_linear_model.ipynb could not be read" in result.message
               and message not in result.message for result in linear), linear[0].message
    losses = [result for result in report.results if result.unit == "losses"]
    assert all(result.passed for result in losses)
    assert "01_linear_model.ipynb could not be read: " in report.notes[0] and message in report.notes[0]


def test_cells_a_student_adds_are_ignored(tmp_path):
    folder = _write_course_notebooks(tmp_path / "nb", student=False, units=["linear"])

    def add_scratch(document):
        document["cells"].insert(3, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                     "source": "predict = None  # scratch work\nimport os; os._exit(1)"})
    _edit(folder / "01_linear_model.ipynb", add_scratch)
    report = api.grade(folder, parts=["linear"])
    assert report.score == report.max_score


def test_notebooks_import_one_another_by_module_name(tmp_path, monkeypatch):
    folder = _write_course_notebooks(tmp_path / "nb", student=False, units=["linear", "mlp"])
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    for name in ("mlp", "linear_model"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import_notebooks_as_modules()
    import mlp  # noqa: F401  (found as 02_mlp.ipynb)

    assert Path(mlp.__spec__.origin).name == "02_mlp.ipynb"
    assert mlp.Linear.__name__ == "Linear"


def test_a_test_cell_grades_the_saved_notebook_in_a_fresh_process(tmp_path, capsys):
    folder = _write_course_notebooks(tmp_path / "nb", student=False, units=["linear"])
    points = sum(check.points for check in UNITS["linear"].checks if check.part == "linear.predict")
    public = sum(check.points for check in UNITS["linear"].checks
                 if check.part == "linear.predict" and check.visibility is Visibility.PUBLIC)
    assert grade_part("linear.predict", "all", folder=folder) == points
    assert grade_part("linear.predict", "public", folder=folder) == public
    captured = capsys.readouterr()
    assert "linear.predict" in captured.out and "hidden tests" in captured.out
    assert captured.err == ""  # nbgrader scores a test cell with any stderr output as 0
    shutil.copy(ASSIGNMENTS / "notebooks" / "01_linear_model.ipynb", folder / "01_linear_model.ipynb")
    assert grade_part("linear.predict", "all", folder=folder) == 0
    assert "not implemented yet" in capsys.readouterr().out


# ----------------------------------------------------------------------------- nbgrader init


def test_nbgrader_init_writes_config_and_source_notebooks(tmp_path, capsys):
    course = tmp_path / "course"
    assert cli.main(["nbgrader", "init", str(course), "--unit", "linear", "--db", "postgresql://u:p@db/grades"]) == 0
    config = (course / "nbgrader_config.py").read_text(encoding="utf-8")
    assert "c.CourseDirectory.db_url = 'postgresql://u:p@db/grades'" in config
    assert "c.Execute.timeout" in config
    notebook = (course / "source" / "deep-learning-basics" / "01_linear_model.ipynb").read_text(encoding="utf-8")
    assert "### BEGIN SOLUTION" in notebook and json.dumps(build.AUTOGRADE_ALL_CHECKS)[1:-1] in notebook
    assert cli.main(["nbgrader", "init", str(tmp_path / "default")]) == 0
    assert f"sqlite:///{tmp_path / 'default' / 'gradebook.db'}" in (tmp_path / "default" / "nbgrader_config.py").read_text()
    assert len(list((tmp_path / "default" / "source" / "deep-learning-basics").glob("*.ipynb"))) == len(UNITS)


@pytest.mark.parametrize("args, fragment", [
    (["--db", "not a url"], "is not a database URL"),
    (["--unit", "nope"], "unknown unit 'nope'"),
])
def test_nbgrader_init_refuses_bad_input(args, fragment, tmp_path, capsys):
    assert cli.main(["nbgrader", "init", str(tmp_path / "c"), *args]) == 2
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_nbgrader_init_refuses_to_overwrite_a_course(tmp_path, capsys):
    assert cli.main(["nbgrader", "init", str(tmp_path), "--unit", "linear"]) == 0
    assert cli.main(["nbgrader", "init", str(tmp_path), "--unit", "linear"]) == 2
    assert "already holds an nbgrader course" in capsys.readouterr().err
    assert cli.main(["nbgrader", "init", str(tmp_path), "--unit", "linear", "--force"]) == 0


def test_a_test_cell_notices_a_cell_run_but_not_saved(tmp_path, monkeypatch):
    from autograder.notebooks import grade_cell

    folder = _write_course_notebooks(tmp_path / "nb", student=True, units=["linear"])
    saved = next(cell for _, cell, tag in module_cells(json.loads((folder / "01_linear_model.ipynb").read_text()),
                                                       "linear_model") if tag["chunk"] == "predict")

    class Shell:
        user_ns = {"In": ["", "".join(saved["source"])]}

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setattr(grade_cell, "get_ipython", lambda: Shell, raising=False)
    assert grade_cell.unsaved_cells(folder, "linear.predict") == []
    Shell.user_ns["In"].append("def predict(X, W, b):\n    return X @ W + b\n")
    assert "predict was changed and run but not saved" in grade_cell.unsaved_cells(folder, "linear.predict")[0]


def test_an_edited_read_only_cell_counts_as_the_original_as_in_nbgrader(tmp_path):
    folder = _write_course_notebooks(tmp_path / "nb", student=False, units=["linear"])

    def sabotage_given_code(document):
        for _, cell, tag in module_cells(document, "linear_model"):
            if tag["chunk"] == "header":
                cell["source"] = "".join(cell["source"]) + "\nimport sys\nsys.exit(1)\n"
    _edit(folder / "01_linear_model.ipynb", sabotage_given_code)
    report = api.grade(folder, parts=["linear"])
    assert report.score == report.max_score
