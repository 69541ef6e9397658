"""The same submission gets the same score idle or with the machine 3x oversubscribed.

Time limits count the child's computing time (autograder/sandbox/clock.py), not wall time. These
tests load every core three times over with busy processes and grade again: per-check scores must
not move. The slow submission is chosen so that, on the loaded machine, its slowest passing check
needs more *wall* time than its budget: a wall-clock limit fails it there, a CPU-time limit does not.
Bounded: about 15 s idle plus 30 s loaded on 2 cores.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

from autograder import api
from autograder.grading import GradingOptions
from autograder.sandbox import Limits, Status, Task, run_tasks
from autograder.sandbox.clock import proc_clocks_work

from .conftest import SOLUTIONS, edited_reference

import pytest

pytestmark = pytest.mark.skipif(not proc_clocks_work(), reason="needs /proc CPU and run-queue clocks (Linux)")

ONE_SECOND = GradingOptions(limits=Limits(timeout_s=1.0), timeout_override_s=1.0)
PREDICT_BODY = "    ### BEGIN SOLUTION\n    return X @ W + b\n    ### END SOLUTION\n"
#: predict that computes the right answer but costs 20 ms of CPU per call: the gradient check then
#: needs about 0.4 s of CPU, 40% of its 1 s budget, and about 1.4 s of wall time on a machine loaded 3x.
SLOW_PREDICT = (
    "    import time\n"
    "    start = time.process_time()\n"
    "    while time.process_time() - start < 0.02:\n"
    "        pass\n"
    "    return X @ W + b\n"
)


@contextlib.contextmanager
def oversubscribed(factor: int = 3):
    """``factor`` busy processes per core for the duration of the block."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(factor * (os.cpu_count() or 1))
    ]
    try:
        time.sleep(0.3)  # let them reach the run queue
        yield
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()


def burn(cpu_seconds: float):
    def task():
        start = time.process_time()
        while time.process_time() - start < cpu_seconds:
            pass
        return {"done": 1.0}

    return task


def outcomes_of_burners():
    tasks = [
        Task("half the budget", burn(0.5), timeout_s=1.0),
        Task("three budgets", burn(3.0), timeout_s=1.0),
        Task("sleeps", lambda: time.sleep(30) or {}, timeout_s=1.0),
    ]
    return run_tasks(tasks, limits=Limits(timeout_s=1.0))


def test_a_task_within_its_cpu_budget_passes_however_busy_the_machine():
    idle = outcomes_of_burners()
    with oversubscribed():
        started = time.perf_counter()
        loaded = outcomes_of_burners()
        loaded_wall = time.perf_counter() - started
    for outcomes in (idle, loaded):
        assert outcomes["half the budget"].status is Status.OK
        assert outcomes["three budgets"].status is Status.TIMEOUT
        assert "of computing time" in outcomes["three budgets"].message
        assert outcomes["sleeps"].status is Status.TIMEOUT
        assert "waiting or sleeping" in outcomes["sleeps"].message
    # The sleeper is stopped after about its budget, not after the 10x safety cap.
    assert loaded_wall < 15.0


def scores_by_check(folder):
    report = api.grade(folder, parts=["linear.predict", "linear.gradients"], options=ONE_SECOND)
    return {result.id: result.score for result in report.results}


def test_per_check_scores_are_the_same_idle_and_with_the_machine_3x_oversubscribed(tmp_path):
    slow = edited_reference(tmp_path / "slow", "linear_model", {PREDICT_BODY: SLOW_PREDICT})

    idle = {"reference": scores_by_check(SOLUTIONS), "slow": scores_by_check(slow)}
    with oversubscribed():
        loaded = {"reference": scores_by_check(SOLUTIONS), "slow": scores_by_check(slow)}
    assert loaded == idle
    # Slow but correct: full marks both times, the slowest check included.
    assert all(score > 0 for score in idle["slow"].values()), idle["slow"]
    assert idle["slow"]["linear.gradients.finite_differences"] > 0
