"""Overhead of isolating one check: :func:`autograder.sandbox.run_isolated` on a task that does
nothing (``lambda: {"a": 1.0}``).

Three rows:

* the bare sandbox, one task in one child (fork, pipes, limits, wire frame, reaping);
* the same with the confinement every student child gets (forbidden modules installed, the
  reference folder hidden in a private mount namespace): what a check pays when it must run alone,
  after the check before it crashed or hung;
* per check as grading runs them: the checks of a unit share one confined child
  (:func:`autograder.sandbox.run_tasks`), so a check pays the per-task round trip plus its share of
  the fork. The issue's target (isolation overhead per check < 5 ms) applies to this row.

Forking copies the parent's page tables, so the cost grows with what the parent has mapped. The
benchmark imports :mod:`autograder.api` first so that the parent holds what the command-line
grader's process holds.
"""

from __future__ import annotations

from timing import (  # first: puts the checkout on sys.path
    Measurement,
    Result,
    Timing,
    print_results,
    time_call,
)

import autograder.api  # noqa: F401  (loaded for its memory footprint, see the module docstring)
from autograder.paths import solutions_dir
from autograder.sandbox import Bans, Confinement, Limits, Status, Task, run_isolated, run_tasks

DEFAULT_RUNS = 300
WARM_UP_RUNS = 10
ISOLATION_TARGET_S = 0.005
STUDENT_CONFINEMENT = Confinement(bans=Bans(), hidden_folders=(solutions_dir(),))
#: About the number of checks of a unit's largest group here (Unit 2 has 61 outside training).
CHECKS_PER_CHILD = 20


def isolate_nothing(confinement: Confinement = Confinement()):
    """One sandboxed run of a task that returns a single number."""
    return run_isolated(lambda: {"a": 1.0}, limits=Limits(), confinement=confinement)


def isolate_a_unit_of_nothing():
    """``CHECKS_PER_CHILD`` empty checks in one confined child, as grading runs a unit."""
    tasks = [Task(str(index), lambda: {"a": 1.0}, 2.0) for index in range(CHECKS_PER_CHILD)]
    return run_tasks(tasks, limits=Limits(), confinement=STUDENT_CONFINEMENT)


def bench_isolation(runs: int = DEFAULT_RUNS) -> list[Result]:
    """Times ``runs`` sandboxed runs of an empty task, bare and confined, interleaved."""
    variants = {"bare": Confinement(), "student": STUDENT_CONFINEMENT}
    for _ in range(WARM_UP_RUNS):
        for confinement in variants.values():
            isolate_nothing(confinement)
    samples = {name: [] for name in variants}
    unhidden = None
    for _ in range(runs):
        for name, confinement in variants.items():
            measurement, outcome = time_call(lambda: isolate_nothing(confinement))
            if outcome.status is not Status.OK or dict(outcome.outputs) != {"a": 1.0}:
                raise AssertionError(f"the empty task did not come back intact: {outcome}")
            unhidden = unhidden or outcome.unhidden_reason
            samples[name].append(measurement)
    per_check = []
    for _ in range(max(runs // 10, 20)):
        measurement, outcomes = time_call(isolate_a_unit_of_nothing)
        if [o.status for o in outcomes.values()] != [Status.OK] * CHECKS_PER_CHILD:
            raise AssertionError("an empty check did not come back intact")
        per_check.append(Measurement(measurement.wall / CHECKS_PER_CHILD, measurement.cpu / CHECKS_PER_CHILD))
    return [
        Result(
            '`run_isolated(lambda: {"a": 1.0})`, bare sandbox',
            Timing.of(samples["bare"]),
            None,
            "fork, pipes, limits, wire frame, reaping",
        ),
        Result(
            "the same with a student's confinement (bans, reference hidden)",
            Timing.of(samples["student"]),
            None,
            "what a check pays alone, after a crash" + (f"; NOT hidden here: {unhidden}" if unhidden else ""),
        ),
        Result(
            f"per check as grading runs them: {CHECKS_PER_CHILD} empty checks in one confined child",
            Timing.of(per_check),
            ISOLATION_TARGET_S,
            "the issue's 'isolation overhead per check'",
        ),
    ]


if __name__ == "__main__":
    print_results(bench_isolation())
