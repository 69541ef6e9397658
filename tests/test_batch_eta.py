"""The time left of ``grade-batch`` (autograder/eta.py) on synthetic classes: arithmetic, not clocks.

A class is simulated as the local pool runs it: ``workers`` processes take the students in order,
each student costing its probing seconds; a student who hangs costs one 2 s timeout per hanging
check. The estimate after each finished student is compared with the real time left (the last
finish minus now) of that simulated run.
"""

from __future__ import annotations

import heapq
import io
import random
import statistics

import pytest

from autograder import batch, eta
from autograder.eta import expected_cost, format_left, seconds_left

TIMEOUT = 2.0


def a_class(seed: int, students: int = 100, every: int = 10) -> list[float]:
    """Probing seconds of a class: quick students 0.25-0.4 s; every ``every``-th hangs in 1-3 checks."""
    rng = random.Random(seed)
    costs = []
    for index in range(students):
        cost = rng.uniform(0.25, 0.4)
        if index % every == every - 3:
            cost += rng.choice([1, 2, 3]) * TIMEOUT
        costs.append(cost)
    return costs


def run_in_pool(costs: list[float], workers: int, start: float = 2.0) -> list[tuple[float, float]]:
    """(finish time, cost) of each student in finishing order, the pool ready at ``start``."""
    free = [(start, worker) for worker in range(workers)]
    finished = []
    for cost in costs:
        time, worker = heapq.heappop(free)
        finished.append((time + cost, cost))
        heapq.heappush(free, (time + cost, worker))
    return sorted(finished)


def ratios(costs: list[float], workers: int, first: int, last_left: int) -> list[float]:
    """estimate / real time left after each of students ``first`` .. (all but ``last_left``)."""
    finished = run_in_pool(costs, workers)
    end = finished[-1][0]
    workers_began = finished[0][0] - finished[0][1]
    out = []
    for done in range(first, len(costs) - last_left + 1):
        now = finished[done - 1][0]
        estimate = seconds_left([cost for _, cost in finished[:done]], len(costs) - done, workers,
                                timeout_s=TIMEOUT, busy_seconds=now - workers_began)
        out.append(estimate / (end - now))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_a_class_where_one_in_ten_hangs_is_estimated_within_a_factor_of_2_5(seed):
    # From the 10th student until 20 are left; over 200 seeds the ratio stayed in 0.41-1.36.
    found = ratios(a_class(seed), workers=2, first=10, last_left=20)
    assert 0.4 <= min(found) and max(found) <= 2.5, (min(found), max(found))


def test_the_estimate_is_not_biased_by_more_than_a_third_over_a_class():
    found = [ratio for seed in range(20) for ratio in ratios(a_class(seed), workers=2, first=10, last_left=20)]
    assert 0.67 <= statistics.median(found) <= 1.33


def test_slow_students_are_weighed_where_the_median_alone_would_miss_them():
    # The slow tenth is most of the work: an estimate from the typical student alone would be
    # 2-3 times short; the expected cost is within a third of the class's real mean.
    costs = a_class(seed=7)
    finished = [cost for _, cost in run_in_pool(costs, workers=2)[:50]]
    real_mean = statistics.fmean(costs)
    assert statistics.median(finished) < real_mean / 1.8
    assert real_mean / 1.33 <= expected_cost(finished, TIMEOUT) <= real_mean * 1.33


def test_the_start_of_the_run_is_not_spread_over_the_remaining_students():
    # A pool that took 10 s to start (forkserver, the reference computed once): the time since the
    # start divided by 3 students would say 97 * 10.45 / 3 s; the students' own costs say 0.3 s each
    # (plus the allowance for slow students not yet seen).
    estimate = seconds_left([0.3, 0.3, 0.3], remaining=97, workers=2, timeout_s=TIMEOUT, busy_seconds=0.45)
    assert estimate == pytest.approx(97 * expected_cost([0.3] * 3, TIMEOUT) / 2)
    assert 97 * 0.3 / 2 < estimate < 97 * 0.3 / 2 * 1.5
    assert estimate < 97 * 10.45 / 3 / 10


def test_a_slow_student_seen_early_moves_the_estimate_by_a_bounded_step():
    quick = seconds_left([0.3, 0.3], remaining=97, workers=1, timeout_s=TIMEOUT)
    one_slow = seconds_left([0.3, 0.3, 6.3], remaining=97, workers=1, timeout_s=TIMEOUT)
    plain_mean = 97 * statistics.fmean([0.3, 0.3, 6.3])
    assert quick < one_slow < plain_mean / 2


def test_before_any_slow_student_there_is_an_allowance_of_one_timeout_per_twenty():
    expected = expected_cost([0.3] * 20, TIMEOUT)
    fraction = (0 + eta.PRIOR_SLOW_FRACTION * eta.PRIOR_WEIGHT) / (20 + eta.PRIOR_WEIGHT)
    assert expected == pytest.approx(0.3 + fraction * TIMEOUT)
    assert expected > 0.3


def test_a_worker_stuck_on_a_slow_student_shows_before_that_student_finishes():
    # Ten quick students finished in 10 s of wall time: the other worker is stuck on someone.
    by_costs_alone = seconds_left([0.3] * 10, remaining=90, workers=2, timeout_s=TIMEOUT)
    stuck = seconds_left([0.3] * 10, remaining=90, workers=2, timeout_s=TIMEOUT, busy_seconds=10.0)
    assert stuck == pytest.approx(90 * 10.0 / 10)
    assert stuck > 5 * by_costs_alone


def test_the_last_students_run_side_by_side():
    assert seconds_left([1.0] * 10, remaining=2, workers=4, timeout_s=TIMEOUT) == pytest.approx(
        expected_cost([1.0] * 10, TIMEOUT))


def test_edges_nobody_finished_nobody_left_rows_that_cost_nothing():
    assert seconds_left([], remaining=10, workers=2, timeout_s=TIMEOUT) is None
    assert seconds_left([0.3], remaining=0, workers=2, timeout_s=TIMEOUT) == 0.0
    free = seconds_left([0.0, 0.0, 0.0], remaining=5, workers=1, timeout_s=TIMEOUT)
    assert 0.0 <= free < 5 * TIMEOUT
    with pytest.raises(ValueError):
        expected_cost([], TIMEOUT)


@pytest.mark.parametrize("seconds, text", [
    (None, "time left: estimating..."), (0.0, "~0 s left"), (42.4, "~42 s left"),
    (600.0, "~10 min left"), (3900.0, "~1 h 05 min left"),
])
def test_format_left(seconds, text):
    assert format_left(seconds) == text


def test_progress_shows_the_estimate_from_the_recorded_costs(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(batch.time, "perf_counter", lambda: now[0])
    stream = io.StringIO()
    progress = batch.Progress(10, stream=stream, workers=1, timeout_s=TIMEOUT)
    now[0] = 110.0  # the first student began at 109.7: the 9.7 s of start are not counted
    progress.record(0.3)
    progress.advance()
    now[0] = 110.3
    progress.record(0.3)
    progress.advance()
    lines = stream.getvalue().splitlines()
    assert "1/10" in lines[0] and "2/10" in lines[1]
    left = seconds_left([0.3, 0.3], remaining=8, workers=1, timeout_s=TIMEOUT, busy_seconds=0.6)
    assert lines[1].endswith(format_left(left))
    assert left < 8 * 1.0
