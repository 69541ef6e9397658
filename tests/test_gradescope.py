"""The Gradescope bundle grades a submission into results.json exactly like `grade --json`."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile

import pytest

from autograder import api
from autograder.gradescope import write_bundle

from .conftest import ASSIGNMENTS, SOLUTIONS
from .corpus.linear import MUTATIONS


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return write_bundle(tmp_path_factory.mktemp("bundle") / "autograder.zip")


def run_autograder(bundle, tmp_path, submission):
    home = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(home / "source")
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
    (home / "submission").mkdir()
    subprocess.run(["bash", str(home / "source" / "run_autograder")],
                   env={"AUTOGRADER_HOME": str(home), "PATH": _python_dir() + ":/usr/bin:/bin"}, check=True, timeout=60)
    results = json.loads((home / "results" / "results.json").read_text())
    assert results["score"] == 0 and "could not run" in results["output"]


def test_stubs_score_zero_through_the_bundle(bundle, tmp_path):
    results = run_autograder(bundle, tmp_path, ASSIGNMENTS)
    assert results["score"] == 0
