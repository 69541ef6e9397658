"""Fail fast on slow code: measure a student's function once, skip the checks it would time out.

A ``Linear`` written with Python loops passes its own checks (small inputs) and then makes every
training check that uses it run until its time budget is gone: the depth exercise and six capstone
checks, several minutes of waiting for one conclusion. Instead, before the checks run:

1. a :class:`SpeedProbe` times the student's function on one standard input, in a sandboxed child
   like any check (the CPU time is read by the parent from ``/proc``, so neither the student's code
   nor the machine's load changes it): a cost per unit of work (per multiply-add for ``Linear``);
2. each heavy check declares how much of that work it does (:func:`heavy_checks`, counted on the
   reference by ``tests/test_speed.py``, which fails when a count drifts);
3. a check whose estimated cost exceeds ``SKIP_FACTOR`` times its budget is not run: it fails at
   once with a message that names the slow function, its measured cost and the estimate.

The estimate only ever *skips*: a check that is not skipped runs with its usual budget, so an
underestimate costs time, never points. ``SKIP_FACTOR`` absorbs the error of extrapolating one
measured size to the check's sizes.
"""

from __future__ import annotations

import functools
import importlib
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from .sandbox import Confinement, Implementation, Limits, Status, Task, run_tasks

#: skip a check when its estimated cost is this many times its budget (or more)
SKIP_FACTOR = 1.5
#: the timed calls go on until they have used this much CPU: the parent reads CPU time from /proc in
#: ticks of 10 ms, so three fast calls would read as 0 or 10 ms (a correct Linear was once measured
#: at 3 ms a call instead of 0.1 ms, and its training checks skipped under a 1 s budget)
PROBE_MIN_CPU_S = 0.1
#: ... or until this many calls (fast code reaches it first only on a very fast machine)
PROBE_MAX_CALLS = 5000


@dataclass(frozen=True)
class SpeedProbe:
    """Times one student function on a standard input.

    name: what the student wrote (``Linear``), shown in messages.
    part: the part (``mlp.linear``) whose code it is.
    work_unit: what ``work`` counts (``multiply-adds``).
    run: ``run(impl) -> work`` makes one call (forward and backward) and returns its work.
    describe_input: the standard input, in words.
    """

    name: str
    part: str
    work_unit: str
    describe_input: str
    run: Callable[[Implementation], float]


def _linear_forward_and_backward(impl: Implementation) -> float:
    """One ``Linear(64, 64)`` forward and backward on a (64, 64) batch: 64 * 64 * 64 multiply-adds
    counted (the forward's; a backward does about twice that, in the same proportion for every
    call, so counting forward multiply-adds on both sides keeps the estimate proportional)."""
    n, d_in, d_out = 64, 64, 64
    layer = impl.function("mlp", "Linear")(d_in, d_out, np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(n, d_in))
    Y = layer.forward(X)
    layer.backward(np.ones_like(np.asarray(Y, dtype=np.float64)))
    return float(n * d_in * d_out)


LINEAR = SpeedProbe(
    name="Linear",
    part="mlp.linear",
    work_unit="multiply-adds",
    describe_input="One forward and one backward of Linear(64, 64) on a (64, 64) batch",
    run=_linear_forward_and_backward,
)

PROBES = {probe.name: probe for probe in (LINEAR,)}

#: Work each heavy public check does on the reference: the multiply-adds of every ``Linear.forward``
#: it calls (sum over calls of N * D_in * D_out). Hidden checks declare theirs in their own module
#: (``units/hidden/<unit>.py``, ``HEAVY_CHECKS``), so that the student release names none of them.
#: ``tests/test_speed.py`` recounts every declaration on the reference.
PUBLIC_HEAVY_CHECKS: Mapping[str, Mapping[str, float]] = {
    "mlp.universal.sin": {"Linear": 6.1e6},
    "mlp.universal.bumpy": {"Linear": 6.1e6},
    "mlp.depth.residual_vs_plain": {"Linear": 1.98e8},
    **{f"capstone.train.{aspect}": {"Linear": 4.39e8}
       for aspect in ("held_out", "history", "best_weights", "schedule", "honest_split")},
}


@functools.cache
def heavy_checks() -> dict[str, Mapping[str, float]]:
    """Every heavy check's declared work: the public ones and, where present, the hidden ones."""
    from .units import UNITS, HIDDEN_PACKAGE  # (the units import the grading pipeline, which imports this)

    declared = dict(PUBLIC_HEAVY_CHECKS)
    for name in UNITS:
        try:
            module = importlib.import_module(f"{HIDDEN_PACKAGE}.{name}")
        except ModuleNotFoundError:
            continue
        declared.update(getattr(module, "HEAVY_CHECKS", {}))
    return declared


