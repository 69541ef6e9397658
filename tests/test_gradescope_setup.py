"""The Gradescope bundle's setup.sh, run for real on a PEP 668 Python (issue 14).

Debian 12 and Ubuntu 24.04 mark their own Python "externally managed": ``pip install`` into it is
refused, which broke the first setup.sh. Here setup.sh runs with this machine's Debian
``/usr/bin/python3`` (externally managed) first on PATH, in a folder standing in for
``/autograder`` (``AUTOGRADER_HOME``), with ``apt-get`` stubbed out (the image's packages are a
given; the test must not change this machine). It must build its venv, pip-install the bundled
package with its dependencies from the registry, and then ``run_autograder`` must grade a
submission with that venv into results.json, the same score ``autograder grade`` gives.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from autograder import api
from autograder.gradescope import write_bundle

from .conftest import SOLUTIONS
from .corpus.linear import MUTATIONS

DEBIAN_PYTHON = Path("/usr/bin/python3")
#: What pip prints when the registry cannot be reached (then the test cannot say anything).
OFFLINE = ("NewConnectionError", "Temporary failure in name resolution", "No matching distribution found",
           "Network is unreachable")


def _externally_managed() -> bool:
    if not DEBIAN_PYTHON.exists():
        return False
    completed = subprocess.run([str(DEBIAN_PYTHON), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                               capture_output=True, text=True)
    return completed.returncode == 0 and (Path(completed.stdout.strip()) / "EXTERNALLY-MANAGED").is_file()


pytestmark = pytest.mark.skipif(not _externally_managed(), reason="no externally managed /usr/bin/python3 here")


def test_setup_sh_builds_its_venv_on_a_pep_668_python_and_the_bundle_grades(tmp_path):
    home = tmp_path / "autograder"
    with zipfile.ZipFile(write_bundle(tmp_path / "autograder.zip")) as archive:
        archive.extractall(home / "source")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "apt-get").write_text("#!/bin/sh\nexit 0\n")
    (stubs / "apt-get").chmod(0o755)
    environment = {"AUTOGRADER_HOME": str(home), "PATH": f"{stubs}:/usr/bin:/bin", "HOME": str(tmp_path)}

    setup = subprocess.run(["bash", str(home / "source" / "setup.sh")], env=environment,
                           capture_output=True, text=True, timeout=900)
    if setup.returncode != 0 and any(sign in setup.stderr for sign in OFFLINE):
        pytest.skip(f"the package registry is out of reach: {setup.stderr.strip()[-300:]}")
    assert setup.returncode == 0, setup.stderr[-3000:]
    venv_python = home / "venv" / "bin" / "python"
    assert venv_python.exists()
    base = subprocess.run([str(venv_python), "-c", "import sys; print(sys.base_prefix)"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert base == "/usr"  # built from the externally managed Python, as on the image

    submission = MUTATIONS[1].apply(SOLUTIONS, tmp_path / "student")
    shutil.copytree(submission, home / "submission")
    run = subprocess.run(["bash", str(home / "source" / "run_autograder")], env=environment,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    results = json.loads((home / "results" / "results.json").read_text())
    expected = api.grade(submission).to_gradescope()
    assert (results["score"], results["max_score"]) == (expected["score"], expected["max_score"])
    assert 0 < results["score"] < results["max_score"]
