"""Turns a wrong answer into a hint a student can act on.

Given what the student's code returned and what the reference returned for the same inputs, try
the classic mistakes one after another and name the first that explains the numbers exactly:

* not a finite number, or the wrong dtype;
* a shape problem: transposed, right numbers in the wrong shape, a batch axis that was not summed;
* a constant factor: sign flipped (-1), the batch size N or 1/N (averaged twice / never), 2 or 1/2;
* a transpose of a square result;
* only some rows (samples) or columns wrong.

Checks add their own :class:`KnownMistake` list first (for example "the bias gradient was not
summed over the batch"), because a mistake named by the check is more precise than a generic one.
Hints never contain the inputs or expected values, so they are safe to show for hidden checks.
"""

from __future__ import annotations

import contextlib
import importlib
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from .tolerance import DEFAULT, Tolerance, allclose, element_bounds

#: How close a fitted factor must be to a named constant (N, 2, -1, ...) to be called that constant.
FACTOR_TOLERANCE = 1e-6
#: An unnamed factor ("off by about 3.7") is claimed only when at least this many elements of the
#: expected output (not near 0) all carry the same ratio.
MIN_FACTOR_EVIDENCE = 4
#: max |received - expected| / max |expected| that float32 rounding upstream produces (see
#: _float32_hint); float64 rounding is below 1e-12, real mistakes far above 1e-5.
FLOAT32_ERROR = (1e-9, 1e-5)


@contextlib.contextmanager
def quietly():
    """Runs the grader's own arithmetic on a student's numbers (a judge, a diagnosis) without a
    word on stderr: NaN, inf and overflow there are expected and none of the student's business
    (nbgrader even scores a cell 0 when anything reaches stderr). Also immune to warning filters
    that turn warnings into errors and to ``np.seterr(all="raise")`` set by the caller."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            yield


#: The instructor-only package (left out of the student release, like ``units.hidden``).
INSTRUCTOR_PACKAGE = "autograder.units.instructor"
#: Where a precomputed wrong answer is filed: (check id, case index).
Site = tuple[str, int]
#: What the fixtures hold for a wrong answer bitwise equal to the reference's output.
SAME_AS_EXPECTED = "expected"


@dataclass(frozen=True)
class InstructorAnswer:
    """A wrong answer computed by ``function`` of the instructor-only module ``units/instructor/<module>.py``,
    called as ``function(*arguments, inputs, expected)`` and imported only when first needed.

    Where that package is absent (a student release), the answer of a public check's case is the one
    ``autograder release`` precomputed into the public fixtures (:func:`autograder.fixtures.write_fixtures`),
    looked up by check id, case index and the mistake's ``key``.
    """

    module: str
    function: str
    arguments: tuple = ()

    def __call__(self, inputs, expected):
        module = importlib.import_module(f"{INSTRUCTOR_PACKAGE}.{self.module}")
        return getattr(module, self.function)(*self.arguments, inputs, expected)


def instructor_available() -> bool:
    """Whether the instructor-only package can be imported (the course repository, not a release)."""
    try:
        importlib.import_module(INSTRUCTOR_PACKAGE)
    except ModuleNotFoundError as error:
        if error.name == INSTRUCTOR_PACKAGE:
            return False
        raise
    return True


@dataclass(frozen=True)
class KnownMistake:
    """A specific, named mistake for one output of one check.

    ``wrong_answer(inputs, expected)`` computes what the output would be had the student made the
    mistake; if the student's output matches it, ``hint`` is shown. For mistakes that are easier to
    recognise than to recompute (a history shifted by one step), give ``explains(received,
    expected, inputs) -> bool`` instead.

    A ``wrong_answer`` that would disclose a solution is an :class:`InstructorAnswer`: it needs a
    ``key`` unique among the check's mistakes, and the caller passes the ``site`` (check id, case
    index) of the comparison, so that a release finds the precomputed answer.
    """

    output: str
    hint: str
    wrong_answer: Callable[[Mapping[str, np.ndarray], np.ndarray], np.ndarray] | None = None
    explains: Callable[[np.ndarray, np.ndarray, Mapping[str, np.ndarray]], bool] | None = None
    key: str = ""

    def wrong(self, inputs, expected, site: Site | None = None) -> Any:
        """The wrong answer: computed, or for an instructor answer without the instructor package,
        precomputed (None when there is none: then it explains nothing)."""
        if isinstance(self.wrong_answer, InstructorAnswer) and not instructor_available():
            if site is None:
                return None
            from .fixtures import precomputed_wrong_answer

            value = precomputed_wrong_answer(site[0], site[1], self.key)
            return expected if isinstance(value, str) and value == SAME_AS_EXPECTED else value
        return self.wrong_answer(inputs, expected)

    def matches(self, received, expected, inputs, tolerance: Tolerance, site: Site | None = None) -> bool:
        try:
            if self.explains is not None:
                return bool(self.explains(received, expected, inputs))
            wrong = self.wrong(inputs, expected, site)
            if wrong is None:
                return False
            wrong = np.asarray(wrong, dtype=np.float64)
        except (ValueError, IndexError, TypeError):
            return False
        return allclose(received, wrong, tolerance)


@dataclass(frozen=True)
class DiagnosisContext:
    """What a generic diagnosis may use: the output's name and the batch size N of the case."""

    name: str
    batch_size: int | None = None


