"""The JupyterHub workflow through nbgrader's real exchange, without a hub (docs/jupyterhub.md).

On a hub the exchange is a shared folder (``/srv/nbgrader/exchange``); here it is a temporary
one (``--Exchange.root``). The instructor runs ``generate_assignment`` and ``release_assignment`` in
the course folder; each "student" runs ``fetch_assignment`` in a home folder of their own (``HOME``
set to it, so nbgrader's submission cache is theirs too, and ``--student`` naming them as the hub's
login would), edits the fetched notebook, and runs ``submit``. The instructor then runs ``collect``,
``autograde``, ``generate_feedback``, ``release_feedback`` and ``export``; each student fetches their
feedback. Every command is nbgrader's own; only the students' distinct Unix accounts are simulated.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from autograder.units import UNITS

from .nbgrader_course import (ASSIGNMENT, NOTEBOOK, checksum_warnings, exported_scores, fill, init_course, nbgrader,
                              points, read_notebook)

pytest.importorskip("nbgrader")

COURSE_ID = ASSIGNMENT  # `autograder nbgrader init`'s default course id


def _student(home, exchange, *args: str):
    """An nbgrader command as a student: their home folder, outside any course folder."""
    env = dict(os.environ, HOME=str(home))
    return nbgrader(home, *args, "--course", COURSE_ID, f"--Exchange.root={exchange}", env=env)


@pytest.fixture(scope="module")
def exchanged(tmp_path_factory):
    base = tmp_path_factory.mktemp("exchange")
    course, exchange = base / "course", base / "exchange"
    init_course(course, "--unit", "linear")
    exchange_option = f"--Exchange.root={exchange}"
    nbgrader(course, "generate_assignment", ASSIGNMENT)
    nbgrader(course, "release_assignment", ASSIGNMENT, exchange_option)
    source = read_notebook(course / "source" / ASSIGNMENT / NOTEBOOK)

    work = {"alice": None, "bob": {"predict", "mse_loss"}, "carol": set()}  # None: every answer cell
    for student, chunks in work.items():
        home = base / "home" / student
        home.mkdir(parents=True)
        _student(home, exchange, "fetch_assignment", ASSIGNMENT)
        fetched = home / ASSIGNMENT / NOTEBOOK
        document = fill(read_notebook(fetched), source, chunks)
        fetched.write_text(json.dumps(document), encoding="utf-8")
        _student(home, exchange, "submit", ASSIGNMENT, f"--student={student}")

    nbgrader(course, "collect", ASSIGNMENT, exchange_option)
    autograde = nbgrader(course, "autograde", ASSIGNMENT, "--create")
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    nbgrader(course, "release_feedback", ASSIGNMENT, exchange_option)
    for student in work:
        _student(base / "home" / student, exchange, "fetch_feedback", ASSIGNMENT, f"--student={student}")
    return {"base": base, "course": course, "exchange": exchange, "students": list(work),
            "scores": exported_scores(course), "autograde_log": autograde.stdout + autograde.stderr}


def test_collected_submissions_get_their_exact_scores(exchanged):
    assert exchanged["scores"] == {
        "alice": points(*UNITS["linear"].parts),
        "bob": points("linear.predict", "linear.loss"),
        "carol": 0.0,
    }
    assert checksum_warnings(exchanged["autograde_log"]) == []


def test_collect_puts_each_submission_where_autograde_reads_it(exchanged):
    course = exchanged["course"]
    for student in exchanged["students"]:
        assert (course / "submitted" / student / ASSIGNMENT / NOTEBOOK).is_file()
        assert (course / "submitted" / student / ASSIGNMENT / "timestamp.txt").is_file()


def test_the_exchange_folders_have_the_permissions_students_need(exchanged):
    """What docs/jupyterhub.md tells the instructor to check: students may read the release and
    drop submissions into inbound, but not list or read one another's."""
    course_root = exchanged["exchange"] / COURSE_ID
    inbound = stat.S_IMODE((course_root / "inbound").stat().st_mode)
    outbound = stat.S_IMODE((course_root / "outbound" / ASSIGNMENT).stat().st_mode)
    assert inbound & stat.S_IWOTH and inbound & stat.S_IXOTH and not inbound & stat.S_IROTH, oct(inbound)
    assert outbound & stat.S_IROTH and outbound & stat.S_IXOTH and not outbound & stat.S_IWOTH, oct(outbound)
    assert len(list((course_root / "inbound").iterdir())) == len(exchanged["students"])


def test_each_student_fetches_their_own_feedback(exchanged):
    for student in exchanged["students"]:
        feedback = list((exchanged["base"] / "home" / student / ASSIGNMENT / "feedback").glob("*/*.html"))
        assert [path.name for path in feedback] == [NOTEBOOK.replace(".ipynb", ".html")], student
