"""grade-batch against hostile or awkward classes, and instructors' regrades: each bad submission
costs its own row only (FIFOs, links, oversized files, undecodable names, 1 MB outputs), a resumed
run notices a changed submission or grader, ``--student`` grades a few, a second run into the same
folder is refused, a single submission given as ROOT is refused, and Ctrl-C keeps what is done."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import api
from autograder.batch import BatchError, Progress, grade_batch, grader_fingerprint
from autograder.cli import main
from autograder.grading import GradingOptions
from autograder.notebooks.build import build_notebook
from autograder.results import format_points
from autograder.sandbox import Limits
from autograder.submission import NOTEBOOK_LIMIT_BYTES, SOURCE_LIMIT_BYTES
from autograder.units import UNITS, select_checks

from .conftest import ASSIGNMENTS, SOLUTIONS
from .test_isolation import PREDICT_BODY

QUICK = GradingOptions(limits=Limits(timeout_s=1.0), timeout_override_s=1.0)
UNIT = ["linear"]
FULL = format_points(sum(check.points for check in select_checks(UNIT)))
REPOSITORY = Path(__file__).resolve().parents[1]


class Silent(Progress):
    def __init__(self):
        super().__init__(0)

    def advance(self):
        pass


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def run(root, out, *extra):
    return main(["grade-batch", str(root), "--out", str(out), "--jobs", "1", "--unit", "linear",
                 "--timeout", "1", *extra])


def solution_notebook() -> dict:
    return build_notebook(UNITS["linear"], 1, (SOLUTIONS / "linear_model.py").read_text(), student=False)


# ----------------------------------------------------------------------------- 1. special files


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A class with every kind of entry a plain open or read would hang or die on."""
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(SOLUTIONS, root / "ada")
    (root / "fifo").mkdir()
    os.mkfifo(root / "fifo" / "linear_model.py")
    (root / "nbfifo").mkdir()
    os.mkfifo(root / "nbfifo" / "01_linear_model.ipynb")
    (root / "zero").mkdir()
    (root / "zero" / "linear_model.py").symlink_to("/dev/zero")
    (root / "nbzero").mkdir()
    (root / "nbzero" / "01_linear_model.ipynb").symlink_to("/dev/zero")
    (root / "copycat").mkdir()  # a link to a classmate's file is not the student's own work
    (root / "copycat" / "linear_model.py").symlink_to(root / "ada" / "linear_model.py")
    (root / "linkdir").mkdir()
    (root / "linkdir" / "assignments").symlink_to(root / "ada")
    (root / "big").mkdir()
    (root / "big" / "linear_model.py").write_text(
        (SOLUTIONS / "linear_model.py").read_text() + "#" * SOURCE_LIMIT_BYTES + "\n")
    (root / "sock").mkdir()
    here = os.getcwd()
    os.chdir(root / "sock")  # (a socket's path must be short: bound relative to its folder)
    try:
        server = socket.socket(socket.AF_UNIX)
        server.bind("linear_model.py")
    finally:
        os.chdir(here)
    (root / "zz_linked_student").symlink_to(root / "ada")
    (root / "bo").mkdir()  # an irrelevant FIFO and a dangling link are never read: graded normally
    shutil.copy(SOLUTIONS / "linear_model.py", root / "bo" / "linear_model.py")
    os.mkfifo(root / "bo" / "notes.fifo")
    (root / "bo" / "data.txt").symlink_to("/nonexistent")
    yield root
    server.close()