def diagnose(
    received: np.ndarray,
    expected: np.ndarray,
    context: DiagnosisContext,
    *,
    inputs: Mapping[str, np.ndarray] | None = None,
    known_mistakes: tuple[KnownMistake, ...] = (),
    tolerance: Tolerance = DEFAULT,
    site: Site | None = None,
) -> str | None:
    """Returns a one-sentence hint explaining ``received`` vs ``expected``, or None. ``site`` (check
    id, case index) lets instructor answers be found precomputed (:class:`InstructorAnswer`)."""
    with quietly():  # NaN and overflow in the student's numbers must not print the grader's warnings
        return _diagnose(received, expected, context, inputs, known_mistakes, tolerance, site)


def _diagnose(received, expected, context, inputs, known_mistakes, tolerance, site) -> str | None:
    received = np.asarray(received)
    expected = np.asarray(expected, dtype=np.float64)
    for mistake in known_mistakes:
        if mistake.output == context.name and inputs is not None:
            if mistake.matches(received, expected, inputs, tolerance, site):
                return mistake.hint
    name = context.name
    if not np.issubdtype(received.dtype, np.number) and received.dtype != np.bool_:
        return f"{name} should be an array of numbers, but it holds {received.dtype} values."
    if received.shape == expected.shape and not np.all(np.isfinite(received)):
        if received.ndim == 0:
            return f"{name} is {received}; look for an overflow or a subtraction of two huge numbers."
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(received))[0])
        return (
            f"{name} contains inf or NaN (first at index {first}); look for an overflow or a "
            "subtraction of two huge numbers."
        )
    if received.dtype != np.float64 and np.issubdtype(received.dtype, np.floating):
        return f"{name} is {received.dtype}; keep every computation in float64 (do not cast)."
    if received.shape != expected.shape:
        return _shape_hint(received, expected, context, tolerance)
    return (
        _float32_hint(received, expected, name)
        or _factor_hint(received, expected, context, tolerance)
        or _transpose_hint(received, expected, name, tolerance)
        or _partial_hint(received, expected, name, tolerance)
    )


def _shape_hint(received, expected, context: DiagnosisContext, tolerance) -> str:
    name, got, want = context.name, received.shape, expected.shape
    if received.ndim == 2 and got == want[::-1] and allclose(received.T, expected, tolerance):
        return f"{name} is transposed: expected shape {want}, got {got}."
    if received.size == expected.size and allclose(received.reshape(want), expected, tolerance):
        return f"{name} has the right numbers in the wrong shape: expected {want}, got {got}."
    if want == () and received.size > 1:
        return f"{name} should be a single number, but it has shape {got}: sum or average it."
    n = context.batch_size
    if n is not None and n in got and n not in want:
        return (
            f"{name} has shape {got} but should have shape {want}: it still has the batch axis of "
            f"length N={n}; sum the per-sample contributions over the batch axis (axis=0)."
        )
    return f"{name} has shape {got}, expected {want}."


def _float32_hint(received, expected, name) -> str | None:
    """The error is the size of float32 rounding: float32 keeps 24 bits (about 7 digits), so every
    float32 operation is off by up to 6e-8 of its operands, and a computation with a float32 array
    anywhere (here, or upstream in a function this one calls) is off by about 1e-7..1e-6 of the
    result's scale. No mistake of a factor, sign, term or index is that small."""
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    if scale == 0.0 or not np.isfinite(scale):
        return None
    error = float(np.max(np.abs(received.astype(np.float64) - expected))) / scale
    if not FLOAT32_ERROR[0] <= error <= FLOAT32_ERROR[1]:
        return None
    if np.array_equal(received.astype(np.float32).astype(np.float64), received):
        return (
            f"{name} holds float32 numbers (converted back to float64): keep every computation in "
            "float64 (no np.float32, no .astype(np.float32))."
        )
    if not _scattered(received.astype(np.float64) - expected, expected, scale):
        return None  # one consistent offset or factor (an eps added, a constant): a mistake, not rounding
    return (
        f"{name} differs from the reference only by about {error:.0e} of its size: that is float32 "
        "rounding. Somewhere in this computation, or in a function it calls, an array is float32 (a "
        "cast, np.float32, a float32 result): keep every computation in float64."
    )


#: Errors whose spread is below this fraction of their size are one consistent offset or factor.
CONSISTENT_SPREAD = 0.05


