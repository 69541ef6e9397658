"""Time of :func:`autograder.gradcheck.check_gradient` on a 100,000-element tensor.

Target (from the issue): the check of a correct gradient takes under 50 ms. The function is smooth
and O(n)::

    f(x) = sum(sin(x) * A) + 0.5 * sum(x * x),      grad f(x) = cos(x) * A + x

Two cases are timed, in the same process:

* the correct gradient, which must pass (a few forward calls along random directions);
* the gradient times 2, which must fail and so triggers the localisation of the worst element by
  bisection. It has no target of its own; it shows what a failure costs.

The inputs x and A come from ``DATA_SEED``; the random directions of the check from
``DIRECTION_SEED``. They differ on purpose: both go through ``np.random.default_rng``, and the same
seed would draw directions correlated with the data. A row also times one forward call f(x), the
unit of work the check is made of.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from timing import (  # first: puts the checkout on sys.path
    Result,
    Timing,
    print_results,
    time_call,
)

from autograder.gradcheck import GradientReport, check_gradient

GRADCHECK_TARGET_S = 0.050
SIZE = 100_000
DEFAULT_RUNS = 30
DATA_SEED = 20_240_601
DIRECTION_SEED = 7


def make_problem(size: int, seed: int) -> tuple[Callable[[np.ndarray], float], np.ndarray, np.ndarray]:
    """(f, x, the gradient of f at x) for ``f(x) = sum(sin(x) * A) + 0.5 * sum(x * x)``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(size)
    weights = rng.standard_normal(size)

    def f(point: np.ndarray) -> float:
        return float(np.sum(np.sin(point) * weights) + 0.5 * np.sum(point * point))

    return f, x, np.cos(x) * weights + x


def time_check(f, x, analytic, runs: int) -> tuple[Timing, GradientReport]:
    """Times ``runs`` calls of check_gradient; returns the timing and the last report."""
    samples, report = [], None
    for _ in range(runs):
        measurement, report = time_call(lambda: check_gradient(f, x, analytic, seed=DIRECTION_SEED))
        samples.append(measurement)
    return Timing.of(samples), report


def bench_gradcheck(runs: int = DEFAULT_RUNS) -> list[Result]:
    """Times the passing and the failing check, and one forward call, ``runs`` times each."""
    f, x, gradient = make_problem(SIZE, DATA_SEED)
    check_gradient(f, x, gradient, seed=DIRECTION_SEED)  # warm-up, untimed

    passing, report = time_check(f, x, gradient, runs)
    if not report.passed:
        raise AssertionError(f"the correct gradient failed the check (errors {report.errors})")
    passing_note = f"passed; {report.n_forward_calls} forward calls"

    failing, report = time_check(f, x, 2.0 * gradient, runs)
    if report.passed or report.worst_index is None:
        raise AssertionError("the doubled gradient passed the check, or was not localised")
    failing_note = (
        f"failed as it should; {report.n_forward_calls} forward calls; localised to x{list(report.worst_index)}"
    )

    forward = Timing.of([time_call(lambda: f(x))[0] for _ in range(runs)])
    size = f"{SIZE:,}"
    return [
        Result(f"`check_gradient`, {size} elements, correct gradient", passing, GRADCHECK_TARGET_S, passing_note),
        Result(f"`check_gradient`, {size} elements, gradient x 2 (localises)", failing, None, failing_note),
        Result(f"one forward call f(x), {size} elements", forward, None, "context: the unit of work"),
    ]


if __name__ == "__main__":
    print_results(bench_gradcheck())