@dataclass(frozen=True)
class MeasuredCost:
    """CPU seconds per unit of work of one student function (inf: the probe itself ran out of time)."""

    probe: SpeedProbe
    seconds_per_unit: float
    seconds_per_call: float


def probes_for(check_ids) -> list[SpeedProbe]:
    """The probes the heavy checks among ``check_ids`` need (none when no check is heavy)."""
    declared = heavy_checks()
    names = {name for check_id in check_ids for name in declared.get(check_id, {})}
    return [PROBES[name] for name in sorted(names)]


def probe_tasks(probe: SpeedProbe, impl: Implementation) -> list[tuple[str, Callable[[], dict]]]:
    """Two sandboxed tasks for one child: a warm-up call (imports the student's module, whose cost
    must not count), then calls until they used ``PROBE_MIN_CPU_S`` (at least one), whose CPU time
    the parent measures. The loop's own clock only decides when to stop: the cost is the parent's
    reading divided by the work reported (code that fakes the clock or the count only changes
    whether its own checks are skipped)."""

    def warm_up():
        probe.run(impl)
        return {}

    def timed():
        work, calls, start = 0.0, 0, time.process_time()
        while calls < PROBE_MAX_CALLS and (calls == 0 or time.process_time() - start < PROBE_MIN_CPU_S):
            work += probe.run(impl)
            calls += 1
        return {"work": float(work), "calls": float(calls)}

    return [(f"{probe.name}/warm-up", warm_up), (f"{probe.name}/timed", timed)]


def measure_costs(
    submission, probes: list[SpeedProbe], *, limits: Limits, confinement: Confinement
) -> dict[str, MeasuredCost]:
    """Runs ``probes`` on the student's code in one sandboxed child (``limits.timeout_s`` per task).

    A probe whose code fails (not implemented, raises) measures nothing: its checks run and fail on
    their own. One that runs out of time costs more than its budget per call: infinitely slow here.
    """
    if not probes:
        return {}
    impl = Implementation(submission)
    tasks = [Task(key, run, limits.timeout_s) for probe in probes for key, run in probe_tasks(probe, impl)]
    outcomes = run_tasks(tasks, limits=limits, student_folder=submission, confinement=confinement)
    costs = {}
    for probe in probes:
        timed = outcomes[f"{probe.name}/timed"]
        if outcomes[f"{probe.name}/warm-up"].status is not Status.OK:
            continue
        if timed.status is Status.TIMEOUT:
            costs[probe.name] = MeasuredCost(probe, float("inf"), limits.timeout_s)
            continue
        work = timed.outputs.get("work") if timed.status is Status.OK else None
        calls = timed.outputs.get("calls") if timed.status is Status.OK else None
        seconds = timed.cpu_seconds if timed.cpu_seconds is not None else timed.seconds
        if not isinstance(work, float) or work <= 0 or not isinstance(calls, float) or calls < 1:
            continue
        costs[probe.name] = MeasuredCost(probe, seconds / work, seconds / calls)
    return costs


def too_slow_message(check_id: str, budget_s: float, costs: Mapping[str, MeasuredCost]) -> str | None:
    """Why ``check_id`` is skipped, or None when it should run."""
    needs = heavy_checks().get(check_id, {})
    estimate = 0.0
    slowest: MeasuredCost | None = None
    for name, work in needs.items():
        cost = costs.get(name)
        if cost is None:
            continue
        estimate += cost.seconds_per_unit * work
        if slowest is None or cost.seconds_per_unit * work > slowest.seconds_per_unit * needs[slowest.probe.name]:
            slowest = cost
    if slowest is None or estimate < SKIP_FACTOR * budget_s:
        return None
    per_call = (f"more than {slowest.seconds_per_call * 1000:.0f} ms" if not np.isfinite(estimate)
                else f"{slowest.seconds_per_call * 1000:.0f} ms")
    needed = "far more" if not np.isfinite(estimate) else f"about {estimate:.0f} s"
    return (
        f"skipped: your {slowest.probe.name} is too slow for this check. {slowest.probe.describe_input} "
        f"takes {per_call} of computing time; this check does about {needs[slowest.probe.name]:.2g} "
        f"{slowest.probe.work_unit} with it, which would need {needed} (its budget is {budget_s:g} s). "
        f"Vectorise {slowest.probe.name} (whole-array numpy: X @ W, no Python loops over samples or "
        "elements), then check again."
    )
