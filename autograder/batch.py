"""Batch grading of a whole class: ``autograder grade-batch ROOT --out DIR [--jobs N]``.

Layouts recognised under ROOT:

* one folder per student, each shaped like ``assignments/`` (files one level deeper are found too,
  with a note);
* nbgrader's ``submitted/<student>/<assignment>/``: a student's assignment folders are merged into
  one staging folder (``DIR/.staging/files/<student>``) and graded together.

Either may hold the course's notebooks instead of ``.py`` files: their module cells are written out
as modules (``DIR/.staging/modules/<student>``) and graded exactly as ``.py`` files would be.

How it stays fast and safe:

* worker processes come from a **forkserver** (:mod:`autograder.zygote`), so the processes that
  fork students' code never hold expected values; workers only *probe* (phase 1 of
  :mod:`autograder.grading`) and send back the raw outcomes. Where they run is an
  :class:`~autograder.executors.Executor`: this machine's pool, or a Dask cluster's workers;
* this process computes the reference once (in its own trusted child), judges every student, and
  writes ``DIR/<student>.json`` (the ``grade --json`` document), ``DIR/<student>.txt`` (feedback) and,
  at the end, ``DIR/grades.csv`` and ``DIR/nbgrader_grades.csv`` from those JSON files;
* every file is written atomically (temporary file + rename); a student whose row is up to date
  (``DIR/.rows/<student>.json``: same submission fingerprint, same grader fingerprint) is skipped on
  the next run unless ``redo`` is set, so an interrupted batch resumes where it stopped and a changed
  submission or grader is graded again; the CSV files are rebuilt from the JSON files,
  byte-identical for the same inputs; ``DIR/.lock`` keeps a second run out; Ctrl-C keeps what is done;
* nothing a student hands in stops the batch: a submission is copied safely (no links followed, no
  FIFO or device opened, size limits: :mod:`autograder.submission`) into ``DIR/.staging`` and the copy
  is graded; an empty folder, a binary or non-UTF-8 file, a missing unit, a wrong folder shape, any
  folder name, a 1 MB output line becomes that student's row with a clear, bounded message.
"""

from __future__ import annotations

import csv
import datetime
import fcntl
import hashlib
import io
import json
import math
import os
import shutil
import stat
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from contextlib import contextmanager
from typing import Iterator, Sequence, TextIO

from . import __version__
from .checks import Check
from .eta import format_left, seconds_left
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
from .surroundings import folders_of_a_class
from .results import CheckResult, Report, ResultStatus, format_points
from .notebooks.materialize import course_notebooks_in
from .submission import (
    CopyRecord,
    SubmissionRefused,
    copy_folder_safely,
    course_files,
    display_name,
    locate_submission,
    open_folder,
)
from .units import select_checks


class BatchError(ValueError):
    """The batch cannot start: ROOT is missing or holds no student folder."""


@dataclass(frozen=True)
class StudentFolder:
    """One student's submission. ``folder`` is None when nothing can be graded (see ``problem``).

    ``student`` is the printable name used in every table and message (undecodable bytes of the
    folder's name escaped, see :func:`~autograder.submission.display_name`); ``key`` names the
    student's files in DIR; ``raw`` is the folder's name as the OS gives it; ``fingerprint`` says
    what was handed in (the path, size, mtime and SHA-256 of every file read), so that a resumed
    run notices a changed submission."""

    student: str
    folder: Path | None
    problem: str | None = None
    note: str | None = None
    key: str = ""
    raw: str = ""
    fingerprint: str = ""

    @property
    def file_key(self) -> str:
        return self.key or self.student


@dataclass
class BatchSummary:
    """What a batch run did. ``seconds`` maps each graded student to the time it took."""

    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0
    #: students the run was limited to (``--student``); empty: the whole class
    selected: list[str] = field(default_factory=list)
    interrupted: bool = False

    def slowest(self, count: int = 3) -> list[tuple[str, float]]:
        return sorted(self.seconds.items(), key=lambda item: (-item[1], item[0]))[:count]


