"""Batch grading of a generated class: ``grade_batch`` with 2 workers vs grading one by one.

The class: ``STUDENTS`` students, each handing in every unit that exists. Per unit, a student's
file is drawn (seeded) from: the reference (full marks), the untouched stub (0), or one of that
unit's buggy variants from ``tests/corpus/<unit>.py`` (partial marks). Two students are hostile
(a segfault, ``sys.exit`` at import).

Targets (issue "grading that survives hostile submissions"): the whole class graded in under 60 s
wall with 2 workers, and every student's JSON identical to grading that student alone.

A second class is the same plus one student whose ``predict`` never returns. That student costs
one worker the per-check timeout (2 s) for each of the ~16 checks that call ``predict``, and the
loop keeps a core busy all that time: about 32 s of the machine's 2 cores. It is timed too, with
the same target, so that the price of a hanging submission is visible rather than hidden.
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
}
HANGING = {"infinite loop": ("linear_model", "return X @ W + b\n", "while True:\n        pass\n")}


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


def make_class(root: Path, students: int = STUDENTS, seed: int = SEED, *, hanging: bool = False) -> dict[str, str]:
    """Writes the class under ``root``; returns student -> a short description of what they handed in.

    ``hanging`` adds the student whose predict never returns (student077).
    """
    rng = random.Random(seed)
    described = {}
    kinds = {**HOSTILE, **(HANGING if hanging else {})}
    hostile_students = {f"student{index:03d}": kind for index, kind in zip((7, 42, 77), kinds)}
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
            module, find, replace = kinds[kind]
            source = (SOLUTIONS / f"{module}.py").read_text().replace(find, replace, 1)
            (folder / f"{module}.py").write_text(source)
            parts.append(f"hostile: {kind}")
        described[name] = "; ".join(parts)
    return described


def _time_batch(root: Path, out: Path, reference) -> Measurement:
    started = time.perf_counter()
    grade_batch(root, out, reference=reference, jobs=JOBS, progress=_Quiet())
    return Measurement(time.perf_counter() - started, 0.0)


def _compare_with_one_by_one(root: Path, out: Path, reference) -> Measurement:
    """Grades every student alone; raises when any JSON differs from the batch's."""
    mismatches = []
    started = time.perf_counter()
    for folder in sorted(root.iterdir()):
        alone = api.grade(folder, reference=reference).to_gradescope()
        if alone != json.loads((out / f"{folder.name}.json").read_text()):
            mismatches.append(folder.name)
    if mismatches:
        raise AssertionError(f"batch and one-by-one scores differ for {mismatches}")
    return Measurement(time.perf_counter() - started, 0.0)


def bench_batch(runs: int = 3) -> list[Result]:
    """The class ``runs`` times in batch (and once with a hanging student), then one by one."""
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        make_class(scratch / "class")
        make_class(scratch / "class-hanging", hanging=True)
        reference = api.default_reference()
        plain = [_time_batch(scratch / "class", scratch / f"out{run}", reference) for run in range(runs)]
        tables = {(scratch / f"out{run}" / "grades.csv").read_bytes() for run in range(runs)}
        if len(tables) != 1:
            raise AssertionError("batch runs on the same inputs wrote different grades.csv files")
        hanging = _time_batch(scratch / "class-hanging", scratch / "out-hanging", reference)
        one_by_one = _compare_with_one_by_one(scratch / "class-hanging", scratch / "out-hanging", reference)
    units = ", ".join(UNITS)
    return [
        Result(
            f"`grade_batch` of {STUDENTS} students ({units}; 2 hostile), {JOBS} workers",
            Timing.of(plain),
            BATCH_TARGET_S,
            "grades.csv byte-identical across runs",
        ),
        Result(
            "the same class plus one student whose predict never returns",
            Timing.of([hanging]),
            BATCH_TARGET_S,
            "the hanging student costs one worker ~16 timeouts of 2 s",
        ),
        Result(
            "the class with the hanging student graded one by one (`api.grade`, one process)",
            Timing.of([one_by_one]),
            None,
            "every student's JSON identical to the batch's; for the ratio (no parallelism)",
        ),
    ]


if __name__ == "__main__":
    print_results(bench_batch())
