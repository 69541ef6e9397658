"""Review: in a weekly course each unit comes from its own assignment, in every front end.

``grade-batch`` merges a student's nbgrader assignments into one folder; a copy of ``02_mlp.ipynb``
handed in inside ``06-capstone/`` (a fixed Unit 2 handed in weeks later, or a classmate's) silently
replaced the student's own ``02-mlp`` submission: Unit 2 was graded from it (full marks where the
student's own Unit 2 scored 61/88), with 02-mlp's submission time and so no late penalty, and it
stood in for a 02-mlp never handed in. ``autograder grade`` of ``06-capstone`` (and the trusted
nbgrader autograde) used that copy for the capstone's imports too, while ``autograder grade`` of the
student's folder refused the whole submission ("no course files") because mlp was held twice.
Now a per-unit assignment folder gives only its own unit's notebook, everywhere, and the note says
what was left out.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys

import pytest

from autograder import api
from autograder.paths import solutions_dir

from .test_nbgrader_weekly import NOTEBOOKS, _full, _hand_in
from .test_nbgrader_weekly import notebooks  # noqa: F401  (the fixture)

EXTRA = "not graded: 02_mlp.ipynb in 06-capstone/"


@pytest.fixture()
def course(tmp_path, notebooks):  # noqa: F811
    """``ace``: the reference everywhere. ``late``: a Linear.forward that raises in 02-mlp, and the
    reference's 02_mlp.ipynb handed in again inside 06-capstone/. ``never``: no 02-mlp at all, the
    reference's 02_mlp.ipynb inside 06-capstone/."""
    ace = tmp_path / "code" / "ace"
    shutil.copytree(solutions_dir(), ace, ignore=shutil.ignore_patterns("__pycache__"))
    broken = tmp_path / "code" / "late"
    shutil.copytree(ace, broken)
    source = (ace / "mlp.py").read_text(encoding="utf-8")
    assert source.count("        return X @ self.W + self.b\n") == 1
    (broken / "mlp.py").write_text(source.replace("        return X @ self.W + self.b\n",
                                                  "        raise RuntimeError('not yet')\n"), encoding="utf-8")
    submitted = tmp_path / "course" / "submitted"
    _hand_in(submitted / "ace", notebooks, ace)
    _hand_in(submitted / "late", notebooks, broken)
    _hand_in(submitted / "never", notebooks, ace)
    shutil.rmtree(submitted / "never" / "02-mlp")
    for student in ("late", "never"):
        shutil.copy(submitted / "ace" / "02-mlp" / NOTEBOOKS["mlp"], submitted / student / "06-capstone")
    return submitted, broken


def test_the_capstone_imports_the_student_s_own_02_mlp(course):
    submitted, broken = course
    report = api.grade(submitted / "late" / "06-capstone", parts=["capstone"])
    assert report.score == api.grade(broken, parts=["capstone"]).score < _full("capstone")
    assert EXTRA in report.notes[0] and "mlp from your submission of 02-mlp" in report.notes[0]
    never = api.grade(submitted / "never" / "06-capstone", parts=["capstone"])
    assert never.score == 0 and "hand in 02-mlp" in never.notes[0]


def test_the_student_s_folder_is_graded_with_each_unit_from_its_own_assignment(course):
    submitted, broken = course
    report = api.grade(submitted / "late")
    assert report.score == api.grade(broken).score < report.max_score
    assert EXTRA in report.notes[0]


def test_grade_batch_grades_unit_2_from_02_mlp_only(course, tmp_path):
    submitted, broken = course
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "autograder", "grade-batch", str(submitted.parent), "--out", str(out)],
                   check=True, capture_output=True, timeout=900)
    with open(out / "grades.csv", newline="", encoding="utf-8") as table:
        rows = {row["student"]: row for row in csv.DictReader(table)}
    expected = api.grade(broken, parts=["mlp", "capstone"])
    by_unit = {unit: sum(r.score for r in expected.results if r.part.split(".")[0] == unit) for unit in ("mlp", "capstone")}
    assert float(rows["late"]["mlp"]) == by_unit["mlp"] < _full("mlp")
    assert float(rows["late"]["capstone"]) == by_unit["capstone"]
    assert float(rows["never"]["mlp"]) == 0 and float(rows["never"]["capstone"]) == 0
    assert float(rows["ace"]["total"]) == float(rows["ace"]["max_score"])
