"""``autograder nbgrader init COURSE_DIR``: a ready nbgrader course generated from ``solutions/``.

The course folder gets ``nbgrader_config.py`` (course id, gradebook URL, execution timeout) and
``source/<assignment>/`` with the source notebook of every unit (solution regions and hidden tests in
place). nbgrader's own commands take it from there: ``generate_assignment``, ``autograde``,
``generate_feedback``, ``export``.

``per_unit`` (``--per-unit``, a weekly course): one assignment per unit instead, ``source/01-linear/``
... ``source/06-capstone/``, each with that unit's notebook only. The number first, so that the
assignments sort in course order wherever nbgrader lists them; then the unit's name, which is what
students type to check a unit. A later unit's grading takes the earlier units it imports from the
same student's earlier assignments (:mod:`autograder.notebooks.earlier`).
"""

from __future__ import annotations

from pathlib import Path

from ..paths import solutions_dir
from ..units import UNITS
from .build import course_notebooks
from .trusted_autograde import autograde_config

DEFAULT_ASSIGNMENT = "deep-learning-basics"
DEFAULT_COURSE_ID = "deep-learning-basics"
#: nbgrader's per-cell execution timeout; the test cells of training parts take a few seconds.
CELL_TIMEOUT_S = 300


class CourseError(ValueError):
    """A course that cannot be written as asked (exists already, bad gradebook URL, unknown unit)."""


def check_database_url(url: str) -> str:
    """``url`` if SQLAlchemy can parse it (SQLite, PostgreSQL, ...); CourseError otherwise."""
    try:
        from sqlalchemy.engine import make_url
    except ImportError:  # nbgrader brings SQLAlchemy; without it only the shape can be checked
        if "://" not in url:
            raise CourseError(f"{url!r} is not a database URL (e.g. sqlite:///gradebook.db)") from None
        return url
    try:
        make_url(url)
    except Exception as error:  # SQLAlchemy raises ArgumentError, ValueError, ... for malformed URLs
        raise CourseError(f"{url!r} is not a database URL SQLAlchemy understands: {error}") from None
    return url


def config_text(course_id: str, db_url: str) -> str:
    return f'''"""nbgrader configuration of this course (written by `autograder nbgrader init`)."""

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = {course_id!r}
# The gradebook: SQLite in this folder by default; any SQLAlchemy URL works, e.g.
# "postgresql+psycopg://user:password@host/gradebook" for a large course (pip install the
# course's `postgres` extra, the psycopg driver, where nbgrader runs).
c.CourseDirectory.db_url = {db_url!r}
# Each test cell grades one part in a fresh, isolated process; training parts take a few seconds.
c.Execute.timeout = {CELL_TIMEOUT_S}
''' + autograde_config()


def init_course(course: Path, *, course_id: str = DEFAULT_COURSE_ID, assignment: str = DEFAULT_ASSIGNMENT,
                db_url: str | None = None, units: list[str] | None = None, force: bool = False,
                per_unit: bool = False) -> list[Path]:
    """Writes the course; returns the files written.

    ``per_unit``: one assignment per unit (named by :func:`.earlier.assignment_names`) instead of
    the one ``assignment`` holding every unit."""
    from .earlier import assignment_names, unit_of_module

    unknown = sorted(set(units or ()) - set(UNITS))
    if unknown:
        raise CourseError(f"unknown unit {unknown[0]!r}; units: {', '.join(UNITS)}")
    course = Path(course).resolve()
    config = course / "nbgrader_config.py"
    notebooks = course_notebooks(solutions_dir(), student=False, units=units)
    if per_unit:
        names = assignment_names()  # 03_losses.ipynb -> source/03-losses/
        folders = {name: course / "source" / names[unit_of_module(name.removesuffix(".ipynb").split("_", 1)[1])]
                   for name in notebooks}
    else:
        folders = {name: course / "source" / assignment for name in notebooks}
    if not force and (config.exists() or any(folder.exists() for folder in folders.values())):
        raise CourseError(f"{course} already holds an nbgrader course (use --force to regenerate its notebooks)")
    db_url = check_database_url(db_url or f"sqlite:///{course / 'gradebook.db'}")
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(config_text(course_id, db_url), encoding="utf-8")
    written = [config]
    for name, text in notebooks.items():
        folders[name].mkdir(parents=True, exist_ok=True)
        (folders[name] / name).write_text(text, encoding="utf-8")
        written.append(folders[name] / name)
    return written
