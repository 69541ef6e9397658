"""The `autograder` command: what students and machines see, and how bad input is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from autograder.cli import main
from autograder.units import UNITS

from .conftest import ASSIGNMENTS, SOLUTIONS


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_check_on_the_stubs_reports_every_part_not_implemented():
    completed = run_cli("check", cwd=ASSIGNMENTS.parent)
    assert completed.returncode == 0, completed.stderr
    lines = [line for line in completed.stdout.splitlines() if line.strip().startswith("· linear.")]
    assert len(lines) == 6 and all("not implemented yet" in line for line in lines)
    assert "Total: 0/" in completed.stdout
    assert "\033[" not in completed.stdout  # no colours when not on a terminal
    assert completed.stderr == ""


def test_check_on_the_reference_reports_full_marks(capsys, reference_report):
    assert main(["check", "--submission", str(SOLUTIONS)]) == 0
    out = capsys.readouterr().out
    full = f"{reference_report.max_score:g}"
    assert f"Total: {full}/{full} points" in out and "✗" not in out


def test_check_a_single_part(capsys):
    assert main(["check", "predict", "--submission", str(ASSIGNMENTS)]) == 0
    out = capsys.readouterr().out
    assert "linear.predict" in out and "linear.loss" not in out


def test_grade_json_is_one_gradescope_document(reference_report):
    completed = run_cli("grade", "--submission", str(SOLUTIONS), "--json")
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert set(document) >= {"score", "max_score", "tests"}
    assert document["score"] == document["max_score"] == reference_report.max_score
    for test in document["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output"}
        assert test["name"].split(".")[0] in UNITS
        assert test["status"] in {"passed", "failed"}
    assert sum(test["max_score"] for test in document["tests"]) == document["max_score"]


def test_grade_json_of_stubs(capsys):
    assert main(["grade", "--submission", str(ASSIGNMENTS), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["score"] == 0
    assert all(t["status"] == "failed" and "not implemented yet" in t["output"] for t in document["tests"])


def test_hidden_checks_never_show_details(tmp_path, capsys):
    from .corpus.linear import MUTATIONS

    mutation = next(m for m in MUTATIONS if m.name == "gradient sign flipped")
    submission = mutation.apply(SOLUTIONS, tmp_path / "s")
    main(["grade", "--submission", str(submission), "--json"])
    tests = {t["name"]: t for t in json.loads(capsys.readouterr().out)["tests"]}
    hidden, public = tests["linear.gradients.hidden"], tests["linear.gradients.values"]
    assert hidden["status"] == "failed" and "opposite sign" in hidden["output"]
    assert "worst element" not in hidden["output"] and "N=" not in hidden["output"]
    assert "worst element" in public["output"] and "N=5" in public["output"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["check", "--submission", "/no/such/folder"], "does not exist"),
        (["grade", "--submission", "/no/such/folder", "--json"], "does not exist"),
        (["check", "nonsense", "--submission", str(SOLUTIONS)], "units: linear, mlp, losses"),
        (["check", "linear.predcit", "--submission", str(SOLUTIONS)], "did you mean 'linear.predict'?"),
        (["check", "gradiants", "--submission", str(SOLUTIONS)], "did you mean 'linear.gradients'?"),
        (["check", "mlp.relu.forwrd", "--submission", str(SOLUTIONS)], "did you mean 'mlp.relu.forward'?"),
        (["grade", "--submission", str(SOLUTIONS), "--unit", "no_such_unit"], "unknown unit or part 'no_such_unit'"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(args, fragment, capsys):
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and fragment in captured.err


def test_an_unknown_part_suggests_the_closest_name_not_every_name(capsys):
    assert main(["check", "linear.predcit", "--submission", str(SOLUTIONS)]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'linear.predict'?" in err
    # Only the closest name: the message is one short line, not the course's 59 names.
    assert "linear.loss" not in err and "capstone.train" not in err and len(err) < 150


@pytest.mark.parametrize("selector", ["LINEAR.Predict", "Predict", "linear.PREDICT.values"])
def test_part_names_ignore_case(selector, capsys):
    assert main(["check", selector, "--submission", str(ASSIGNMENTS)]) == 0
    out = capsys.readouterr().out
    assert "linear.predict" in out and "linear.loss" not in out and "not implemented yet" in out


def test_check_outside_a_course_folder_explains(tmp_path):
    completed = run_cli("check", cwd=tmp_path)
    assert completed.returncode == 2
    assert "no assignments/ folder in" in completed.stderr
    assert "run this in the course folder, or pass --submission DIR" in completed.stderr


@pytest.mark.parametrize("where", [".", "notebooks"])
def test_check_inside_assignments_finds_the_course(where):
    """`autograder check` run inside assignments/ (or a folder below it) grades the course's assignments/."""
    completed = run_cli("check", "linear", cwd=ASSIGNMENTS / where)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[0] == f"grading {ASSIGNMENTS.resolve()}"
    lines = [line for line in completed.stdout.splitlines() if line.strip().startswith("· linear.")]
    assert len(lines) == 6 and all("not implemented yet" in line for line in lines)
    assert completed.stderr == ""


