"""Generates the student stubs (``assignments/``) from the reference (``solutions/``).

Every region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's own markers, each
alone on its line) becomes ``raise NotImplementedError("<function>: not implemented yet")`` at the
marker's indentation. Everything else, docstrings, the ``# Hint:`` line above each region and the
given helpers, is copied unchanged, so the two trees differ only inside solution regions.
``assignments/notebooks/`` holds the same stubs as one Jupyter notebook per unit.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
NOTEBOOKS = Path("notebooks")  # the student notebooks, inside assignments/
END = "### END SOLUTION"
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


def stale_assignments(solutions: Path, assignments: Path) -> list[str]:
    """Paths (relative) that are missing, different or extra in ``assignments/``; empty when in sync."""
    expected = expected_assignments(solutions)
    stale = [
        str(relative)
        for relative, data in expected.items()
        if not (assignments / relative).is_file() or (assignments / relative).read_bytes() != data
    ]
    if assignments.is_dir():
        stale += [str(relative) for relative in _reference_files(assignments) if relative not in expected]
    return sorted(stale)


def write_assignments(solutions: Path, assignments: Path) -> list[str]:
    """Regenerates ``assignments/`` from ``solutions/``; returns the paths it changed or removed."""
    changed = stale_assignments(solutions, assignments)
    expected = expected_assignments(solutions)
    if assignments.is_dir():
        for relative in _reference_files(assignments):
            if relative not in expected:
                (assignments / relative).unlink()
        for cache in assignments.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
    for relative, data in expected.items():
        target = assignments / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_bytes() != data:
            target.write_bytes(data)
    return changed
