"""The library API every front end calls: grade a submission folder with the course's checks."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

from .checks import Visibility
from .fixtures import PACKAGE_FIXTURES, FixtureReference
from .grading import (
    GradingOptions,
    ReferenceProvider,
    SolutionsReference,
    grade_submission,
)
from .paths import solutions_dir
from .results import Report
from .submission import locate_submission
from .surroundings import folders_beside
from .units import select_checks


class SubmissionNotFound(FileNotFoundError):
    """The submission folder does not exist or is not a folder."""


class ReferenceNotFound(SubmissionNotFound):
    """Neither reference solutions nor public fixtures were found. (A SubmissionNotFound, so that
    every front end that reports a missing folder reports this the same way.)"""


_REFERENCES: dict[Path, ReferenceProvider] = {}


def default_reference() -> ReferenceProvider:
    """Where the expected values come from, cached per file or folder for the process:

    1. the folder named by AUTOGRADER_SOLUTIONS, when set (an instructor's explicit choice);
    2. the public fixtures inside the grader package: only a student release carries them, and a
       release grades against them even when some ``solutions/`` folder lies beside it;
    3. ``solutions/`` of this repository;
    otherwise ReferenceNotFound, which says what is missing.
    """
    folder = solutions_dir()
    if "AUTOGRADER_SOLUTIONS" in os.environ or not PACKAGE_FIXTURES.is_file():
        if not folder.is_dir():
            raise ReferenceNotFound(
                f"the reference folder {folder} does not exist, and this grader carries no public fixtures "
                f"({PACKAGE_FIXTURES.name}): grade in the course repository, or in a student release "
                "made by `autograder release`"
            )
        return _REFERENCES.setdefault(folder, SolutionsReference(folder))
    return _REFERENCES.setdefault(PACKAGE_FIXTURES, FixtureReference(PACKAGE_FIXTURES))


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
        if located.units is not None:  # one unit's assignment: the earlier units it holds are graded in theirs
            checks = [check for check in checks if check.unit in located.units]
        # A folder without course files is still graded (every check then says which file is missing).
        # The course or class folder it was handed in from stays out of the children's sight.
        report = grade_submission(
            located.folder or submission, checks, reference=reference or default_reference(), options=options,
            also_hidden=folders_beside(submission, located.folder),
        )
    notes = (located.note, *report.notes) if located.note else report.notes
    # The report names what was handed in, not the staging folder notebooks were written out to.
    return Report(str(submission.resolve()), report.results, notes)
