"""`autograder stubs` never overwrites someone's work unasked (issue 14).

assignments/.stubs.json records what the last generation wrote. A file equal to neither the new stub
nor that record was edited: regenerating refuses (exit 2, the files named) unless --force, which
backs them up first. A stale stub (the instructor changed solutions/) is replaced without fuss.
Every test works on copies of solutions/ and a generated assignments/ in tmp_path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autograder import cli
from autograder.stubs import (
    MANIFEST,
    EditedAssignments,
    StubError,
    expected_assignments,
    read_manifest,
    stale_assignments,
    write_assignments,
)

from .conftest import SOLUTIONS

ANSWER = "    return X @ w + b  # my answer\n"
NOTEBOOK = Path("notebooks") / "01_linear_model.ipynb"


@pytest.fixture
def course(tmp_path):
    """A course: solutions/ (a copy) and assignments/ generated from it."""
    solutions, assignments = tmp_path / "solutions", tmp_path / "assignments"
    shutil.copytree(SOLUTIONS, solutions, ignore=shutil.ignore_patterns("__pycache__"))
    write_assignments(solutions, assignments)
    return solutions, assignments


def fill_in(assignments: Path) -> str:
    """A student's answer in linear_model.py; returns the file's new text."""
    path = assignments / "linear_model.py"
    text = path.read_text().replace('raise NotImplementedError("predict: not implemented yet")',
                                    "return X @ w + b  # my answer", 1)
    assert text != path.read_text()
    path.write_text(text)
    return text


def change_solutions(solutions: Path) -> None:
    """The instructor edits a docstring of solutions/linear_model.py (outside any solution region)."""
    path = solutions / "linear_model.py"
    path.write_text(path.read_text() + "\n\n# Note from the instructor: shapes are (n, d).\n")


def backups(assignments: Path) -> list[Path]:
    return sorted(assignments.parent.glob(f"{assignments.name}.backup-*"))


def test_a_generation_records_what_it_wrote_and_is_in_sync(course):
    solutions, assignments = course
    assert stale_assignments(solutions, assignments) == []
    record = read_manifest(assignments)
    assert set(record) == {relative.as_posix() for relative in expected_assignments(solutions)}
    assert NOTEBOOK.as_posix() in record


def test_the_committed_assignments_carry_a_current_record():
    # The repository's own assignments/ must have the record, or the first `autograder stubs` after
    # a change of solutions/ would take every stale stub for someone's work.
    working = SOLUTIONS.parent / "assignments"
    assert read_manifest(working) is not None
    assert str(MANIFEST) not in stale_assignments(SOLUTIONS, working)


def test_edited_work_is_refused_and_nothing_is_written(course):
    solutions, assignments = course
    change_solutions(solutions)  # so that regenerating would really change linear_model.py
    answer = fill_in(assignments)
    before = {path: path.read_bytes() for path in assignments.rglob("*") if path.is_file()}
    with pytest.raises(EditedAssignments) as refused:
        write_assignments(solutions, assignments)
    assert refused.value.edited == ["linear_model.py"]
    assert "linear_model.py" in str(refused.value) and "--force" in str(refused.value)
    assert {path: path.read_bytes() for path in assignments.rglob("*") if path.is_file()} == before
    assert (assignments / "linear_model.py").read_text() == answer
    assert backups(assignments) == []


def test_force_backs_the_edited_files_up_then_regenerates(course):
    solutions, assignments = course
    answer = fill_in(assignments)
    written = write_assignments(solutions, assignments, force=True)
    assert written.backed_up == ["linear_model.py"]
    assert backups(assignments) == [written.backup]
    assert (written.backup / "linear_model.py").read_text() == answer
    assert sorted(p.name for p in written.backup.rglob("*") if p.is_file()) == ["linear_model.py"]
    assert stale_assignments(solutions, assignments) == []
    # a second forced run keeps the first backup and needs none
    assert write_assignments(solutions, assignments, force=True).backed_up == []
    assert backups(assignments) == [written.backup]


def test_a_stale_stub_is_replaced_without_force_when_solutions_change(course):
    solutions, assignments = course
    change_solutions(solutions)
    assert stale_assignments(solutions, assignments) == sorted(
        ["linear_model.py", str(NOTEBOOK), str(MANIFEST)])
    written = write_assignments(solutions, assignments)
    assert written.backed_up == [] and written.backup is None
    assert "Note from the instructor" in (assignments / "linear_model.py").read_text()
    assert stale_assignments(solutions, assignments) == []
    assert backups(assignments) == []


def test_an_edited_notebook_is_guarded_too(course):
    solutions, assignments = course
    path = assignments / NOTEBOOK
    notebook = json.loads(path.read_text())
    notebook["cells"].append({"cell_type": "code", "metadata": {}, "source": ["my work"],
                              "outputs": [], "execution_count": None})
    path.write_text(json.dumps(notebook))
    with pytest.raises(EditedAssignments) as refused:
        write_assignments(solutions, assignments)
    assert refused.value.edited == [str(NOTEBOOK)]
    written = write_assignments(solutions, assignments, force=True)
    assert json.loads((written.backup / NOTEBOOK).read_text())["cells"][-1]["source"] == ["my work"]


def test_a_file_someone_added_is_not_removed_unasked_but_a_retired_stub_is(course):
    solutions, assignments = course
    (solutions / "data.txt").write_text("given data\n")
    write_assignments(solutions, assignments)
    (solutions / "data.txt").unlink()  # a file the course no longer generates, untouched: removed
    (assignments / "scratch.py").write_text("my experiments\n")  # someone's own file: kept
    with pytest.raises(EditedAssignments) as refused:
        write_assignments(solutions, assignments)
    assert refused.value.edited == ["scratch.py"]
    written = write_assignments(solutions, assignments, force=True)
    assert written.backed_up == ["scratch.py"]
    assert not (assignments / "data.txt").exists() and not (assignments / "scratch.py").exists()
    assert (written.backup / "scratch.py").read_text() == "my experiments\n"


def test_without_a_record_nothing_is_known_to_be_a_stub(course):
    solutions, assignments = course
    (assignments / MANIFEST).unlink()
    assert str(MANIFEST) in stale_assignments(solutions, assignments)
    assert write_assignments(solutions, assignments).backed_up == []  # in sync: nothing overwritten
    (assignments / MANIFEST).unlink()
    change_solutions(solutions)
    with pytest.raises(EditedAssignments) as refused:
        write_assignments(solutions, assignments)
    assert refused.value.edited == sorted(["linear_model.py", str(NOTEBOOK)])


def test_no_solutions_is_an_error_not_an_empty_assignments(tmp_path):
    assignments = tmp_path / "assignments"
    assignments.mkdir()
    (assignments / "linear_model.py").write_text("my work\n")
    with pytest.raises(StubError, match="does not exist"):
        write_assignments(tmp_path / "solutions", assignments)
    assert (assignments / "linear_model.py").read_text() == "my work\n"


# ---------------------------------------------------------------------------- the command


@pytest.fixture
def command(course, monkeypatch):
    solutions, assignments = course
    monkeypatch.setattr(cli, "solutions_dir", lambda: solutions)
    monkeypatch.setattr(cli, "assignments_dir", lambda: assignments)
    return solutions, assignments


def test_the_command_refuses_names_the_files_and_exits_2(command, capsys):
    solutions, assignments = command
    answer = fill_in(assignments)
    assert cli.main(["stubs"]) == 2
    err = capsys.readouterr().err
    assert "  linear_model.py" in err and "--force" in err and "nothing was written" in err
    assert (assignments / "linear_model.py").read_text() == answer
    assert cli.main(["stubs", "--check"]) == 1
    assert "linear_model.py" in capsys.readouterr().err


def test_the_command_with_force_says_where_the_backup_is(command, capsys):
    solutions, assignments = command
    answer = fill_in(assignments)
    assert cli.main(["stubs", "--force"]) == 0
    out = capsys.readouterr().out
    [backup] = backups(assignments)
    assert f"backed up 1 edited file(s) into {backup}" in out and "linear_model.py" in out
    assert (backup / "linear_model.py").read_text() == answer
    assert cli.main(["stubs", "--check"]) == 0
    assert "in sync" in capsys.readouterr().out


def test_the_command_regenerates_stale_stubs_after_a_change_of_solutions(command, capsys):
    solutions, assignments = command
    change_solutions(solutions)
    assert cli.main(["stubs", "--check"]) == 1
    capsys.readouterr()
    assert cli.main(["stubs"]) == 0
    assert "linear_model.py" in capsys.readouterr().out
    assert cli.main(["stubs", "--check"]) == 0


def test_the_command_without_solutions_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "solutions_dir", lambda: tmp_path / "solutions")
    monkeypatch.setattr(cli, "assignments_dir", lambda: tmp_path / "assignments")
    assert cli.main(["stubs"]) == 2
    assert "in the course repository" in capsys.readouterr().err


def test_jupyters_checkpoints_are_left_alone(course):
    """Jupyter autosaves into notebooks/.ipynb_checkpoints/: not a stub, not the file of record. It
    neither blocks a regeneration nor is deleted by one, and it does not make the stubs stale."""
    solutions, assignments = course
    checkpoint = assignments / "notebooks" / ".ipynb_checkpoints" / "01_linear_model-checkpoint.ipynb"
    checkpoint.parent.mkdir()
    checkpoint.write_text('{"cells": ["an autosave"]}')
    assert stale_assignments(solutions, assignments) == []
    written = write_assignments(solutions, assignments)
    assert written.backed_up == [] and written.backup is None
    assert checkpoint.read_text() == '{"cells": ["an autosave"]}'
