"""Gradient checking: a backward pass against central finite differences of the forward pass.

For a scalar function f of an array x and a claimed gradient g (same shape as x), pick random unit
directions v and compare two estimates of the directional derivative:

    numeric  = (f(x + h v) - f(x - h v)) / (2 h)        (two forward calls per direction)
    analytic = <g, v>

The error of a direction is |numeric - analytic| / ||g|| (the norm of the whole gradient is the
natural scale: it is the largest directional derivative there is), and the check passes when every
direction's error is below ``rtol``. A few directions test a tensor of any size, which is the idea
behind ``torch.autograd.gradcheck(fast_mode=True)``: a gradient that is wrong by a factor, a sign or
a missing term is caught by the first direction. An error confined to one element is caught when it
is larger than about rtol * sqrt(size) * ||g|| (see docs/gradient-check.md).

Only when a direction fails, :func:`localize` finds the worst element: by plain per-element
differences for small tensors, and for large ones by bisection of the failing direction. Directional
derivatives are linear in the direction, so when v = v_A + v_B is split over two halves of the
elements, the mismatch of v_B is the mismatch of v minus that of v_A: one central difference (two
forward calls) per level, about 2 log2(size / 8) + 16 forward calls in all.

The evidence is split from the verdict: :func:`probe_gradient` only calls f (in the grader it runs
inside the student's sandboxed process) and returns raw forward values; :func:`assess_gradient`
decides from those numbers alone and runs in the trusted parent.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .tolerance import GRADIENT_RTOL

#: At most this many elements, localisation simply differentiates every element.
SMALL_TENSOR = 8


@dataclass(frozen=True)
class GradientEvidence:
    """Raw numbers from the forward function; nothing in here is a verdict.

    forward_plus, forward_minus: (n_directions,) f(x + h v_k) and f(x - h v_k).
    localized_index: flat index of the element localisation settled on, or -1 when none was run.
    localized_numeric: the central difference at that element (nan when none was run).
    """

    step: float
    seed: int
    forward_plus: np.ndarray
    forward_minus: np.ndarray
    n_forward_calls: int
    localized_index: int = -1
    localized_numeric: float = float("nan")


@dataclass(frozen=True)
class GradientReport:
    """The verdict on one gradient.

    errors: (n_directions,) |numeric - analytic| / ||g|| per direction.
    worst_index: the element named by localisation (None when it passed or none was run).
    """

    passed: bool
    errors: np.ndarray
    numeric: np.ndarray
    analytic: np.ndarray
    n_forward_calls: int
    worst_index: tuple[int, ...] | None = None
    worst_numeric: float | None = None
    worst_analytic: float | None = None


@functools.lru_cache(maxsize=8)
def random_directions(shape: tuple[int, ...], count: int, seed: int) -> np.ndarray:
    """(count, *shape) Gaussian directions of unit Euclidean norm, reproducible from ``seed``.

    Cached (read-only), since probing and assessing the same gradient need the same directions.
    """
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((count, *shape))
    norms = np.sqrt((directions.reshape(count, -1) ** 2).sum(axis=1))
    directions /= norms.reshape((count,) + (1,) * len(shape))
    directions.setflags(write=False)
    return directions


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # Elementwise product and sum rather than BLAS: a threaded ddot gains nothing at these sizes
    # and stalls when the other core is busy.
    return float(np.sum(a * b))


def finite_difference_step(x: np.ndarray) -> float:
    """Step h for central differences along a unit direction: balances truncation (~h**2) against
    rounding (~1e-16 / h), scaled with the size of x's entries."""
    return 1e-5 * max(1.0, float(np.max(np.abs(x))) if x.size else 1.0)


def central_difference(f: Callable[[np.ndarray], float], x: np.ndarray, direction, h) -> float:
    """(f(x + h d) - f(x - h d)) / (2 h); x itself is never modified."""
    return (float(f(x + h * direction)) - float(f(x - h * direction))) / (2.0 * h)


def gradient_scale(analytic: np.ndarray) -> float:
    """The scale errors are measured against: ||g||, kept away from 0."""
    return max(float(np.sqrt(np.sum(analytic * analytic))), 1e-12)