class BatchInterrupted(Exception):
    """Ctrl-C: the rows finished so far are kept and the tables written; the same command resumes."""

    def __init__(self, summary: BatchSummary, out: Path):
        super().__init__(
            f"interrupted: {len(summary.graded)} student(s) graded in this run are kept in {out}; "
            "run the same command again to grade the others"
        )
        self.summary = summary


# ----------------------------------------------------------------------------- discovery


def _file_key(display: str, raw: str) -> str:
    """The name of a student's files in DIR: the display name, shortened (with a hash of the raw
    name, so it stays unique) when it would not fit in a file name."""
    if len(display.encode("utf-8")) <= 180:
        return display
    digest = hashlib.sha256(os.fsencode(raw)).hexdigest()[:16]
    short, size = [], 0
    for char in display:
        size += len(char.encode("utf-8"))
        if size > 120:
            break
        short.append(char)
    return "".join(short) + "~" + digest


def _stage(root_fd: int, raw: str, staging: Path, *, nbgrader: bool) -> StudentFolder:
    """Copies student ``raw`` (an entry of the folder ``root_fd``) safely into the staging folder
    and finds the course files in the copy; never reads the student's folder in place."""
    display = display_name(raw)
    key = _file_key(display, raw)
    files, modules = staging / "files" / key, staging / "modules" / key
    for folder in (files, modules):
        shutil.rmtree(folder, ignore_errors=True)  # a copy left by an earlier run is never reused
    record = CopyRecord(facts=[])

    def row(problem=None, folder=None, note=None):
        return StudentFolder(display, folder, problem, note, key, raw, record.fingerprint())

    try:
        info = os.stat(raw, dir_fd=root_fd, follow_symlinks=False)
    except OSError as error:
        record.problem = f"{display} cannot be read ({error.strerror})"
        return row(record.problem)
    record.facts.append(f"{display}\0{stat.S_IFMT(info.st_mode)}\0{info.st_size}\0{info.st_mtime_ns}")
    if not stat.S_ISDIR(info.st_mode):
        if stat.S_ISLNK(info.st_mode):
            record.problem = f"{display} is a symbolic link, not a folder: hand in the folder itself"
        else:
            record.problem = f"{display} is a file, not a {'student' if nbgrader else 'submission'} folder"
        return row(record.problem)
    try:
        fd = os.open(raw, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=root_fd)
    except OSError as error:
        record.problem = f"{display}/ cannot be read ({error.strerror})"
        return row(record.problem)
    try:
        # nbgrader: the files of every <assignment>/ merged into one folder; otherwise the folder
        # and its subfolders (a student who handed in assignments/ itself).
        copy_folder_safely(fd, files, record, prefix=f"{display}/", depth=1, flat=nbgrader)
    except SubmissionRefused as refused:
        record.problem = str(refused)
        shutil.rmtree(files, ignore_errors=True)
        return row(record.problem)
    except OSError as error:
        record.problem = f"{display}/ cannot be read ({error.strerror})"
        return row(record.problem)
    finally:
        os.close(fd)
    try:
        located = locate_submission(files, modules)
    except Exception as error:  # a grader bug must cost one row, not the batch
        return row(f"internal grader error ({type(error).__name__}: {error}); please report it")
    return row(located.problem, located.folder, located.note)


def _looks_like_one_submission(root: Path) -> bool:
    """ROOT holds course files or course notebooks itself (links and FIFOs count: never opened)."""
    names = set(os.listdir(root))
    return bool(names & course_files()) or bool(course_notebooks_in(root))


