"""The student release: ``autograder release OUT_DIR``.

A self-contained folder students can work and grade in, without the reference solutions and
without any hidden check:

    OUT_DIR/
      README.md          for students: set-up, `autograder check`, what the local score means
      pyproject.toml     installs the grader (numpy and matplotlib; no torch)
      .gitignore
      assignments/       the working folder: the stubs, and notebooks/ with one notebook per unit
      autograder/        the grader: public checks only, no hidden-check package, no instructor-only
                         package (units/instructor/), no release builder, and public_fixtures.agw.gz,
                         the reference's outputs on the public checks (the reference of a grader
                         without solutions/, autograder.fixtures) and the precomputed wrong answers
                         of the instructor-only known mistakes

Everything is generated from ``solutions/`` and the grader of this repository, in a staging folder
beside OUT_DIR, and scanned (:func:`find_leaks`) before it replaces OUT_DIR's contents: a solution
line or a hidden check's id, seed, case label or module found anywhere stops the release and
nothing is written. docs/release.md has the design and the scan's definitions.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np

from . import __version__
from .checks import Check, Visibility
from .fixtures import (
    PACKAGE_FIXTURES,
    FixtureSummary,
    read_fixtures,
    write_fixtures,
)
from .grading import SolutionsReference
from .paths import REPOSITORY
from .released import MANIFEST, write_manifest
from .stubs import BEGIN, END, expected_assignments, make_stub, solution_regions
from .units import all_checks

PACKAGE = "autograder"
#: What the release's grader leaves out of this repository's package (paths relative to it).
LEFT_OUT = ("units/hidden", "units/instructor", "release.py", PACKAGE_FIXTURES.name, MANIFEST.name)
#: Packages of the grader that must never be in a release, whatever file of them (relative to it).
SECRET_PACKAGES = {"units/hidden/": "a hidden-check module", "units/instructor/": "an instructor-only module"}
#: Top-level entries that a release writes; ``--force`` keeps anything named ``.git`` besides.
KEPT_ON_FORCE = (".git",)
#: Markers that must never reach a student file.
MARKERS = (BEGIN, END, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
#: Text files the scan reads line by line (anything else must be a known binary, or the scan refuses it).
TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".ini", ".json", ".sh", ".yml", ".yaml", ".gitignore", ""}

#: Functions of the grader whose lines may equal a solution line: trusted helpers that recompute a
#: classic mistake or a stand-in layer (to name it in a hint), or define a test problem. They are
#: grader code, which students may read, never their files; the scan allows solution lines inside
#: these functions and nowhere else. docs/release.md lists what they disclose.
GRADER_HELPERS_SHARING_LINES = {
    "autograder/units/mlp.py": ("_stable_sigmoid", "_trusted_forward", "_backward_in_forward_order"),
    "autograder/units/losses.py": ("_log_softmax",),
    "autograder/units/optimizers.py": ("loss_and_gradients",),
}


class ReleaseError(ValueError):
    """A release that cannot be made as asked (OUT_DIR unusable, no solutions/); nothing was written."""


class LeakError(ReleaseError):
    """The built release holds solution code or hidden-check data; nothing was written."""

    def __init__(self, leaks: Sequence["Leak"]):
        self.leaks = tuple(leaks)
        shown = "\n".join(f"  {leak}" for leak in self.leaks[:20])
        more = f"\n  ... and {len(self.leaks) - 20} more" if len(self.leaks) > 20 else ""
        super().__init__(f"the release would leak {len(self.leaks)} item(s); nothing was written:\n{shown}{more}")


@dataclass(frozen=True)
class ReleaseSummary:
    """What :func:`build_release` wrote."""

    folder: Path
    files: int
    size_bytes: int
    fixtures: FixtureSummary
    public_checks: int
    notebooks: int


# ============================================================================ building


def units_with_imports(units: Sequence[str], solutions: Path) -> list[str]:
    """``units`` and every unit whose module they import, directly or not, in course order.

    Read from the reference's import statements (``from mlp import Layer`` in ``techniques.py``;
    ``capstone.py`` imports losses, mlp, optimizers and techniques): a weekly release must hold
    the modules its units import, or the students' code cannot even be imported.
    ReleaseError for an unknown unit.
    """
    from .units import UNITS

    unknown = [unit for unit in units if unit not in UNITS]
    if unknown:
        raise ReleaseError(f"unknown unit {unknown[0]!r}; units: {', '.join(UNITS)}")
    by_module = {unit.module: unit.name for unit in UNITS.values()}
    chosen, pending = set(), list(units)
    while pending:
        name = pending.pop()
        if name in chosen:
            continue
        chosen.add(name)
        tree = ast.parse((solutions / f"{UNITS[name].module}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            imported = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                        else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            pending += [by_module[module.split(".")[0]] for module in imported if module.split(".")[0] in by_module]
    return [name for name in UNITS if name in chosen]


def build_release(out: Path, *, force: bool = False, repository: Path = REPOSITORY,
                  units: Sequence[str] = ()) -> ReleaseSummary:
    """Writes the student release into ``out`` (see the module docstring).

    ``units`` (a weekly release): only these units' stubs, notebooks and public fixtures, and
    those of the units they import (:func:`units_with_imports`), given as earlier units' files;
    empty: every unit.

    Raises ReleaseError when ``out`` exists and is not empty (unless ``force``: its contents are
    replaced, a ``.git`` folder is kept), is a file, or holds the repository; FixtureError when the
    reference fails on a public check; LeakError when the scan finds anything. In every error case
    ``out`` is left as it was.
    """
    repository = Path(repository).resolve()
    solutions = repository / "solutions"
    if not solutions.is_dir():
        raise ReleaseError(
            f"{solutions} does not exist: a release is built in the course repository, from its solutions/"
        )
    from .units import UNITS

    chosen = units_with_imports(units, solutions) if units else list(UNITS)
    modules = {UNITS[name].module for name in chosen}
    out = _check_out_dir(Path(out), repository, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    every_check = all_checks()
    checks = [check for check in every_check if check.unit in chosen]
    public = [check for check in checks if check.visibility is Visibility.PUBLIC]
    with tempfile.TemporaryDirectory(prefix=f".{out.name}-building-", dir=out.parent) as staging_name:
        staging = Path(staging_name)
        files = {relative: data for relative, data in expected_assignments(solutions).items()
                 if _of_modules(relative, modules)}
        for relative, data in files.items():
            _write(staging / "assignments" / relative, data)
        notebooks = sum(1 for relative in files if relative.suffix == ".ipynb")
        _copy_package(repository / PACKAGE, staging / PACKAGE)
        write_manifest(staging / PACKAGE, chosen)  # what `autograder check` grades there
        fixtures = write_fixtures(
            staging / PACKAGE / PACKAGE_FIXTURES.name, checks, SolutionsReference(solutions)
        )
        _write(staging / "README.md", student_readme(public).encode("utf-8"))
        _write(staging / "pyproject.toml", release_pyproject(staging / PACKAGE).encode("utf-8"))
        _write(staging / ".gitignore", b"__pycache__/\n*.egg-info/\nbuild/\nfeedback-plots/\nplots/\n")
        leaks = find_leaks(staging, ScanTargets.of_repository(repository, every_check))
        if leaks:
            raise LeakError(leaks)
        _replace_contents(out, staging)
    written = [path for path in out.rglob("*") if path.is_file() and ".git" not in path.relative_to(out).parts]
    return ReleaseSummary(
        out, len(written), sum(path.stat().st_size for path in written), fixtures, len(public), notebooks
    )


def _of_modules(relative: Path, modules: set[str]) -> bool:
    """Whether an assignments/ file belongs to one of ``modules``: ``mlp.py``, ``notebooks/02_mlp.ipynb``
    (notebooks are named ``NN_<module>.ipynb``); any other file (data, a README) is kept."""
    if relative.suffix == ".py":
        return relative.stem in modules
    if relative.suffix == ".ipynb":
        return relative.stem.split("_", 1)[-1] in modules
    return True


def _check_out_dir(out: Path, repository: Path, force: bool) -> Path:
    out = out.expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"{out} is a file; give a folder for the release")
    if out == repository or repository.is_relative_to(out):
        raise ReleaseError(f"{out} holds the course repository; give a folder outside it (or a new one inside)")
    for inner in ("solutions", "assignments", PACKAGE, "tests"):
        if out.is_relative_to(repository / inner):
            raise ReleaseError(f"{out} is inside the repository's {inner}/; give a folder elsewhere")
    if out.is_dir() and any(child.name not in KEPT_ON_FORCE for child in out.iterdir()) and not force:
        raise ReleaseError(f"{out} is not empty; choose a new folder, or pass --force to replace its contents")
    return out


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _left_out(relative: Path) -> bool:
    text = relative.as_posix()
    return (
        "__pycache__" in relative.parts
        or relative.suffix in (".pyc", ".pyo")
        or any(text == item or text.startswith(item + "/") for item in LEFT_OUT)
    )


def _copy_package(source: Path, target: Path) -> None:
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and not _left_out(relative):
            _write(target / relative, path.read_bytes())


def _replace_contents(out: Path, staging: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for child in out.iterdir():
        if child.name in KEPT_ON_FORCE:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    for child in staging.iterdir():
        shutil.move(str(child), str(out / child.name))


# ============================================================================ the student-facing files


def student_readme(public_checks: Sequence[Check]) -> str:
    """The release's README.md: set-up, the units, how to check, what the local score means."""
    from .units import UNITS

    rows = []
    for unit in UNITS.values():
        if not any(check.unit == unit.name for check in public_checks):
            continue  # a weekly release (--unit) holds some units only
        points = sum(check.points for check in public_checks if check.unit == unit.name)
        rows.append(f"| {unit.title} | `assignments/{unit.module}.py` | `autograder check {unit.name}` | {points:g} |")
    table = "\n".join(rows)
    total = sum(check.points for check in public_checks)
    return f"""# Deep-learning basics in numpy: your course folder

You implement, in numpy, the models of the course: forward and backward passes, losses,
optimizers. A grader comes with it: run it as often as you like, and it tells you which part is
wrong and why.

## What is here

* `assignments/`: your working folder. One module per unit; replace each
  `raise NotImplementedError(...)` with your code. Start each unit with its module docstring: it
  pins the shapes and conventions every check holds you to. `assignments/notebooks/` holds the
  same units as Jupyter notebooks (the lesson, your answer cells, a test cell per exercise).
* `autograder/`: the grader, with the course's public checks.
* `pyproject.toml`: installs the grader and the `autograder` command.

## Set up (once)

Python 3.10 or newer. In this folder:

```bash
python -m venv .venv && . .venv/bin/activate     # Windows: .venv\\Scripts\\activate
pip install -e .                                  # numpy, matplotlib and the `autograder` command
```

No GPU and no torch needed (graded code may not import torch: you write it yourself). For the
notebooks, also `pip install jupyterlab` and run `jupyter lab assignments/notebooks`; their test
cells need the `pip install -e .` above.

## Check your work

From this folder:

```bash
autograder check                          # every unit of this release
autograder check linear                   # one unit
autograder check linear.predict           # one part (or just: autograder check predict)
autograder check linear.fit --plots plots/    # also draw the loss curves the checks kept
autograder check --submission assignments/notebooks   # grade the notebooks instead of the .py files
autograder list                           # every unit, part and check, with its points
```

(Without installing, `python -m autograder check` works the same from this folder.)

| Unit | Your file | Check it | Points here |
| --- | --- | --- | --- |
{table}

Total here: {total:g} points.

## What the score here means

These are the **public checks**: for each failing check you see what differs, the worst element
with its expected and received values, and a hint at the likely cause. Your code runs in a
separate process with time and memory limits, so an infinite loop or a crash costs that check,
never the rest.

Your instructor grades with these same public checks and, in addition, **hidden checks**: the same
functions on inputs you never see (other shapes, seeds and settings), so that code written for the
visible cases alone loses points there. On the public checks, the same code gets the same points
there as here: same checks, same expected values, same tolerances. (Two exceptions: code that draws
from numpy's global random state instead of the `rng` it is given, and a training run that only
just fits its time limit on your machine.) Code that is right in general passes both.

The expected values of the public checks come from `autograder/public_fixtures.agw.gz`: the
reference solution's outputs on the public inputs, which the feedback shows anyway. Reading it will
not help you with the hidden checks.

Course version {__version__}.
"""