def probe_gradient(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic: np.ndarray,
    *,
    seed: int = 0,
    n_directions: int = 2,
    rtol: float = GRADIENT_RTOL,
    localize_on_failure: bool = True,
) -> GradientEvidence:
    """Evaluates f along ``n_directions`` random directions (and localises on a mismatch)."""
    x = np.array(x, dtype=np.float64)
    analytic = np.asarray(analytic, dtype=np.float64)
    h = finite_difference_step(x)
    directions = random_directions(tuple(x.shape), n_directions, seed)
    plus = np.array([float(f(x + h * v)) for v in directions])
    minus = np.array([float(f(x - h * v)) for v in directions])
    evidence = GradientEvidence(h, seed, plus, minus, 2 * n_directions)
    report = assess_gradient(evidence, analytic, rtol=rtol)
    if localize_on_failure and not report.passed:
        worst = int(np.argmax(report.errors))
        index, numeric, calls = localize(
            f, x, analytic, h=h, direction=directions[worst], numeric=float(report.numeric[worst])
        )
        evidence = GradientEvidence(
            h, seed, plus, minus, evidence.n_forward_calls + calls, index, numeric
        )
    return evidence


def assess_gradient(
    evidence: GradientEvidence, analytic: np.ndarray, *, rtol: float = GRADIENT_RTOL
) -> GradientReport:
    """Decides from raw forward values whether ``analytic`` is the gradient of f."""
    analytic = np.asarray(analytic, dtype=np.float64)
    directions = random_directions(tuple(analytic.shape), len(evidence.forward_plus), evidence.seed)
    numeric = (evidence.forward_plus - evidence.forward_minus) / (2.0 * evidence.step)
    projected = np.array([_dot(direction, analytic) for direction in directions])
    errors = np.abs(numeric - projected) / gradient_scale(analytic)
    errors = np.where(np.isfinite(errors), errors, np.inf)
    passed = bool(np.all(errors <= rtol)) and bool(np.all(np.isfinite(analytic)))
    report = GradientReport(passed, errors, numeric, projected, evidence.n_forward_calls)
    if passed or evidence.localized_index < 0:
        return report
    index = np.unravel_index(evidence.localized_index, analytic.shape)
    return GradientReport(
        passed,
        errors,
        numeric,
        projected,
        evidence.n_forward_calls,
        worst_index=tuple(int(i) for i in index),
        worst_numeric=evidence.localized_numeric,
        worst_analytic=float(analytic[index]),
    )


def localize(f, x, analytic, *, h: float, direction: np.ndarray, numeric: float) -> tuple[int, float, int]:
    """Finds the element whose analytic derivative disagrees most with finite differences.

    ``direction`` is a failing direction and ``numeric`` its central difference. Bisection keeps the
    half of the candidates whose restriction of ``direction`` carries the larger mismatch; each
    restriction is differentiated with step h / |restriction| so that x always moves by h.

    Returns (flat index, numeric derivative there, forward calls used).
    """
    flat_analytic = analytic.reshape(-1)
    flat_direction = np.asarray(direction, dtype=np.float64).reshape(-1)
    candidates = np.arange(x.size)
    mismatch = numeric - _dot(flat_direction, flat_analytic)
    calls = 0
    while len(candidates) > SMALL_TENSOR:
        first, second = np.array_split(candidates, 2)
        part = np.zeros(x.size)
        part[first] = flat_direction[first]
        norm = float(np.sqrt(_dot(part, part)))
        if norm == 0.0:
            candidates = second
            continue
        first_mismatch = central_difference(f, x, part.reshape(x.shape), h / norm) - _dot(part, flat_analytic)
        calls += 2
        second_mismatch = mismatch - first_mismatch  # linearity in the direction
        if abs(first_mismatch) >= abs(second_mismatch) or not np.isfinite(second_mismatch):
            candidates, mismatch = first, first_mismatch
        else:
            candidates, mismatch = second, second_mismatch
    best_index, best_numeric, best_gap = int(candidates[0]), float("nan"), -1.0
    for index in candidates:
        unit = np.zeros(x.size)
        unit[index] = 1.0
        element_numeric = central_difference(f, x, unit.reshape(x.shape), h)
        calls += 2
        gap = abs(element_numeric - flat_analytic[index])
        if not np.isfinite(gap):
            gap = np.inf
        if gap > best_gap:
            best_index, best_numeric, best_gap = int(index), element_numeric, gap
    return best_index, best_numeric, calls


def check_gradient(f, x, analytic, *, seed: int = 0, n_directions: int = 2, rtol=GRADIENT_RTOL):
    """Probe and assess in one process: for trusted code, tests and benchmarks."""
    evidence = probe_gradient(f, x, analytic, seed=seed, n_directions=n_directions, rtol=rtol)
    return assess_gradient(evidence, analytic, rtol=rtol)