def discover_students(root: Path, staging: Path, only: Sequence[str] = ()) -> list[StudentFolder]:
    """Every student under ``root``, sorted by name, each copied safely into ``staging``; raises
    BatchError when there is none (or ``only`` names a student that is not there).

    ``only``: grade just these students (their display or folder names)."""
    root = Path(root)
    if not root.is_dir():
        raise BatchError(f"{root} is not a folder")
    submitted = root / "submitted"
    nbgrader = submitted.is_dir() and not submitted.is_symlink()
    if not nbgrader and _looks_like_one_submission(root):
        raise BatchError(
            f"{root} looks like one submission, not a class (it holds the course's files itself): "
            f"use `autograder grade --submission {root}`, or give the folder that holds one folder per student"
        )
    parent = submitted if nbgrader else root
    try:
        fd = open_folder(parent)
    except OSError as error:
        raise BatchError(f"{parent} cannot be read ({error.strerror})") from None
    try:
        names = sorted(name for name in os.listdir(fd) if not name.startswith((".", "__")))
        if not names:
            raise BatchError(f"{root} holds no student folders")
        if only:
            known = {display_name(name) for name in names} | set(names)
            unknown = [name for name in only if name not in known]
            if unknown:
                raise BatchError(f"no student folder named {', '.join(map(display_name, unknown))} under {parent}")
            names = [name for name in names if name in only or display_name(name) in only]
        staging.mkdir(parents=True, exist_ok=True)
        return [_stage(fd, name, staging, nbgrader=nbgrader) for name in names]
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- files


def _make_private(out: Path) -> None:
    """Only the grader's user may enter ``out`` (0700). It holds every student's results and the
    staged copies; a student's child, which runs as a user of its own, then sees ``out`` in its
    private view as an empty folder holding just its own copy (``confine.private_view`` covers a
    folder other users may not enter). Where ``out`` is not ours to change, it is left as it is."""
    try:
        os.chmod(out, 0o700)
    except OSError:
        pass


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


# What a row may say. A student's code can print a 1 MB line or raise with a 1 MB message; copied
# as they are into every check's output, they made one student's JSON 200 MB. Each line is cut at
# LINE_LIMIT characters and each check's text at CHECK_LIMIT, with a note that says so.
LINE_LIMIT = 500
CHECK_LIMIT = 8 * 1024


def bound_text(text: str, total: int = CHECK_LIMIT, line_limit: int = LINE_LIMIT) -> str:
    """``text`` with each line cut at ``line_limit`` characters and the whole at about ``total``."""
    if len(text) <= line_limit and "\n" not in text:
        return text
    lines, size = [], 0
    source = text.split("\n")
    for index, line in enumerate(source):
        if len(line) > line_limit:
            line = f"{line[:line_limit]}... ({len(line) - line_limit} more characters cut)"
        if size + len(line) + 1 > total - 80:
            lines.append(f"... ({len(source) - index} more line(s) cut)")
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def bound_report(report: Report) -> Report:
    """``report`` with every text a student's code can fill bounded (see :func:`bound_text`)."""
    results = tuple(
        replace(
            result,
            message=bound_text(result.message),
            summary=bound_text(result.summary),
            hint=None if result.hint is None else bound_text(result.hint),
            details=tuple(bound_text(line, LINE_LIMIT * 2) for line in result.details[:40]),
            captured_output=bound_text(result.captured_output, 4 * 1024),
            blocked_by=bound_text(result.blocked_by, LINE_LIMIT * 2),
        )
        for result in report.results
    )
    return Report(report.submission, results, tuple(bound_text(note) for note in report.notes))


def _bound_document(document: dict) -> dict:
    """The JSON document with each check's ``output`` (and the notes) at most CHECK_LIMIT characters."""
    for test in document["tests"]:
        test["output"] = bound_text(test["output"])
    if "output" in document:
        document["output"] = bound_text(document["output"])
    return document


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


def grader_fingerprint(checks: Sequence[Check]) -> str:
    """The grader's version and the ids, points and visibility of the checks it grades with:
    rows graded with different fingerprints are not comparable (e.g. max_score 369 and 374)."""
    digest = hashlib.sha256(__version__.encode())
    for check in checks:
        digest.update(f"\n{check.id}\0{check.points!r}\0{check.visibility.value}".encode())
    return f"{__version__}:{digest.hexdigest()[:16]}"


def _state_path(out: Path, student: StudentFolder) -> Path:
    return out / ".rows" / f"{student.file_key}.json"


