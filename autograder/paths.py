"""Where the course's folders are: the reference solutions and the student stubs.

The reference is ``solutions/`` beside the installed package (the project is installed editable,
``pip install -e .``), or the folder named by the environment variable AUTOGRADER_SOLUTIONS.
"""

from __future__ import annotations

import os
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def solutions_dir() -> Path:
    override = os.environ.get("AUTOGRADER_SOLUTIONS")
    return Path(override).resolve() if override else REPOSITORY / "solutions"


def assignments_dir() -> Path:
    return REPOSITORY / "assignments"


def find_assignments(start: Path) -> Path | None:
    """The course's ``assignments/`` folder seen from ``start``: ``start/assignments``, or that of the
    nearest folder above ``start`` (so `autograder check` works from inside ``assignments/`` or any
    subfolder of the course); None when no folder up to the filesystem's root has one."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        candidate = folder / "assignments"
        if candidate.is_dir():
            return candidate
    return None
