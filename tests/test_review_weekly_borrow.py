"""Review: a weekly course's earlier units are read from the same student's own folders only.

``api.grade(<course>/submitted/<student>/06-capstone)`` (what ``autograder grade`` and the trusted
nbgrader autograde call) takes the earlier units capstone imports from the student's earlier
assignments. Those folders are written by students (an instructor who copies home folders with
``cp -a``/``rsync -a`` keeps their links), and the grader's own process reads them. It followed a
link: a student whose ``02-mlp/02_mlp.ipynb`` (or ``02-mlp/`` itself) was a link to another
student's got that student's Unit 2 under their own Unit 6 (20/20 where their own work scored 0),
while ``grade-batch`` of the same course refused the link. Now the earlier notebook is read as
``grade-batch`` reads a student's files: links, FIFOs and oversized notebooks are refused by name.
"""

from __future__ import annotations

import os
import shutil

import pytest

from autograder import api
from autograder.submission import NOTEBOOK_LIMIT_BYTES

from .test_nbgrader_weekly import NOTEBOOKS, _full, _hand_in, _student_code
from .test_nbgrader_weekly import notebooks  # noqa: F401  (the fixture)

MLP = NOTEBOOKS["mlp"]


@pytest.fixture()
def course(tmp_path, notebooks):  # noqa: F811
    """``ace`` hands in every unit; ``thief`` every unit but Unit 2, whose folder is theirs to fill."""
    ace = _student_code(tmp_path, "ace")
    submitted = tmp_path / "course" / "submitted"
    _hand_in(submitted / "ace", notebooks, ace)
    _hand_in(submitted / "thief", notebooks, ace)
    shutil.rmtree(submitted / "thief" / "02-mlp")
    return submitted


def _capstone(submitted):
    report = api.grade(submitted / "thief" / "06-capstone", parts=["capstone"])
    return report.score, " ".join(report.notes)


def test_without_unit_2_the_capstone_scores_0_naming_what_to_hand_in(course):
    score, notes = _capstone(course)
    assert score == 0 < _full("capstone")
    assert "hand in 02-mlp" in notes


def test_a_notebook_linked_to_another_student_s_is_refused(course):
    (course / "thief" / "02-mlp").mkdir()
    os.symlink(f"../../ace/02-mlp/{MLP}", course / "thief" / "02-mlp" / MLP)
    score, notes = _capstone(course)
    assert score == 0, notes
    assert f"02-mlp/{MLP} is a symbolic link" in notes
    assert "mlp from your submission" not in notes


def test_an_assignment_folder_linked_to_another_student_s_is_refused(course):
    os.symlink("../ace/02-mlp", course / "thief" / "02-mlp")
    score, notes = _capstone(course)
    assert score == 0, notes
    assert "02-mlp/ is a symbolic link" in notes


def test_a_fifo_is_named_not_waited_on_nor_called_missing(course):
    (course / "thief" / "02-mlp").mkdir()
    os.mkfifo(course / "thief" / "02-mlp" / MLP)
    score, notes = _capstone(course)  # a plain open() would block here for ever
    assert score == 0
    assert "is a FIFO (named pipe)" in notes and "not handed in" not in notes


def test_an_oversized_notebook_is_refused_without_reading_it(course):
    (course / "thief" / "02-mlp").mkdir()
    with open(course / "thief" / "02-mlp" / MLP, "wb") as huge:
        huge.truncate(NOTEBOOK_LIMIT_BYTES + 1)  # sparse: costs no disk
    score, notes = _capstone(course)
    assert score == 0
    assert "MiB, more than the" in notes


def test_the_student_s_own_regular_notebook_is_still_used(course):
    shutil.copytree(course / "ace" / "02-mlp", course / "thief" / "02-mlp")
    score, notes = _capstone(course)
    assert score == _full("capstone")
    assert f"mlp from your submission of 02-mlp ({MLP})" in notes
