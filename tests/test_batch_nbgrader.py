"""grade-batch and nbgrader: submission times, due dates and late penalties in the tables, and
handed-in notebooks with deleted cells (given cells restored; answer cells one message)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from autograder import api
from autograder.batch import Lateness, format_time, grade_batch, parse_time, write_grade_tables
from autograder.cli import main
from autograder.notebooks.build import course_notebooks
from autograder.notebooks.cells import module_cells
from autograder.render import render_report

from .conftest import SOLUTIONS
from .test_batch import FULL, QUICK, UNIT, Silent


@pytest.mark.parametrize("text, expected", [
    ("2026-12-01 10:31:00.123456 UTC", "2026-12-01 10:31:00.123456 UTC"),  # nbgrader's own
    ("2026-12-01 10:31:00 UTC\n", "2026-12-01 10:31:00 UTC"),
    ("2026-12-01T10:31:00Z", "2026-12-01 10:31:00 UTC"),
    ("2026-12-01T19:31:00+09:00", "2026-12-01 10:31:00 UTC"),
    ("2026-12-01 10:31:00", "2026-12-01 10:31:00 UTC"),  # no zone: UTC, as nbgrader writes it
    ("2026/12/01 10:31", "2026-12-01 10:31:00 UTC"),
])
def test_submission_times_are_read_leniently(text, expected):
    assert format_time(parse_time(text)) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01 10:00:00", "1" * 300])
def test_what_is_not_a_time_is_refused(text):
    with pytest.raises(ValueError):
        parse_time(text)


def test_a_late_day_is_every_started_day():
    lateness = Lateness(parse_time("2026-12-01T00:00:00Z"), 0.1)
    assert lateness.days_late(parse_time("2026-11-30 23:00:00 UTC")) == 0
    assert lateness.days_late(parse_time("2026-12-01 00:00:00 UTC")) == 0
    assert lateness.days_late(parse_time("2026-12-01 00:00:01 UTC")) == 1
    assert lateness.days_late(parse_time("2026-12-02 00:00:01 UTC")) == 2


DUE = "2026-12-01T23:59:00+09:00"  # 2026-12-01 14:59:00 UTC


@pytest.fixture(scope="module")
def late_class(tmp_path_factory):
    """nbgrader's submitted/<student>/<assignment>/ with timestamp.txt, graded with a due date."""
    root = tmp_path_factory.mktemp("course")
    times = {
        "ada": "2026-12-01 10:31:00.123456 UTC",  # on time
        "bo": "2026-12-02 20:00:00 UTC",  # 1 day 5 h late: 2 started days
        "cy": "last tuesday",  # not a time
        "di": None,  # no timestamp.txt
    }
    for student, time in times.items():
        folder = root / "submitted" / student / "week1"
        shutil.copytree(SOLUTIONS, folder)
        if time is not None:
            (folder / "timestamp.txt").write_text(time + "\n")
    out = tmp_path_factory.mktemp("out")
    grade_batch(root, out, reference=api.default_reference(), jobs=2, options=QUICK, parts=UNIT,
                progress=Silent(), lateness=Lateness(parse_time(DUE), 0.25))
    return root, out


def _table(path: Path, key: str) -> dict[str, dict]:
    with open(path, newline="") as handle:
        return {row[key]: row for row in csv.DictReader(handle)}


def test_timestamps_due_date_and_late_penalty_fill_the_nbgrader_table(late_class):
    _, out = late_class
    rows = _table(out / "nbgrader_grades.csv", "student_id")
    assert {row["duedate"] for row in rows.values()} == {"2026-12-01 14:59:00 UTC"}
    assert rows["ada"]["timestamp"] == "2026-12-01 10:31:00.123456 UTC"
    assert rows["ada"]["raw_score"] == rows["ada"]["score"] == FULL and rows["ada"]["late_submission_penalty"] == "0"
    # Two started days at 25 % of the max score each: half of the points.
    assert rows["bo"]["timestamp"] == "2026-12-02 20:00:00 UTC"
    assert rows["bo"]["raw_score"] == FULL
    assert float(rows["bo"]["late_submission_penalty"]) == pytest.approx(float(FULL) / 2)
    assert float(rows["bo"]["score"]) == pytest.approx(float(FULL) / 2)
    for student in ("cy", "di"):  # no time known: no penalty, empty timestamp
        assert rows[student]["timestamp"] == "" and rows[student]["score"] == FULL
        assert rows[student]["late_submission_penalty"] == "0"


def test_grades_csv_total_carries_the_penalty_and_says_why(late_class):
    _, out = late_class
    rows = _table(out / "grades.csv", "student")
    assert rows["ada"]["total"] == FULL and "late" not in rows["ada"]["notes"]
    assert float(rows["bo"]["total"]) == pytest.approx(float(FULL) / 2)
    assert rows["bo"]["linear"] == FULL  # the unit's own column is the work's score
    assert "submitted 2 days late" in rows["bo"]["notes"] and f"before it, {FULL}" in rows["bo"]["notes"]
    assert "week1/timestamp.txt ('last tuesday') could not be read" in rows["cy"]["notes"]
    assert "check this student's submission time by hand" in rows["cy"]["notes"]
    assert "no submission time (timestamp.txt) found" in rows["di"]["notes"]


