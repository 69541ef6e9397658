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
