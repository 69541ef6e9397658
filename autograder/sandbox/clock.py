"""A child's time budget that does not depend on how busy the machine is.

A wall-clock deadline punishes a student for what else runs on the machine: with the two cores of a
grading server three times oversubscribed, a check that needs 0.6 s of computing takes about 2 s of
wall time and a 2 s deadline fails it. So a task's budget is spent on two clocks that only advance
while the child itself works or chooses to wait:

* **CPU time** of the child (user + system, all its threads; ``/proc/<pid>/stat``): what an
  infinite loop or far too much work uses up. The machine's load barely changes it.
* **unstarved wall time**: wall time minus the time the child's main thread spent *ready to run but
  waiting for a core* (the run-queue wait of ``/proc/<pid>/schedstat``). It catches code that burns
  no CPU (``time.sleep`` in a loop, a stopped process, a wait on a grandchild) without counting the
  load of others against it.

The task times out when its CPU time reaches the budget, or its unstarved wall time reaches
``WALL_SLACK`` times the budget plus ``WALL_GRACE_S`` (sleeping code is rare, so a margin there costs
little and absorbs page faults and I/O). A plain wall-clock cap of ``HARD_WALL_FACTOR`` times the
budget is the last resort that always ends a task.

Where ``/proc`` does not give these numbers (not Linux), the budget falls back to wall time times
``FALLBACK_LOAD_MARGIN``; :attr:`TaskClock.load_invariant` says which one applies.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

#: unstarved wall time may reach WALL_SLACK * budget + WALL_GRACE_S before a task times out
WALL_SLACK = 1.0
WALL_GRACE_S = 0.25
#: wall-clock cap, whatever the other clocks say (a machine 10x oversubscribed still finishes)
HARD_WALL_FACTOR = 10.0
HARD_WALL_GRACE_S = 5.0
#: without /proc: wall time, with this margin for load (a student's laptop, rarely loaded)
FALLBACK_LOAD_MARGIN = 2.0
#: how often, at most, the parent reads the child's clocks while it waits
SHORTEST_POLL_S = 0.005


@dataclass(frozen=True)
class ClockReading:
    """CPU seconds used and run-queue wait of the main thread, both since the child started."""

    cpu_s: float
    runqueue_wait_s: float


def read_clock(pid: int) -> ClockReading | None:
    """The child's clocks, or None when /proc cannot tell (not Linux, or the child is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            raw = stat.read()
        with open(f"/proc/{pid}/schedstat", "rb") as schedstat:
            wait_ns = int(schedstat.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces or ')': the code under
    # test can rename its process. Fields after the last ')' start at field 3 (state).
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        user_ticks, system_ticks = int(fields[11]), int(fields[12])  # fields 14 and 15 of stat(5)
    except (IndexError, ValueError):
        return None
    return ClockReading((user_ticks + system_ticks) / _TICKS_PER_SECOND, wait_ns / 1e9)


def proc_clocks_work() -> bool:
    """Whether this machine's /proc gives CPU time and run-queue wait (checked on this process)."""
    return read_clock(os.getpid()) is not None


class TaskClock:
    """The budget of one task running in child ``pid``; ``expired()`` says when it is used up.

    Started when the task starts (the child's clocks are read then, so earlier tasks in the same
    child do not count).
    """

    def __init__(self, pid: int, budget_s: float):
        self.pid = pid
        self.budget_s = budget_s
        self.started = time.perf_counter()
        self.start_reading = read_clock(pid)
        self.load_invariant = self.start_reading is not None
        #: the limit the task reached ("cpu" or "wall"), once ``expired()`` said so
        self.expired_by: str | None = None

    def cpu_used(self) -> float | None:
        """CPU seconds the task has used so far (None where /proc cannot tell)."""
        now = read_clock(self.pid) if self.load_invariant else None
        return None if now is None else now.cpu_s - self.start_reading.cpu_s

    def expired(self) -> str | None:
        """None while the task may go on; otherwise which limit it reached ("cpu" or "wall")."""
        self.expired_by = self._limit_reached()
        return self.expired_by

    def _limit_reached(self) -> str | None:
        elapsed = time.perf_counter() - self.started
        if elapsed >= HARD_WALL_FACTOR * self.budget_s + HARD_WALL_GRACE_S:
            return "wall"
        if not self.load_invariant:
            return "wall" if elapsed >= FALLBACK_LOAD_MARGIN * self.budget_s else None
        now = read_clock(self.pid)
        if now is None:  # the child is gone: the result pipe will say how
            return None
        if now.cpu_s - self.start_reading.cpu_s >= self.budget_s:
            return "cpu"
        waited = now.runqueue_wait_s - self.start_reading.runqueue_wait_s
        if elapsed - waited >= WALL_SLACK * self.budget_s + WALL_GRACE_S:
            return "wall"
        return None

    def next_poll_in(self) -> float:
        """Seconds to wait before asking ``expired()`` again: no budget can run out sooner.

        CPU time grows at most as fast as wall time times the number of cores; unstarved wall time
        at most as fast as wall time.
        """
        elapsed = time.perf_counter() - self.started
        if not self.load_invariant:
            return max(SHORTEST_POLL_S, FALLBACK_LOAD_MARGIN * self.budget_s - elapsed)
        now = read_clock(self.pid) or self.start_reading
        cpu_left = self.budget_s - (now.cpu_s - self.start_reading.cpu_s)
        unstarved = elapsed - (now.runqueue_wait_s - self.start_reading.runqueue_wait_s)
        wall_left = WALL_SLACK * self.budget_s + WALL_GRACE_S - unstarved
        return max(SHORTEST_POLL_S, min(cpu_left / (os.cpu_count() or 1), wall_left, 1.0))