def test_the_score_is_floored_at_zero_and_no_due_date_means_no_penalty(late_class, tmp_path):
    root, out = late_class
    students = __import__("autograder.batch", fromlist=["discover_everyone"]).discover_everyone(root, [])
    write_grade_tables(out, students, UNIT, root=root, lateness=Lateness(parse_time(DUE), 0.75))
    rows = _table(out / "nbgrader_grades.csv", "student_id")
    assert rows["bo"]["score"] == "0" and rows["bo"]["late_submission_penalty"] == FULL
    assert _table(out / "grades.csv", "student")["bo"]["total"] == "0"
    write_grade_tables(out, students, UNIT, root=root)
    rows = _table(out / "nbgrader_grades.csv", "student_id")
    assert rows["bo"]["duedate"] == "" and rows["bo"]["timestamp"] == "2026-12-02 20:00:00 UTC"
    assert rows["bo"]["score"] == FULL
    assert "no submission time" not in _table(out / "grades.csv", "student")["di"]["notes"]


@pytest.mark.parametrize("args, fragment", [
    (["--late-penalty", "0.1"], "--late-penalty needs --due-date"),
    (["--due-date", "soon"], "is not a date and time"),
    (["--due-date", DUE, "--late-penalty", "2"], "between 0 and 1"),
])
def test_bad_due_date_options_are_refused(args, fragment, tmp_path, capsys):
    (tmp_path / "class" / "ada").mkdir(parents=True)
    assert main(["grade-batch", str(tmp_path / "class"), "--out", str(tmp_path / "out"), *args]) != 0
    assert fragment in capsys.readouterr().err


# ----------------------------------------------------------------------------- deleted notebook cells


def _notebooks(folder: Path, units) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in course_notebooks(SOLUTIONS, student=False, units=units).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _delete(path: Path, module: str, chunk: str) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    position = next(position for position, _, tag in module_cells(document, module) if tag["chunk"] == chunk)
    assert bool((document["cells"][position]["metadata"].get("nbgrader") or {}).get("solution")) == (chunk == "predict")
    del document["cells"][position]
    path.write_text(json.dumps(document), encoding="utf-8")


def test_a_deleted_given_cell_is_restored_from_the_course_and_graded(tmp_path):
    folder = _notebooks(tmp_path / "nb", ["linear", "losses"])
    _delete(folder / "01_linear_model.ipynb", "linear_model", "plot_learning_rates")  # given, unused
    _delete(folder / "01_linear_model.ipynb", "linear_model", "FitResult")  # given, used by fit
    report = api.grade(folder, parts=["linear", "losses"])
    assert report.score == report.max_score > 0
    assert "'FitResult', 'plot_learning_rates' had been deleted and were put back from the course" in report.notes[0]


def test_a_deleted_answer_cell_gets_one_message_for_its_notebook(tmp_path):
    folder = _notebooks(tmp_path / "nb", ["linear", "losses"])
    _delete(folder / "01_linear_model.ipynb", "linear_model", "predict")
    report = api.grade(folder, parts=["linear", "losses"])
    linear = [result for result in report.results if result.unit == "linear"]
    assert len(linear) > 1 and all(result.score == 0 for result in linear)
    assert all(result.passed for result in report.results if result.unit == "losses")
    text = io.StringIO()
    render_report(report, colour=False, stream=text)
    assert text.getvalue().count("were deleted (the first missing is cell 4 of") == 1, text.getvalue()
    assert "restore them from the release" in report.notes[0]


def test_a_weekly_course_has_a_row_per_assignment_with_its_own_time_and_penalty(tmp_path):
    """With one nbgrader assignment per unit (``nbgrader init --per-unit``), each unit is handed in,
    and late, on its own: its row names the assignment and carries that assignment's time."""
    root = tmp_path / "course"
    for assignment, module, time in (("01-linear", "linear_model.py", "2026-12-01 10:00:00 UTC"),
                                     ("02-mlp", "mlp.py", "2026-12-02 10:00:00 UTC")):  # 1 started day late
        folder = root / "submitted" / "eve" / assignment
        folder.mkdir(parents=True)
        shutil.copy(SOLUTIONS / module, folder / module)
        (folder / "timestamp.txt").write_text(time + "\n")
    out = tmp_path / "out"
    grade_batch(root, out, reference=api.default_reference(), jobs=1, options=QUICK, parts=["linear", "mlp"],
                progress=Silent(), lateness=Lateness(parse_time(DUE), 0.25))
    rows = {row["assignment"]: row for row in csv.DictReader(io.StringIO((out / "nbgrader_grades.csv").read_text()))}
    assert set(rows) == {"01-linear", "02-mlp"}
    assert rows["01-linear"]["timestamp"] == "2026-12-01 10:00:00 UTC"
    assert rows["01-linear"]["late_submission_penalty"] == "0" and rows["01-linear"]["score"] == FULL
    assert rows["02-mlp"]["timestamp"] == "2026-12-02 10:00:00 UTC"
    mlp_points = float(rows["02-mlp"]["max_score"])
    assert float(rows["02-mlp"]["raw_score"]) == mlp_points
    assert float(rows["02-mlp"]["late_submission_penalty"]) == pytest.approx(mlp_points / 4)
    total = _table(out / "grades.csv", "student")["eve"]
    assert float(total["total"]) == pytest.approx(float(FULL) + mlp_points * 3 / 4)
    assert "submitted 1 day late" in total["notes"]
