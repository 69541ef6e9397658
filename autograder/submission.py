"""Finding the course files in what a student handed in.

Shared by ``autograder grade`` (and so Gradescope's run_autograder) and the batch grader: a folder
that holds the course's modules is graded as it is; one whose modules sit in a single subfolder
(a student who handed in ``assignments/`` itself) is graded there, with a note; a folder of the
course's notebooks (as nbgrader collects them) is turned into modules in a staging folder first
(:mod:`autograder.notebooks.materialize`); anything else is a problem with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .notebooks.materialize import course_notebooks_in, materialize_notebooks
from .units import UNITS


@dataclass(frozen=True)
class LocatedSubmission:
    """``folder`` to grade, or None with ``problem`` saying why; ``note`` for the report."""

    folder: Path | None
    problem: str | None = None
    note: str | None = None


def course_files() -> set[str]:
    return {f"{unit.module}.py" for unit in UNITS.values()}


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
        note = materialize_notebooks(with_notebooks[0], staging)
        return LocatedSubmission(staging, note=note)
    expected = ", ".join(sorted(course_files()))
    return LocatedSubmission(None, f"no course files ({expected}, or the course notebooks) found in {folder.name}/")
