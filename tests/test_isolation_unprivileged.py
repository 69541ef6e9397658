"""The hostile corpus again, with the grader run by an ordinary user (issue 12).

As root, every attack of ``tests/corpus/hostile.py`` is refused. An ordinary user's grader cannot
switch the child to another user, so some layers are missing; each must then be named in the
report's notes, and every other layer must still hold (``refused_here`` in test_isolation.py says
which attack each layer stops). This test reruns ``tests/test_isolation.py`` as user ``nobody``
on a copy of the repository that ``nobody`` owns, as an instructor's own checkout would be.

Python usually lives where ``nobody`` may not go (``/root/.pyenv``). In a private mount namespace
the folder that closes it gets an empty tmpfs with just the Python installation bound back, as the
sandbox itself does for its children; nothing changes outside that namespace.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.paths import REPOSITORY

NOBODY = 65534
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv")),
    reason="needs root (to become nobody) and util-linux's unshare and setpriv",
)


def _closed_ancestor(path: Path) -> Path | None:
    for ancestor in reversed(path.parents):
        if ancestor != Path("/") and not os.stat(ancestor).st_mode & stat.S_IXOTH:
            return ancestor
    return None


def _copy_owned_by_nobody() -> Path:
    copy = Path(tempfile.mkdtemp(prefix="autograder-unprivileged-", dir="/var/tmp"))
    for name in ("autograder", "solutions", "tests", "pyproject.toml"):
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, copy / name)
    for root, folders, files in os.walk(copy):
        for name in folders + files:
            os.chown(os.path.join(root, name), NOBODY, NOBODY)
    os.chown(copy, NOBODY, NOBODY)
    copy.chmod(0o755)
    return copy


def _as_nobody_script(copy: Path) -> str:
    """Shell lines, run in a private mount namespace as root, that make Python reachable for
    nobody and then run the rest of the command line as nobody."""
    lines = ["set -e"]
    prefixes = sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}, key=lambda p: len(p.parts))
    closed = {_closed_ancestor(prefix) for prefix in prefixes} - {None}
    for index, prefix in enumerate(prefixes):
        if _closed_ancestor(prefix) is not None:
            lines += [f"mkdir -p '{copy}/.bind{index}'", f"mount --bind '{prefix}' '{copy}/.bind{index}'"]
    for folder in closed:
        lines.append(f"mount -t tmpfs -o mode=755 tmpfs '{folder}'")
    for index, prefix in enumerate(prefixes):
        if _closed_ancestor(prefix) is not None:
            lines += [f"mkdir -p '{prefix}'", f"mount --bind '{copy}/.bind{index}' '{prefix}'"]
    lines.append(f'exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups "$@"')
    return "\n".join(lines)


def test_the_hostile_corpus_as_an_ordinary_user():
    copy = _copy_owned_by_nobody()
    try:
        python = str(Path(sys.executable).resolve())
        environment = {"PATH": f"{Path(python).parent}:/usr/bin:/bin", "HOME": "/tmp", "MPLCONFIGDIR": "/tmp",
                       "PYTHONPATH": str(copy), "LANG": "C.UTF-8"}
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", _as_nobody_script(copy), "sh",
                   "env", "-i", *(f"{key}={value}" for key, value in environment.items()),
                   python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                   "tests/test_isolation.py"]
        completed = subprocess.run(command, cwd=copy, capture_output=True, text=True, timeout=900)
        output = completed.stdout + completed.stderr
        assert completed.returncode == 0, output[-6000:]
        # The corpus ran (not everything skipped), and the root-only tests were the ones skipped.
        summary = output.strip().splitlines()[-1]
        assert " passed" in summary and "failed" not in summary, summary
    finally:
        shutil.rmtree(copy, ignore_errors=True)
