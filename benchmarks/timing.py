"""Shared pieces of the benchmarks: a timer, the summary of a series of timings, one row of results.

Every benchmark reports the median of its runs (robust against the spikes a shared machine
produces) together with the min and max, and is judged against its target by the median.

Next to wall time, each run records the CPU time it used: of this process (all its threads) and of
the child processes it waited for. CPU / wall well above 1 means the work ran on several cores at
once (e.g. a multithreaded BLAS), which makes it fragile when other work shares the machine.

Importing this module also puts the repository root first on ``sys.path``, so the benchmarks time
the ``autograder`` package of the checkout they live in, whatever is installed elsewhere.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@dataclass(frozen=True)
class Measurement:
    """One run: wall-clock seconds and CPU seconds (user + system, children included)."""

    wall: float
    cpu: float


@dataclass(frozen=True)
class Timing:
    """Wall-clock durations, in seconds, of repeated runs of one thing, and their CPU times."""

    samples: tuple[float, ...]
    cpu_samples: tuple[float, ...]

    @classmethod
    def of(cls, measurements: list[Measurement]) -> "Timing":
        return cls(tuple(m.wall for m in measurements), tuple(m.cpu for m in measurements))

    @property
    def runs(self) -> int:
        return len(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    @property
    def cpu_per_wall(self) -> float:
        """Median over the runs of CPU seconds per wall-clock second."""
        return statistics.median(cpu / wall for cpu, wall in zip(self.cpu_samples, self.samples))


@dataclass(frozen=True)
class Result:
    """One row of the results table.

    what: what was timed, in words.
    timing: the measured durations.
    target_s: the median must stay below this many seconds; None for a row without a target.
    notes: facts a reader needs to trust the number (score seen, forward calls, ...).
    """

    what: str
    timing: Timing
    target_s: float | None = None
    notes: str = ""

    @property
    def passed(self) -> bool | None:
        """True / False against the target (judged by the median); None when there is no target."""
        if self.target_s is None:
            return None
        return self.timing.median < self.target_s


def cpu_seconds() -> float:
    """CPU time so far of this process (every thread) and of the children it has waited for."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def time_call(function: Callable[[], object]) -> tuple[Measurement, object]:
    """Runs ``function()`` once; returns (its wall and CPU time, its return value)."""
    cpu_started = cpu_seconds()
    started = time.perf_counter()
    value = function()
    wall = time.perf_counter() - started
    return Measurement(wall, cpu_seconds() - cpu_started), value


def format_seconds(seconds: float) -> str:
    """A duration with three significant digits, in s from one second up and in ms below."""
    if seconds >= 1.0:
        return f"{seconds:.3g} s"
    return f"{seconds * 1e3:.3g} ms"


def print_results(results: list[Result]) -> None:
    """Prints results one per line, for running a benchmark module on its own."""
    for result in results:
        timing = result.timing
        verdict = {True: "pass", False: "FAIL", None: "-"}[result.passed]
        print(
            f"{result.what}: median {format_seconds(timing.median)} "
            f"(min {format_seconds(timing.min)}, max {format_seconds(timing.max)}, "
            f"{timing.runs} runs, CPU/wall {timing.cpu_per_wall:.2f}) [{verdict}] {result.notes}"
        )
