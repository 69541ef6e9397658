"""The Gradescope autograder bundle: ``autograder gradescope-bundle OUT.zip``.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once per image (it makes
the virtual environment ``/autograder/venv`` and pip-installs the bundled package there: PEP 668
systems refuse installs into their own Python), and for every submission runs ``run_autograder``
(with that venv's python), which must leave ``/autograder/results/results.json``.
The bundle carries the grader and the reference (instructor-side only; students never see it).
``run_autograder`` grades ``/autograder/submission`` with ``autograder grade --json`` (the same
command and JSON as everywhere else) and, should the grader itself fail, still writes a
results.json that says so instead of leaving the student with a silent error.
``AUTOGRADER_HOME`` replaces ``/autograder`` (used by the tests).

The bundle's configuration is written into ``run_autograder`` itself (its first lines), so what was
chosen when the bundle was made is what every submission gets:

* ``--hidden-visibility``: what Gradescope shows students of the hidden checks' results
  (``after_due_date`` by default: their scores and redacted feedback appear once the due date has
  passed; ``visible``, ``after_published`` and ``hidden`` are Gradescope's other settings);
* ``--unit``: the units graded (a weekly assignment), all units by default.

The reference is ``solutions/`` beside the package, or the folder given (``--solutions PATH``): a
package installed without its repository (``pip install .``) has none beside it, and a bundle
without the reference would grade every check as "could not run", so :func:`write_bundle` refuses
(:class:`BundleError`) instead of writing it. A grader without its hidden-check package (a student
release) is refused the same way: its bundle would silently grade the public checks only.
"""

from __future__ import annotations

import shlex
import zipfile
from pathlib import Path
from typing import Sequence

from .paths import REPOSITORY, solutions_dir

#: Gradescope's visibility settings for a test; hidden checks get one of them (results.py).
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
DEFAULT_HIDDEN_VISIBILITY = "after_due_date"
PACKAGE = Path(__file__).resolve().parent


class BundleError(ValueError):
    """A bundle that cannot be made as asked (no reference, no hidden checks, unknown unit); nothing written."""

SETUP_SH = """#!/usr/bin/env bash
# Gradescope image setup: the grader and its dependencies (numpy, matplotlib; not torch) in a
# virtual environment of their own, $home/venv: Debian 12 and Ubuntu 24.04 refuse pip installs into
# the system Python (PEP 668, "externally-managed-environment"), a venv is allowed everywhere.
set -euo pipefail
home="${AUTOGRADER_HOME:-/autograder}"
apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-pip > /dev/null || true
python3 -m venv "$home/venv"
if [ -f "$home/source/pyproject.toml" ]; then
    # The package as the bundle holds it: its pyproject.toml names the dependencies.
    "$home/venv/bin/python" -m pip install --quiet "$home/source"
else
    "$home/venv/bin/python" -m pip install --quiet "numpy>=1.24" "matplotlib>=3.6"
fi
"$home/venv/bin/python" -c "import numpy, matplotlib"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Grades one Gradescope submission into results/results.json.
set -u
# This bundle's configuration (autograder gradescope-bundle --hidden-visibility ... --unit ...):
options=(@OPTIONS@)
home="${AUTOGRADER_HOME:-/autograder}"
# The venv setup.sh made (a missing one fails below, and results.json says the grader could not run).
python="$home/venv/bin/python"
mkdir -p "$home/results"
cd "$home/source"
if "$python" -m autograder grade --submission "$home/submission" --json "${options[@]}" > "$home/results/results.json.part" 2> "$home/results/grader-errors.txt"; then
    mv "$home/results/results.json.part" "$home/results/results.json"
else
    tail -c 2000 "$home/results/grader-errors.txt" | python3 -c '
import json, sys
error = sys.stdin.read().strip()
print(json.dumps({"score": 0, "tests": [], "output": "The grader could not run on this submission; "
                  "please tell your instructor. Details: " + error}))' > "$home/results/results.json"
fi
"""

