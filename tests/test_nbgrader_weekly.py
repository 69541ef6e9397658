"""A weekly course: one nbgrader assignment per unit (``autograder nbgrader init --per-unit``).

End to end with the real nbgrader: ``generate_assignment`` of every unit, three students who hand in
every unit as its own assignment, ``autograde`` of Units 5 (techniques) and 6 (capstone), ``export``.
Those units import earlier ones (techniques: mlp, and optimizers inside a function; capstone: losses,
mlp, optimizers, techniques), which are not in their assignment's folder: they must come from the
same student's earlier submissions.

* ``ace``: the reference code in every unit;
* ``bugs``: the reference code in Units 5 and 6, but buggy earlier units from the corpus (a
  cross-entropy without its normaliser in 03-losses, SGD applying the learning rate twice in
  04-optimizers): their Unit 5 and 6 scores drop only through the earlier submissions;
* ``gap``: never handed in 02-mlp; both later units import mlp.

Each score nbgrader exports must equal ``autograder grade`` of the same code as ``.py`` files in one
folder (and ``grade-batch`` of the course). The rest of the file needs no nbgrader: which earlier
folder wins, a student's own weekly folders (test cells and kernel), folders that are no per-unit
assignment.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import api
from autograder.checks import Visibility
from autograder.notebooks.build import course_notebooks
from autograder.notebooks.earlier import assignment_names, search_roots
from autograder.notebooks.materialize import fill_notebook
from autograder.paths import solutions_dir
from autograder.units import UNITS
from tests.corpus import Mutation
from tests.corpus import losses as losses_corpus
from tests.corpus import optimizers as optimizers_corpus

ASSIGNMENTS = assignment_names()  # {"linear": "01-linear", ...}
NOTEBOOKS = {unit: f"{index:02d}_{UNITS[unit].module}.ipynb" for index, unit in enumerate(UNITS, start=1)}
LATER = ("techniques", "capstone")


def _mutation(corpus, name: str) -> Mutation:
    return next(mutation for mutation in corpus.MUTATIONS if mutation.name == name)


BUGS = (_mutation(losses_corpus, "CE without the log-sum-exp normaliser"),
        _mutation(optimizers_corpus, "SGD: learning rate applied twice"))


def _full(unit: str) -> float:
    return sum(check.points for check in UNITS[unit].checks)


def _nbgrader(course: Path, *args: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True, timeout=900,
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def _student_code(tmp: Path, student: str) -> Path:
    """The student's work as one folder of ``.py`` files (what ``autograder grade`` is given)."""
    folder = tmp / "code" / student
    if student == "bugs":
        BUGS[0].apply(solutions_dir(), tmp / "code" / "bugs-step")
        BUGS[1].apply(tmp / "code" / "bugs-step", folder)
    else:
        shutil.copytree(solutions_dir(), folder, ignore=shutil.ignore_patterns("__pycache__"))
    if student == "gap":
        (folder / "mlp.py").unlink()
    return folder


def _notebook(template: str, unit: str, code: Path) -> str:
    """The released notebook of ``unit`` with its answer cells holding the student's code."""
    module = UNITS[unit].module
    return json.dumps(fill_notebook(json.loads(template), module, (code / f"{module}.py").read_text(encoding="utf-8")))


def _hand_in(root: Path, notebooks: dict[str, str], code: Path) -> None:
    """One folder per unit the student's code holds, as nbgrader (or a fetch) lays them out."""
    for unit, assignment in ASSIGNMENTS.items():
        if (code / f"{UNITS[unit].module}.py").is_file():
            (root / assignment).mkdir(parents=True, exist_ok=True)
            (root / assignment / NOTEBOOKS[unit]).write_text(_notebook(notebooks[unit], unit, code), encoding="utf-8")


def _outputs(notebook: Path) -> str:
    """Every text output of a (graded) notebook."""
    document = json.loads(notebook.read_text(encoding="utf-8"))
    texts = []
    for cell in document["cells"]:
        for output in cell.get("outputs", []):
            texts.append("".join(output.get("text", "")))
            texts.append("".join(output.get("data", {}).get("text/plain", "")))
            texts.append(output.get("evalue", ""))
    return "\n".join(texts)


# ============================================================================ with nbgrader


