"""The library API every front end calls: grade a submission folder with the course's checks."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

from .checks import Visibility
from .grading import (
    GradingOptions,
    ReferenceProvider,
    SolutionsReference,
    grade_submission,
)
from .paths import solutions_dir
from .results import Report
from .submission import locate_submission
from .units import select_checks


class SubmissionNotFound(FileNotFoundError):
    """The submission folder does not exist or is not a folder."""


_REFERENCES: dict[Path, SolutionsReference] = {}


def default_reference() -> ReferenceProvider:
    """The reference solutions of this repository (cached per folder for the process)."""
    folder = solutions_dir()
    if not folder.is_dir():
        raise SubmissionNotFound(f"the reference folder {folder} does not exist")
    return _REFERENCES.setdefault(folder, SolutionsReference(folder))


def grade(
    submission: Path,
    *,
    parts: Sequence[str] = (),
    reference: ReferenceProvider | None = None,
    options: GradingOptions = GradingOptions(),
    visibility: Visibility | None = None,
) -> Report:
    """Grades ``submission`` (a folder shaped like ``assignments/``, or a folder of the course's
    notebooks) on the selected parts; ``visibility`` limits it to public (or hidden) checks.

    Raises SubmissionNotFound for a missing folder and UnknownSelection for an unknown part name;
    nothing the submitted code does raises here.
    """
    submission = Path(submission)
    if not submission.is_dir():
        raise SubmissionNotFound(f"submission folder {submission} does not exist")
    checks = select_checks(list(parts), visibility=visibility)
    with tempfile.TemporaryDirectory(prefix="autograder-notebooks-") as staging:
        located = locate_submission(submission, Path(staging))
        # A folder without course files is still graded (every check then says which file is missing).
        report = grade_submission(
            located.folder or submission, checks, reference=reference or default_reference(), options=options
        )
    notes = (located.note, *report.notes) if located.note else report.notes
    # The report names what was handed in, not the staging folder notebooks were written out to.
    return Report(str(submission.resolve()), report.results, notes)
