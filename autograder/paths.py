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