@pytest.fixture(scope="module")
def weekly_course(tmp_path_factory):
    pytest.importorskip("nbgrader")
    tmp = tmp_path_factory.mktemp("weekly")
    course = tmp / "course"
    subprocess.run([sys.executable, "-m", "autograder", "nbgrader", "init", str(course), "--per-unit"],
                   check=True, capture_output=True)
    _nbgrader(course, "generate_assignment", "*")  # nbgrader's assignment id is a glob
    released = {unit: (course / "release" / ASSIGNMENTS[unit] / NOTEBOOKS[unit]).read_text(encoding="utf-8")
                for unit in UNITS}
    code = {student: _student_code(tmp, student) for student in ("ace", "bugs", "gap")}
    for student, folder in code.items():
        _hand_in(course / "submitted" / student, released, folder)
    _nbgrader(course, "autograde", f"0[{''.join(ASSIGNMENTS[unit][1] for unit in LATER)}]-*", "--create")
    _nbgrader(course, "export", "--to", str(course / "grades.csv"))
    with open(course / "grades.csv", newline="", encoding="utf-8") as table:
        scores = {(row["student_id"], row["assignment"]): float(row["score"]) for row in csv.DictReader(table)}
    return course, code, scores


def test_init_per_unit_writes_one_assignment_per_unit(weekly_course):
    course, _, _ = weekly_course
    source = course / "source"
    assert {folder.name: sorted(path.name for path in folder.iterdir()) for folder in source.iterdir()} == {
        ASSIGNMENTS[unit]: [NOTEBOOKS[unit]] for unit in UNITS}
    assert sorted(ASSIGNMENTS.values()) == list(ASSIGNMENTS.values())  # they sort in course order


def test_units_5_and_6_score_as_autograder_grade_of_the_same_work(weekly_course):
    course, code, scores = weekly_course
    for student, folder in code.items():
        for unit in LATER:
            expected = api.grade(folder, parts=[unit]).score
            assert scores[(student, ASSIGNMENTS[unit])] == expected, (student, unit)
    for unit in LATER:
        assert scores[("ace", ASSIGNMENTS[unit])] == _full(unit)
        # bugs' own notebooks of Units 5 and 6 are the reference: only their earlier units cost points
        assert 0 < scores[("bugs", ASSIGNMENTS[unit])] < _full(unit), unit
        assert scores[("gap", ASSIGNMENTS[unit])] == 0, unit


def test_grading_a_submitted_assignment_grades_its_unit_only(weekly_course):
    course, _, scores = weekly_course
    completed = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--submission",
         str(course / "submitted" / "bugs" / ASSIGNMENTS["capstone"]), "--json"],
        check=True, capture_output=True, text=True)
    document = json.loads(completed.stdout)
    assert {test["name"].split(".")[0] for test in document["tests"]} == {"capstone"}
    assert document["score"] == scores[("bugs", ASSIGNMENTS["capstone"])]
    assert "losses from your submission of 03-losses (03_losses.ipynb)" in document["output"]


def test_the_test_cells_say_which_earlier_submissions_were_used(weekly_course):
    course, _, _ = weekly_course
    capstone = _outputs(course / "autograded" / "bugs" / ASSIGNMENTS["capstone"] / NOTEBOOKS["capstone"])
    for unit in ("mlp", "losses", "optimizers", "techniques"):
        assert f"{UNITS[unit].module} from your submission of {ASSIGNMENTS[unit]}" in capstone, unit
    techniques = _outputs(course / "autograded" / "ace" / ASSIGNMENTS["techniques"] / NOTEBOOKS["techniques"])
    # optimizers is imported inside a function of techniques.py: found all the same
    assert "optimizers from your submission of 04-optimizers" in techniques


def test_a_missing_earlier_unit_is_named_with_what_to_hand_in(weekly_course):
    course, _, _ = weekly_course
    for unit in LATER:
        text = _outputs(course / "autograded" / "gap" / ASSIGNMENTS[unit] / NOTEBOOKS[unit])
        assert "not handed in" in text and "imports mlp (Unit 2, mlp)" in text, unit
        assert "hand in 02-mlp" in text, unit
        assert "No module named 'mlp'" not in text, unit


def test_grade_batch_gives_the_same_scores(weekly_course, tmp_path):
    course, code, scores = weekly_course
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "autograder", "grade-batch", str(course), "--out", str(out),
                    *[argument for unit in LATER for argument in ("--unit", unit)]],
                   check=True, capture_output=True)
    with open(out / "grades.csv", newline="", encoding="utf-8") as table:
        batch = {row["student"]: row for row in csv.DictReader(table)}
    assert set(batch) == set(code)
    for student in code:
        for unit in LATER:
            assert float(batch[student][unit]) == scores[(student, ASSIGNMENTS[unit])], (student, unit)


# ============================================================================ without nbgrader


@pytest.fixture(scope="module")
def notebooks():
    """Unit -> the student notebook (answer cells stubbed), as a release holds it."""
    built = course_notebooks(solutions_dir(), student=True)
    return {unit: built[NOTEBOOKS[unit]] for unit in UNITS}


