"""Overhead of isolating one check: :func:`autograder.sandbox.run_isolated` on a task that does
nothing (``lambda: {"a": 1.0}``).

This is the fixed price of every check the grader runs (fork, pipe, resource limits, wire frame,
reaping the child); ``autograder check`` pays it once per check plus once for the reference. Two
rows: the bare sandbox, and the confinement every student check gets (forbidden modules installed,
the reference folder hidden in a private mount namespace); the issue's target (< 5 ms per check)
applies to the second, which is what grading pays.

Forking copies the parent's page tables, so the cost grows with what the parent has mapped. The
benchmark imports :mod:`autograder.api` first so that the parent holds what the command-line
grader's process holds.
"""

from __future__ import annotations

from timing import (  # first: puts the checkout on sys.path
    Result,
    Timing,
    print_results,
    time_call,
)

import autograder.api  # noqa: F401  (loaded for its memory footprint, see the module docstring)
from autograder.paths import solutions_dir
from autograder.sandbox import Bans, Confinement, Limits, Status, run_isolated

DEFAULT_RUNS = 300
WARM_UP_RUNS = 10
ISOLATION_TARGET_S = 0.005
STUDENT_CONFINEMENT = Confinement(bans=Bans(), hidden_folders=(solutions_dir(),))


def isolate_nothing(confinement: Confinement = Confinement()):
    """One sandboxed run of a task that returns a single number."""
    return run_isolated(lambda: {"a": 1.0}, limits=Limits(), confinement=confinement)


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
            ISOLATION_TARGET_S,
            "paid once per check" + (f"; NOT hidden here: {unhidden}" if unhidden else "; reference hidden"),
        ),
    ]


if __name__ == "__main__":
    print_results(bench_isolation())
