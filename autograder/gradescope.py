"""The Gradescope autograder bundle: ``autograder gradescope-bundle OUT.zip``.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once per image, and for
every submission runs ``run_autograder``, which must leave ``/autograder/results/results.json``.
The bundle carries the grader and the reference (instructor-side only; students never see it).
``run_autograder`` grades ``/autograder/submission`` with ``autograder grade --json`` (the same
command and JSON as everywhere else) and, should the grader itself fail, still writes a
results.json that says so instead of leaving the student with a silent error.
``AUTOGRADER_HOME`` replaces ``/autograder`` (used by the tests).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from .paths import REPOSITORY

SETUP_SH = """#!/usr/bin/env bash
# Gradescope image setup: the grader needs numpy (and matplotlib for plots); torch is not needed.
set -euo pipefail
apt-get update -qq && apt-get install -y -qq python3 python3-pip > /dev/null || true
python3 -m pip install --quiet "numpy>=1.24" "matplotlib>=3.6"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Grades one Gradescope submission into results/results.json.
set -u
home="${AUTOGRADER_HOME:-/autograder}"
mkdir -p "$home/results"
cd "$home/source"
if python3 -m autograder grade --submission "$home/submission" --json > "$home/results/results.json.part" 2> "$home/results/grader-errors.txt"; then
    mv "$home/results/results.json.part" "$home/results/results.json"
else
    tail -c 2000 "$home/results/grader-errors.txt" | python3 -c '
import json, sys
error = sys.stdin.read().strip()
print(json.dumps({"score": 0, "tests": [], "output": "The grader could not run on this submission; "
                  "please tell your instructor. Details: " + error}))' > "$home/results/results.json"
fi
"""

#: What the bundle copies from the repository (Gradescope unpacks the zip into /autograder/source).
INCLUDED = ("pyproject.toml", "README.md", "autograder", "solutions")


def write_bundle(out: Path, repository: Path = REPOSITORY) -> Path:
    """Writes the zip to ``out`` (deterministic order, no caches) and returns it."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        _add_text(bundle, "setup.sh", SETUP_SH)
        _add_text(bundle, "run_autograder", RUN_AUTOGRADER)
        for name in INCLUDED:
            path = repository / name
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            for file in files:
                if "__pycache__" in file.parts or file.suffix == ".pyc":
                    continue
                bundle.write(file, file.relative_to(repository).as_posix())
    return out


def _add_text(bundle: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o755 << 16  # executable, as Gradescope expects
    bundle.writestr(info, text)
