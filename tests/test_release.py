"""The student release (`autograder release OUT_DIR`): it holds no solution code and no hidden-check
data, its own grader works without this repository, and it scores student code exactly as this
repository does on the public checks. The release is built once for the module."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy
import pytest

from autograder import api, fixtures, release
from autograder.checks import Visibility
from autograder.cli import main
from autograder.fixtures import (
    FixtureReference,
    check_fingerprint,
    instructor_mistakes,
    read_fixtures,
    write_fixtures,
)
from autograder.paths import REPOSITORY
from autograder.release import ScanTargets, find_leaks, is_nontrivial
from autograder.units import UNITS, all_checks, optimizers, select_checks

from .conftest import SOLUTIONS

PUBLIC = [check for check in all_checks() if check.visibility is Visibility.PUBLIC]
PUBLIC_MAX = sum(check.points for check in PUBLIC)
#: buggy variants graded in the release and here, on the parts they break: the first and last of
#: each unit's corpus, leaving out code that draws from numpy's global RNG (other numbers in
#: another process) and variants of the capstone's training (each grading trains a classifier)
VARIANTS_PER_UNIT = (0, -1)
SLOW_PARTS = {"capstone.train"}
#: and variants whose hint comes from an instructor-only wrong answer, which the release reads from
#: its fixtures: Unit 4's simulator (a trajectory check and an options check) and Unit 5's batch-norm
#: re-implementation (a plain ReferenceCheck)
PRECOMPUTED_HINT_VARIANTS = {"optimizers": ("Adam: bias correction missing", "Momentum: dampening ignored"),
                             "techniques": ("BatchNorm1d: eps outside the square root",)}
#: the public checks with instructor-only known mistakes, and those mistakes' hints
INSTRUCTOR_CHECKS = [check for check in PUBLIC if instructor_mistakes(check)]
INSTRUCTOR_HINTS = {mistake.hint for check in INSTRUCTOR_CHECKS for mistake in instructor_mistakes(check)}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release") / "student-release"
    summary = release.build_release(folder)
    return summary


@pytest.fixture(scope="module")
def targets():
    return ScanTargets.of_repository(REPOSITORY, all_checks())


#: Where numpy and matplotlib are installed: the only other place the release's Python may import from.
THIRD_PARTY = sorted({str(Path(module.__file__).resolve().parents[1]) for module in (numpy, matplotlib)})


def run_in_release(folder: Path, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Python with only the release importable: a clean environment, the working directory
    elsewhere, PYTHONPATH = the release, then numpy's and matplotlib's folder. ``-S`` skips the
    site's .pth files, among them this repository's editable install, whose import hook would
    otherwise find a module missing from the release (``autograder.release``) in this repository."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "PYTHONPATH": os.pathsep.join([str(folder), *THIRD_PARTY]),
        "PYTHONNOUSERSITE": "1",
        "LANG": "C.UTF-8",
    }
    return subprocess.run([sys.executable, "-S", *args], capture_output=True, text=True, cwd=cwd, env=environment,
                          timeout=timeout)


# ---------------------------------------------------------------------------- (a) what it holds


def test_release_holds_the_student_files_and_a_grader_without_hidden_checks(built):
    folder = built.folder
    assert sorted(child.name for child in folder.iterdir()) == [
        ".gitignore", "README.md", "assignments", "autograder", "pyproject.toml"
    ]
    assert not (folder / "solutions").exists() and not (folder / "tests").exists()
    assert not (folder / "autograder" / "units" / "hidden").exists()
    assert not (folder / "autograder" / "units" / "instructor").exists()  # the optimizer simulator stays here
    assert not (folder / "autograder" / "release.py").exists()
    assert (folder / "autograder" / "public_fixtures.agw.gz").is_file()
    stubs = sorted(path.name for path in (folder / "assignments").glob("*.py"))
    assert stubs == sorted(path.name for path in SOLUTIONS.glob("*.py"))
    assert built.notebooks == len(list((folder / "assignments" / "notebooks").glob("*.ipynb"))) > 0
    assert built.public_checks == len(PUBLIC)
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "pip install -e ." in readme and "autograder check linear.predict" in readme
    assert f"Total here: {PUBLIC_MAX:g} points" in readme


def test_no_file_of_the_release_holds_a_solution_line_or_hidden_check_data(built, targets):
    # The scan looks for something: solution lines of every unit, and every hidden id, seed and module.
    assert len(targets.solution_lines) > 150
    assert {where.split(":")[0] for where in targets.solution_lines.values()} == {
        f"solutions/{path.name}" for path in SOLUTIONS.glob("*.py")
    }
    assert targets.hidden_ids == {c.id for c in all_checks() if c.visibility is Visibility.HIDDEN}
    assert {9000, 9400, 9700}.issubset(targets.hidden_seeds) and targets.hidden_labels
    assert {"linear", "mlp", "losses", "optimizers"}.issubset(targets.hidden_modules)
    assert find_leaks(built.folder, targets) == []


def test_the_fixtures_hold_public_checks_only(built):
    read = read_fixtures(built.folder / "autograder" / "public_fixtures.agw.gz")
    expected = {check.id for check in PUBLIC if check.needs_reference}
    assert set(read.fingerprints) == expected == set(read.outputs)


def test_the_scan_finds_each_kind_of_leak(built, targets, tmp_path):
    """The scan is only worth its silence if it speaks up: plant one leak of each kind in a copy."""
    copy = tmp_path / "copy"
    shutil.copytree(built.folder, copy)
    line, where = next((line, where) for line, where in targets.solution_lines.items() if "linear_model" in where)
    with (copy / "assignments" / "linear_model.py").open("a") as file:
        file.write(f"\n    {line}\n# ### BEGIN SOLUTION\n")
    with (copy / "README.md").open("a") as file:
        file.write("\nlinear.gradients.hidden and seed 9401\n")
    with (copy / "autograder" / "units" / "unit.py").open("a") as file:
        file.write("\nSEED = 9700\nfrom autograder.units.hidden.linear import CHECKS\n")
    notebook_path = next((copy / "assignments" / "notebooks").glob("*.ipynb"))
    notebook = json.loads(notebook_path.read_text())
    label = min(targets.hidden_labels)
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": [f"case {label}"]})
    notebook_path.write_text(json.dumps(notebook))
    (copy / "autograder" / "units" / "hidden").mkdir()
    shutil.copy(REPOSITORY / "autograder" / "units" / "hidden" / "linear.py", copy / "autograder" / "units" / "hidden")
    (copy / "autograder" / "units" / "instructor").mkdir()
    shutil.copy(REPOSITORY / "autograder" / "units" / "instructor" / "optimizers.py",
                copy / "autograder" / "units" / "instructor")
    # the simulator's update copied back into a public module, renamed and re-documented
    simulator = (REPOSITORY / "autograder" / "units" / "instructor" / "optimizers.py").read_text()
    start = simulator.index("def _simulated_update(")
    copied = simulator[start:].replace("def _simulated_update(", "def _step(", 1)
    with (copy / "autograder" / "units" / "optimizers.py").open("a") as file:
        file.write("\n\n" + copied)
    (copy / "autograder" / "blob.bin").write_bytes(b"\0\1")
    found = "\n".join(str(leak) for leak in find_leaks(copy, targets))
    for fragment in (
        "assignments/linear_model.py:", f"the solution line {line!r} ({where})",
        "the marker '### BEGIN SOLUTION' in a student file",
        "README.md:", "the hidden check id linear.gradients.hidden", "the hidden seed 9401",
        "autograder/units/unit.py:", "the hidden seed 9700",
        f"the hidden case label {label!r}",
        "autograder/units/hidden/linear.py: a hidden-check module",
        "the hidden-check module name units.hidden.linear",
        "autograder/units/instructor/optimizers.py: an instructor-only module",
        ("autograder/units/optimizers.py: _step is a copy of the instructor-only function "
         "autograder/units/instructor/optimizers.py: _simulated_update"),
        "autograder/blob.bin: cannot be scanned",
    ):
        assert fragment in found, fragment


def test_grader_helpers_allowed_to_share_solution_lines_still_need_it(targets):
    """The scan's exceptions (release.GRADER_HELPERS_SHARING_LINES) name helpers that exist and
    really share a line with a solution, so the list can only shrink."""
    for name, helpers in release.GRADER_HELPERS_SHARING_LINES.items():
        lines = (REPOSITORY / name).read_text().splitlines()
        text = release._Text([(n, line, False) for n, line in enumerate(lines, start=1)], [], False)
        allowed = release._helper_lines(name, text)
        shared = {lines[n - 1].strip() for n in allowed} & set(targets.solution_lines)
        assert shared, name
        for helper in helpers:
            assert any(f"def {helper}(" in line or f"class {helper}" in line for line in lines), helper


@pytest.mark.parametrize("line, expected", [
    ("dW = X.T @ dY_hat", True), ("return np.maximum(X, 0.0)", True), ("if lr < 0.0:", True),
    ("self.epoch += 1", True), ("total = P if total is None else total + P", True),
    ("return dW, db", False), ("X = self.cache.X", False), (")", False), ("else:", False), ("pass", False),
    ("if inner is not None:", False), ("parameters = model.parameters()", False), ("return X.sum(axis=0)", True),
    ('"only Linear layers can be collapsed into one; found a",', True),  # long enough to be specific
])
def test_what_counts_as_a_nontrivial_solution_line(line, expected):
    assert is_nontrivial(line) is expected


# ---------------------------------------------------------------------------- (b) its own grader


def test_the_release_grades_without_this_repository(built, tmp_path):
    probe = ("import autograder, importlib.util as u, json; from autograder import api;"
             "from autograder.units import select_checks; from autograder.checks import Visibility as V;"
             "print(json.dumps([autograder.__file__, type(api.default_reference()).__name__,"
             " len(select_checks(visibility=V.HIDDEN)), len(select_checks()),"
             " [u.find_spec(m) is None for m in ('autograder.release', 'autograder.units.hidden',"
             " 'autograder.units.instructor', 'solutions')]]))")
    completed = run_in_release(built.folder, "-c", probe, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    location, reference, hidden, total, absent = json.loads(completed.stdout)
    assert Path(location).resolve() == built.folder / "autograder" / "__init__.py"
    assert (reference, hidden, total, absent) == ("FixtureReference", 0, len(PUBLIC), [True] * 4)

    stubs = run_in_release(built.folder, "-m", "autograder", "check", "--color", "never", cwd=built.folder)
    assert stubs.returncode == 0, stubs.stderr
    assert f"Total: 0/{PUBLIC_MAX:g} points" in stubs.stdout and "hidden" not in stubs.stdout

    filled = tmp_path / "filled"
    shutil.copytree(built.folder / "assignments", filled)
    for path in SOLUTIONS.glob("*.py"):
        shutil.copy(path, filled / path.name)
    graded = run_in_release(built.folder, "-m", "autograder", "grade", "--submission", str(filled), "--json",
                            cwd=tmp_path)
    assert graded.returncode == 0, graded.stderr
    document = json.loads(graded.stdout)
    assert document["score"] == document["max_score"] == PUBLIC_MAX
    assert {test["name"] for test in document["tests"]} == {check.id for check in PUBLIC}

    again = run_in_release(built.folder, "-m", "autograder", "release", str(tmp_path / "again"), cwd=tmp_path)
    assert again.returncode == 2 and "this is a student release" in again.stderr


# ---------------------------------------------------------------------------- (c) the same scores


RELEASE_GRADER = '''
import json, sys
from pathlib import Path
from autograder import api

if __name__ == "__main__":
    graded = {}
    for folder, parts in json.loads(sys.argv[1]):
        report = api.grade(Path(folder), parts=parts)
        graded[folder] = {r.id: [r.score, r.status.value, r.message, r.hint, list(r.details)] for r in report.results}
    print(json.dumps(graded))
'''


def _parts(mutation) -> set[str]:
    return {check_id.rsplit(".", 1)[0] for check_id in mutation.must_fail}


def test_buggy_variants_score_the_same_in_the_release_as_here(built, tmp_path):
    jobs, precomputed = [], []
    for unit in UNITS:
        corpus = importlib.import_module(f"tests.corpus.{unit}").MUTATIONS
        chosen = [m for m in corpus if "np.random." not in m.replace and not SLOW_PARTS & _parts(m)]
        for index in VARIANTS_PER_UNIT:
            mutation = chosen[index]
            folder = mutation.apply(SOLUTIONS, tmp_path / f"{unit}{index}")
            jobs.append((str(folder), sorted(_parts(mutation))))
        for name in PRECOMPUTED_HINT_VARIANTS.get(unit, ()):
            mutation = next(m for m in corpus if m.name == name)
            folder = mutation.apply(SOLUTIONS, tmp_path / f"{unit}-{len(jobs)}")
            jobs.append((str(folder), sorted(_parts(mutation))))
            precomputed.append(str(folder))
    script = tmp_path / "grade_in_release.py"
    script.write_text(RELEASE_GRADER)
    completed = run_in_release(built.folder, str(script), json.dumps(jobs), cwd=tmp_path, timeout=300)
    assert completed.returncode == 0, completed.stderr
    in_release = json.loads(completed.stdout)
    for folder, parts in jobs:
        here = api.grade(Path(folder), parts=parts)  # public and hidden, as the instructor grades
        public_here = {
            r.id: [r.score, r.status.value, r.message, r.hint, list(r.details)]
            for r in here.results if r.visibility is Visibility.PUBLIC
        }
        assert in_release[folder] == public_here, folder
        assert any(result[0] == 0 for result in public_here.values()), folder  # the variant is caught
        if folder in precomputed:  # its hint is an instructor-only mistake's, found in the release's fixtures
            assert {result[3] for result in public_here.values()} & INSTRUCTOR_HINTS, folder


def test_the_fixtures_hold_every_instructor_only_mistake_of_the_public_checks(built):
    read = read_fixtures(built.folder / "autograder" / "public_fixtures.agw.gz")
    trajectories = [check for check in PUBLIC if isinstance(check, optimizers.TrajectoryCheck)]
    assert len(trajectories) == sum(1 + len(spec.options) for spec in optimizers.SPECS)  # plain + one per option
    for check in trajectories:
        expected = {f"{index}/{mistake}" for index in range(len(check.cases)) for mistake in check.spec.mistakes}
        assert set(read.wrong_answers[check.id]) == expected, check.id
    # Unit 5's plain reference checks (batch norm, early stopping, weight decay, ensemble) too
    techniques = {check.id for check in INSTRUCTOR_CHECKS if check.id.startswith("techniques.")}
    assert {"techniques.batchnorm.forward", "techniques.batchnorm.running_stats", "techniques.batchnorm.eval",
            "techniques.batchnorm.backward", "techniques.early_stopping.curves", "techniques.weight_decay.paths",
            "techniques.ensemble.values"} <= techniques
    for check in INSTRUCTOR_CHECKS:
        expected = {f"{index}/{mistake.key}" for index in range(len(check.cases)) for mistake in instructor_mistakes(check)}
        assert set(read.wrong_answers[check.id]) == expected, check.id
    assert set(read.wrong_answers) == {check.id for check in INSTRUCTOR_CHECKS}  # no other check needs any


def test_without_the_instructor_package_hints_come_from_the_fixtures(built, monkeypatch, tmp_path):
    """In-process: the same hint from the precomputed trajectory as from the simulator; and none
    (rather than a grader error) where the fixtures hold no wrong answer."""
    from autograder import diagnosis

    from .corpus.optimizers import MUTATIONS

    mutation = next(m for m in MUTATIONS if m.name == "Adam: bias correction missing")
    submission = mutation.apply(SOLUTIONS, tmp_path / "s")
    here = results_of(api.grade(submission, parts=["optimizers.adam"], visibility=Visibility.PUBLIC))
    assert here["optimizers.adam.trajectory"][3] == optimizers.MISTAKE_HINTS["no_bias_correction"]
    monkeypatch.setattr(diagnosis, "instructor_available", lambda: False)
    monkeypatch.setattr(fixtures, "PACKAGE_FIXTURES", built.folder / "autograder" / "public_fixtures.agw.gz")
    monkeypatch.setattr(fixtures, "_PACKAGE_FIXTURES_READ", [])
    precomputed = results_of(api.grade(submission, parts=["optimizers.adam"], visibility=Visibility.PUBLIC))
    assert precomputed == here
    monkeypatch.setattr(fixtures, "PACKAGE_FIXTURES", tmp_path / "none.agw.gz")
    monkeypatch.setattr(fixtures, "_PACKAGE_FIXTURES_READ", [])
    without = results_of(api.grade(submission, parts=["optimizers.adam"], visibility=Visibility.PUBLIC))
    assert without["optimizers.adam.trajectory"][3] is None
    assert without["optimizers.adam.trajectory"][:3] == here["optimizers.adam.trajectory"][:3]


def test_without_the_instructor_package_a_reference_checks_hint_comes_from_the_fixtures(built, monkeypatch,
                                                                                         tmp_path):
    """The same for a plain ReferenceCheck (Unit 5's batch norm): its site reaches the diagnosis."""
    from autograder import diagnosis
    from autograder.units import techniques

    from .corpus.techniques import MUTATIONS

    mutation = next(m for m in MUTATIONS if m.name == "BatchNorm1d: eps outside the square root")
    submission = mutation.apply(SOLUTIONS, tmp_path / "s")
    hint = next(m.hint for m in techniques.BN_FORWARD_MISTAKES if m.key == "eps_outside")
    parts = ["techniques.batchnorm"]
    here = results_of(api.grade(submission, parts=parts, visibility=Visibility.PUBLIC))
    assert here["techniques.batchnorm.forward"][3] == hint
    monkeypatch.setattr(diagnosis, "instructor_available", lambda: False)
    monkeypatch.setattr(fixtures, "PACKAGE_FIXTURES", built.folder / "autograder" / "public_fixtures.agw.gz")
    monkeypatch.setattr(fixtures, "_PACKAGE_FIXTURES_READ", [])
    assert results_of(api.grade(submission, parts=parts, visibility=Visibility.PUBLIC)) == here
    monkeypatch.setattr(fixtures, "PACKAGE_FIXTURES", tmp_path / "none.agw.gz")
    monkeypatch.setattr(fixtures, "_PACKAGE_FIXTURES_READ", [])
    without = results_of(api.grade(submission, parts=parts, visibility=Visibility.PUBLIC))
    assert without["techniques.batchnorm.forward"][3] != hint
    assert without["techniques.batchnorm.forward"][:3] == here["techniques.batchnorm.forward"][:3]


def results_of(report) -> dict[str, list]:
    return {r.id: [r.score, r.status.value, r.message, r.hint, list(r.details)] for r in report.results}


# ---------------------------------------------------------------------------- (d) the command


def test_release_refuses_an_unusable_out_dir(tmp_path, capsys):
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    assert main(["release", str(occupied)]) == 2
    error = capsys.readouterr().err
    assert "is not empty" in error and "--force" in error
    assert sorted(path.name for path in occupied.iterdir()) == ["notes.txt"]

    assert main(["release", str(occupied / "notes.txt")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["release", str(REPOSITORY)]) == 2
    assert "holds the course repository" in capsys.readouterr().err
    assert main(["release", str(REPOSITORY / "solutions" / "out")]) == 2
    assert "inside the repository's solutions/" in capsys.readouterr().err


def test_release_force_replaces_the_contents_but_keeps_git(tmp_path, capsys):
    folder = tmp_path / "student-repo"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / "old.txt").write_text("from an earlier release")
    assert main(["release", str(folder), "--force"]) == 0
    assert "wrote the student release" in capsys.readouterr().out
    assert not (folder / "old.txt").exists() and (folder / ".git" / "HEAD").is_file()
    assert (folder / "autograder" / "public_fixtures.agw.gz").is_file()
    assert not list(tmp_path.glob(".student-repo-building-*"))  # the staging folder is gone


# ---------------------------------------------------------------------------- fixtures and the default reference


@pytest.fixture(scope="module")
def linear_fixtures(tmp_path_factory):
    path = tmp_path_factory.mktemp("fixtures") / "linear.agw.gz"
    write_fixtures(path, select_checks(["linear"]), api.default_reference())
    return path


def test_fixture_reference_grades_like_the_solutions(linear_fixtures, tmp_path):
    from .corpus.linear import MUTATIONS

    submission = MUTATIONS[0].apply(SOLUTIONS, tmp_path / "s")
    checks = select_checks(["linear"], visibility=Visibility.PUBLIC)
    with_fixtures = api.grade(submission, parts=["linear"], visibility=Visibility.PUBLIC,
                              reference=FixtureReference(linear_fixtures))
    with_solutions = api.grade(submission, parts=["linear"], visibility=Visibility.PUBLIC)
    assert [(r.id, r.score, r.message, r.hint, r.details) for r in with_fixtures.results] == [
        (r.id, r.score, r.message, r.hint, r.details) for r in with_solutions.results
    ]
    assert len(with_fixtures.results) == len(checks) and with_fixtures.score < with_fixtures.max_score


def test_stale_missing_or_corrupt_fixtures_give_a_grader_error_that_says_why(linear_fixtures, tmp_path):
    check = next(c for c in select_checks(["linear.predict"], visibility=Visibility.PUBLIC) if c.needs_reference)
    stale = FixtureReference(linear_fixtures, fingerprint=lambda c: "another version").outputs([check])
    assert "stale fixtures" in stale[check.id] and "autograder release" in stale[check.id]
    unknown = next(c for c in select_checks(["losses.mse"]) if c.needs_reference and c.visibility is Visibility.PUBLIC)
    assert "no values for this check" in FixtureReference(linear_fixtures).outputs([unknown])[unknown.id]
    hidden = next(c for c in select_checks(["linear.predict"]) if c.visibility is Visibility.HIDDEN)
    assert "hidden checks have no public fixtures" in FixtureReference(linear_fixtures).outputs([hidden])[hidden.id]
    assert "do not exist" in FixtureReference(tmp_path / "none.agw.gz").outputs([check])[check.id]
    (tmp_path / "bad.agw.gz").write_bytes(b"not gzip at all")
    assert "cannot be read" in FixtureReference(tmp_path / "bad.agw.gz").outputs([check])[check.id]

    report = api.grade(SOLUTIONS, parts=["linear.predict"], visibility=Visibility.PUBLIC,
                       reference=FixtureReference(linear_fixtures, fingerprint=lambda c: "another version"))
    failed = [r for r in report.results if not r.passed]
    assert failed and all(r.message.startswith("grader error: the public fixtures were made for") for r in failed)


def test_fingerprints_follow_what_the_probe_uses():
    checks = {c.id: c for c in all_checks()}
    relu, gelu = checks["mlp.relu.forward"], checks["mlp.gelu.forward"]
    assert check_fingerprint(relu) == check_fingerprint(relu) != check_fingerprint(gelu)
    # judge-only attributes (points, tolerance, hints) leave the fingerprint alone
    copy = object.__new__(type(relu))
    copy.__dict__.update(vars(relu), points=99.0, known_mistakes=())
    assert check_fingerprint(copy) == check_fingerprint(relu)
    copy.__dict__.update(cases=relu.cases[:1])
    assert check_fingerprint(copy) != check_fingerprint(relu)


def test_default_reference_prefers_a_releases_fixtures_then_solutions(linear_fixtures, monkeypatch, tmp_path):
    monkeypatch.setattr(api, "_REFERENCES", {})
    assert isinstance(api.default_reference(), type(api.default_reference()))  # solutions/ here
    assert type(api.default_reference()).__name__ == "SolutionsReference"
    monkeypatch.setattr(api, "PACKAGE_FIXTURES", linear_fixtures)
    assert isinstance(api.default_reference(), FixtureReference)
    monkeypatch.setenv("AUTOGRADER_SOLUTIONS", str(SOLUTIONS))  # an explicit choice wins
    assert type(api.default_reference()).__name__ == "SolutionsReference"
    monkeypatch.setenv("AUTOGRADER_SOLUTIONS", str(tmp_path / "nowhere"))
    monkeypatch.setattr(api, "PACKAGE_FIXTURES", tmp_path / "none.agw.gz")
    with pytest.raises(api.ReferenceNotFound, match="carries no public fixtures"):
        api.default_reference()


def test_fixtures_command_writes_the_public_reference_outputs(tmp_path, capsys):
    out = tmp_path / "public.agw.gz"
    assert main(["fixtures", str(out)]) == 0
    assert "public checks" in capsys.readouterr().out
    assert set(read_fixtures(out).fingerprints) == {c.id for c in PUBLIC if c.needs_reference}
    assert main(["fixtures", str(fixtures.PACKAGE_FIXTURES)]) == 2
    assert "student release" in capsys.readouterr().err


# ---------------------------------------------------------------------------- issue 14


def test_a_weekly_release_holds_its_units_and_the_units_they_import(tmp_path, capsys):
    """`--unit techniques`: techniques.py imports mlp (Layer) and, in one exercise, optimizers."""
    assert release.units_with_imports(["capstone"], SOLUTIONS) == [
        "mlp", "losses", "optimizers", "techniques", "capstone"]
    assert release.units_with_imports(["linear"], SOLUTIONS) == ["linear"]
    folder = tmp_path / "week5"
    assert main(["release", str(folder), "--unit", "techniques"]) == 0
    capsys.readouterr()
    chosen = {"mlp", "optimizers", "techniques"}
    modules = {UNITS[name].module for name in chosen}
    assert {path.stem for path in (folder / "assignments").glob("*.py")} == modules
    notebooks = sorted(path.stem.split("_", 1)[1] for path in (folder / "assignments" / "notebooks").glob("*.ipynb"))
    assert notebooks == sorted(modules)
    read = read_fixtures(folder / "autograder" / "public_fixtures.agw.gz")
    assert {check_id.split(".")[0] for check_id in read.fingerprints} == chosen
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "`autograder check techniques`" in readme and "`autograder check linear`" not in readme
    points = sum(check.points for check in PUBLIC if check.unit in chosen)
    assert f"Total here: {points:g} points" in readme
    # its grader grades the units it holds, from its own fixtures
    graded = run_in_release(folder, "-m", "autograder", "grade", "--submission", str(folder / "assignments"),
                            "--unit", "techniques", "--json", cwd=tmp_path)
    assert graded.returncode == 0, graded.stderr
    document = json.loads(graded.stdout)
    assert document["score"] == 0 and {t["name"] for t in document["tests"]} == {
        c.id for c in PUBLIC if c.unit == "techniques"}
    assert not any("grader error" in test["output"] for test in document["tests"])


def test_a_weekly_release_refuses_an_unknown_unit(tmp_path, capsys):
    assert main(["release", str(tmp_path / "out"), "--unit", "week3"]) == 2
    assert "unknown unit 'week3'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_hidden_test_cell_refuses_where_only_the_release_is_installed(built, tmp_path):
    """nbgrader autograde with the release's grader: a test cell marked `checks = "all"` must fail
    loudly, not score the public checks alone."""
    notebooks = built.folder / "assignments" / "notebooks"
    result = tmp_path / "result.json"
    refused = run_in_release(built.folder, "-m", "autograder.notebooks.grade_cell", str(notebooks),
                             "linear.predict", "all", str(result), cwd=tmp_path)
    assert refused.returncode == 3 and not result.exists()
    assert "expects hidden tests for linear.predict" in refused.stderr
    assert "install the course repository's grader" in refused.stderr
    public = run_in_release(built.folder, "-m", "autograder.notebooks.grade_cell", str(notebooks),
                            "linear.predict", "public", str(result), cwd=tmp_path)
    assert public.returncode == 0, public.stderr
    assert json.loads(result.read_text())["score"] == 0


def test_a_hidden_test_cell_grades_where_the_hidden_checks_are(tmp_path):
    from autograder.notebooks.grade_cell import missing_hidden_checks_message

    assert missing_hidden_checks_message("linear.predict") is None