@pytest.fixture(scope="module")
def hostile_run(hostile, tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile_out")
    started = time.perf_counter()
    summary = grade_batch(hostile, out, reference=api.default_reference(), jobs=1, options=QUICK, parts=UNIT,
                          progress=Silent())
    return out, summary, time.perf_counter() - started


@pytest.mark.parametrize("student, fragment", [
    ("fifo", "fifo/linear_model.py is a FIFO (named pipe), not a regular file"),
    ("nbfifo", "nbfifo/01_linear_model.ipynb is a FIFO (named pipe)"),
    ("zero", "zero/linear_model.py is a symbolic link, not a regular file"),
    ("nbzero", "nbzero/01_linear_model.ipynb is a symbolic link"),
    ("copycat", "copycat/linear_model.py is a symbolic link"),
    ("linkdir", "linkdir/assignments is a symbolic link"),
    ("big", "more than the 1 MiB a source file may be"),
    ("sock", "sock/linear_model.py is a socket"),
    ("zz_linked_student", "zz_linked_student is a symbolic link, not a folder"),
])
def test_special_and_oversized_files_cost_their_student_only(hostile_run, student, fragment):
    out, summary, seconds = hostile_run
    rows = read_rows(out / "grades.csv")
    assert rows[student]["total"] == "0"
    assert fragment in rows[student]["notes"], rows[student]["notes"]
    assert fragment in summary.problems[student]
    assert seconds < 120  # nothing hung


def test_the_rest_of_a_hostile_class_is_graded(hostile_run):
    out, summary, _ = hostile_run
    rows = read_rows(out / "grades.csv")
    assert rows["ada"]["total"] == FULL and rows["bo"]["total"] == FULL
    assert "ada" not in summary.problems and "bo" not in summary.problems


def test_limits_are_the_documented_ones():
    assert SOURCE_LIMIT_BYTES == 1024**2 and NOTEBOOK_LIMIT_BYTES == 20 * 1024**2
    doc = (REPOSITORY / "docs" / "batch.md").read_text()
    assert "1 MiB" in doc and "20 MiB" in doc


def test_nbgrader_link_to_the_source_notebook_is_refused(tmp_path):
    root = tmp_path / "course"
    source = root / "source" / "unit1" / "01_linear_model.ipynb"
    source.parent.mkdir(parents=True)
    source.write_text(json.dumps(solution_notebook()))
    (root / "submitted" / "eve" / "unit1").mkdir(parents=True)
    (root / "submitted" / "eve" / "unit1" / "01_linear_model.ipynb").symlink_to(source)
    (root / "submitted" / "fred" / "unit1").mkdir(parents=True)
    (root / "submitted" / "fred" / "unit1" / "01_linear_model.ipynb").write_text(json.dumps(solution_notebook()))
    assert run(root, tmp_path / "out") == 0
    rows = read_rows(tmp_path / "out" / "grades.csv")
    assert rows["eve"]["total"] == "0"
    assert "eve/unit1/01_linear_model.ipynb is a symbolic link" in rows["eve"]["notes"]
    assert rows["fred"]["total"] == FULL


# ----------------------------------------------------------------------------- 2. names


def test_undecodable_and_odd_folder_names_get_printable_rows(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    shutil.copytree(SOLUTIONS, os.fsdecode(os.fsencode(root) + b"/caf\xe9"))
    shutil.copytree(ASSIGNMENTS, root / "line\nbreak")
    shutil.copytree(SOLUTIONS, root / "back\\slash")
    out = tmp_path / "out"
    assert run(root, out) == 0
    rows = read_rows(out / "grades.csv")
    assert set(rows) == {"caf\\xe9", "line\\nbreak", "back\\\\slash"}
    assert rows["caf\\xe9"]["total"] == FULL and rows["line\\nbreak"]["total"] == "0"
    assert json.loads((out / "caf\\xe9.json").read_text(encoding="utf-8"))["score"] == float(FULL)
    (out / "grades.csv").read_text(encoding="utf-8")  # valid UTF-8
    # A resumed run finds the rows again (and grades nobody twice).
    summary = grade_batch(root, out, reference=api.default_reference(), jobs=1, options=QUICK, parts=UNIT,
                          progress=Silent())
    assert summary.graded == [] and sorted(summary.skipped) == sorted(rows)
    # --student takes the printable name
    assert run(root, out, "--student", "caf\\xe9", "--redo") == 0


# ----------------------------------------------------------------------------- 3. bounded output

HUGE = """
def predict(X, W, b):
    print("x" * 1_000_000)
    raise ValueError("y" * 1_000_000)
"""


def test_megabyte_lines_and_messages_stay_small(tmp_path):
    root = tmp_path / "class"
    shutil.copytree(SOLUTIONS, root / "loud")
    module = root / "loud" / "linear_model.py"
    module.write_text(module.read_text() + HUGE)
    (root / "loud" / "losses.py").write_text('print("z" * 1_000_000)\nraise RuntimeError("w" * 1_000_000)\n')
    assert run(root, tmp_path / "out", "--unit", "losses") == 0
    document = (tmp_path / "out" / "loud.json").read_text(encoding="utf-8")
    tests = json.loads(document)["tests"]
    assert len(tests) > 10
    assert all(len(test["output"]) <= 8 * 1024 for test in tests)
    assert max(len(line) for test in tests for line in test["output"].splitlines()) <= 600
    assert len(document) < len(tests) * 10 * 1024
    assert len((tmp_path / "out" / "loud.txt").read_text(encoding="utf-8")) < len(tests) * 10 * 1024
    assert any("more characters cut" in test["output"] for test in tests)
    assert len((tmp_path / "out" / "grades.csv").read_bytes()) < 20 * 1024


# ----------------------------------------------------------------------------- 4-6. regrades


def test_a_fixed_notebook_is_graded_again_on_resume(tmp_path):
    root = tmp_path / "class"
    (root / "nia").mkdir(parents=True)
    notebook = root / "nia" / "01_linear_model.ipynb"
    notebook.write_text("{ not json")
    out = tmp_path / "out"
    assert run(root, out) == 0
    assert read_rows(out / "grades.csv")["nia"]["total"] == "0"
    notebook.write_text(json.dumps(solution_notebook()))
    assert run(root, out) == 0  # no --redo: the changed submission is noticed
    assert read_rows(out / "grades.csv")["nia"]["total"] == FULL
    notebook.write_text("{ broken again")
    assert run(root, out, "--redo") == 0
    assert read_rows(out / "grades.csv")["nia"]["total"] == "0"


def test_a_fixed_module_is_graded_again_and_unchanged_ones_are_skipped(tmp_path, capsys):
    root = tmp_path / "class"
    shutil.copytree(ASSIGNMENTS, root / "ola")
    shutil.copytree(SOLUTIONS, root / "pia")
    out = tmp_path / "out"
    assert run(root, out) == 0
    shutil.copy(SOLUTIONS / "linear_model.py", root / "ola" / "linear_model.py")
    capsys.readouterr()
    assert run(root, out) == 0
    printed = capsys.readouterr().out
    assert "graded 1 student(s)" in printed and "1 already done" in printed
    rows = read_rows(out / "grades.csv")
    assert rows["ola"]["total"] == rows["pia"]["total"] == FULL


def test_student_option_grades_only_those(tmp_path, capsys):
    root = tmp_path / "class"
    for name in ("qi", "ro", "su"):
        shutil.copytree(ASSIGNMENTS, root / name)
    out = tmp_path / "out"
    assert run(root, out) == 0
    for name in ("qi", "ro", "su"):
        shutil.copy(SOLUTIONS / "linear_model.py", root / name / "linear_model.py")
    capsys.readouterr()
    assert run(root, out, "--student", "ro", "--student", "su") == 0
    assert "graded 2 student(s)" in capsys.readouterr().out
    rows = read_rows(out / "grades.csv")
    assert [rows[name]["total"] for name in ("qi", "ro", "su")] == ["0", FULL, FULL]  # qi's row kept
    assert run(root, out, "--student", "nobody") == 2
    assert "no student folder named nobody" in capsys.readouterr().err


def test_rows_of_another_grader_version_are_regraded_or_refused(tmp_path, capsys):
    root = tmp_path / "class"
    shutil.copytree(SOLUTIONS, root / "tia")
    shutil.copytree(SOLUTIONS, root / "uma")
    out = tmp_path / "out"
    assert run(root, out) == 0
    # As if an older grader (other checks or points) had graded the rows.
    for name in ("tia", "uma"):
        state = out / ".rows" / f"{name}.json"
        state.write_text(json.dumps({**json.loads(state.read_text()), "grader": "0.0.9:old"}))
    capsys.readouterr()
    assert run(root, out, "--student", "tia") == 2
    error = capsys.readouterr().err
    assert "uma" in error and "another version of the grader" in error and "without --student" in error
    assert run(root, out) == 0
    assert "graded 2 student(s)" in capsys.readouterr().out
    assert json.loads((out / ".rows" / "uma.json").read_text())["grader"] == grader_fingerprint(select_checks(UNIT))
    # Another check selection is another grader too: its rows are graded again, never mixed.
    assert run(root, out, "--unit", "losses") == 0  # (with run's --unit linear)
    assert "graded 2 student(s)" in capsys.readouterr().out
    row = read_rows(out / "grades.csv")["tia"]
    assert row["linear"] == FULL and row["total"] == row["max_score"] != FULL
    assert float(row["total"]) > float(FULL)


def test_fingerprint_changes_with_the_checks():
    linear = select_checks(UNIT)
    assert grader_fingerprint(linear) == grader_fingerprint(select_checks(UNIT))
    assert grader_fingerprint(linear) != grader_fingerprint(linear[:-1])


# ----------------------------------------------------------------------------- 7-9. runs


def test_a_second_run_into_the_same_folder_is_refused(tmp_path, capsys):
    root = tmp_path / "class"
    shutil.copytree(SOLUTIONS, root / "vi")
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "a+") as holder:  # another run holds the folder
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        holder.write("4242\n")
        holder.flush()
        assert run(root, out) == 2
        error = capsys.readouterr().err
        assert "another grade-batch run (process 4242) is writing into" in error
    assert not (out / "vi.json").exists()
    assert run(root, out) == 0  # released: the next run goes ahead


@pytest.mark.parametrize("make", [
    lambda root: shutil.copytree(SOLUTIONS, root),
    lambda root: (root.mkdir(), (root / "01_linear_model.ipynb").write_text(json.dumps(solution_notebook()))),
    lambda root: (root.mkdir(), os.mkfifo(root / "linear_model.py"), (root / "x").mkdir()),
], ids=["modules", "notebooks", "a FIFO named like a module"])
def test_one_submission_as_root_is_refused(tmp_path, make, capsys):
    make(tmp_path / "one")
    assert run(tmp_path / "one", tmp_path / "out") == 2
    assert "looks like one submission, not a class" in capsys.readouterr().err
    assert not (tmp_path / "out" / "grades.csv").exists()


SLOW = "while True:\n        pass\n"


def test_ctrl_c_keeps_finished_rows_and_the_same_command_resumes(tmp_path):
    root = tmp_path / "class"
    shutil.copytree(SOLUTIONS, root / "a0")
    for index in range(1, 4):  # students whose every predict check runs into its time limit
        folder = root / f"s{index}"
        shutil.copytree(SOLUTIONS, folder)
        source = (folder / "linear_model.py").read_text()
        (folder / "linear_model.py").write_text(source.replace("return X @ W + b\n", SLOW, 1))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "grade-batch", str(root), "--out", str(out), "--jobs", "1",
               "--unit", "linear", "--timeout", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, cwd=REPOSITORY)
    deadline = time.monotonic() + 240
    while not list(out.glob("*.json")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert process.poll() is None, process.communicate()
    # The running batch holds the folder: a second run is refused.
    second = subprocess.run(command, capture_output=True, text=True, cwd=REPOSITORY)
    assert second.returncode == 2 and "another grade-batch run" in second.stderr
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole process group
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "run the same command again" in stderr
    assert "Traceback" not in stderr
    finished = sorted(path.stem for path in out.glob("*.json"))
    assert 1 <= len(finished) < 4
    rows = read_rows(out / "grades.csv")
    assert len(rows) == 4
    assert [name for name, row in rows.items() if "not graded" in row["notes"]] == \
        sorted(set(rows) - set(finished))
    assert not list(out.glob(".*.tmp"))
    for name in set(rows) - set(finished):  # (fixed meanwhile: a quicker resume, and the fix is graded)
        shutil.copy(SOLUTIONS / "linear_model.py", root / name / "linear_model.py")
    resumed = subprocess.run(command, capture_output=True, text=True, cwd=REPOSITORY, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"graded {4 - len(finished)} student(s)" in resumed.stdout
    assert f"{len(finished)} already done" in resumed.stdout
    rows = read_rows(out / "grades.csv")
    assert not any("not graded" in row["notes"] for row in rows.values())
    assert all(rows[name]["total"] == FULL for name in set(rows) - set(finished) | {"a0"})


@pytest.mark.skipif(os.geteuid() != 0, reason="students' children run as users of their own as root only")
def test_a_student_cannot_see_the_output_folder_of_the_class(tmp_path):
    """The results folder holds every classmate's JSON (scores, feedback) and staged copy. Outside
    /tmp (which each child sees as a private, empty tmpfs), a student's code could list and read it;
    it is private to the grader, so the child sees only its own copy there."""
    import tempfile

    spy = (
        "    import os, glob\n"
        "    out = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))\n"
        "    seen = sorted(set(os.listdir(out)) - {'.staging'}) + glob.glob(out + '/*.json')\n"
        "    if seen:\n"
        "        raise RuntimeError('sees the class results: ' + repr(seen)[:200])\n"
        "    return X @ W + b\n"
    )
    root = tmp_path / "class"
    for student in ("ann", "ben"):
        folder = root / student
        shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
        text = (folder / "linear_model.py").read_text()
        (folder / "linear_model.py").write_text(text.replace(PREDICT_BODY, spy))
    out = Path(tempfile.mkdtemp(prefix="autograder-out-", dir="/run")) / "results"
    out.parent.chmod(0o755)
    try:
        out.mkdir(mode=0o755)  # as an instructor would have made it: readable by everyone
        (out / "earlier-run.json").write_text("{}")
        grade_batch(root, out, reference=api.default_reference(), jobs=1, options=QUICK,
                    parts=["linear.predict"], progress=Silent())
        for student in ("ann", "ben"):
            tests = {t["name"]: t for t in json.loads((out / f"{student}.json").read_text())["tests"]}
            assert tests["linear.predict.values"]["score"] > 0, tests["linear.predict.values"]["output"]
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