def test_plots_are_written_for_curves(tmp_path, capsys):
    assert main(["check", "linear.fit", "--submission", str(SOLUTIONS), "--plots", str(tmp_path)]) == 0
    png = tmp_path / "linear.fit.png"  # one figure per part (autograder/plots.py)
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stubs_check_tells_a_generated_folder_from_an_edited_one(tmp_path, monkeypatch, capsys):
    """`autograder stubs --check` on a copy (the working copy's assignments/ is tested once, in
    tests/test_stubs.py::test_assignments_are_in_sync_with_solutions)."""
    import autograder.cli

    copy = tmp_path / "assignments"
    shutil.copytree(ASSIGNMENTS, copy)
    monkeypatch.setattr(autograder.cli, "assignments_dir", lambda: copy)
    assert main(["stubs", "--check"]) == 0
    assert "in sync" in capsys.readouterr().out
    with (copy / "linear_model.py").open("a") as file:
        file.write("# a student's line\n")
    assert main(["stubs", "--check"]) == 1
    err = capsys.readouterr().err
    assert "linear_model.py" in err and "run `autograder stubs`" in err
    assert main(["stubs"]) == 2  # someone's edit is not overwritten unasked (docs/stubs.md)
    assert main(["stubs", "--force"]) == 0 and main(["stubs", "--check"]) == 0


def test_list_shows_every_check(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "linear.gradients.finite_differences" in out and "hidden" in out


def test_the_grader_never_imports_torch():
    """torch is the tests' oracle only (the `test` extra): importing every module of the grader
    must not import it, so `pip install -e .` without torch gives a working `autograder check`."""
    code = (
        "import importlib, pkgutil, sys, autograder\n"
        "for module in pkgutil.walk_packages(autograder.__path__, 'autograder.'):\n"
        "    if not module.name.endswith('__main__'):\n"
        "        importlib.import_module(module.name)\n"
        "print(sorted(name for name in sys.modules if name == 'torch' or name.startswith('torch.')))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


def test_torch_is_only_in_the_test_extra_with_a_closed_range():
    tomllib = pytest.importorskip("tomllib")
    from autograder.paths import REPOSITORY

    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith("torch")]
    extras = project["optional-dependencies"]
    torch = [d for name, deps in extras.items() for d in deps if d.lower().startswith("torch")]
    # An open range makes pip download a multi-GB CUDA build: torch==2.13.0 must satisfy a closed one.
    assert torch == ["torch>=2.1,<2.14"] and "torch>=2.1,<2.14" in extras["test"]
    assert any(d.startswith(("jupyterlab", "notebook")) for d in extras["notebook"])


@pytest.mark.parametrize("driver", [False, True])
def test_nbgrader_init_with_postgres_warns_when_no_driver_is_installed(driver, tmp_path, monkeypatch, capsys):
    from autograder import cli

    monkeypatch.setattr(cli, "_postgres_driver_installed", lambda: driver)
    code = cli.main(["nbgrader", "init", str(tmp_path / "course"), "--unit", "linear",
                     "--db", "postgresql+psycopg://grader@localhost/gradebook"])
    assert code == 0
    warned = "no PostgreSQL driver is installed" in capsys.readouterr().err
    assert warned is not driver