def release_pyproject(package: Path) -> str:
    """A pyproject.toml that installs the release's grader, with its data files."""
    data = sorted(
        path.relative_to(package).as_posix()
        for path in package.rglob("*")
        if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts
    )
    package_data = ", ".join(json.dumps(item) for item in data)
    return f"""[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "dl-course-autograder"
version = "{__version__}+student"
description = "Deep-learning basics in numpy: your course folder, with the public checks of its grader."
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["numpy>=1.24", "matplotlib>=3.6"]

[project.scripts]
autograder = "autograder.cli:main"

[tool.setuptools.packages.find]
include = ["autograder*"]

[tool.setuptools.package-data]
autograder = [{package_data}]
"""


# ============================================================================ the leak scan


COMPUTING_OPERATORS = re.compile(r"\*\*|//|<<|>>|[-+*/%@<>&|^~]|==|!=")
#: a call that passes something: ``f(x``, ``obj.method(x``, ``f(...)(x``; not ``model.train()``
CALL = re.compile(r"(?:\b([A-Za-z_]\w*)|[\)\]])\s*\((?!\s*\))")
COMPUTING_KEYWORDS = re.compile(r"\b(?:and|or|in|for|while|lambda|yield|raise|assert)\b")
PYTHON_KEYWORDS = frozenset(
    "and as assert async await del elif else except for from global if import in is lambda nonlocal not "
    "or pass raise return try while with yield".split()
)
LONG_LINE = 40


