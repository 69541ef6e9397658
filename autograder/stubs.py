"""Generates the student stubs (``assignments/``) from the reference (``solutions/``).

Every region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's own markers, each
alone on its line) becomes ``raise NotImplementedError("<function>: not implemented yet")`` at the
marker's indentation. Everything else, docstrings, the ``# Hint:`` line above each region and the
given helpers, is copied unchanged, so the two trees differ only inside solution regions.
``assignments/notebooks/`` holds the same stubs as one Jupyter notebook per unit.

Regenerating never destroys someone's work unasked. ``assignments/.stubs.json`` records the SHA-256
of every file the last generation wrote. A file that differs from the new stub *and* from that
record was changed by someone since (a student's or TA's answers): :func:`write_assignments`
refuses, naming the files, unless ``force``, and then copies them into a backup folder beside
``assignments/`` first. A stale stub (equal to the record: the instructor changed ``solutions/``)
is simply replaced. Without a record, or for a file the record does not know, nothing proves the
file is a stub, so it counts as edited. docs/stubs.md has the reasoning.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
NOTEBOOKS = Path("notebooks")  # the student notebooks, inside assignments/
END = "### END SOLUTION"
#: The record of what the last generation wrote, inside assignments/ (committed with it).
MANIFEST = Path(".stubs.json")
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)|^(\s*)class\s+(\w+)")


class StubError(ValueError):
    """Unbalanced or misplaced solution markers in a reference file."""


@dataclass(frozen=True)
class SolutionRegion:
    """Lines ``start``..``end`` (1-based, markers included) inside function ``owner``."""

    path: Path
    owner: str
    start: int
    end: int
    body: tuple[str, ...]


def _owner(lines: list[str], index: int, indent: str) -> str:
    """The function around line ``index``, as ``name`` or ``Class.name`` for a method."""
    names = []
    for line in reversed(lines[:index]):
        match = _DEF.match(line)
        if match:
            own_indent = match.group(1) if match.group(1) is not None else match.group(3)
            if len(own_indent) < len(indent):
                names.append(match.group(2) or match.group(4))
                indent = own_indent
                if not indent:
                    break
    return ".".join(reversed(names)) if names else "this part"


def solution_regions(source: str, path: Path = Path("<source>")) -> list[SolutionRegion]:
    """Every solution region of ``source``, validated (balanced, non-nested, non-empty)."""
    lines = source.splitlines()
    regions, start = [], None
    for index, line in enumerate(lines):
        marker = line.strip()
        if marker == BEGIN:
            if start is not None:
                raise StubError(f"{path}:{index + 1}: {BEGIN} inside another solution region")
            start = index
        elif marker == END:
            if start is None:
                raise StubError(f"{path}:{index + 1}: {END} without a {BEGIN}")
            indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
            body = tuple(lines[start + 1 : index])
            if not any(line.strip() for line in body):
                raise StubError(f"{path}:{start + 1}: empty solution region")
            regions.append(SolutionRegion(path, _owner(lines, start, indent), start + 1, index + 1, body))
            start = None
    if start is not None:
        raise StubError(f"{path}:{start + 1}: {BEGIN} is never closed")
    return regions


def make_stub(source: str, path: Path = Path("<source>")) -> str:
    """``source`` with each solution region replaced by a NotImplementedError stub."""
    lines = source.splitlines()
    output, cursor = [], 0
    for region in solution_regions(source, path):
        output.extend(lines[cursor : region.start - 1])
        marker = lines[region.start - 1]
        indent = marker[: len(marker) - len(marker.lstrip())]
        output.append(f'{indent}raise NotImplementedError("{region.owner}: not implemented yet")')
        cursor = region.end
    output.extend(lines[cursor:])
    return "\n".join(output) + ("\n" if source.endswith("\n") else "")


def _reference_files(solutions: Path) -> list[Path]:
    return sorted(
        path.relative_to(solutions)
        for path in solutions.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


def expected_assignments(solutions: Path) -> dict[Path, bytes]:
    """What ``assignments/`` must contain: relative path -> content.

    The stubbed modules, and in ``notebooks/`` the student notebook of every unit (the same stubs,
    cut into cells, with the unit's lesson; see autograder/notebooks/build.py).
    """
    from .notebooks.build import course_notebooks  # the notebook builder itself uses make_stub

    expected = {}
    for relative in _reference_files(solutions):
        data = (solutions / relative).read_bytes()
        if relative.suffix == ".py":
            data = make_stub(data.decode("utf-8"), relative).encode("utf-8")
        expected[relative] = data
    for name, text in course_notebooks(solutions, student=True).items():
        expected[NOTEBOOKS / name] = text.encode("utf-8")
    return expected


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_text(expected: dict[Path, bytes]) -> str:
    """The record of a generation: the SHA-256 of every file written, sorted (no timestamp, so the
    same generation gives the same bytes and the file is checked like the stubs themselves)."""
    files = {relative.as_posix(): _digest(data) for relative, data in sorted(expected.items())}
    return json.dumps({"format": 1, "files": files}, indent=1, sort_keys=True) + "\n"


def read_manifest(assignments: Path) -> dict[str, str] | None:
    """The record of the last generation in ``assignments``: relative path -> SHA-256; None when
    there is none, or it cannot be read (then nothing is known to be a stub)."""
    try:
        document = json.loads((assignments / MANIFEST).read_text(encoding="utf-8"))
        files = document["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(files, dict):
        return None
    return {str(path): str(digest) for path, digest in files.items()}


#: Folders in ``assignments/`` that generation leaves alone: Jupyter's autosave copies of the
#: notebooks (``.ipynb_checkpoints``) are neither a stub nor a file of record, and deleting them
#: would only lose a student's safety copy.
LEFT_ALONE = (".ipynb_checkpoints",)


def _present_files(assignments: Path) -> list[Path]:
    """The files of ``assignments`` that generation is about (not caches, not Jupyter's
    checkpoints, not the record)."""
    if not assignments.is_dir():
        return []
    return [relative for relative in _reference_files(assignments)
            if relative != MANIFEST and not set(relative.parts) & set(LEFT_ALONE)]


def stale_assignments(solutions: Path, assignments: Path) -> list[str]:
    """Paths (relative) that are missing, different or extra in ``assignments/``, and the record
    (``.stubs.json``) when it does not describe the stubs; empty when in sync."""
    expected = expected_assignments(solutions)
    stale = [
        str(relative)
        for relative, data in expected.items()
        if not (assignments / relative).is_file() or (assignments / relative).read_bytes() != data
    ]
    stale += [str(relative) for relative in _present_files(assignments) if relative not in expected]
    record = assignments / MANIFEST
    if not record.is_file() or record.read_text(encoding="utf-8") != manifest_text(expected):
        stale.append(str(MANIFEST))
    return sorted(stale)


def edited_assignments(solutions: Path, assignments: Path, expected: dict[Path, bytes] | None = None) -> list[str]:
    """Files of ``assignments`` that regenerating would overwrite or remove and that are not what
    the last generation wrote (per the record): someone's work. Sorted relative paths."""
    expected = expected_assignments(solutions) if expected is None else expected
    record = read_manifest(assignments) or {}
    edited = []
    for relative in _present_files(assignments):
        data = (assignments / relative).read_bytes()
        if expected.get(relative) == data:
            continue  # already the new stub: nothing is overwritten
        if record.get(relative.as_posix()) != _digest(data):
            edited.append(str(relative))
    return sorted(edited)


class EditedAssignments(StubError):
    """Regenerating would overwrite or remove files someone edited; nothing was written."""

    def __init__(self, assignments: Path, edited: list[str]):
        self.assignments, self.edited = assignments, edited
        super().__init__(
            f"{len(edited)} file(s) in {assignments} were changed since the stubs were last generated, "
            f"and regenerating would overwrite or remove them: {', '.join(edited)}. If that is your work, "
            "keep it (copy the folder elsewhere); to regenerate anyway, pass --force: the changed files "
            "are first copied into a backup folder beside assignments/"
        )


@dataclass(frozen=True)
class StubsWritten:
    """What :func:`write_assignments` did: paths changed or removed, and the files it backed up."""

    changed: list[str]
    backed_up: list[str]
    backup: Path | None = None


def _backup_folder(assignments: Path) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = assignments.with_name(f"{assignments.name}.backup-{stamp}")
    suffix = 2
    while folder.exists():
        folder = assignments.with_name(f"{assignments.name}.backup-{stamp}-{suffix}")
        suffix += 1
    return folder


def write_assignments(solutions: Path, assignments: Path, *, force: bool = False) -> StubsWritten:
    """Regenerates ``assignments/`` from ``solutions/`` and records what it wrote (``.stubs.json``).

    Raises EditedAssignments, before writing anything, when files someone changed would be
    overwritten or removed (:func:`edited_assignments`); with ``force`` they are copied into
    ``assignments.backup-<time>/`` (same relative paths) first.
    """
    solutions, assignments = Path(solutions), Path(assignments)
    if not solutions.is_dir():
        raise StubError(f"{solutions} does not exist: stubs are generated from the reference, in the course repository")
    expected = expected_assignments(solutions)
    changed = stale_assignments(solutions, assignments)
    edited = edited_assignments(solutions, assignments, expected)
    backup = None
    if edited:
        if not force:
            raise EditedAssignments(assignments, edited)
        backup = _backup_folder(assignments)
        for relative in edited:
            target = backup / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(assignments / relative, target)
    for relative in _present_files(assignments):
        if relative not in expected:
            (assignments / relative).unlink()
    if assignments.is_dir():
        for cache in assignments.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
    for relative, data in expected.items():
        target = assignments / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_bytes() != data:
            target.write_bytes(data)
    (assignments / MANIFEST).write_text(manifest_text(expected), encoding="utf-8")
    return StubsWritten(changed, edited, backup)
