"""The library API every front end calls: grade a submission folder with the course's checks."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

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
) -> Report:
    """Grades ``submission`` (a folder shaped like ``assignments/``) on the selected parts.

    Raises SubmissionNotFound for a missing folder and UnknownSelection for an unknown part name;
    nothing the submitted code does raises here.
    """
    submission = Path(submission)
    if not submission.is_dir():
        raise SubmissionNotFound(f"submission folder {submission} does not exist")
    checks = select_checks(list(parts))
    located = locate_submission(submission)
    # A folder without course files is still graded (every check then says which file is missing).
    report = grade_submission(
        located.folder or submission, checks, reference=reference or default_reference(), options=options
    )
    if located.note:
        report = Report(report.submission, report.results, (located.note, *report.notes))
    return report
