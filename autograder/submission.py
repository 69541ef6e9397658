"""Finding the course files in what a student handed in.

Shared by ``autograder grade`` (and so Gradescope's run_autograder) and the batch grader: a folder
that holds the course's modules is graded as it is; one whose modules sit in a single subfolder
(a student who handed in ``assignments/`` itself) is graded there, with a note; a folder of the
course's notebooks (as nbgrader collects them) is turned into modules in a staging folder first
(:mod:`autograder.notebooks.materialize`); anything else is a problem with a clear message.

A folder that is one unit's assignment of a weekly course (``05-techniques/``, from ``autograder
nbgrader init --per-unit``) gets the earlier units its unit imports from the same student's earlier
assignments, and only its own unit is graded (:mod:`autograder.notebooks.earlier`). It happens
here, so every front end that grades a folder (test cells, ``autograder grade``, an nbgrader
preprocessor calling :func:`autograder.api.grade`) gets it the same way. A student's folder that holds
such assignments side by side (``submitted/<student>/``), each unit in one of them, is graded as
the whole course, as ``grade-batch`` grades it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .notebooks.materialize import add_earlier_units, course_notebooks_in, materialize_notebooks
from .units import UNITS


@dataclass(frozen=True)
class LocatedSubmission:
    """``folder`` to grade, or None with ``problem`` saying why; ``note`` for the report.

    ``units``: the only units the folder may be graded on (a per-unit assignment: its own unit; the
    earlier units it holds were borrowed and are graded in their own assignments); None: any."""

    folder: Path | None
    problem: str | None = None
    note: str | None = None
    units: tuple[str, ...] | None = None


def course_files() -> set[str]:
    return {f"{unit.module}.py" for unit in UNITS.values()}


def unit_of_course_file(name: str) -> str | None:
    """The unit whose module or notebook ``name`` is (``mlp.py``, ``02_mlp.ipynb``, ``mlp.ipynb``,
    as :func:`autograder.notebooks.kernel.notebook_for` finds them), or None."""
    for unit in UNITS.values():
        if name in (f"{unit.module}.py", f"{unit.module}.ipynb") or (
                len(name) > 3 and name[:2].isdigit() and name[2:] == f"_{unit.module}.ipynb"):
            return unit.name
    return None


def holds_course_files(folder: Path) -> bool:
    return any((folder / name).is_file() for name in course_files())


def visible_children(folder: Path) -> list[Path]:
    """Entries of ``folder`` without hidden files and caches, sorted by name."""
    return sorted(child for child in folder.iterdir() if not child.name.startswith((".", "__")))


def locate_submission(folder: Path, staging: Path | None = None) -> LocatedSubmission:
    """Where the course files of the submission ``folder`` are.

    A folder of course notebooks is written out as modules into ``staging`` (which the caller owns
    and removes); without ``staging``, notebooks are reported as a problem.
    """
    if not folder.is_dir():
        return LocatedSubmission(None, f"{folder.name} is a file, not a submission folder")
    if holds_course_files(folder):
        return LocatedSubmission(folder)
    nested = [child for child in visible_children(folder) if child.is_dir() and holds_course_files(child)]
    if len(nested) == 1:
        return LocatedSubmission(nested[0], note=f"course files found in the subfolder {nested[0].name}/")
    with_notebooks = [folder] if course_notebooks_in(folder) else [
        child for child in visible_children(folder) if child.is_dir() and course_notebooks_in(child)
    ]
    if len(with_notebooks) == 1:
        if staging is None:
            return LocatedSubmission(None, f"{folder.name}/ holds notebooks, which this front end cannot grade")
        note = materialize_notebooks(with_notebooks[0], staging, only=_own_modules(with_notebooks[0]))
        earlier = add_earlier_units(with_notebooks[0], staging)
        if earlier is None:
            return LocatedSubmission(staging, note=note)
        return LocatedSubmission(staging, note=f"{note}; {earlier.note}", units=earlier.units)
    if len(with_notebooks) > 1 and staging is not None:
        # A student's folders of a weekly course (01-linear/, 02-mlp/, ...): each unit in one of them.
        held = [module for child in with_notebooks for module in course_notebooks_in(child)
                if _own_modules(child) is None or module in _own_modules(child)]
        if held and len(held) == len(set(held)):
            notes = [f"{child.name}/: {materialize_notebooks(child, staging, only=_own_modules(child))}"
                     for child in with_notebooks]
            return LocatedSubmission(staging, note="; ".join(notes))
    expected = ", ".join(sorted(course_files()))
    return LocatedSubmission(None, f"no course files ({expected}, or the course notebooks) found in {folder.name}/")


def _own_modules(folder: Path) -> set[str] | None:
    """The one module a per-unit assignment folder (``06-capstone``) is read for; None (every module)
    for any other folder. A unit is graded, and imported by later units, from its own assignment
    only: a copy of ``02_mlp.ipynb`` handed in with a later week must neither replace the student's
    own submission of Unit 2 nor stand in for one never handed in (nor escape its late penalty)."""
    from .notebooks.earlier import unit_of_assignment

    own = unit_of_assignment(folder)
    return None if own is None else {UNITS[own].module}


# ----------------------------------------------------------------------------- safe copies
#
# The batch grader never grades a student's folder in place: it copies what it needs (the ``.py``
# files and notebooks) into a staging folder of its own first, and grades the copy. Reading a
# student's folder is the one place where the batch process itself touches student-made files, so
# it must survive anything a folder can hold: a FIFO named ``linear_model.py`` (a plain open blocks
# for ever), a symbolic link to ``/dev/zero`` (a plain read never ends) or to another student's
# notebook, a 2 GB "source file". Every entry is classified with lstat (never following a link),
# opened with O_NOFOLLOW | O_NONBLOCK, checked again with fstat on the open descriptor (so a file
# swapped for a FIFO between the two calls is caught too) and read up to its size limit only.

#: Largest ``.py`` file copied; the course's largest module is about 30 kB.
SOURCE_LIMIT_BYTES = 1024**2
#: Largest notebook copied (notebooks carry saved outputs, plots included).
NOTEBOOK_LIMIT_BYTES = 20 * 1024**2
#: Largest total per student, and most files per student.
TOTAL_LIMIT_BYTES = 64 * 1024**2
MAX_FILES = 500

_COPIED_SUFFIXES = (".py", ".ipynb")


class SubmissionRefused(Exception):
    """An entry of a submission the grader will not read (message for the student's row)."""


@dataclass
class CopyRecord:
    """What a safe copy saw: ``facts`` (one line per entry read: path, size, mtime, SHA-256) make
    the submission's fingerprint; ``problem`` is set when the submission was refused."""

    facts: list[str]
    problem: str | None = None
    files: int = 0
    bytes: int = 0

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for fact in self.facts:
            digest.update(fact.encode("utf-8", "surrogateescape") + b"\n")
        digest.update(f"problem:{self.problem}".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()


def display_name(name: str) -> str:
    """``name`` (a file name as the OS gave it, undecodable bytes as surrogates) as printable text.

    Undecodable bytes become ``\\xe9``, unprintable characters ``\\n``/``\\x07``/``\\u200b``, and a
    backslash is doubled, so two different names never give the same text."""
    out = []
    for char in name:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif not char.isprintable():
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a file"


def _refuse_kind(where: str, mode: int) -> SubmissionRefused:
    return SubmissionRefused(
        f"{where} is {_kind(mode)}, not a regular file: hand in the file itself "
        "(symbolic links, FIFOs, devices and sockets are refused)"
    )


def _limit_of(name: str) -> int:
    return NOTEBOOK_LIMIT_BYTES if name.endswith(".ipynb") else SOURCE_LIMIT_BYTES


def _mib(size: int) -> str:
    return f"{size / 1024**2:.3g} MiB"


def open_folder(path: Path) -> int:
    """A descriptor of the folder ``path`` itself, never of what a link there points to."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)


def _copy_file(dir_fd: int, name: str, where: str, target: Path, record: CopyRecord) -> None:
    """Copies the regular file ``name`` of ``dir_fd`` to ``target`` (overwriting), within limits."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _refuse_kind(where, stat.S_IFLNK) from None
        raise SubmissionRefused(f"{where} cannot be read ({error.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse_kind(where, info.st_mode)
        limit = _limit_of(name)
        if info.st_size > limit:
            raise SubmissionRefused(
                f"{where} is {_mib(info.st_size)}, more than the {_mib(limit)} a "
                f"{'notebook' if name.endswith('.ipynb') else 'source file'} may be"
            )
        record.files += 1
        if record.files > MAX_FILES:
            raise SubmissionRefused(f"the submission holds more than {MAX_FILES} .py and .ipynb files")
        chunks, size = [], 0
        while size <= limit:  # the file may grow while it is read: never read past the limit
            chunk = os.read(fd, min(1024**2, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise SubmissionRefused(f"{where} is more than the {_mib(limit)} such a file may be")
        record.bytes += size
        if record.bytes > TOTAL_LIMIT_BYTES:
            raise SubmissionRefused(f"the submission's .py and .ipynb files add up to more than {_mib(TOTAL_LIMIT_BYTES)}")
    finally:
        os.close(fd)
    data = b"".join(chunks)
    record.facts.append(f"{where}\0{size}\0{info.st_mtime_ns}\0{hashlib.sha256(data).hexdigest()}")
    target.write_bytes(data)


def _unit_of_folder(name: str) -> str | None:
    from .notebooks.earlier import assignment_names

    return next((unit for unit, assignment in assignment_names().items() if assignment == name), None)


def copy_notebook_safely(notebook: Path, where: str, target: Path) -> None:
    """Copies the one file ``notebook`` to ``target`` as :func:`copy_folder_safely` copies a file:
    its folder opened without following a link, the file itself never a link, FIFO or device, and
    within the notebook size limit; SubmissionRefused (naming ``where``) otherwise. Used for an
    earlier assignment's notebook, which the grader's own process reads (notebooks/materialize.py)."""
    try:
        dir_fd = open_folder(notebook.parent)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise _refuse_kind(str(Path(where).parent) + "/", stat.S_IFLNK) from None
        raise SubmissionRefused(f"{where} cannot be read ({error.strerror})") from None
    try:
        _copy_file(dir_fd, notebook.name, where, target, CopyRecord([]))
    finally:
        os.close(dir_fd)


def copy_folder_safely(dir_fd: int, target: Path, record: CopyRecord, *, prefix: str, depth: int, flat: bool = False,
                       unit: str | None = None) -> None:
    """Copies the ``.py`` and ``.ipynb`` files of the folder ``dir_fd`` into ``target``.

    Subfolders ``depth`` levels down are copied too (as subfolders, or all into ``target`` when
    ``flat``). A link, FIFO, device or socket named like a file the grader would read (``*.py``,
    ``*.ipynb``), and a link to a folder, refuse the submission (SubmissionRefused); other entries
    are never read and so are left alone. Hidden entries and ``__pycache__`` are skipped.

    ``flat`` merges a student's nbgrader assignments: a subfolder named as a weekly course's per-unit
    assignment (``06-capstone``) gives only its own unit's files (``unit``), so that a copy of
    ``02_mlp.ipynb`` handed in there never replaces, nor stands in for, the student's ``02-mlp``
    (:func:`_own_modules`)."""
    target.mkdir(parents=True, exist_ok=True)
    with os.scandir(dir_fd) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        name = entry.name
        if name.startswith((".", "__")):
            continue
        where = f"{prefix}{display_name(name)}"
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISDIR(mode):
            if depth <= 0:
                continue
            try:
                child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _refuse_kind(where + "/", stat.S_IFLNK) from None
                continue  # an unreadable folder holds nothing the grader can use
            try:
                copy_folder_safely(child, target if flat else target / name, record,
                                   prefix=f"{where}/", depth=depth - 1, unit=_unit_of_folder(name) if flat else None)
            finally:
                os.close(child)
        elif stat.S_ISLNK(mode):
            # A link to a folder could bring in another student's work: refused like a linked file.
            if name.endswith(_COPIED_SUFFIXES) or entry.is_dir(follow_symlinks=True):
                raise _refuse_kind(where, mode)
        elif unit is not None and unit_of_course_file(name) not in (None, unit):
            continue  # another unit's file in a per-unit assignment: that unit comes from its own
        elif name.endswith(_COPIED_SUFFIXES):
            if not stat.S_ISREG(mode):  # (fstat checks again once it is open: it may be swapped meanwhile)
                raise _refuse_kind(where, mode)
            _copy_file(dir_fd, name, where, target / name, record)
