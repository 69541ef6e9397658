"""The Gradescope bundle grades a submission into results.json exactly like `grade --json`."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from autograder import api, gradescope
from autograder.checks import Visibility
from autograder.cli import main
from autograder.gradescope import BundleError, write_bundle
from autograder.units import select_checks

from .conftest import ASSIGNMENTS, SOLUTIONS
from .corpus.linear import MUTATIONS


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return write_bundle(tmp_path_factory.mktemp("bundle") / "autograder.zip")


def make_venv(home: Path) -> None:
    """``home/venv`` as setup.sh makes it, offline: this interpreter's packages (numpy, ...) stand in
    for what setup.sh's pip installs (run_autograder runs the bundle's own copy of the grader)."""
    import sys

    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(home / "venv")],
                   check=True, timeout=120)


def run_autograder(bundle, tmp_path, submission):
    home = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(home / "source")
    make_venv(home)
    shutil.copytree(submission, home / "submission")
    script = home / "source" / "run_autograder"
    completed = subprocess.run(["bash", str(script)], env={"AUTOGRADER_HOME": str(home), "PATH": _python_dir() + ":/usr/bin:/bin"},
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    return json.loads((home / "results" / "results.json").read_text())


def _python_dir():
    import sys
    from pathlib import Path

    return str(Path(sys.executable).parent)


def test_bundle_holds_the_scripts_and_the_grader_but_no_caches(bundle):
    names = zipfile.ZipFile(bundle).namelist()
    assert {"setup.sh", "run_autograder", "autograder/cli.py", "solutions/linear_model.py"} <= set(names)
    assert not [name for name in names if "__pycache__" in name or name.startswith(("tests/", "assignments/"))]


def test_results_json_equals_grade_json(bundle, tmp_path):
    submission = MUTATIONS[1].apply(SOLUTIONS, tmp_path / "student")
    results = run_autograder(bundle, tmp_path, submission)
    assert results == api.grade(submission).to_gradescope()
    assert 0 < results["score"] < results["max_score"]


def test_nested_upload_is_found(bundle, tmp_path):
    upload = tmp_path / "upload"
    shutil.copytree(SOLUTIONS, upload / "assignments")
    results = run_autograder(bundle, tmp_path, upload)
    linear = [t for t in results["tests"] if t["name"].startswith("linear.")]
    assert all(t["status"] == "passed" for t in linear)
    assert "subfolder assignments/" in results["output"]


def test_grader_failure_still_writes_results(bundle, tmp_path):
    home = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(home / "source")
    shutil.rmtree(home / "source" / "solutions")  # a broken image: the reference is missing
    make_venv(home)
    (home / "submission").mkdir()
    subprocess.run(["bash", str(home / "source" / "run_autograder")],
                   env={"AUTOGRADER_HOME": str(home), "PATH": _python_dir() + ":/usr/bin:/bin"}, check=True, timeout=60)
    results = json.loads((home / "results" / "results.json").read_text())
    assert results["score"] == 0 and "could not run" in results["output"]


def test_setup_installs_into_a_venv_and_run_autograder_uses_it(bundle):
    """PEP 668 systems (Debian 12, Ubuntu 24.04) refuse `pip install` into their own Python."""
    with zipfile.ZipFile(bundle) as archive:
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
    assert 'python3 -m venv "$home/venv"' in setup
    pip_lines = [line.strip() for line in setup.splitlines()
                 if "pip install" in line and not line.lstrip().startswith(("#", "apt-get"))]
    assert pip_lines and all(line.startswith('"$home/venv/bin/python" -m pip install') for line in pip_lines)
    assert '"$home/venv/bin/python" -m pip install --quiet "$home/source"' in setup  # the package itself
    assert 'python="$home/venv/bin/python"' in run and '"$python" -m autograder grade' in run
    assert "python3 -m autograder" not in run
    for script in (setup, run):
        assert subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True).returncode == 0


def test_without_the_venv_results_json_says_the_grader_could_not_run(bundle, tmp_path):
    home = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(home / "source")
    shutil.copytree(SOLUTIONS, home / "submission")  # full marks, were the grader able to run
    subprocess.run(["bash", str(home / "source" / "run_autograder")],
                   env={"AUTOGRADER_HOME": str(home), "PATH": _python_dir() + ":/usr/bin:/bin"}, check=True, timeout=60)
    results = json.loads((home / "results" / "results.json").read_text())
    assert results["score"] == 0 and "could not run" in results["output"] and "venv/bin/python" in results["output"]


def test_stubs_score_zero_through_the_bundle(bundle, tmp_path):
    results = run_autograder(bundle, tmp_path, ASSIGNMENTS)
    assert results["score"] == 0


# ---------------------------------------------------------------------------- issue 14


def test_hidden_checks_are_shown_after_the_due_date_by_default(bundle, tmp_path):
    submission = MUTATIONS[1].apply(SOLUTIONS, tmp_path / "student")
    results = run_autograder(bundle, tmp_path, submission)
    hidden = {check.id for check in select_checks(visibility=Visibility.HIDDEN)}
    assert hidden and hidden <= {test["name"] for test in results["tests"]}
    for test in results["tests"]:
        assert test["visibility"] == ("after_due_date" if test["name"] in hidden else "visible"), test["name"]


def test_bundle_options_are_carried_into_run_autograder(tmp_path, capsys):
    out = tmp_path / "week1.zip"
    assert main(["gradescope-bundle", str(out), "--unit", "linear", "--hidden-visibility", "hidden"]) == 0
    assert "grades linear" in capsys.readouterr().out
    script = zipfile.ZipFile(out).read("run_autograder").decode()
    assert "options=(--hidden-visibility hidden --unit linear)" in script
    submission = MUTATIONS[1].apply(SOLUTIONS, tmp_path / "student")
    results = run_autograder(out, tmp_path, submission)
    linear = select_checks(["linear"])
    assert [test["name"] for test in results["tests"]] == [check.id for check in linear]
    assert results == api.grade(submission, parts=["linear"]).to_gradescope(hidden_visibility="hidden")
    visibility = {test["name"]: test["visibility"] for test in results["tests"]}
    assert {visibility[c.id] for c in linear if c.visibility is Visibility.HIDDEN} == {"hidden"}
    assert {visibility[c.id] for c in linear if c.visibility is Visibility.PUBLIC} == {"visible"}


def test_bundle_refuses_bad_options(tmp_path, capsys):
    assert main(["gradescope-bundle", str(tmp_path / "a.zip"), "--unit", "linearr"]) == 2
    assert "unknown unit 'linearr'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["gradescope-bundle", str(tmp_path / "a.zip"), "--hidden-visibility", "later"])
    assert not (tmp_path / "a.zip").exists()


def test_a_grader_without_solutions_beside_it_refuses_or_takes_solutions_path(tmp_path, monkeypatch, capsys):
    """As after `pip install .` (not editable): no solutions/ beside the package."""
    monkeypatch.delenv("AUTOGRADER_SOLUTIONS", raising=False)
    monkeypatch.setattr(gradescope, "solutions_dir", lambda: tmp_path / "site-packages" / "solutions")
    out = tmp_path / "bundle.zip"
    assert main(["gradescope-bundle", str(out)]) == 2
    error = capsys.readouterr().err
    assert "no reference solutions beside the installed grader" in error and "--solutions PATH" in error
    assert not out.exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BundleError, match="linear_model.py"):
        write_bundle(out, solutions=empty)
    assert not out.exists()

    copy = shutil.copytree(SOLUTIONS, tmp_path / "course" / "solutions")
    assert main(["gradescope-bundle", str(out), "--solutions", str(copy)]) == 0
    names = zipfile.ZipFile(out).namelist()
    assert {f"solutions/{path.name}" for path in SOLUTIONS.glob("*.py")} <= set(names)
    assert "autograder/units/hidden/linear.py" in names


def test_a_copied_package_without_solutions_refuses_in_its_own_process(tmp_path):
    """The real thing: the package copied alone into a site folder, run with only it importable."""
    import os
    import sys

    import numpy

    site = tmp_path / "site"
    shutil.copytree(gradescope.PACKAGE, site / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8",
                   "PYTHONPATH": os.pathsep.join([str(site), str(Path(numpy.__file__).resolve().parents[1])])}
    command = [sys.executable, "-S", "-m", "autograder", "gradescope-bundle", str(tmp_path / "b.zip")]
    refused = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=120)
    assert refused.returncode == 2, refused.stderr
    assert "no reference solutions beside the installed grader" in refused.stderr
    assert not (tmp_path / "b.zip").exists()
    given = subprocess.run(command + ["--solutions", str(SOLUTIONS)], capture_output=True, text=True,
                           cwd=tmp_path, env=environment, timeout=120)
    assert given.returncode == 0, given.stderr
    assert "solutions/linear_model.py" in zipfile.ZipFile(tmp_path / "b.zip").namelist()


def test_a_grader_without_hidden_checks_refuses(tmp_path):
    package = shutil.copytree(gradescope.PACKAGE, tmp_path / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(package / "units" / "hidden")
    with pytest.raises(BundleError, match="no hidden checks"):
        write_bundle(tmp_path / "b.zip", package=package)
    assert not (tmp_path / "b.zip").exists()