#: What the bundle copies from the repository when it is there (Gradescope unpacks the zip into
#: /autograder/source); the grader package and the reference are found on their own (see above).
INCLUDED = ("pyproject.toml", "README.md")


def run_autograder_script(hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY, units: Sequence[str] = ()) -> str:
    """``run_autograder`` with its configuration: the options it passes to ``autograder grade``."""
    if hidden_visibility not in VISIBILITIES:
        raise BundleError(f"--hidden-visibility must be one of {', '.join(VISIBILITIES)}, not {hidden_visibility!r}")
    options = ["--hidden-visibility", hidden_visibility]
    for unit in units:
        options += ["--unit", unit]
    return RUN_AUTOGRADER.replace("@OPTIONS@", " ".join(shlex.quote(option) for option in options))


def find_reference(solutions: Path | None = None, package: Path = PACKAGE) -> Path:
    """The reference folder for the bundle: ``solutions`` if given, else ``solutions/`` beside the
    package (or AUTOGRADER_SOLUTIONS). BundleError, saying what to do, when it is not there or lacks
    a unit's module (``solutions/<module>.py``)."""
    from .units import UNITS

    given = solutions is not None
    folder = Path(solutions).expanduser().resolve() if given else solutions_dir()
    if not folder.is_dir():
        where = f"{folder} does not exist" if given else (
            f"no reference solutions beside the installed grader ({folder} does not exist; "
            "is this a `pip install .` without the course repository?)")
        raise BundleError(f"{where}: a Gradescope bundle needs the reference. Run this in the course "
                          "repository (pip install -e .), or pass --solutions PATH to its solutions/ folder")
    missing = [f"{unit.module}.py" for unit in UNITS.values() if not (folder / f"{unit.module}.py").is_file()]
    if missing:
        raise BundleError(f"{folder} is not the course's reference: {', '.join(missing)} missing "
                          "(pass --solutions PATH to the course repository's solutions/ folder)")
    return folder


def _check_hidden_package(package: Path) -> None:
    from .units import UNITS

    missing = [unit.name for unit in UNITS.values() if not (package / "units" / "hidden" / f"{unit.name}.py").is_file()]
    if missing:
        raise BundleError(f"this grader ({package}) has no hidden checks for {', '.join(missing)} (a student "
                          "release?): its bundle would grade the public checks only. Make the bundle in the "
                          "course repository")


def write_bundle(out: Path, repository: Path = REPOSITORY, *, solutions: Path | None = None,
                 hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY, units: Sequence[str] = (),
                 package: Path = PACKAGE) -> Path:
    """Writes the zip to ``out`` (deterministic order, no caches) and returns it.

    ``units``: only these units are graded (empty: all). Raises BundleError, before writing
    anything, when the reference or the hidden checks cannot be found or a unit is unknown.
    """
    from .units import UNITS

    unknown = [unit for unit in units if unit not in UNITS]
    if unknown:
        raise BundleError(f"unknown unit {unknown[0]!r}; units: {', '.join(UNITS)}")
    script = run_autograder_script(hidden_visibility, list(dict.fromkeys(units)))
    reference = find_reference(solutions, package)
    _check_hidden_package(package)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        _add_text(bundle, "setup.sh", SETUP_SH)
        _add_text(bundle, "run_autograder", script)
        for name in INCLUDED:
            if (repository / name).is_file():
                bundle.write(repository / name, name)
        for folder, name in ((package, "autograder"), (reference, "solutions")):
            for file in sorted(p for p in folder.rglob("*") if p.is_file()):
                if "__pycache__" in file.parts or file.suffix == ".pyc":
                    continue
                bundle.write(file, f"{name}/{file.relative_to(folder).as_posix()}")
    return out


def _add_text(bundle: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o755 << 16  # executable, as Gradescope expects
    bundle.writestr(info, text)
