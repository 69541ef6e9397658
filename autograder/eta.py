"""The time left in a ``grade-batch`` run, estimated so that slow students count.

A class is mostly quick students (a few tenths of a second each) and a few slow ones: a submission
whose check hangs costs that check's whole timeout, one that hangs in three checks three timeouts.
In a class where one student in ten hangs somewhere, the slow tenth takes most of the time, so an
estimate must weigh them; but it must not be thrown by the first one either. Two estimates, and
the larger is shown:

* **per-student costs** (the seconds each finished student's probing took on a worker): the
  typical cost is the median of the quick students, and the slow students add their observed mean
  cost times the fraction of slow students. That fraction starts from a prior of 5 % (weighted as
  10 students) and moves to the observed one as students finish, so the first slow student moves
  the estimate by a bounded step, and a class with no slow student seen yet still gets an allowance
  of one timeout per 20 students. This estimate leaves out the one-off costs of the run's start
  (the worker pool, the reference computed once), which a rate since the start would spread over
  every remaining student.
* **throughput since the workers began** (students finished per wall second, from the moment the
  first finished student began): it sees a worker stuck on a slow student *before* that student
  finishes, which finished students' costs cannot show (quick students finish first, so the costs
  of the finished under-represent the slow).

Both are divided among the workers; with fewer students left than workers, the last ones run side
by side. :func:`seconds_left` is pure (numbers in, seconds out) so that it is tested on synthetic
classes (tests/test_batch_eta.py) rather than on wall clocks.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

#: A student who took more than this many times the median student is "slow" (a hang, a timeout).
SLOW_RATIO = 3.0
#: The prior fraction of slow students, and how many students it weighs as.
PRIOR_SLOW_FRACTION = 0.05
PRIOR_WEIGHT = 10.0
#: Below this, a median cost is taken as this (rows that cost nothing: an unusable submission).
_FLOOR_S = 1e-3


def expected_cost(costs: Sequence[float], timeout_s: float) -> float:
    """The expected seconds of one more student, from the costs of those finished.

    timeout_s: the per-check timeout; a slow student not yet seen is guessed to cost a typical
        student plus one timeout (one hanging check).
    """
    if not costs:
        raise ValueError("expected_cost needs at least one finished student")
    threshold = SLOW_RATIO * max(statistics.median(costs), _FLOOR_S)
    quick = [cost for cost in costs if cost <= threshold]
    slow = [cost for cost in costs if cost > threshold]
    typical = statistics.median(quick)  # never empty: the median itself is below the threshold
    slow_cost = statistics.fmean(slow) if slow else typical + timeout_s
    fraction = (len(slow) + PRIOR_SLOW_FRACTION * PRIOR_WEIGHT) / (len(costs) + PRIOR_WEIGHT)
    return (1.0 - fraction) * typical + fraction * slow_cost


def seconds_left(
    costs: Sequence[float],
    remaining: int,
    workers: int,
    *,
    timeout_s: float,
    busy_seconds: float | None = None,
) -> float | None:
    """Wall seconds until ``remaining`` more students are graded by ``workers`` side by side.

    costs: the probing seconds of each student finished so far (any order).
    busy_seconds: wall seconds since the first finished student began (the workers' start), or
        None when unknown; with it, the throughput so far is a second estimate and the larger wins.
    Returns None before anyone finished (nothing to go on), 0 when nobody is left.
    """
    if remaining <= 0:
        return 0.0
    if not costs:
        return None
    side_by_side = max(1, min(workers, remaining))
    by_cost = remaining * expected_cost(costs, timeout_s) / side_by_side
    by_rate = remaining * busy_seconds / len(costs) if busy_seconds is not None else 0.0
    return max(by_cost, by_rate)


def format_left(seconds: float | None) -> str:
    """``~40 s left``, ``~3 min left``, ``~1 h 05 min left``; ``estimating...`` before any number."""
    if seconds is None:
        return "time left: estimating..."
    if seconds < 90:
        return f"~{seconds:.0f} s left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"~{minutes} min left"
    return f"~{minutes // 60} h {minutes % 60:02d} min left"
