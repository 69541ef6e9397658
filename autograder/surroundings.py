"""The folders around a submission that its code must not see while it is graded.

The sandbox hides the reference solutions and the grader's own hidden code wherever the submission
lies. What lies *around* a submission depends on where it was handed in from:

* an nbgrader course (``<course>/submitted/<student>/<assignment>/``): ``source/`` holds every
  notebook with its solutions in place, ``release/`` the student version, ``submitted/`` and
  ``autograded/`` the classmates' work, ``feedback/`` their reports. A student's code that reads
  ``source/`` at grading time can run the solution and get full marks without writing anything;
* a class folder of one folder per student: the classmates' work beside it.

When the child grades the submission folder itself, as root, its private view already covers the
submission's parent. But notebooks are first written out as modules into a staging folder, and a
batch grades staged copies: the child then sees the staging folder, while the original course or
class folder stays in plain sight. :func:`folders_beside` names what to cover in every case;
:func:`autograder.grading.probe_submission` then leaves out any of them that holds the graded folder,
and :func:`usable` any that holds Python, its packages or the grader (the child needs those).
"""

from __future__ import annotations

from pathlib import Path

#: nbgrader's course folders (its own names), covered one by one when the graded folder lies inside
#: the course (the gradebook file then stays visible: scores, not solutions; the child may not write it).
NBGRADER_FOLDERS = ("source", "release", "submitted", "autograded", "feedback", "exchange")


def nbgrader_course_root(path: Path) -> Path | None:
    """The nbgrader course that ``path`` lies in (a folder with ``nbgrader_config.py``, or with
    ``source/`` beside ``submitted/`` or ``autograded/``), or None."""
    for folder in (path, *path.parents):
        if (folder / "nbgrader_config.py").is_file():
            return folder
        if (folder / "source").is_dir() and ((folder / "submitted").is_dir() or (folder / "autograded").is_dir()):
            return folder
    return None


def folders_beside(submission: Path, graded: Path | None = None) -> tuple[Path, ...]:
    """What to cover for a submission handed in as ``submission`` and graded from ``graded`` (the
    folder the child reads: the submission itself, or where its notebooks were written out)."""
    submission = Path(submission).resolve()
    graded = Path(graded).resolve() if graded is not None else submission
    course = nbgrader_course_root(submission)
    if course is not None:
        return _course_cover(course, graded)
    if submission.parent != submission:
        return usable([submission.parent])
    return ()


def folders_of_a_class(root: Path, staging: Path) -> tuple[Path, ...]:
    """What to cover when a batch grades copies, staged under ``staging``, of the students under
    ``root``."""
    root, staging = Path(root).resolve(), Path(staging).resolve()
    course = nbgrader_course_root(root)
    if course is not None:
        return _course_cover(course, staging)
    return usable([root])


def _course_cover(course: Path, graded: Path) -> tuple[Path, ...]:
    """The whole course (its gradebook too: every student's scores) when the child grades a folder
    outside it; else nbgrader's folders one by one (the one holding the graded folder is then left
    to the child's own view, which covers its parent)."""
    whole = usable([course]) if not graded.is_relative_to(course) else ()
    return whole or usable([course / name for name in NBGRADER_FOLDERS if (course / name).is_dir()])


def usable(candidates) -> tuple[Path, ...]:
    """The candidates that hold nothing the child needs (Python, its packages, the grader)."""
    from .sandbox.confine import needed_folders

    needed = needed_folders()
    return tuple(folder for folder in candidates
                 if folder != Path("/") and not any(path.is_relative_to(folder) for path in needed))
