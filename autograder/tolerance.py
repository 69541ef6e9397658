"""The central tolerance policy: when do two float64 arrays count as equal?

Every comparison in the grader goes through :func:`compare`, so that "correct" means one thing in
every check and every front end. An element passes when

    |received - expected| <= atol + rtol * max(|expected|, floor * max|expected|)

The ``floor`` term keeps elements that are tiny only because of cancellation (a gradient entry
near 0 next to entries of size 1e3) from demanding more precision than float64 holds, while values
that are small across the whole array are still compared relatively. The defaults allow what a
correct float64 implementation differs by (summation order, ``mean`` vs ``sum / N``: about 1e-15
relative) with a wide margin, and reject every mistake that matters (a wrong factor, sign, term or
index). See docs/tolerance.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """Bounds for :func:`compare`. ``rtol`` relative, ``atol`` absolute, ``floor`` see module doc."""

    rtol: float = 1e-7
    atol: float = 1e-12
    floor: float = 1e-3


#: Reference comparisons of float64 computations.
DEFAULT = Tolerance()
#: Long iterative runs (a training loop's final weights), where rounding compounds over steps.
ITERATIVE = Tolerance(rtol=1e-5, atol=1e-9)
#: Gradient checks: central differences are accurate to about h**2 (truncation) plus rounding.
#: The error is measured against the norm of the whole gradient (see autograder.gradcheck).
GRADIENT_RTOL = 1e-5


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing a received array with the expected one.

    ``worst_index`` is the element whose error uses the largest share of its tolerance;
    ``relative_error`` is that element's |received - expected| / |expected| (inf when expected is 0).
    """

    matches: bool
    shape_matches: bool
    received_shape: tuple[int, ...]
    expected_shape: tuple[int, ...]
    n_mismatched: int = 0
    n_total: int = 0
    worst_index: tuple[int, ...] | None = None
    worst_received: float | None = None
    worst_expected: float | None = None
    relative_error: float | None = None


def element_bounds(expected: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    """Allowed absolute error per element of ``expected`` (same shape)."""
    magnitude = np.abs(expected)
    scale = float(magnitude.max()) if magnitude.size else 0.0
    return tolerance.atol + tolerance.rtol * np.maximum(magnitude, tolerance.floor * scale)


def compare(received, expected, tolerance: Tolerance = DEFAULT) -> Comparison:
    """Compares ``received`` with ``expected`` element by element under ``tolerance``.

    Non-finite received values never match (the reference is always finite).
    """
    received = np.asarray(received)
    expected = np.asarray(expected, dtype=np.float64)
    if received.shape != expected.shape:
        return Comparison(False, False, received.shape, expected.shape)
    if received.size == 0:
        return Comparison(True, True, received.shape, expected.shape)
    received64 = received.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(received64 - expected)
        share = error / element_bounds(expected, tolerance)
    share = np.where(np.isfinite(received64), share, np.inf)
    bad = share > 1.0
    worst = np.unravel_index(int(np.argmax(share)), share.shape)
    worst_expected = float(expected[worst])
    worst_received = float(received64[worst])
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.abs(np.float64(worst_received) - worst_expected) / np.abs(np.float64(worst_expected))
    return Comparison(
        matches=not bool(bad.any()),
        shape_matches=True,
        received_shape=received.shape,
        expected_shape=expected.shape,
        n_mismatched=int(bad.sum()),
        n_total=int(bad.size),
        worst_index=tuple(int(i) for i in worst),
        worst_received=worst_received,
        worst_expected=worst_expected,
        relative_error=float(relative) if np.isfinite(relative) else float("inf"),
    )


def allclose(received, expected, tolerance: Tolerance = DEFAULT) -> bool:
    """True when the shapes agree and every element is within ``tolerance``."""
    return compare(received, expected, tolerance).matches