def is_nontrivial(line: str) -> bool:
    """Whether a stripped solution line says something about the solution.

    Non-trivial: the line computes (a call that passes arguments, an arithmetic, matrix,
    comparison or bitwise operator, an augmented assignment, ``and``, ``or``, ``in``, ``for``,
    ``while``, ``lambda``, ``yield``, ``raise``, ``assert``), or is at least 40 characters
    long. Trivial: punctuation (``)``, ``],``), lone keywords (``else:``, ``pass``, ``return``) and
    plumbing that only moves names around or calls without arguments (``return dW, db``,
    ``X = self.cache.X``, ``history = []``, ``if W is None:``, ``model.train()``): too common to
    identify a solution, and found in any code.
    """
    line = line.strip()
    if not line:
        return False
    if len(line) >= LONG_LINE or COMPUTING_OPERATORS.search(line) or COMPUTING_KEYWORDS.search(line):
        return True
    return any(match.group(1) is None or match.group(1) not in PYTHON_KEYWORDS for match in CALL.finditer(line))


def secret_lines(solutions: Path) -> dict[str, str]:
    """The non-trivial lines of every solution region of ``solutions/*.py`` (stripped), each with
    where it is, less the lines that also stand outside the regions (given code students get)."""
    secret: dict[str, str] = {}
    public: set[str] = set()
    for path in sorted(solutions.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        public.update(line.strip() for line in make_stub(source, path).splitlines())
        for region in solution_regions(source, path):
            for offset, line in enumerate(region.body, start=region.start + 1):
                if is_nontrivial(line):
                    secret.setdefault(line.strip(), f"solutions/{path.relative_to(solutions).as_posix()}:{offset}")
    return {line: where for line, where in secret.items() if line not in public}


@dataclass(frozen=True)
class ScanTargets:
    """What must not be in a release: solution lines, and the hidden checks' ids, seeds, case
    labels and module names. Made from the repository (:meth:`of_repository`)."""

    solution_lines: dict[str, str]
    hidden_ids: frozenset[str]
    public_ids: frozenset[str]
    hidden_seeds: frozenset[int]
    hidden_labels: frozenset[str]
    hidden_modules: tuple[str, ...]
    #: the syntax (``ast.dump``) of the body of every function of the instructor-only package, to its name
    instructor_functions: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def of_repository(cls, repository: Path, checks: Iterable[Check]) -> "ScanTargets":
        checks = list(checks)
        hidden = [check for check in checks if check.visibility is Visibility.HIDDEN]
        public = [check for check in checks if check.visibility is Visibility.PUBLIC]
        hidden_folder = repository / PACKAGE / "units" / "hidden"
        modules = sorted(path for path in hidden_folder.glob("*.py") if path.stem != "__init__")
        seeds = {
            node.value
            for path in modules
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and type(node.value) is int and node.value >= 9000
        }
        public_labels = {getattr(case, "label", "") for check in public for case in _cases(check)}
        labels = {getattr(case, "label", "") for check in hidden for case in _cases(check)} - public_labels - {""}
        instructor = {
            body: f"{PACKAGE}/units/instructor/{path.name}: {name}"
            for path in sorted((repository / PACKAGE / "units" / "instructor").glob("*.py"))
            for body, name in function_bodies(path.read_text(encoding="utf-8")).items()
        }
        return cls(
            secret_lines(repository / "solutions"),
            frozenset(check.id for check in hidden),
            frozenset(check.id for check in public),
            frozenset(seeds),
            frozenset(labels),
            tuple(path.stem for path in modules),
            instructor,
        )

    def module_names(self) -> list[str]:
        # Dotted names: what an import of a hidden module would say. (Prose may say where hidden
        # checks live, `units/hidden/<unit>.py`: the folder is no secret, its contents are.)
        return [f"units.hidden.{module}" for module in self.hidden_modules]


def function_bodies(source: str) -> dict[str, str]:
    """The syntax of every function's body in ``source`` (docstring left out) to the function's name:
    a function copied out of the instructor-only package, even renamed or re-documented, has the same."""
    bodies = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            if body:
                bodies[ast.dump(ast.Module(body=body, type_ignores=[]))] = node.name
    return bodies


def _cases(check: Check) -> list:
    cases = list(getattr(check, "cases", None) or [])
    single = getattr(check, "case", None)
    return cases + ([single] if single is not None else [])


@dataclass(frozen=True)
class Leak:
    path: str
    line: int | None
    what: str

    def __str__(self) -> str:
        return f"{self.path}{f':{self.line}' if self.line else ''}: {self.what}"


@dataclass(frozen=True)
class _Text:
    """A file's scannable content: numbered lines (with whether numbers in them are searched as
    text: not in Python code, whose integer literals are read from its syntax tree instead), those
    integer literals, and whether it is a student file (outside the grader package)."""

    lines: list[tuple[int, str, bool]]
    integers: list[tuple[int, int]]
    student_file: bool


def find_leaks(release: Path, targets: ScanTargets) -> list[Leak]:
    """Every solution line and hidden-check datum in any file of ``release`` (``.git`` skipped).

    Files are read by type: Python and other text line by line (and Python's integer literals by
    its syntax tree), notebooks cell by cell, the public fixtures through their reader (every check
    id in them must be public), ``.npz`` data by its array names (numbers only, no pickles). A file
    of any other type is itself reported: nothing leaves unscanned.
    """
    release = Path(release)
    leaks: list[Leak] = []
    for path in sorted(release.rglob("*")):
        relative = path.relative_to(release)
        if not path.is_file() or ".git" in relative.parts:
            continue
        name = relative.as_posix()
        if any(module in name for module in targets.module_names()):
            leaks.append(Leak(name, None, "a hidden-check module"))
        else:
            leaks.extend(Leak(name, None, what) for folder, what in SECRET_PACKAGES.items() if folder in name)
        try:
            text = _scannable(path, relative, targets, leaks)
        except (UnicodeDecodeError, ValueError, OSError, zipfile.BadZipFile) as error:
            leaks.append(Leak(name, None, f"cannot be scanned ({type(error).__name__}: {error})"))
            continue
        if text is not None:
            leaks.extend(_leaks_in(name, text, targets))
    return leaks


def _scannable(path: Path, relative: Path, targets: ScanTargets, leaks: list[Leak]) -> _Text | None:
    student_file = relative.parts[0] != PACKAGE
    if path.name == PACKAGE_FIXTURES.name:
        fixtures = read_fixtures(path)
        for check_id in fixtures.fingerprints:
            if check_id not in targets.public_ids:
                leaks.append(Leak(relative.as_posix(), None, f"fixtures of a non-public check {check_id}"))
        stored = [*fixtures.outputs.items(),
                  *((check_id, {f"mistake/{key}": value for key, value in answers.items()})
                    for check_id, answers in fixtures.wrong_answers.items())]
        keys = [f"{check_id}|{key}" for check_id, outputs in stored for key in outputs]
        strings = [str(value) for _, outputs in stored for value in outputs.values() if isinstance(value, str)]
        return _Text([(n, line, True) for n, line in enumerate(keys + strings, start=1)], [], student_file)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:  # refuses pickled objects
            for key in archive.files:
                if archive[key].dtype.kind not in "biuf":
                    raise ValueError(f"array {key} holds {archive[key].dtype}, not numbers")
            return _Text([(n, key, True) for n, key in enumerate(archive.files, start=1)], [], student_file)
    if path.suffix == ".ipynb":
        return _notebook_text(json.loads(path.read_text(encoding="utf-8")), student_file)
    if path.suffix not in TEXT_SUFFIXES and path.name not in (".gitignore",):
        raise ValueError(f"no scanner for {path.suffix} files")
    source = path.read_text(encoding="utf-8")
    python = path.suffix == ".py"
    lines = [(n, line, not python) for n, line in enumerate(source.splitlines(), start=1)]
    if python and targets.instructor_functions:
        try:
            copies = function_bodies(source)
        except SyntaxError:
            copies = {}
        for body, name in copies.items():
            if body in targets.instructor_functions:
                leaks.append(Leak(relative.as_posix(), None, f"{name} is a copy of the instructor-only function "
                                                             f"{targets.instructor_functions[body]}"))
    return _Text(lines, _integer_literals(source) if python else [], student_file)


def _notebook_text(notebook: dict, student_file: bool) -> _Text:
    """Lines numbered by cell: sources (a code cell's integers from its syntax tree) and outputs."""
    lines: list[tuple[int, str, bool]] = []
    integers: list[tuple[int, int]] = []
    for index, cell in enumerate(notebook.get("cells", []), start=1):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        code = cell.get("cell_type") == "code"
        lines.extend((index, line, not code) for line in source.splitlines())
        if code:
            integers.extend((index, value) for _, value in _integer_literals(source))
        for output in cell.get("outputs", []) or []:
            for value in [output.get("text", "")] + list((output.get("data") or {}).values()):
                text = "".join(value) if isinstance(value, list) else str(value)
                lines.extend((index, line, True) for line in text.splitlines())
    return _Text(lines, integers, student_file)


def _integer_literals(source: str) -> list[tuple[int, int]]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # (a notebook cell with IPython magics): its words are still searched as text
        return [(0, int(word)) for word in re.findall(r"\b\d{4,}\b", source)]
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and type(node.value) is int]