def _scattered(error: np.ndarray, expected: np.ndarray, scale: float) -> bool:
    """Whether ``error`` looks like rounding: neither the same absolute offset everywhere nor the
    same relative one (``var + eps`` for a clamp, ``x * (1 + 1e-6)``). Needs two or more errors
    to tell; a single number never counts as scattered."""
    wrong = error != 0
    if np.count_nonzero(wrong) < 2:
        return False
    absolute = error[wrong]
    if np.ptp(absolute) <= CONSISTENT_SPREAD * np.max(np.abs(absolute)):
        return False
    usable = wrong & (np.abs(expected) > 1e-3 * scale)
    if np.count_nonzero(usable) >= 2:
        relative = error[usable] / expected[usable]
        if np.ptp(relative) <= CONSISTENT_SPREAD * np.max(np.abs(relative)):
            return False
    return True


def _best_factor(received, expected) -> float | None:
    """The least-squares c in received ~ c * expected, computed on values divided by the scale
    (so that values near 1e160 do not overflow into inf / inf = nan); None when there is none."""
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    if scale == 0.0 or not np.isfinite(scale):
        return None
    e, r = expected / scale, received.astype(np.float64) / scale
    factor = float(np.sum(r * e)) / float(np.sum(e * e))
    return factor if np.isfinite(factor) else None


def _factor_hint(received, expected, context: DiagnosisContext, tolerance) -> str | None:
    if np.all(received == 0) and np.any(expected != 0):
        return f"{context.name} is all zeros."
    factor = _best_factor(received, expected)
    if factor is None or not allclose(received, factor * expected, tolerance):
        return None
    name, n = context.name, context.batch_size
    # One number is always a constant multiple of another: only a named constant (matched to 1e-6)
    # is evidence then; an arbitrary factor needs several independent elements that all agree.
    scale = float(np.max(np.abs(expected)))
    independent = int(np.count_nonzero(np.abs(expected) > 1e-3 * scale))

    def near(value: float) -> bool:
        return abs(factor - value) <= FACTOR_TOLERANCE * max(1.0, abs(value))

    if near(-1.0):
        return f"{name} has the right size but the opposite sign: check the sign of each term."
    if n is not None and n > 1:
        if near(n):
            return (
                f"{name} is N={n} times too large (N is the batch size): divide by N exactly once."
            )
        if near(1.0 / n):
            return f"{name} is N={n} times too small (N is the batch size): did you average twice?"
        if near(-n) or near(-1.0 / n):
            return f"{name} has the wrong sign and is off by a factor of the batch size N={n}."
    if near(2.0):
        return f"{name} is twice too large: check for a factor 2 counted twice."
    if near(0.5):
        return (
            f"{name} is half of what it should be: the derivative of a square brings a factor 2."
        )
    if near(-2.0) or near(-0.5):
        return f"{name} has the wrong sign and is off by a factor of {abs(factor):g}."
    if independent < MIN_FACTOR_EVIDENCE or abs(factor - 1.0) < 1e-3:
        return None  # "about 1" would say nothing true (and printed to 4 digits it reads as no factor)
    return f"{name} is off by a constant factor of about {factor:.4g}."


def _transpose_hint(received, expected, name, tolerance) -> str | None:
    if received.ndim == 2 and received.shape[0] == received.shape[1]:
        if allclose(received.T, expected, tolerance):
            return f"{name} is transposed (its rows and columns are swapped)."
    return None


def _partial_hint(received, expected, name, tolerance) -> str | None:
    if received.ndim < 1 or received.shape[0] < 2:
        return None
    bad = np.abs(received - expected) > element_bounds(expected, tolerance)
    if received.ndim == 1:  # a sequence, e.g. a loss history: where does it start to drift?
        first = int(np.argmax(bad))
        if first > 0 and bad[first:].all():
            return f"{name} agrees for the first {first} entries and differs from index {first} on."
        return None
    by_row = bad.reshape(bad.shape[0], -1)
    rows = np.flatnonzero(by_row.any(axis=1))
    # A skipped or repeated sample spoils its whole row; scattered elements point elsewhere (a mask,
    # a threshold), and then this hint would blame the wrong thing: say nothing.
    if 0 < len(rows) < bad.shape[0] and by_row[rows].all():
        shown = ", ".join(str(r) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
        return (
            f"only some rows of {name} are wrong ({len(rows)} of {bad.shape[0]}: rows {shown}); "
            "look for an index or a loop bound that skips or repeats samples."
        )
    if received.ndim == 2 and received.shape[1] > 1:
        columns = np.flatnonzero(bad.any(axis=0))
        if 0 < len(columns) < bad.shape[1] and bad[:, columns].all():
            return (
                f"only some columns of {name} are wrong ({len(columns)} of {bad.shape[1]}); "
                "look at how the output dimensions are indexed."
            )
    return None
