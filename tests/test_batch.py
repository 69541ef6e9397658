"""Batch grading: a mixed class graded in parallel gives the same scores as one by one, resumes,
writes byte-identical tables, and turns every malformed submission into a clear row."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from autograder import api
from autograder.batch import BatchError, Progress, discover_students, grade_batch
from autograder.cli import main
from autograder.grading import GradingOptions
from autograder.results import format_points
from autograder.sandbox import Limits
from autograder.units import select_checks

from .conftest import ASSIGNMENTS, SOLUTIONS
from .corpus.linear import MUTATIONS

QUICK = GradingOptions(limits=Limits(timeout_s=1.0), timeout_override_s=1.0)
#: The class below hands in Unit 1 only.
UNIT = ["linear"]
#: Unit 1's points, as the tables print them.
FULL = format_points(sum(check.points for check in select_checks(UNIT)))


class Silent(Progress):
    def __init__(self):
        super().__init__(0)

    def advance(self):
        pass


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    shutil.copytree(SOLUTIONS, root / "ada")
    shutil.copytree(ASSIGNMENTS, root / "bo")
    MUTATIONS[0].apply(SOLUTIONS, root / "cy")  # gradient sign flipped
    MUTATIONS[8].apply(SOLUTIONS, root / "di")  # update mutates its inputs
    looping = root / "ed"
    shutil.copytree(SOLUTIONS, looping)
    source = (looping / "linear_model.py").read_text()
    (looping / "linear_model.py").write_text(source.replace("return X @ W + b\n", "while True:\n        pass\n", 1))
    (root / "fay").mkdir()  # empty folder
    (root / "gus").mkdir()
    (root / "gus" / "linear_model.py").write_bytes(b"\x00\x01binary")
    shutil.copytree(SOLUTIONS, root / "hal" / "assignments")  # one level too deep
    (root / "ivy.zip").write_bytes(b"PK\x03\x04")  # a file instead of a folder
    return root


@pytest.fixture(scope="module")
def batch_run(classroom, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    summary = grade_batch(classroom, out, reference=api.default_reference(), jobs=2, options=QUICK, parts=UNIT, progress=Silent())
    return out, summary


def read_rows(path):
    with open(path, newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_every_student_gets_a_row(batch_run):
    out, summary = batch_run
    rows = read_rows(out / "grades.csv")
    assert sorted(rows) == ["ada", "bo", "cy", "di", "ed", "fay", "gus", "hal", "ivy.zip"]
    assert rows["ada"]["linear"] == rows["ada"]["total"] == rows["ada"]["max_score"] == FULL
    assert rows["bo"]["total"] == "0"
    assert 0 < float(rows["cy"]["total"]) < float(FULL) and 0 < float(rows["di"]["total"]) < float(FULL)
    assert rows["ed"]["total"] == "10"  # the infinite loop in predict costs exactly predict's checks
    assert "no course files" in rows["fay"]["notes"] and rows["fay"]["total"] == "0"
    assert rows["gus"]["total"] == "0"
    assert rows["hal"]["total"] == FULL and "subfolder assignments/" in rows["hal"]["notes"]
    assert "is a file, not a submission folder" in rows["ivy.zip"]["notes"]
    assert set(summary.problems) == {"fay", "ivy.zip"}


def test_batch_scores_equal_one_by_one_grading(classroom, batch_run):
    out, _ = batch_run
    for student in ["ada", "bo", "cy", "di", "ed", "gus"]:
        alone = api.grade(classroom / student, parts=UNIT, options=QUICK).to_gradescope()
        assert json.loads((out / f"{student}.json").read_text()) == alone, student


def test_feedback_file_per_student(batch_run):
    out, _ = batch_run
    feedback = (out / "cy.txt").read_text()
    assert feedback.startswith("Feedback for cy") and "opposite sign" in feedback
    assert "not a Python text file" in (out / "gus.txt").read_text()


def test_nbgrader_style_export(batch_run):
    out, _ = batch_run
    with open(out / "nbgrader_grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                             "email", "raw_score", "late_submission_penalty", "score", "max_score"]
    ada = next(row for row in rows if row["student_id"] == "ada")
    assert ada["assignment"] == "linear" and ada["score"] == ada["max_score"] == FULL


def test_no_temporary_files_are_left(batch_run):
    out, _ = batch_run
    assert not [path for path in out.iterdir() if path.name.endswith(".tmp")]


def test_resume_skips_finished_students_and_rebuilds_identical_tables(classroom, batch_run):
    out, _ = batch_run
    before = (out / "grades.csv").read_bytes()
    (out / "cy.json").unlink()  # as if the run had been interrupted before cy was written
    summary = grade_batch(classroom, out, reference=api.default_reference(), jobs=2, options=QUICK, parts=UNIT, progress=Silent())
    assert summary.graded == ["cy"] and "ada" in summary.skipped
    assert (out / "grades.csv").read_bytes() == before


def test_redo_grades_everyone_again_with_identical_tables(classroom, batch_run, tmp_path):
    out, _ = batch_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    summary = grade_batch(classroom, copy, reference=api.default_reference(), jobs=1, options=QUICK,
                          parts=UNIT, redo=True, progress=Silent())
    assert len(summary.graded) == 9 and not summary.skipped
    assert (copy / "grades.csv").read_bytes() == (out / "grades.csv").read_bytes()


def test_nbgrader_submitted_layout_is_recognised(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(SOLUTIONS, root / "submitted" / "alice" / "unit1")
    shutil.copytree(ASSIGNMENTS, root / "submitted" / "bob" / "unit1")
    students = discover_students(root, tmp_path / "staging")
    assert [s.student for s in students] == ["alice", "bob"]
    assert (students[0].folder / "linear_model.py").is_file()
    out = tmp_path / "out"
    assert main(["grade-batch", str(root), "--out", str(out), "--jobs", "1", "--unit", "linear"]) == 0
    rows = read_rows(out / "grades.csv")
    assert rows["alice"]["total"] == FULL and rows["bob"]["total"] == "0"


@pytest.mark.parametrize(
    "make_root, fragment",
    [
        (lambda tmp: tmp / "missing", "is not a folder"),
        (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "holds no student folders"),
        (lambda tmp: shutil.copytree(SOLUTIONS, tmp / "one"), "looks like one submission"),
    ],
    ids=["missing", "empty", "a single submission"],
)
def test_bad_root_is_a_usage_error(tmp_path, make_root, fragment, capsys):
    root = make_root(tmp_path)
    assert main(["grade-batch", str(root), "--out", str(tmp_path / "out")]) == 2
    assert fragment in capsys.readouterr().err


def test_discovery_error_type(tmp_path):
    with pytest.raises(BatchError):
        discover_students(tmp_path / "nope", tmp_path / "staging")


def test_a_pool_that_keeps_breaking_gives_rows_instead_of_looping(tmp_path, monkeypatch):
    import autograder.batch as batch

    shutil.copytree(SOLUTIONS, tmp_path / "class" / "zed")
    monkeypatch.setattr(batch, "_grade_in_pool", lambda todo, *args: list(todo))  # nobody ever finishes
    summary = grade_batch(tmp_path / "class", tmp_path / "out", reference=api.default_reference(),
                          parts=UNIT, progress=Silent())
    assert "worker died" in summary.problems["zed"]
    assert "worker died" in read_rows(tmp_path / "out" / "grades.csv")["zed"]["notes"]
