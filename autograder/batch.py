"""Batch grading of a whole class: ``autograder grade-batch ROOT --out DIR [--jobs N]``.

Layouts recognised under ROOT:

* one folder per student, each shaped like ``assignments/`` (files one level deeper are found too,
  with a note);
* nbgrader's ``submitted/<student>/<assignment>/``: a student's assignment folders are merged into
  one staging folder (``DIR/.staging/<student>``) and graded together.

Either may hold the course's notebooks instead of ``.py`` files: their module cells are written out
as modules (``DIR/.staging/<student>.modules``) and graded exactly as ``.py`` files would be.

How it stays fast and safe:

* worker processes come from a **forkserver** (:mod:`autograder.zygote`), so the processes that
  fork students' code never hold expected values; workers only *probe* (phase 1 of
  :mod:`autograder.grading`) and send back the raw outcomes. Where they run is an
  :class:`~autograder.executors.Executor`: this machine's pool, or a Dask cluster's workers;
* this process computes the reference once (in its own trusted child), judges every student, and
  writes ``DIR/<student>.json`` (the ``grade --json`` document), ``DIR/<student>.txt`` (feedback) and,
  at the end, ``DIR/grades.csv`` and ``DIR/nbgrader_grades.csv`` from those JSON files;
* every file is written atomically (temporary file + rename); a student whose JSON exists is skipped
  on the next run unless ``redo`` is set, so an interrupted batch resumes where it stopped, and the
  CSV files are rebuilt from the JSON files, byte-identical for the same inputs;
* nothing a student hands in stops the batch: an empty folder, a binary or non-UTF-8 file, a missing
  unit or a wrong folder shape becomes that student's row with a clear message.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, TextIO

from .checks import Check
from .executors import (
    Executor,
    ExecutorError,
    LocalExecutor,
    ProbeFuture,
    ProbeJob,
    SubmissionNotSent,
    WorkerLost,
)
from .grading import (
    GradingOptions,
    ReferenceProvider,
    judge_submission,
)
from .render import render_report
from .results import CheckResult, Report, ResultStatus, format_points
from .submission import holds_course_files, locate_submission, visible_children
from .units import select_checks


class BatchError(ValueError):
    """The batch cannot start: ROOT is missing or holds no student folder."""


@dataclass(frozen=True)
class StudentFolder:
    """One student's submission. ``folder`` is None when nothing can be graded (see ``problem``)."""

    student: str
    folder: Path | None
    problem: str | None = None
    note: str | None = None


@dataclass
class BatchSummary:
    """What a batch run did. ``seconds`` maps each graded student to the time it took."""

    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0

    def slowest(self, count: int = 3) -> list[tuple[str, float]]:
        return sorted(self.seconds.items(), key=lambda item: (-item[1], item[0]))[:count]


# ----------------------------------------------------------------------------- discovery


def _student_folder(student: str, folder: Path, staging: Path) -> StudentFolder:
    # Notebooks are written out as modules beside the other staged files of the run.
    located = locate_submission(folder, staging / f"{student}.modules")
    return StudentFolder(student, located.folder, located.problem, located.note)


def discover_students(root: Path, staging: Path) -> list[StudentFolder]:
    """Every student under ``root``, sorted by id; raises BatchError when there is none."""
    root = Path(root)
    if not root.is_dir():
        raise BatchError(f"{root} is not a folder")
    submitted = root / "submitted"
    if submitted.is_dir():
        students = [_merge_nbgrader_student(folder, staging) for folder in visible_children(submitted)]
    else:
        if holds_course_files(root):
            raise BatchError(f"{root} looks like one submission, not a class: use `autograder grade --submission {root}`")
        students = [_student_folder(folder.name, folder, staging) for folder in visible_children(root)]
    if not students:
        raise BatchError(f"{root} holds no student folders")
    return students


def _merge_nbgrader_student(folder: Path, staging: Path) -> StudentFolder:
    """Copies the files of every ``<assignment>/`` of an nbgrader student into one folder."""
    student = folder.name
    if not folder.is_dir():
        return StudentFolder(student, None, f"{folder.name} is a file, not a student folder")
    target = staging / student
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for assignment in visible_children(folder):
        if assignment.is_dir():
            for file in visible_children(assignment):
                if file.is_file():
                    shutil.copy2(file, target / file.name)
    return _student_folder(student, target, staging)


