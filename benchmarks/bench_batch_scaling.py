"""How batch grading's cost grows with the class, and what isolating each check costs in it.

Two measurements:

* **Scaling**: ``grade_batch`` of generated classes of ``SIZES`` students (10, 100 and 1,000 by
  default; ``--students 10,100`` for a quicker run), 2 local workers, every unit, each class made
  by :func:`bench_batch.make_class` (per unit: reference, stub or a buggy corpus variant; the
  segfaulting student among the first ten). Each size is graded once, with a fresh reference
  provider, so every run pays what a real run pays: the pool's start, the reference outputs
  (computed once per run, in a trusted child), probing and judging every student, the files.
  Reported: wall time, time per student, and the per-student time against the smallest class's.
* **Isolation overhead per check**: one student handing in the reference for every unit, probed
  the way grading does (:func:`autograder.grading.probe_submission`: a confined child per group of
  checks, a wire frame per check) and probed without any isolation (the same probes called one
  after another in one plain forked process, timed inside it). The difference divided by the
  number of checks is what isolation adds to each check, in the conditions of a real student
  (its module imported in every child, bans installed, the reference folder hidden).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench_batch import JOBS, make_class
from timing import (  # first: sys.path
    REPO_ROOT,
    Measurement,
    Result,
    Timing,
    format_seconds,
    print_results,
)

from autograder.batch import Progress, grade_batch
from autograder.grading import GradingOptions, SolutionsReference, probe_submission
from autograder.paths import solutions_dir
from autograder.sandbox import Implementation, Status
from autograder.units import UNITS, select_checks

SIZES = (10, 100, 1000)
ISOLATION_RUNS = 7


class _Quiet(Progress):
    def __init__(self):
        super().__init__(0)

    def advance(self):
        pass


@dataclass(frozen=True)
class ScalingRun:
    students: int
    wall_seconds: float

    @property
    def per_student(self) -> float:
        return self.wall_seconds / self.students


def time_class(students: int, scratch: Path) -> ScalingRun:
    """Grades a fresh generated class of ``students``; one run."""
    root, out = scratch / f"class{students}", scratch / f"out{students}"
    make_class(root, students)
    reference = SolutionsReference(solutions_dir())
    started = time.perf_counter()
    summary = grade_batch(root, out, reference=reference, jobs=JOBS, progress=_Quiet())
    wall = time.perf_counter() - started
    if len(summary.graded) != students:
        raise AssertionError(f"graded {len(summary.graded)} of {students} students")
    return ScalingRun(students, wall)


def _probe_without_isolation(folder: Path, checks) -> float:
    """Seconds the checks' probes take called directly, one after another, in one forked process
    (forked only to keep the student's modules out of this one; the fork is not timed)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # the sandbox captures what the probes print; here it goes nowhere
        os.dup2(devnull, 2)
        started = time.perf_counter()
        implementation = Implementation(folder)
        for check in checks:
            with contextlib.suppress(Exception):  # what a probe raises is part of its work
                check.probe(implementation)
        os.write(write_end, struct.pack("d", time.perf_counter() - started))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return struct.unpack("d", data)[0]


@dataclass(frozen=True)
class IsolationOverhead:
    checks: int
    children: int
    isolated: Timing
    plain: Timing

    @property
    def per_check(self) -> float:
        return (self.isolated.median - self.plain.median) / self.checks


def measure_isolation(scratch: Path, runs: int = ISOLATION_RUNS) -> IsolationOverhead:
    """The reference handed in as a student: probed with isolation and without, interleaved."""
    folder = scratch / "one-student"
    shutil.copytree(REPO_ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    checks = select_checks()
    options, hidden = GradingOptions(), (solutions_dir(),)
    children = len({(check.unit, check.forbidden_calls) for check in checks})
    isolated, plain = [], []
    probe_submission(folder, checks, options=options, hidden_folders=hidden)  # warm-up
    for _ in range(runs):
        started = time.perf_counter()
        outcomes = probe_submission(folder, checks, options=options, hidden_folders=hidden)
        isolated.append(Measurement(time.perf_counter() - started, 0.0))
        if not all(outcome.status is Status.OK for outcome in outcomes.values()):
            raise AssertionError("the reference did not probe cleanly")
        plain.append(Measurement(_probe_without_isolation(folder, checks), 0.0))
    return IsolationOverhead(len(checks), children, Timing.of(isolated), Timing.of(plain))


def time_reference() -> float:
    """Seconds to compute the reference outputs of every check with a fresh provider."""
    started = time.perf_counter()
    outputs = SolutionsReference(solutions_dir()).outputs(select_checks())
    seconds = time.perf_counter() - started
    failed = [check_id for check_id, output in outputs.items() if isinstance(output, str)]
    if failed:
        raise AssertionError(f"the reference failed on {failed}")
    return seconds


def bench_batch_scaling(
    sizes: tuple[int, ...] = SIZES,
) -> tuple[list[ScalingRun], IsolationOverhead, float]:
    """(one run per class size, the isolation overhead, the reference's cost once)."""
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        overhead = measure_isolation(scratch)
        reference_seconds = time_reference()
        runs = [time_class(students, scratch) for students in sizes]
    return runs, overhead, reference_seconds


def as_results(runs: list[ScalingRun], overhead: IsolationOverhead) -> list[Result]:
    """Rows for the main results table (no targets)."""
    base = runs[0].per_student
    rows = [
        Result(
            f"`grade_batch` of {run.students:,} generated students, {JOBS} workers (scaling)",
            Timing.of([Measurement(run.wall_seconds, 0.0)]),
            None,
            f"{format_seconds(run.per_student)} per student (x{run.per_student / base:.2f} the {runs[0].students}-student "
            "class's)",
        )
        for run in runs
    ]
    rows.append(Result(
        f"isolation per check while grading: {overhead.checks} checks of the reference, "
        f"{overhead.children} confined children",
        Timing.of([Measurement(overhead.per_check, 0.0)]),
        None,
        f"probing with isolation {format_seconds(overhead.isolated.median)}, without "
        f"{format_seconds(overhead.plain.median)} (medians of {overhead.isolated.runs})",
    ))
    return rows


def report_lines(runs: list[ScalingRun], overhead: IsolationOverhead, reference_seconds: float) -> list[str]:
    """The Markdown section for docs/benchmarks.md."""
    base = runs[0]
    units = ", ".join(UNITS)
    lines = [
        "## How batch grading scales",
        "",
        f"`benchmarks/bench_batch_scaling.py`: `grade_batch` of generated classes ({units}; per unit",
        f"reference, stub or a buggy corpus variant; one segfaulting student), {JOBS} local workers, one run",
        "per size, each with a fresh reference provider (so each pays the pool's start and the reference",
        "outputs once, as a real run does). Sizes run: " + ", ".join(f"{run.students:,}" for run in runs) + ".",
        "",
        "| students | wall | per student | per student / smallest class's | students per minute |",
        "| --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        lines.append(
            f"| {run.students:,} | {format_seconds(run.wall_seconds)} | {format_seconds(run.per_student)} "
            f"| {run.per_student / base.per_student:.2f} | {60 / run.per_student:.0f} |"
        )
    lines += [
        "",
        f"What a run pays once: the reference outputs of every check, {format_seconds(reference_seconds)}",
        "(in a trusted child, measured alone), and the pool's start. Students differ in cost (a buggy",
        "training loop can run to its time limit), so the per-student time of a class depends on its",
        "mix as well as on its size; the classes share their first students (one seed).",
    ]
    share = overhead.per_check * overhead.checks / overhead.isolated.median
    lines += [
        "",
        "Isolation overhead per check, in grading conditions: the reference handed in as a student,",
        f"{overhead.checks} checks in {overhead.children} confined children (one per unit and set of banned",
        (f"functions), took {format_seconds(overhead.isolated.median)} to probe with isolation and "
         f"{format_seconds(overhead.plain.median)} with the same"),
        f"probes called directly in one process (medians of {overhead.isolated.runs} interleaved runs):",
        f"**{format_seconds(overhead.per_check)} per check**, {share:.0%} of the probing time.",
        "It covers the forks, the student's module imported again in each child, the bans, the mount",
        "namespace that hides the reference, and a wire frame per check.",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Batch grading time against class size.")
    parser.add_argument("--students", default=",".join(map(str, SIZES)),
                        help="class sizes, comma-separated (default %(default)s; 1000 takes ~7 min)")
    args = parser.parse_args(argv)
    sizes = tuple(sorted(int(size) for size in args.students.split(",")))
    runs, overhead, reference_seconds = bench_batch_scaling(sizes)
    print_results(as_results(runs, overhead))
    print("\n".join(report_lines(runs, overhead, reference_seconds)))


if __name__ == "__main__":
    main()
