"""An nbgrader course whose gradebook is a real PostgreSQL server (``init --db postgresql://...``).

The test starts a throwaway server of its own from Debian's binaries (``/usr/lib/postgresql/*/bin``,
the ``postgresql`` package, which ``.ci/run`` installs): ``initdb`` into a temporary folder, listening
only on a unix socket in that folder (no TCP port to collide with anything), with trust
authentication. PostgreSQL refuses to run as root, so under root the server runs as the
``postgres`` user the package creates. The driver is psycopg 3 (``pip install -e ".[postgres]"``;
the ``test`` extra has it too), named in the URL as ``postgresql+psycopg://``: that form works with
every SQLAlchemy nbgrader accepts, while a bare ``postgresql://`` means psycopg 3 from SQLAlchemy 2.1
on but psycopg2 before.

Without the binaries or the driver the test skips and says why. Where ``.ci/run`` has the server
binaries (it installs them, and then sets ``AUTOGRADER_REQUIRE_POSTGRES=1``) it fails instead.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from autograder import api
from autograder.units import UNITS

from .nbgrader_course import (ASSIGNMENT, NOTEBOOK, exported_scores, fill, init_course, nbgrader, points,
                              read_notebook)

pytest.importorskip("nbgrader")

SERVER_USER = "postgres"  # what Debian's package creates, and who may run the server when we are root
DATABASE = "gradebook"
ROLE = "instructor"


def _unavailable(reason: str):
    if os.environ.get("AUTOGRADER_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason}; .ci/run found PostgreSQL's binaries, so this test must run")
    pytest.skip(reason)


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]))
    if not found:
        _unavailable("PostgreSQL's server binaries are missing (Debian: apt-get install postgresql)")
    return Path(found[-1]).parent


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        _unavailable(f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL as")
    runuser = shutil.which("runuser")
    if runuser is None:
        _unavailable("running as root and runuser is missing, so PostgreSQL cannot be started as another user")
    return [runuser, "-u", SERVER_USER, "--", *command]


@pytest.fixture(scope="module")
def postgres_url():
    """A fresh PostgreSQL server and an empty database; yields its SQLAlchemy URL, then stops it."""
    try:
        import psycopg  # noqa: F401 (the driver of postgresql+psycopg:// URLs)
    except ImportError:
        _unavailable('the PostgreSQL driver psycopg is not installed (pip install -e ".[postgres]")')
    bin_dir = _postgres_bin()
    # Not pytest's tmp_path: it is private to root, and the server may run as another user.
    home = Path(tempfile.mkdtemp(prefix="autograder-pg-"))
    data, socket_dir = home / "data", home / "socket"
    socket_dir.mkdir()
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVER_USER)
        for path in (home, socket_dir):
            os.chown(path, account.pw_uid, account.pw_gid)
    server = lambda *command: subprocess.run(_as_server_user([str(bin_dir / command[0]), *command[1:]]),  # noqa: E731
                                             capture_output=True, text=True, timeout=120, cwd=home)
    try:
        done = server("initdb", "-D", str(data), "-U", ROLE, "--auth=trust", "--no-sync", "-E", "UTF8")
        assert done.returncode == 0, done.stdout + done.stderr
        done = server("pg_ctl", "-D", str(data), "-l", str(home / "server.log"), "-w", "-t", "60", "start",
                      "-o", f"-c listen_addresses='' -k {socket_dir} -c fsync=off")
        assert done.returncode == 0, done.stdout + done.stderr + _read(home / "server.log")
        done = server("createdb", "-h", str(socket_dir), "-U", ROLE, DATABASE)
        assert done.returncode == 0, done.stdout + done.stderr
        yield f"postgresql+psycopg://{ROLE}@/{DATABASE}?host={socket_dir}"
    finally:
        if (data / "postmaster.pid").exists():
            server("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture(scope="module")
def graded_course(postgres_url, tmp_path_factory):
    course = tmp_path_factory.mktemp("postgres") / "course"
    init_course(course, "--unit", "linear", "--db", postgres_url)
    nbgrader(course, "generate_assignment", ASSIGNMENT)
    source = read_notebook(course / "source" / ASSIGNMENT / NOTEBOOK)
    release = read_notebook(course / "release" / ASSIGNMENT / NOTEBOOK)
    students = {
        "reference": fill(json.loads(json.dumps(release)), source, None),
        "partial": fill(json.loads(json.dumps(release)), source, {"predict", "mse_loss"}),
        "untouched": release,
    }
    for student, document in students.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_text(json.dumps(document), encoding="utf-8")
    started = time.perf_counter()
    nbgrader(course, "autograde", ASSIGNMENT, "--create")
    print(f"autograde of {len(students)} students with a PostgreSQL gradebook: {time.perf_counter() - started:.1f} s")
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    return course, exported_scores(course)


def test_the_exported_scores_come_from_the_postgres_gradebook(graded_course, postgres_url):
    course, scores = graded_course
    assert scores == {
        "reference": points(*UNITS["linear"].parts),
        "partial": points("linear.predict", "linear.loss"),
        "untouched": 0.0,
    }
    assert not list(course.glob("*.db")), "nbgrader fell back to a SQLite gradebook"
    import sqlalchemy

    engine = sqlalchemy.create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            students = connection.execute(sqlalchemy.text(
                "select student.id from submitted_assignment join student "
                "on submitted_assignment.student_id = student.id order by student.id")).scalars().all()
            total = connection.execute(sqlalchemy.text(
                "select sum(coalesce(grade.manual_score, grade.auto_score)) from grade")).scalar()
    finally:
        engine.dispose()
    assert students == sorted(scores)
    assert float(total) == sum(scores.values())


def test_postgres_scores_equal_autograder_grade_on_the_same_notebooks(graded_course):
    course, scores = graded_course
    for student, score in scores.items():
        assert api.grade(course / "submitted" / student / ASSIGNMENT, parts=["linear"]).score == score, student
    for student in scores:
        assert (course / "feedback" / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).is_file()
