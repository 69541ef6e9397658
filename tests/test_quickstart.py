"""The README's quick start and CI agree: `.ci/run` runs the README's test command as written."""

from __future__ import annotations

import re

from autograder.paths import REPOSITORY


def test_ci_runs_the_readmes_test_command_verbatim():
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 2, commands  # one for the student's job, one for the tests
    ci_lines = (REPOSITORY / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands[1] in ci_lines
    assert "pytest" in commands[1]
