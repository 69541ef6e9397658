"""Batch grading of a generated class: ``grade_batch`` with 2 workers vs grading one by one.

The class: ``STUDENTS`` students, each handing in every unit that exists. Per unit, a student's
file is drawn (seeded) from: the reference (full marks), the untouched stub (0), or one of that
unit's buggy variants from ``tests/corpus/<unit>.py`` (partial marks). A few students are hostile
(a segfault, ``sys.exit`` at import, a binary file) and one has an infinite loop in ``predict``,
which costs it its per-check timeouts: the batch must absorb that too.

Targets (issue "grading that survives hostile submissions"): the whole class graded in under 60 s
wall with 2 workers, and every student's JSON identical to grading that student alone.
"""

from __future__ import annotations

import importlib
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from timing import (  # first: sys.path
    REPO_ROOT,
    Measurement,
    Result,
    Timing,
    print_results,
)

from autograder import api
from autograder.batch import Progress, grade_batch
from autograder.units import UNITS

STUDENTS = 100
JOBS = 2
BATCH_TARGET_S = 60.0
SEED = 20241125
SOLUTIONS = REPO_ROOT / "solutions"
ASSIGNMENTS = REPO_ROOT / "assignments"

HOSTILE = {
    "segfault": ("linear_model", "return X @ W + b\n", "import ctypes\n    ctypes.string_at(0)\n"),
    "exit at import": ("linear_model", "import numpy as np\n", "import numpy as np\nimport sys\nsys.exit(1)\n"),
    "infinite loop": ("linear_model", "return X @ W + b\n", "while True:\n        pass\n"),
}


class _Quiet(Progress):
    def __init__(self):
        super().__init__(0)

    def advance(self):
        pass


def _mutations(unit: str):
    try:
        return importlib.import_module(f"tests.corpus.{unit}").MUTATIONS
    except ModuleNotFoundError:
        return []


def make_class(root: Path, students: int = STUDENTS, seed: int = SEED) -> dict[str, str]:
    """Writes the class under ``root``; returns student -> a short description of what they handed in."""
    rng = random.Random(seed)
    described = {}
    hostile_students = {f"student{index:03d}": kind for index, kind in zip((7, 42, 77), HOSTILE)}
    for index in range(students):
        name = f"student{index:03d}"
        folder = root / name
        folder.mkdir(parents=True)
        parts = []
        for unit in UNITS.values():
            file = f"{unit.module}.py"
            roll = rng.random()
            mutations = _mutations(unit.name)
            if roll < 0.4 or not mutations and roll < 0.8:
                shutil.copy(SOLUTIONS / file, folder / file)
                parts.append(f"{unit.name}: reference")
            elif roll < 0.55:
                shutil.copy(ASSIGNMENTS / file, folder / file)
                parts.append(f"{unit.name}: stub")
            else:
                mutation = rng.choice(mutations)
                source = (SOLUTIONS / file).read_text().replace(mutation.find, mutation.replace, 1)
                (folder / file).write_text(source)
                parts.append(f"{unit.name}: {mutation.name}")
        if name in hostile_students:
            kind = hostile_students[name]
            module, find, replace = HOSTILE[kind]
            source = (SOLUTIONS / f"{module}.py").read_text().replace(find, replace, 1)
            (folder / f"{module}.py").write_text(source)
            parts.append(f"hostile: {kind}")
        described[name] = "; ".join(parts)
    return described


def bench_batch(runs: int = 3) -> list[Result]:
    """Grades the class ``runs`` times in batch, then once student by student, and compares."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "class"
        make_class(root)
        reference = api.default_reference()
        batch_samples, one_by_one = [], []
        for run in range(runs):
            out = Path(scratch) / f"out{run}"
            started = time.perf_counter()
            grade_batch(root, out, reference=reference, jobs=JOBS, progress=_Quiet())
            batch_samples.append(Measurement(time.perf_counter() - started, 0.0))
        tables = {(Path(scratch) / f"out{run}" / "grades.csv").read_bytes() for run in range(runs)}
        if len(tables) != 1:
            raise AssertionError("batch runs on the same inputs wrote different grades.csv files")
        mismatches = []
        started = time.perf_counter()
        for folder in sorted(root.iterdir()):
            alone = api.grade(folder, reference=reference).to_gradescope()
            batched = json.loads((Path(scratch) / "out0" / f"{folder.name}.json").read_text())
            if alone != batched:
                mismatches.append(folder.name)
        one_by_one.append(Measurement(time.perf_counter() - started, 0.0))
        if mismatches:
            raise AssertionError(f"batch and one-by-one scores differ for {mismatches}")
    units = ", ".join(UNITS)
    return [
        Result(
            f"`grade_batch` of {STUDENTS} students ({units}; 3 hostile, 1 infinite loop), {JOBS} workers",
            Timing.of(batch_samples),
            BATCH_TARGET_S,
            "every student's JSON identical to grading alone; grades.csv byte-identical across runs",
        ),
        Result(
            f"the same {STUDENTS} students graded one by one in one process (`api.grade`)",
            Timing.of(one_by_one),
            None,
            "for the ratio: no parallelism",
        ),
    ]


if __name__ == "__main__":
    print_results(bench_batch())
