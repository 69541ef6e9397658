"""Helpers shared by the tests that drive a real nbgrader course (checksums, exchange, PostgreSQL).

They run nbgrader's own command line in a subprocess, as an instructor would, and read back what it
logged and exported; nothing here imitates nbgrader.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from autograder.notebooks.cells import module_cells
from autograder.units import UNITS

ASSIGNMENT = "deep-learning-basics"
NOTEBOOK = "01_linear_model.ipynb"
MODULE = "linear_model"
#: What nbgrader's OverwriteCells logs when a locked cell's text differs from the gradebook's.
CHECKSUM_WARNING = re.compile(r"Attribute 'checksum' for cell (\S+) has changed")
#: nbgrader 0.9's own autograde steps (kernel execution), for a test that needs the kernel path
#: whatever the course's config chooses.
KERNEL_AUTOGRADE = ("--Autograde.autograde_preprocessors=['nbgrader.preprocessors.Execute',"
                    "'nbgrader.preprocessors.SaveAutoGrades']")


def points(*parts: str) -> float:
    """The points of the named parts of Unit 1, public and hidden checks together."""
    return sum(check.points for check in UNITS["linear"].checks if check.part in parts)


def nbgrader(course: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``nbgrader ARGS`` in ``course``; asserts success and returns the run (its log is on stderr)."""
    completed = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True, timeout=900,
        env=dict(env or os.environ, PYTHONWARNINGS="ignore"), stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def init_course(course: Path, *options: str) -> None:
    subprocess.run([sys.executable, "-m", "autograder", "nbgrader", "init", str(course), *options],
                   check=True, capture_output=True)


def fill(release: dict, source: dict, chunks: set[str] | None, module: str = MODULE) -> dict:
    """``release`` with the source's solution copied into the named answer cells (None: all of them)."""
    solved = {tag["chunk"]: cell["source"] for _, cell, tag in module_cells(source, module)}
    for _, cell, tag in module_cells(release, module):
        if (cell["metadata"].get("nbgrader") or {}).get("solution") and (chunks is None or tag["chunk"] in chunks):
            cell["source"] = solved[tag["chunk"]]
    return release


def checksum_warnings(log: str) -> list[str]:
    """The grade ids of the cells nbgrader reported as changed, in log order."""
    return CHECKSUM_WARNING.findall(log)


def exported_scores(course: Path) -> dict[str, float]:
    """``nbgrader export`` as {student: score}."""
    table_path = course / "grades.csv"
    nbgrader(course, "export", "--to", str(table_path))
    with open(table_path, newline="", encoding="utf-8") as table:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(table)}


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