# ----------------------------------------------------------------------------- workers


# ----------------------------------------------------------------------------- files


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _unusable_report(student: StudentFolder, checks: Sequence[Check]) -> Report:
    results = tuple(
        CheckResult(
            id=check.id,
            description=check.description,
            status=ResultStatus.ERROR,
            score=0.0,
            max_score=check.points,
            visibility=check.visibility,
            message=student.problem or "",
        )
        for check in checks
    )
    return Report(student.student, results, (student.problem or "",))


def _write_student(out: Path, student: StudentFolder, report: Report) -> None:
    if student.note:
        report = Report(report.submission, report.results, (student.note, *report.notes))
    document = report.to_gradescope()
    feedback = io.StringIO()
    feedback.write(f"Feedback for {student.student}\n\n")
    render_report(report, colour=False, stream=feedback)
    _write_atomically(out / f"{student.student}.txt", feedback.getvalue())
    # The JSON last: its presence marks the student as finished for a resumed run.
    _write_atomically(out / f"{student.student}.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _finished(out: Path, student: str) -> bool:
    try:
        document = json.loads((out / f"{student}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and "score" in document and "tests" in document


def write_grade_tables(out: Path, students: Sequence[StudentFolder], units: Sequence[str]) -> None:
    """Rebuilds ``grades.csv`` and ``nbgrader_grades.csv`` from the students' JSON files."""
    rows, nbgrader_rows = [], []
    for student in sorted(students, key=lambda s: s.student):
        try:
            document = json.loads((out / f"{student.student}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            rows.append([student.student, *[""] * len(units), "", "", "not graded (run the batch again)"])
            continue
        earned = {unit: 0.0 for unit in units}
        possible = {unit: 0.0 for unit in units}
        for test in document["tests"]:
            unit = test["name"].split(".")[0]
            if unit in earned:
                earned[unit] += test["score"]
                possible[unit] += test["max_score"]
        notes = document.get("output", "").replace("\n", "; ")
        rows.append([
            student.student,
            *[format_points(earned[unit]) for unit in units],
            format_points(document["score"]),
            format_points(document["max_score"]),
            notes,
        ])
        for unit in units:
            score = format_points(earned[unit])
            nbgrader_rows.append([unit, "", "", student.student, "", "", "", score, "0", score, format_points(possible[unit])])
    _write_csv(out / "grades.csv", ["student", *units, "total", "max_score", "notes"], rows)
    _write_csv(
        out / "nbgrader_grades.csv",
        ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
         "raw_score", "late_submission_penalty", "score", "max_score"],
        nbgrader_rows,
    )


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    _write_atomically(path, buffer.getvalue())


# ----------------------------------------------------------------------------- progress


class Progress:
    """A one-line progress bar on a terminal (rate and time left), periodic lines elsewhere."""

    def __init__(self, total: int, stream: TextIO | None = None):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1

    def advance(self) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        line = f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}  {rate:.1f}/s  ~{left:.0f} s left"
        if self.interactive:
            self.stream.write("\r" + line + ("\n" if self.done == self.total else ""))
            self.stream.flush()
        else:
            decile = 10 * self.done // max(self.total, 1)
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(line + "\n")


# ----------------------------------------------------------------------------- the batch


def grade_batch(
    root: Path,
    out: Path,
    *,
    reference: ReferenceProvider,
    jobs: int = 2,
    executor: Executor | None = None,
    parts: Sequence[str] = (),
    redo: bool = False,
    options: GradingOptions = GradingOptions(),
    progress: Progress | None = None,
) -> BatchSummary:
    """Grades every student under ``root`` into ``out``; see the module docstring.

    executor: where the probes run; by default ``jobs`` processes on this machine
        (:class:`~autograder.executors.LocalExecutor`), or e.g. a
        :class:`~autograder.executors.DaskExecutor`. Raises ExecutorError when it cannot run at all.
    """
    started = time.perf_counter()
    executor = executor or LocalExecutor(jobs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    checks = select_checks(list(parts))
    units = list(dict.fromkeys(check.unit for check in checks))
    students = discover_students(Path(root), out / ".staging")
    summary = BatchSummary()
    todo = []
    for student in students:
        if not redo and _finished(out, student.student):
            summary.skipped.append(student.student)
        elif student.folder is None:
            _write_student(out, student, _unusable_report(student, checks))
            summary.graded.append(student.student)
            summary.problems[student.student] = student.problem or ""
        else:
            todo.append(student)
    progress = progress or Progress(len(todo))
    check_ids = tuple(check.id for check in checks)
    hidden = reference.folders_to_hide()
    remaining, alone = list(todo), False
    while remaining:
        # A round grades everyone left; after a round in which nobody finished, the next round
        # grades the first student alone (the likeliest culprit: a local pool loses every
        # unfinished student when one of them kills its worker).
        group = remaining[:1] if alone else remaining
        left = _grade_in_pool(group, checks, check_ids, hidden, out, executor, reference, options, summary, progress)
        alone = len(left) == len(group) and len(group) > 1
        if len(left) == len(group) == 1:
            # Graded alone, and its worker died again: a row that says so, instead of rounds forever.
            problem = "a grading worker died on this submission; grade it alone with `autograder grade`"
            _write_student(out, left[0], _unusable_report(StudentFolder(left[0].student, None, problem), checks))
            summary.graded.append(left[0].student)
            summary.problems[left[0].student] = problem
            progress.advance()
            left = []
        remaining = left + remaining[len(group):]
    write_grade_tables(out, students, units)
    summary.wall_seconds = time.perf_counter() - started
    return summary


def _grade_in_pool(todo, checks, check_ids, hidden, out, executor, reference, options, summary, progress):
    """Grades ``todo`` in one session of ``executor`` (a fresh local pool, or one connection to a
    cluster); returns the students whose worker died (WorkerLost), in ``todo``'s order."""
    lost = set()
    with executor.session() as session:
        pending = {
            session.submit(ProbeJob(student.folder, check_ids, options, hidden, student.student)): student
            for student in todo
        }
        for future in session.as_completed(list(pending)):
            student = pending.pop(future)
            try:
                _finish_student(student, future, checks, out, reference, summary)
            except WorkerLost:
                lost.add(student.student)  # a local pool loses every unfinished job at once
                continue
            progress.advance()
    return [student for student in todo if student.student in lost]


def _finish_student(student, future: ProbeFuture, checks, out, reference, summary) -> None:
    try:
        outcomes, seconds = future.result()
        judged_at = time.perf_counter()
        report = judge_submission(student.folder, checks, outcomes, reference=reference)
        seconds += time.perf_counter() - judged_at
    except (WorkerLost, ExecutorError):
        raise
    except SubmissionNotSent as error:
        student = StudentFolder(student.student, None, str(error))
        report, seconds = _unusable_report(student, checks), 0.0
        summary.problems[student.student] = str(error)
    except Exception as error:  # a grader bug must cost one row, not the batch
        problem = f"internal grader error ({type(error).__name__}: {error}); please report it"
        student = StudentFolder(student.student, None, problem)
        report, seconds = _unusable_report(student, checks), 0.0
        summary.problems[student.student] = problem
    _write_student(out, student, report)
    summary.graded.append(student.student)
    summary.seconds[student.student] = seconds


def describe_summary(summary: BatchSummary, jobs: int) -> str:
    """The closing lines printed after a batch."""
    lines = [
        f"graded {len(summary.graded)} student(s) in {summary.wall_seconds:.1f} s with {jobs} worker(s); "
        f"{len(summary.skipped)} already done (skipped); {len(summary.problems)} with problems"
    ]
    for student, problem in sorted(summary.problems.items()):
        lines.append(f"  {student}: {problem}")
    slowest = summary.slowest()
    if slowest:
        lines.append("slowest: " + ", ".join(f"{student} {seconds:.2f} s" for student, seconds in slowest))
    return "\n".join(lines)
