"""Wall time of ``autograder check`` as a student runs it: a fresh Python each time.

Targets (from the issues), on the 2-core machine, Python start-up and imports included: the check
of Unit 1 under 1.5 s; Units 2 and 3 together under 2 s; the whole course under 5 s. For Unit 1,
three submissions are timed:

* ``solutions``: the reference, full marks;
* ``assignments``: the stubs, every part raises NotImplementedError;
* a copy of ``solutions`` with one bug (:data:`BUG`), so that checks fail and the grader explains
  the failures (diagnosis, worst elements, finite differences).

Two baselines run side by side in the same loop: a bare ``python -c pass`` and
``python -c "import numpy"``, the floor no numpy program can go below. Every round runs each
command once, in an order rotated from round to round, so that a burst of load on the shared
machine hits all commands alike. An untimed warm-up round comes first (bytecode caches, page cache).

Every run must exit 0 with the expected score (full, zero, partial); otherwise the benchmark stops,
because a timing of the wrong thing is worse than none.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from timing import REPO_ROOT, Measurement, Result, Timing, print_results, time_call

CHECK_TARGET_S = 1.5
TWO_UNITS_TARGET_S = 2.0
COURSE_TARGET_S = 5.0
DEFAULT_ROUNDS = 9

#: The bug planted in the copy of solutions/: dW and db come out half as large (the factor 2 that
#: the derivative of a square brings is missing), which fails the gradient and fit checks.
BUG = (
    "dY_hat = -2.0 / N * (Y - predict(X, W, b))",
    "dY_hat = -1.0 / N * (Y - predict(X, W, b))",
)

_TOTAL = re.compile(r"Total: ([0-9.]+)/([0-9.]+) points")


@dataclass(frozen=True)
class Command:
    """A command timed as a subprocess from the repository root.

    check_output: raises AssertionError when the command's stdout is not what it should be, and
    returns a short note for the report (e.g. the score).
    """

    what: str
    argv: list[str]
    check_output: Callable[[str], str]
    target_s: float | None = None


def autograder_command() -> list[str]:
    """How to start the grader: the ``autograder`` console script installed next to this Python,
    when it imports this checkout's package; ``python -m autograder`` otherwise."""
    script = Path(sys.executable).parent / "autograder"
    if script.is_file():
        located = subprocess.run(
            [sys.executable, "-c", "import autograder; print(autograder.__file__)"],
            cwd="/",
            capture_output=True,
            text=True,
        )
        package = Path(located.stdout.strip()).resolve().parent if located.returncode == 0 else None
        if package == REPO_ROOT / "autograder":
            return [str(script)]
    return [sys.executable, "-m", "autograder"]


def make_buggy_submission(folder: Path) -> Path:
    """Copies solutions/ into ``folder`` and plants :data:`BUG` in linear_model.py."""
    shutil.copytree(REPO_ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    module = folder / "linear_model.py"
    correct, buggy = BUG
    source = module.read_text(encoding="utf-8")
    if source.count(correct) != 1:
        raise RuntimeError(f"cannot plant the bug: {correct!r} is not in {module} exactly once")
    module.write_text(source.replace(correct, buggy), encoding="utf-8")
    return folder


def score(stdout: str) -> tuple[float, float]:
    """(points, out of) from the ``Total: x/y points`` line of ``autograder check``."""
    match = _TOTAL.search(stdout)
    if match is None:
        raise AssertionError("no 'Total: x/y points' line in the output of autograder check")
    return float(match.group(1)), float(match.group(2))


def expect_full_marks(stdout: str) -> str:
    points, total = score(stdout)
    assert points == total, f"the reference scored {points:g}/{total:g}, not full marks"
    return f"scored {points:g}/{total:g}"


def expect_zero(stdout: str) -> str:
    points, total = score(stdout)
    assert points == 0, f"the stubs scored {points:g}/{total:g}, not 0"
    return f"scored {points:g}/{total:g}"


def expect_partial(stdout: str) -> str:
    points, total = score(stdout)
    assert 0 < points < total, f"the buggy copy scored {points:g}/{total:g}, not partial marks"
    return f"scored {points:g}/{total:g}"


def expect_nothing(stdout: str) -> str:
    return ""


def run_command(argv: list[str]) -> tuple[Measurement, str]:
    """Runs ``argv`` from the repository root; returns (its wall and CPU time, stdout).

    Raises RuntimeError when the command fails.
    """
    measurement, completed = time_call(
        lambda: subprocess.run(
            argv,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
            errors="replace",
        )
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited with {completed.returncode}:\n{completed.stderr[-2000:]}"
        )
    return measurement, completed.stdout


def build_commands(buggy_folder: Path) -> list[Command]:
    """The baselines and the three ``autograder check linear`` runs."""
    grader = autograder_command()
    shown = "autograder" if len(grader) == 1 else "python -m autograder"
    python = sys.executable

    def check(submission: str, what: str, expect: Callable[[str], str], parts=("linear",), target=CHECK_TARGET_S) -> Command:
        argv = grader + ["check", *parts, "--submission", submission]
        return Command(f"`{shown} check {' '.join(parts)}` on {what}".replace("  ", " "), argv, expect, target)

    return [
        Command("baseline: `python -c pass`", [python, "-c", "pass"], expect_nothing),
        Command("baseline: `python -c \"import numpy\"`", [python, "-c", "import numpy"], expect_nothing),
        check("solutions", "`solutions` (reference)", expect_full_marks),
        check("assignments", "`assignments` (stubs)", expect_zero),
        check(str(buggy_folder), "a copy of `solutions` with a bug", expect_partial),
        check("solutions", "`solutions`", expect_full_marks, ("mlp", "losses"), TWO_UNITS_TARGET_S),
        check("solutions", "`solutions` (the whole course)", expect_full_marks, (), COURSE_TARGET_S),
        check("assignments", "`assignments` (the whole course, stubs)", expect_zero, (), COURSE_TARGET_S),
    ]


def bench_check(rounds: int = DEFAULT_ROUNDS) -> list[Result]:
    """Times every command of :func:`build_commands` ``rounds`` times, interleaved."""
    with tempfile.TemporaryDirectory(prefix="bench-check-") as scratch:
        commands = build_commands(make_buggy_submission(Path(scratch) / "buggy"))
        notes = {command.what: "" for command in commands}
        for command in commands:  # warm-up round, untimed; also checks every output once
            notes[command.what] = command.check_output(run_command(command.argv)[1])
        samples: dict[str, list[Measurement]] = {command.what: [] for command in commands}
        for round_index in range(rounds):
            shift = round_index % len(commands)
            for command in commands[shift:] + commands[:shift]:
                measurement, stdout = run_command(command.argv)
                command.check_output(stdout)
                samples[command.what].append(measurement)
    return [
        Result(command.what, Timing.of(samples[command.what]), command.target_s, notes[command.what])
        for command in commands
    ]


if __name__ == "__main__":
    print_results(bench_check())
