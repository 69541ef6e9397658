"""Batch grading against the tool instructors use today: ``nbgrader autograde`` vs ``grade-batch``.

One nbgrader course (``autograder nbgrader init``, every unit, ``nbgrader generate_assignment``),
one class of generated students handed in as notebooks under ``submitted/`` (the same mix as
bench_batch: reference, stubs, buggy variants per unit, hostile ones), then both graders on the
same submitted notebooks, in the same run:

* ``nbgrader autograde`` (one kernel per notebook, the test cells calling this package's engine);
* ``autograder grade-batch COURSE`` (the nbgrader layout read directly, forkserver workers).

Both must give every student the same total (nbgrader's ``export`` CSV against grades.csv); the
target is grade-batch at least 10x faster. nbgrader takes minutes per run, so it is run fewer times.

    python benchmarks/bench_nbgrader.py [--students N] [--nbgrader-runs R] [--batch-runs R]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_batch import JOBS, make_class
from timing import Measurement, Result, Timing, print_results

from autograder.notebooks.course import DEFAULT_ASSIGNMENT as ASSIGNMENT
from autograder.notebooks.materialize import fill_notebook
from autograder.units import UNITS

STUDENTS = 8
RATIO_TARGET = 10.0


def _run(command: list[str], cwd: Path, *, may_fail: bool = False) -> Measurement:
    """Runs ``command``; raises when it fails, unless ``may_fail`` (nbgrader autograde exits 1 when it
    could not grade some student, and still grades the others)."""
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                               env=dict(os.environ, PYTHONWARNINGS="ignore"))
    wall = time.perf_counter() - started
    if completed.returncode != 0 and not may_fail:
        raise RuntimeError(f"{' '.join(command[:4])} failed:\n{completed.stderr[-3000:]}")
    return Measurement(wall, 0.0)


def make_course(root: Path, students: int) -> Path:
    """The course with ``students`` notebook submissions; returns the course folder."""
    course = root / "course"
    _run([sys.executable, "-m", "autograder", "nbgrader", "init", str(course)], root)
    _run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT], course)
    modules = root / "modules"
    make_class(modules, students=students)
    release = course / "release" / ASSIGNMENT
    for student in sorted(path.name for path in modules.iterdir()):
        target = course / "submitted" / student / ASSIGNMENT
        target.mkdir(parents=True)
        for unit in UNITS.values():
            notebook = next(release.glob(f"*_{unit.module}.ipynb"))
            document = json.loads(notebook.read_text(encoding="utf-8"))
            source = (modules / student / f"{unit.module}.py").read_text(encoding="utf-8")
            filled = fill_notebook(document, unit.module, source)
            (target / notebook.name).write_text(json.dumps(filled, indent=1), encoding="utf-8")
    return course


def _nbgrader_totals(course: Path) -> dict[str, float]:
    _run([sys.executable, "-m", "nbgrader", "export", "--to", str(course / "nbgrader.csv")], course)
    with open(course / "nbgrader.csv", newline="", encoding="utf-8") as table:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(table)}


def _batch_totals(out: Path) -> dict[str, float]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as table:
        return {row["student"]: float(row["total"]) for row in csv.DictReader(table)}


def bench_nbgrader(students: int = STUDENTS, nbgrader_runs: int = 1, batch_runs: int = 3) -> list[Result]:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        course = make_course(scratch, students)
        nbgrader = []
        for _ in range(nbgrader_runs):
            shutil.rmtree(course / "autograded", ignore_errors=True)
            nbgrader.append(_run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create", "--force"],
                                 course, may_fail=True))
        # nbgrader runs every cell in the student's kernel, figure cells included: a submission that
        # segfaults when called kills the kernel, and nbgrader drops that student's whole assignment.
        ungraded = sorted(path.name for path in (course / "submitted").iterdir()
                          if not (course / "autograded" / path.name / ASSIGNMENT).is_dir())
        batch = []
        for run in range(batch_runs):
            batch.append(_run([sys.executable, "-m", "autograder", "grade-batch", str(course),
                               "--out", str(scratch / f"out{run}"), "--jobs", str(JOBS)], scratch))
        expected, got = _nbgrader_totals(course), _batch_totals(scratch / "out0")
        expected = {student: score for student, score in expected.items() if student not in ungraded}
        got_graded = {student: score for student, score in got.items() if student not in ungraded}
        if expected != got_graded:
            differing = sorted(s for s in set(expected) | set(got_graded) if expected.get(s) != got_graded.get(s))
            raise AssertionError(f"nbgrader and grade-batch totals differ for {differing}: "
                                 f"{[(expected.get(s), got_graded.get(s)) for s in differing]}")
    nbgrader_timing, batch_timing = Timing.of(nbgrader), Timing.of(batch)
    ratio = nbgrader_timing.median / batch_timing.median
    units = ", ".join(UNITS)
    return [
        Result(f"`nbgrader autograde` of {students} notebook submissions ({units})", nbgrader_timing, None,
               "one kernel per notebook; the test cells call this package's engine"),
        Result(f"`autograder grade-batch` of the same submitted/ folder, {JOBS} workers", batch_timing, None,
               f"totals identical to nbgrader's export for the {students - len(ungraded)} students nbgrader graded; "
               + (f"nbgrader could not grade {', '.join(ungraded)} (kernel died), grade-batch gave "
                  f"{', '.join(f'{got[u]:g}' for u in ungraded)}; " if ungraded else "")
               + f"{ratio:.0f}x faster "
               f"(target {RATIO_TARGET:g}x): {'met' if ratio >= RATIO_TARGET else 'MISSED'}"),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=STUDENTS)
    parser.add_argument("--nbgrader-runs", type=int, default=1)
    parser.add_argument("--batch-runs", type=int, default=3)
    arguments = parser.parse_args()
    print_results(bench_nbgrader(arguments.students, arguments.nbgrader_runs, arguments.batch_runs))