def _helper_lines(name: str, text: _Text) -> set[int]:
    """Line numbers inside the grader's helpers allowed to share solution lines."""
    helpers = GRADER_HELPERS_SHARING_LINES.get(name)
    if not helpers:
        return set()
    tree = ast.parse("\n".join(line for _, line, _ in text.lines))
    return {
        number
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in helpers
        for number in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }


def _leaks_in(name: str, text: _Text, targets: ScanTargets) -> Iterator[Leak]:
    allowed = _helper_lines(name, text)
    seed_pattern = (
        re.compile(r"(?<![\w.])(" + "|".join(str(seed) for seed in sorted(targets.hidden_seeds)) + r")(?![\w.])")
        if targets.hidden_seeds else None
    )
    for number, line, numbers_as_text in text.lines:
        stripped = line.strip()
        where = targets.solution_lines.get(stripped)
        if where is not None and number not in allowed:
            yield Leak(name, number, f"the solution line {stripped!r} ({where})")
        for check_id in targets.hidden_ids:
            if check_id in line:
                yield Leak(name, number, f"the hidden check id {check_id}")
        for label in targets.hidden_labels:
            if label in line:
                yield Leak(name, number, f"the hidden case label {label!r}")
        for module in targets.module_names():
            if module in line:
                yield Leak(name, number, f"the hidden-check module name {module}")
        if text.student_file:
            for marker in MARKERS:
                if marker in line:
                    yield Leak(name, number, f"the marker {marker!r} in a student file")
        if seed_pattern is not None and numbers_as_text:
            for match in seed_pattern.finditer(line):
                yield Leak(name, number, f"the hidden seed {match.group(1)}")
    for number, value in text.integers:
        if value in targets.hidden_seeds:
            yield Leak(name, number, f"the hidden seed {value}")
