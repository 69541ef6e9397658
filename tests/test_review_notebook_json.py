"""Review: a notebook whose JSON is nested too deeply is the notebook's problem, not a crash.

``json.loads`` raises RecursionError (not JSONDecodeError) on ``[[[[...`` a few hundred kB deep,
far below the notebook size limit. ``load_notebook`` only turned decoding errors into the
notebook's problem, so such a file crashed ``autograder grade`` with a traceback (and an nbgrader
autograde that reads an earlier assignment's notebook), and made the student's whole ``grade-batch``
row an "internal grader error" with every unit at 0. Now it is reported like broken JSON: that
notebook's unit fails with the reason in the note, the other units are graded.
"""

from __future__ import annotations

import shutil

from autograder import api

from .test_nbgrader_weekly import NOTEBOOKS, _hand_in, _student_code
from .test_nbgrader_weekly import notebooks  # noqa: F401  (the fixture)

NESTED = '{"cells": ' + "[" * 200_000


def test_an_own_notebook_nested_too_deeply_fails_its_unit_only(tmp_path, notebooks):  # noqa: F811
    folder = tmp_path / "work"
    folder.mkdir()
    for unit in ("linear", "mlp"):
        (folder / NOTEBOOKS[unit]).write_text(notebooks[unit], encoding="utf-8")
    (folder / NOTEBOOKS["linear"]).write_text(NESTED, encoding="utf-8")
    report = api.grade(folder, parts=["linear", "mlp"])
    notes = " ".join(report.notes)
    assert f"{NOTEBOOKS['linear']} is not a valid notebook (its JSON is nested too deeply" in notes
    assert report.score == 0 and report.max_score > 0  # the stubs of mlp score 0; nothing crashed


def test_an_earlier_notebook_nested_too_deeply_is_named_for_the_unit_that_needs_it(tmp_path, notebooks):  # noqa: F811
    submitted = tmp_path / "course" / "submitted"
    _hand_in(submitted / "s", notebooks, _student_code(tmp_path, "ace"))
    (submitted / "s" / "02-mlp" / NOTEBOOKS["mlp"]).write_text(NESTED, encoding="utf-8")
    report = api.grade(submitted / "s" / "06-capstone", parts=["capstone"])
    notes = " ".join(report.notes)
    assert "submission of 02-mlp (02_mlp.ipynb) could not be read" in notes
    assert "nested too deeply" in notes
    assert report.score == 0