def _write_student(out: Path, student: StudentFolder, report: Report, grader: str = "") -> None:
    state = _state_path(out, student)
    state.unlink(missing_ok=True)  # until the new row is complete, it is not up to date
    if student.note:
        report = Report(report.submission, report.results, (student.note, *report.notes))
    report = bound_report(report)
    document = _bound_document(report.to_gradescope())
    feedback = io.StringIO()
    feedback.write(f"Feedback for {student.student}\n\n")
    render_report(report, colour=False, stream=feedback)
    key = student.file_key
    _write_atomically(out / f"{key}.txt", feedback.getvalue())
    # The JSON, then its state: a JSON without a matching state is graded again on the next run.
    _write_atomically(out / f"{key}.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    state.parent.mkdir(exist_ok=True)
    _write_atomically(state, json.dumps({
        "student": student.student, "submission": student.fingerprint, "grader": grader,
    }, indent=1) + "\n")


def _row_state(out: Path, student: StudentFolder) -> dict | None:
    try:
        document = json.loads((out / f"{student.file_key}.json").read_text(encoding="utf-8"))
        state = json.loads(_state_path(out, student).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(document, dict) and "score" in document and "tests" in document and isinstance(state, dict)):
        return None
    return state


def _finished(out: Path, student: StudentFolder, grader: str) -> bool:
    """The student's row exists and was graded from this very submission by this very grader."""
    state = _row_state(out, student)
    return state is not None and state.get("submission") == student.fingerprint and state.get("grader") == grader


# ----------------------------------------------------------------------------- submission times

#: nbgrader writes ``submitted/<student>/<assignment>/timestamp.txt``; more than this is not a time.
TIMESTAMP_LIMIT = 200


@dataclass(frozen=True)
class Lateness:
    """The due date and the penalty of ``--due-date`` / ``--late-penalty``.

    ``per_day``: the fraction of a unit's max score taken per *started* day late (1 s late counts
    as one day), the score floored at 0: score = max(0, raw - per_day * days * max_score)."""

    due: datetime.datetime | None = None
    per_day: float = 0.0

    def days_late(self, submitted: datetime.datetime) -> int:
        if self.due is None or submitted <= self.due:
            return 0
        return math.ceil((submitted - self.due).total_seconds() / 86400)


def parse_time(text: str) -> datetime.datetime:
    """A submission time or due date as an aware datetime; ValueError when it is none.

    Lenient, as timestamp.txt files come from several tools: nbgrader's ``2026-12-01 10:31:00.123456
    UTC``, ISO 8601 with ``T``, ``Z`` or an offset (``+09:00``), seconds or fractions optional, and
    ``2026-12-01`` alone (midnight). A time without a zone is UTC, as nbgrader writes it."""
    cleaned = " ".join(text.strip().split())
    for suffix in (" UTC", " GMT", "UTC", "GMT", "Z", "z"):
        if cleaned.endswith(suffix):
            cleaned = cleaned[: -len(suffix)].rstrip() + "+00:00"
            break
    if not cleaned or len(cleaned) > 64:
        raise ValueError(text)
    try:
        moment = datetime.datetime.fromisoformat(cleaned)
    except ValueError:
        # Another separator or zone spelling (e.g. "2026/12/01 10:31", "+0900"): a few common forms.
        for form in ("%Y/%m/%d %H:%M:%S.%f%z", "%Y/%m/%d %H:%M:%S%z", "%Y/%m/%d %H:%M%z", "%Y/%m/%d %H:%M:%S",
                     "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z", "%Y/%m/%d"):
            try:
                moment = datetime.datetime.strptime(cleaned, form)
                break
            except ValueError:
                continue
        else:
            raise ValueError(text) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def format_time(moment: datetime.datetime) -> str:
    """nbgrader's spelling, in UTC: ``2026-12-01 10:31:00.123456 UTC`` (fractions only when there are)."""
    utc = moment.astimezone(datetime.timezone.utc)
    return utc.strftime("%Y-%m-%d %H:%M:%S" + (".%f" if utc.microsecond else "")) + " UTC"


def _read_small_file(dir_fd: int, name: str) -> str | None:
    """The text of the regular file ``name`` of ``dir_fd`` (no link followed, no FIFO opened), at
    most TIMESTAMP_LIMIT bytes; None when there is no such file."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, TIMESTAMP_LIMIT + 1).decode("utf-8", errors="replace")
    finally:
        os.close(fd)


def submission_time(root: Path, raw: str, assignment: str | None = None) -> tuple[datetime.datetime | None, str | None]:
    """(when student ``raw`` handed in, a note when that cannot be told) from the timestamp.txt files
    in the student's folder and its assignment folders (nbgrader: ``submitted/<raw>/<assignment>/``).

    The latest time counts: the assignment folders are merged and graded together, so the work graded
    was complete only then. With ``assignment`` (a weekly course's ``05-techniques``), only that
    assignment's own folder counts. (None, None) when there is no timestamp.txt at all; a file that
    is not a time gives (None, a note naming it) and no penalty, for the instructor to decide by hand."""
    parent = root / "submitted" if (root / "submitted").is_dir() else root
    found, unreadable = [], []
    try:
        parent_fd = open_folder(parent)
    except OSError:
        return None, None
    try:
        fd = os.open(raw, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd)
    except OSError:
        return None, None
    finally:
        os.close(parent_fd)
    try:
        places = [("", fd)] if assignment is None else []
        for name in sorted(os.listdir(fd)):
            if assignment is not None and name != assignment:
                continue
            try:
                places.append((f"{display_name(name)}/", os.open(
                    name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)))
            except OSError:
                continue  # a file, a link, unreadable: not an assignment folder
        for prefix, place in places:
            text = _read_small_file(place, "timestamp.txt")
            if place != fd:
                os.close(place)
            if text is None:
                continue
            try:
                if len(text) > TIMESTAMP_LIMIT:
                    raise ValueError(text)
                found.append(parse_time(text))
            except ValueError:
                shown = " ".join(text[:40].split())
                unreadable.append(f"{prefix}timestamp.txt ({shown!r})")
    finally:
        os.close(fd)
    if unreadable:
        return None, (f"the submission time in {', '.join(unreadable)} could not be read: no late penalty "
                      "applied; check this student's submission time by hand")
    return (max(found) if found else None), None


def _weekly_assignments(root: Path, raw: str) -> dict[str, str]:
    """Unit -> assignment name for the per-unit assignments (``05-techniques``) that student ``raw``
    handed in to an nbgrader course made with ``--per-unit``; empty for any other layout."""
    from .notebooks.earlier import assignment_names

    folder = root / "submitted" / raw
    if not folder.is_dir():
        return {}
    return {unit: name for unit, name in assignment_names().items()
            if (folder / name).is_dir() and not (folder / name).is_symlink()}


def write_grade_tables(out: Path, students: Sequence[StudentFolder], units: Sequence[str], *,
                       root: Path | None = None, lateness: Lateness = Lateness()) -> None:
    """Rebuilds ``grades.csv`` and ``nbgrader_grades.csv`` from the students' JSON files.

    With ``root``, each student's submission time (timestamp.txt) fills the ``timestamp`` column;
    with ``lateness.due``, the ``duedate`` column, and ``lateness.per_day`` takes the late penalty
    off every unit's score (``late_submission_penalty``: the points taken) and off the total of
    grades.csv, whose note says so."""
    rows, nbgrader_rows = [], []
    duedate = format_time(lateness.due) if lateness.due else ""
    for student in sorted(students, key=lambda s: s.student):
        try:
            document = json.loads((out / f"{student.file_key}.json").read_text(encoding="utf-8"))
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
        submitted, time_note = submission_time(root, student.raw) if root is not None and student.raw else (None, None)
        if time_note:
            notes = f"{time_note}; {notes}" if notes else time_note
        elif lateness.due is not None and submitted is None and root is not None:
            note = "no submission time (timestamp.txt) found: no late penalty applied"
            notes = f"{note}; {notes}" if notes else note
        days = lateness.days_late(submitted) if submitted is not None else 0
        # A weekly course: each unit is its own assignment, handed in (and late) at its own time.
        weekly = _weekly_assignments(root, student.raw) if root is not None and student.raw else {}
        unit_times = {unit: submission_time(root, student.raw, weekly[unit])[0] for unit in weekly}
        unit_days = {unit: lateness.days_late(unit_times[unit]) if unit_times.get(unit) else
                     (0 if unit in weekly else days) for unit in units}
        penalties = {unit: min(earned[unit], lateness.per_day * unit_days[unit] * possible[unit]) for unit in units}
        days = max(unit_days.values(), default=days)
        total = document["score"]
        taken = sum(penalties.values())
        if taken > 0:
            total = max(0.0, total - taken)
            note = (f"submitted {days} day{'s' if days > 1 else ''} late: {format_points(taken)} point"
                    f"{'' if taken == 1 else 's'} taken off (late penalty); before it, {format_points(document['score'])}")
            notes = f"{note}; {notes}" if notes else note
        rows.append([
            student.student,
            *[format_points(earned[unit]) for unit in units],
            format_points(total),
            format_points(document["max_score"]),
            notes,
        ])
        timestamp = format_time(submitted) if submitted is not None else ""
        for unit in units:
            label, unit_time = unit, timestamp
            if unit in weekly:
                label = weekly[unit]
                unit_time = format_time(unit_times[unit]) if unit_times[unit] is not None else ""
            nbgrader_rows.append([label, duedate, unit_time, student.student, "", "", "", format_points(earned[unit]),
                                  format_points(penalties[unit]), format_points(max(0.0, earned[unit] - penalties[unit])),
                                  format_points(possible[unit])])
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
    """A one-line progress bar on a terminal (rate and time left), periodic lines elsewhere.

    The time left is :func:`autograder.eta.seconds_left`: from the probing seconds of the students
    finished so far (:meth:`record`) and the throughput since the workers began, so that students
    who hang (each hanging check costs its timeout) are weighed, and the run's one-off start
    (pool, reference) is not spread over every remaining student. The batch sets ``workers`` (how
    many students run side by side) and ``timeout_s`` (the per-check timeout) before grading.
    """

    def __init__(self, total: int, stream: TextIO | None = None, *, workers: int = 1, timeout_s: float = 2.0):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1
        self.workers, self.timeout_s = workers, timeout_s
        self.costs: list[float] = []
        self._workers_began: float | None = None

    def record(self, seconds: float) -> None:
        """A student finished whose probing took ``seconds`` on a worker (call before :meth:`advance`)."""
        now = time.perf_counter()
        if self._workers_began is None:
            self._workers_began = now - seconds
        self.costs.append(seconds)

    def seconds_left(self) -> float | None:
        busy = time.perf_counter() - self._workers_began if self._workers_began is not None else None
        return seconds_left(self.costs, self.total - self.done, self.workers,
                            timeout_s=self.timeout_s, busy_seconds=busy)

    def advance(self) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}  {rate:.1f}/s  "
                f"{format_left(self.seconds_left())}")
        if self.interactive:
            self.stream.write("\r" + line + ("\n" if self.done == self.total else ""))
            self.stream.flush()
        else:
            decile = 10 * self.done // max(self.total, 1)
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(line + "\n")


# ----------------------------------------------------------------------------- the batch


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Holds ``DIR/.lock`` (an exclusive flock) while a run writes into ``out``: a second run into
    the same folder would grade the same students twice and interleave the tables. The OS drops
    the lock when the process ends, however it ends."""
    handle = open(out / ".lock", "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise BatchError(
                f"another grade-batch run (process {holder}) is writing into {out}: wait for it to "
                "finish (or stop it), or give another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def grade_batch(
    root: Path,
    out: Path,
    *,
    reference: ReferenceProvider,
    jobs: int = 2,
    executor: Executor | None = None,
    parts: Sequence[str] = (),
    redo: bool = False,
    students: Sequence[str] = (),
    options: GradingOptions = GradingOptions(),
    progress: Progress | None = None,
    lateness: Lateness = Lateness(),
) -> BatchSummary:
    """Grades every student under ``root`` into ``out``; see the module docstring.

    executor: where the probes run; by default ``jobs`` processes on this machine
        (:class:`~autograder.executors.LocalExecutor`), or e.g. a
        :class:`~autograder.executors.DaskExecutor`. Raises ExecutorError when it cannot run at all.
    students: grade only these (folder names); the other rows in ``out`` are kept.
    redo: grade again even the students whose row is up to date.
    lateness: the due date and late penalty of the tables (:func:`write_grade_tables`).

    Raises BatchError when the run cannot start (no class under ``root``, another run holds
    ``out``, ``students`` mixes grader versions) and BatchInterrupted on Ctrl-C (after writing the
    tables of what is finished).
    """
    started = time.perf_counter()
    executor = executor or LocalExecutor(jobs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _make_private(out)
    with locked(out):
        try:
            return _grade_batch_locked(Path(root), out, reference, executor, parts, redo, tuple(students),
                                       options, progress, started, lateness)
        except KeyboardInterrupt:  # before grading began (while copying): nothing new to keep
            raise BatchInterrupted(BatchSummary(interrupted=True), out) from None


def _grade_batch_locked(root, out, reference, executor, parts, redo, only, options, progress, started,
                        lateness=Lateness()):
    checks = select_checks(list(parts))
    units = list(dict.fromkeys(check.unit for check in checks))
    grader = grader_fingerprint(checks)
    staging = out / ".staging"
    shutil.rmtree(staging, ignore_errors=True)  # staged copies are rebuilt from the submissions every run
    selected = discover_students(root, staging, only)
    everyone = discover_everyone(root, selected) if only else selected
    if only:
        _refuse_mixed_graders(out, [s for s in everyone if s.raw not in {t.raw for t in selected}], grader)
    summary = BatchSummary(selected=[student.student for student in selected] if only else [])
    todo = []
    try:
        for student in selected:
            if not redo and _finished(out, student, grader):
                summary.skipped.append(student.student)
            elif student.folder is None:
                _write_student(out, student, _unusable_report(student, checks), grader)
                summary.graded.append(student.student)
                summary.problems[student.student] = student.problem or ""
            else:
                todo.append(student)
        progress = progress or Progress(len(todo))
        progress.timeout_s = options.timeout_override_s or options.limits.timeout_s
        check_ids = tuple(check.id for check in checks)
        # The class's original folders (an nbgrader course's source/ with its solutions in place,
        # the classmates' originals): every child grades a staged copy and needs none of them.
        hidden = tuple(dict.fromkeys((*reference.folders_to_hide(), *folders_of_a_class(root, staging))))
        remaining, alone = list(todo), False
        while remaining:
            # A round grades everyone left; after a round in which nobody finished, the next round
            # grades the first student alone (the likeliest culprit: a local pool loses every
            # unfinished student when one of them kills its worker).
            group = remaining[:1] if alone else remaining
            left = _grade_in_pool(group, checks, check_ids, hidden, out, executor, reference, options,
                                  summary, progress, grader)
            alone = len(left) == len(group) and len(group) > 1
            if len(left) == len(group) == 1:
                # Graded alone, and its worker died again: a row that says so, instead of rounds forever.
                problem = "a grading worker died on this submission; grade it alone with `autograder grade`"
                _write_student(out, replace(left[0], folder=None, problem=problem),
                               _unusable_report(replace(left[0], folder=None, problem=problem), checks), grader)
                summary.graded.append(left[0].student)
                summary.problems[left[0].student] = problem
                progress.advance()
                left = []
            remaining = left + remaining[len(group):]
    except KeyboardInterrupt:
        # Every finished row is already on disk (atomically); the tables say who is left.
        summary.interrupted = True
        write_grade_tables(out, everyone, units, root=root, lateness=lateness)
        summary.wall_seconds = time.perf_counter() - started
        raise BatchInterrupted(summary, out) from None
    write_grade_tables(out, everyone, units, root=root, lateness=lateness)
    summary.wall_seconds = time.perf_counter() - started
    return summary


def discover_everyone(root: Path, selected: Sequence[StudentFolder]) -> list[StudentFolder]:
    """Every student under ``root`` for the tables of a ``--student`` run: names and file keys
    only (nothing is read or copied; the rows of the others are taken as they are)."""
    root = Path(root)
    parent = root / "submitted" if (root / "submitted").is_dir() else root
    by_raw = {student.raw: student for student in selected}
    everyone = []
    for name in sorted(name for name in os.listdir(parent) if not name.startswith((".", "__"))):
        display = display_name(name)
        everyone.append(by_raw.get(name) or StudentFolder(display, None, key=_file_key(display, name), raw=name))
    return everyone


def _refuse_mixed_graders(out: Path, others: Sequence[StudentFolder], grader: str) -> None:
    """A ``--student`` run must not put rows of two grader versions (other checks or points) into
    one table: refused, with what to do, when the other rows were graded differently."""
    stale = [student.student for student in others
             if (state := _row_state(out, student)) is not None and state.get("grader") != grader]
    if stale:
        shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
        raise BatchError(
            f"the rows of {shown} in {out} were graded by another version of the grader or other "
            f"checks (--unit): grading only some students would mix the two in grades.csv; run "
            "without --student (rows graded differently are then graded again), or use another --out"
        )


def _grade_in_pool(todo, checks, check_ids, hidden, out, executor, reference, options, summary, progress,
                   grader=""):
    """Grades ``todo`` in one session of ``executor`` (a fresh local pool, or one connection to a
    cluster); returns the students whose worker died (WorkerLost), in ``todo``'s order."""
    lost = set()
    with executor.session() as session:
        progress.workers = max(1, executor.workers)  # a cluster's size is known once connected
        try:
            pending = {
                session.submit(ProbeJob(student.folder, check_ids, options, hidden, student.student)): student
                for student in todo
            }
            for future in session.as_completed(list(pending)):
                student = pending.pop(future)
                try:
                    probing = _finish_student(student, future, checks, out, reference, summary, grader)
                except WorkerLost:
                    lost.add(student.student)  # a local pool loses every unfinished job at once
                    continue
                progress.record(probing)
                progress.advance()
        except KeyboardInterrupt:
            _abandon(session)
            raise
    return [student for student in todo if student.student in lost]


def _abandon(session) -> None:
    """Ctrl-C: stop a local pool's workers now instead of waiting for the students they probe
    (leaving the session would otherwise wait for every queued student)."""
    pool = getattr(session, "pool", None)
    if pool is None:
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.terminate()
        except Exception:  # noqa: BLE001  (already gone)
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def _finish_student(student, future: ProbeFuture, checks, out, reference, summary, grader="") -> float:
    """Judges and writes one student's row; returns the seconds its probing took on the worker
    (the time left is estimated from those: judging here overlaps the workers' probing, and the
    first judging computes the reference, a one-off)."""
    probing = 0.0
    try:
        outcomes, seconds = future.result()
        probing = seconds
        judged_at = time.perf_counter()
        report = judge_submission(student.folder, checks, outcomes, reference=reference)
        seconds += time.perf_counter() - judged_at
    except (WorkerLost, ExecutorError):
        raise
    except SubmissionNotSent as error:
        student = replace(student, folder=None, problem=str(error))
        report, seconds = _unusable_report(student, checks), 0.0
        summary.problems[student.student] = str(error)
    except Exception as error:  # a grader bug must cost one row, not the batch
        problem = f"internal grader error ({type(error).__name__}: {error}); please report it"
        student = replace(student, folder=None, problem=problem)
        report, seconds = _unusable_report(student, checks), 0.0
        summary.problems[student.student] = problem
    _write_student(out, student, report, grader)
    summary.graded.append(student.student)
    summary.seconds[student.student] = seconds
    return probing


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