@pytest.fixture(scope="module")
def code(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("work")
    return {student: _student_code(tmp, student) for student in ("ace", "bugs")}


def test_submitted_wins_over_autograded_which_serves_alone(tmp_path, notebooks, code):
    course = tmp_path / "course"
    _hand_in(course / "submitted" / "s", notebooks, code["ace"])
    shutil.copytree(course / "submitted" / "s" / "06-capstone", course / "autograded" / "s" / "06-capstone")
    # The autograded 03-losses differs from the submitted one: the submitted one must be graded.
    losses = (course / "submitted" / "s" / "03-losses" / NOTEBOOKS["losses"])
    (course / "autograded" / "s" / "03-losses").mkdir(parents=True)
    (course / "autograded" / "s" / "03-losses" / NOTEBOOKS["losses"]).write_text(
        _notebook(notebooks["losses"], "losses", code["bugs"]), encoding="utf-8")
    graded = course / "autograded" / "s" / "06-capstone"

    first = api.grade(graded, parts=["capstone"])
    assert first.score == api.grade(code["ace"], parts=["capstone"]).score == _full("capstone")
    assert "losses from your submission of 03-losses" in first.notes[0]

    losses.unlink()  # submitted/ lost it: the autograded copy (buggy) is what is left
    second = api.grade(graded, parts=["capstone"])
    assert second.score == api.grade(code["bugs"], parts=["capstone"]).score < _full("capstone")
    assert "losses from your autograded 03-losses" in second.notes[0]


def test_a_student_s_own_weekly_folders_serve_their_test_cells(tmp_path, notebooks, code, capsys):
    from autograder.notebooks.grade_cell import grade_part

    home = tmp_path / "home" / "deep-learning-basics"
    _hand_in(home, notebooks, code["bugs"])  # as fetched beside one another, then worked through
    part = "capstone"  # a test cell's selector: here the whole unit, to see the buggy losses count
    score = grade_part(part, "public", folder=home / "06-capstone")
    printed = capsys.readouterr().out
    expected = api.grade(code["bugs"], parts=[part], visibility=Visibility.PUBLIC)
    assert score == expected.score < expected.max_score
    assert "losses from your folder ../03-losses (03_losses.ipynb)" in printed

    shutil.rmtree(home / "03-losses")
    assert grade_part(part, "public", folder=home / "06-capstone") == 0
    printed = capsys.readouterr().out
    assert "imports losses (Unit 3, losses)" in printed and "fetch 03-losses into a folder beside this one" in printed


def test_the_kernel_imports_earlier_units_from_sibling_assignments(tmp_path, notebooks, code):
    home = tmp_path / "home"
    _hand_in(home, notebooks, code["ace"])
    shutil.rmtree(home / "03-losses")
    script = (
        "from autograder.notebooks.kernel import import_notebooks_as_modules\n"
        "import_notebooks_as_modules()\n"
        "import mlp\n"
        "print(mlp.__spec__.origin)\n"
        "try:\n"
        "    import losses\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error.name, error)\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], cwd=home / "06-capstone",
                               capture_output=True, text=True, check=True)
    origin, missing = completed.stdout.strip().splitlines()
    assert Path(origin) == home / "02-mlp" / NOTEBOOKS["mlp"]
    assert missing.startswith("losses ") and "fetch 03-losses into a folder beside this one" in missing


def test_a_student_s_folder_of_weekly_assignments_is_graded_as_the_whole_course(tmp_path, notebooks, code):
    _hand_in(tmp_path / "bugs", notebooks, code["bugs"])
    parts = ["losses.ce", "optimizers.sgd", "mlp.linear"]
    report = api.grade(tmp_path / "bugs", parts=parts)
    assert report.score == api.grade(code["bugs"], parts=parts).score < report.max_score
    assert "03-losses/: graded the code cells of the notebooks 03_losses.ipynb" in report.notes[0]


def test_folders_not_named_as_a_unit_s_assignment_borrow_nothing(tmp_path, notebooks, code):
    _hand_in(tmp_path / "student", notebooks, code["ace"])
    week = tmp_path / "student" / "week5"
    (tmp_path / "student" / "05-techniques").rename(week)
    report = api.grade(week, parts=["techniques.dropout"])
    assert report.score == 0
    assert any("No module named 'mlp'" in result.message for result in report.results)
    assert {result.id.split(".")[0] for result in api.grade(week, parts=["linear.predict"]).results} == {"linear"}
    # grade-batch stages each student's merged work as <out>/.staging/files/<student>: never a sibling
    assert search_roots(tmp_path / "out" / ".staging" / "files" / "05-techniques") == []
    assert search_roots(tmp_path / "student" / "05-techniques")


def test_per_unit_and_assignment_are_exclusive(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "autograder", "nbgrader", "init", str(tmp_path / "c"),
                                "--per-unit", "--assignment", "week1"], capture_output=True, text=True)
    assert completed.returncode == 2
    assert "--per-unit names one assignment per unit" in completed.stderr
    assert not (tmp_path / "c").exists()
