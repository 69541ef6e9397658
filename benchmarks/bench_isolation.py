"""Overhead of isolating one check: :func:`autograder.sandbox.run_isolated` on a task that does
nothing (``lambda: {"a": 1.0}``).

This is the fixed price of every check the grader runs (fork, pipe, resource limits, wire frame,
reaping the child); ``autograder check`` pays it once per check plus once for the reference. The
issue states no target for it, so the row is informational.

Forking copies the parent's page tables, so the cost grows with what the parent has mapped. The
benchmark imports :mod:`autograder.api` first so that the parent holds what the command-line
grader's process holds.
"""

from __future__ import annotations

from timing import Result, Timing, print_results, time_call  # first: puts the checkout on sys.path

import autograder.api  # noqa: F401  (loaded for its memory footprint, see the module docstring)
from autograder.sandbox import Limits, Status, run_isolated

DEFAULT_RUNS = 300
WARM_UP_RUNS = 10


def isolate_nothing():
    """One sandboxed run of a task that returns a single number."""
    return run_isolated(lambda: {"a": 1.0}, limits=Limits())


def bench_isolation(runs: int = DEFAULT_RUNS) -> list[Result]:
    """Times ``runs`` sandboxed runs of an empty task."""
    for _ in range(WARM_UP_RUNS):
        isolate_nothing()
    samples = []
    for _ in range(runs):
        measurement, outcome = time_call(isolate_nothing)
        if outcome.status is not Status.OK or dict(outcome.outputs) != {"a": 1.0}:
            raise AssertionError(f"the empty task did not come back intact: {outcome}")
        samples.append(measurement)
    return [
        Result(
            '`run_isolated(lambda: {"a": 1.0}, limits=Limits())`',
            Timing.of(samples),
            None,
            "no target in the issue; paid once per check",
        )
    ]


if __name__ == "__main__":
    print_results(bench_isolation())
