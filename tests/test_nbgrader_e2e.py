"""End to end with the real nbgrader: generate_assignment, autograde, generate_feedback, export.

One temporary course (Unit 1, to keep it quick), four students:

* ``reference``: the source notebook, solutions filled in;
* ``untouched``: the release as nbgrader generated it;
* ``partial``: only ``predict`` and ``mse_loss`` written;
* ``broken``: ``collapse_linear_stack`` never returns, and a scratch cell crashes the kernel's
  cell run with an exception; every other cell must still be graded.

The exported CSV must give each the score ``autograder grade`` gives the same notebooks.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import api
from autograder.notebooks.cells import module_cells
from autograder.units import UNITS

pytest.importorskip("nbgrader")

ASSIGNMENT = "deep-learning-basics"
NOTEBOOK = "01_linear_model.ipynb"


def _points(*parts: str) -> float:
    return sum(check.points for check in UNITS["linear"].checks if check.part in parts)


def _nbgrader(course: Path, *args: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def _fill(release: dict, source: dict, chunks: set[str]) -> dict:
    """The released notebook with the solution of the named answer cells copied in."""
    solved = {tag["chunk"]: cell["source"] for _, cell, tag in module_cells(source, "linear_model")}
    for _, cell, tag in module_cells(release, "linear_model"):
        if tag["chunk"] in chunks:
            cell["source"] = solved[tag["chunk"]]
    return release


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    subprocess.run([sys.executable, "-m", "autograder", "nbgrader", "init", str(course), "--unit", "linear", "--force"],
                   check=True, capture_output=True)
    _nbgrader(course, "generate_assignment", ASSIGNMENT)
    source = json.loads((course / "source" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8"))
    release_text = (course / "release" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8")

    partial = _fill(json.loads(release_text), source, {"predict", "mse_loss"})
    broken = _fill(json.loads(release_text), json.loads(json.dumps(source)), {
        "predict", "mse_loss", "loss_gradients", "gradient_descent_step", "fit"})
    for _, cell, tag in module_cells(broken, "linear_model"):
        if tag["chunk"] == "collapse_linear_stack":
            text = "".join(cell["source"])
            assert "raise NotImplementedError()" in text
            cell["source"] = text.replace("raise NotImplementedError()", "while True:\n        pass")
    broken["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                            "source": "raise RuntimeError('a scratch cell that crashes')"})
    students = {
        "reference": json.dumps(source),
        "untouched": release_text,
        "partial": json.dumps(partial),
        "broken": json.dumps(broken),
    }
    for student, text in students.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_text(text, encoding="utf-8")
    _nbgrader(course, "autograde", ASSIGNMENT, "--create")
    _nbgrader(course, "generate_feedback", ASSIGNMENT)
    _nbgrader(course, "export", "--to", str(course / "grades.csv"))
    with open(course / "grades.csv", newline="", encoding="utf-8") as table:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(table)}
    return course, scores


def test_nbgrader_export_gives_each_student_the_expected_score(graded_course):
    _, scores = graded_course
    full = _points(*UNITS["linear"].parts)
    assert scores["reference"] == full
    assert scores["untouched"] == 0
    assert scores["partial"] == _points("linear.predict", "linear.loss")
    assert scores["broken"] == full - _points("linear.collapse")


def test_nbgrader_scores_equal_autograder_grade_on_the_same_notebooks(graded_course):
    course, scores = graded_course
    for student, score in scores.items():
        report = api.grade(course / "submitted" / student / ASSIGNMENT, parts=["linear"])
        assert report.score == score, student


def test_feedback_is_generated_for_every_student(graded_course):
    course, scores = graded_course
    for student in scores:
        feedback = course / "feedback" / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")
        assert feedback.is_file(), student
    text = (course / "feedback" / "broken" / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert "linear.collapse" in text and "timed out" in text.lower() or "time" in text.lower()


def test_the_batch_grader_reads_the_same_nbgrader_course(graded_course, tmp_path):
    course, scores = graded_course
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "autograder", "grade-batch", str(course), "--out", str(out),
                    "--unit", "linear"], check=True, capture_output=True)
    with open(out / "grades.csv", newline="", encoding="utf-8") as table:
        batch = {row["student"]: float(row["total"]) for row in csv.DictReader(table)}
    assert batch == scores
    shutil.rmtree(out)


# --- the kernel cannot forge a grade (issue 12) -----------------------------------------------------

#: An answer cell that, run in a kernel, overwrites the saved notebook with the source notebook
#: (solutions in place) and replaces grade_part so that every test cell prints a point. In the
#: sandbox the same lines run at import and reach nothing: the source folder is hidden, the saved
#: notebook is a private copy, and the verdict is taken outside.
FORGER = '''
try:
    import glob, os, shutil
    for source in glob.glob(os.path.join({course!r}, "source", "*", "01_linear_model.ipynb")):
        shutil.copyfile(source, os.path.join(os.getcwd(), "01_linear_model.ipynb"))
    import autograder.notebooks.grade_cell as _cell
    _cell.grade_part = lambda part, checks="public", folder=None: 1.0
except Exception:
    pass
'''


def test_a_kernel_that_rewrites_its_notebook_or_the_grader_earns_nothing(tmp_path):
    course = tmp_path / "course"
    subprocess.run([sys.executable, "-m", "autograder", "nbgrader", "init", str(course), "--unit", "linear"],
                   check=True, capture_output=True)
    _nbgrader(course, "generate_assignment", ASSIGNMENT)
    forged = json.loads((course / "release" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8"))
    for _, cell, tag in module_cells(forged, "linear_model"):
        if tag["chunk"] == "predict":
            cell["source"] = "".join(cell["source"]) + "\n" + FORGER.format(course=str(course))
    folder = course / "submitted" / "forger" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_text(json.dumps(forged), encoding="utf-8")

    def autograde_score(*options: str) -> float:
        _nbgrader(course, "autograde", ASSIGNMENT, "--create", "--force", *options)
        _nbgrader(course, "export", "--to", str(course / "grades.csv"))
        with open(course / "grades.csv", newline="", encoding="utf-8") as table:
            return {row["student_id"]: float(row["score"]) for row in csv.DictReader(table)}["forger"]

    assert autograde_score() == 0
    graded = json.loads((course / "autograded" / "forger" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8"))
    values = ["".join(output["data"]["text/plain"]) for cell in graded["cells"] for output in cell.get("outputs", [])
              if output["output_type"] == "execute_result"]
    assert values and set(values) == {"0.0"}
    # The control: with nbgrader's kernel execution the same notebook forges its grade, so the
    # attack is real and it is the trusted autograde that stops it.
    kernel = ("--Autograde.autograde_preprocessors=['nbgrader.preprocessors.Execute',"
              "'nbgrader.preprocessors.SaveAutoGrades']")
    assert autograde_score(kernel) > 0


def test_trusted_autograde_shows_each_part_its_report_and_runs_no_kernel(graded_course):
    course, _ = graded_course
    notebook = json.loads((course / "autograded" / "partial" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8"))
    test_cells = [cell for cell in notebook["cells"] if "grade_part(" in "".join(cell["source"])]
    assert len(test_cells) == len(UNITS["linear"].parts)
    for cell in test_cells:
        text = "".join("".join(output.get("text", "")) for output in cell["outputs"] if output["output_type"] == "stream")
        part = "".join(cell["source"]).split('grade_part("')[1].split('"')[0]
        assert part in text and "Total:" in text
        assert sum(output["output_type"] == "execute_result" for output in cell["outputs"]) == 1
    # Students' own cells are not run: no outputs apart from the test cells.
    assert all(not cell.get("outputs") for cell in notebook["cells"] if cell not in test_cells)
