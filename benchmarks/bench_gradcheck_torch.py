"""Our gradient check against ``torch.autograd.gradcheck`` (slow and fast mode), side by side.

The same scalar functions, the same points and the same claimed gradients go to three checkers in
one process:

* ours: :func:`autograder.gradcheck.check_gradient` (two random unit directions, error measured
  against ||g||, localisation of the worst element on failure);
* ``torch.autograd.gradcheck(fast_mode=False)``: the full Jacobian by per-element central
  differences (2 forward calls per element), compared element by element (atol 1e-5, rtol 1e-3);
* ``torch.autograd.gradcheck(fast_mode=True)``: one random projection (torch's defaults).

Each function is a numpy forward f(x) -> scalar with a numpy gradient; torch sees them through a
``torch.autograd.Function`` whose backward returns the claimed gradient, so every checker tests
exactly the same numbers. The functions (x is square, s x s, so that a transposed gradient has the
right shape; s = 10, 100, 316 give 100, 10,000 and 99,856 inputs):

* linear layer: f(W) = sum(G * (X @ W + b)), X (32, s), G a fixed upstream gradient;
  grad = X.T @ G;
* tanh + softmax cross-entropy: f(Z) = mean_i CE(softmax(tanh(Z_i)), y_i), Z (s, s) (rows are
  samples, columns classes); grad = (1 - tanh(Z)**2) * (softmax(tanh Z) - onehot(y)) / s;
* MLP layer: f(W1) = CE(softmax(tanh(X @ W1 + b1) @ W2), y), X (32, s), W2 (s, 10);
  grad = X.T @ ((dlogits @ W2.T) * (1 - H**2)).

Planted errors in the claimed gradient: ``factor 2`` (2 g), ``transposed`` (g.T: dW = G.T @ X
instead of X.T @ G), ``one wrong element`` (the largest-magnitude entry doubled: an error of
max|g| in one place). Every checker must pass the correct gradient; each row says which planted
errors each checker detected. Torch's random vectors come from ``torch.manual_seed(TORCH_SEED)``
before every call, ours from ``seed=DIRECTION_SEED``, so detection is reproducible.

Timing: the median over runs of one whole check of the correct gradient, interleaved (ours, torch
fast, torch slow, per round). The slow mode costs 2 forward calls per input element and so grows
like n times the cost of one forward call, about n**2 here (1.4 s for the linear layer at 10,000
inputs, 36 s at 99,856): it gets fewer runs (``SLOW_RUNS``) and is not run above ``SLOW_LIMIT``
inputs unless asked (``--slow-limit 100000``: about 10 more minutes).

What a failure costs is timed once per function and size, on the factor-2 gradient: ours
localises the worst element (a few dozen forward calls); torch's fast mode, once it has its
verdict, recomputes the whole Jacobian in slow mode for its error message. The untimed detection
runs skip that message (``_verdict_only``): the verdict is taken before it, and at 99,856 inputs
the message costs half a minute per call.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from timing import (  # first: puts the checkout on sys.path
    Measurement,
    Result,
    Timing,
    format_seconds,
    time_call,
)

from autograder.gradcheck import check_gradient

SIDES = (10, 100, 316)
DATA_SEED = 20_241_126
DIRECTION_SEED = 7
TORCH_SEED = 0
DEFAULT_RUNS = 15
#: Runs of torch's slow mode per side (it differentiates every element), and the largest input
#: it is run on by default.
SLOW_RUNS = {10: DEFAULT_RUNS, 100: 5, 316: 1}
SLOW_LIMIT = 10_000
BATCH = 32
PLANTED = ("factor 2", "transposed", "one wrong element")
CHECKERS = ("ours", "torch fast", "torch slow")


@dataclass(frozen=True)
class Problem:
    """A scalar function at a point: ``forward(x)`` and its exact gradient at ``x``."""

    name: str
    x: np.ndarray
    forward: Callable[[np.ndarray], float]
    gradient: np.ndarray

    @property
    def size(self) -> int:
        return self.x.size

    def planted(self, error: str) -> np.ndarray:
        """The gradient with one planted error."""
        g = self.gradient
        if error == "factor 2":
            return 2.0 * g
        if error == "transposed":
            return np.ascontiguousarray(g.T)
        if error == "one wrong element":
            wrong = g.copy()
            wrong.flat[int(np.argmax(np.abs(g)))] *= 2.0
            return wrong
        raise ValueError(error)


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy from logits and its gradient with respect to the logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    loss = -float(log_probabilities[rows, labels].mean())
    dlogits = np.exp(log_probabilities)
    dlogits[rows, labels] -= 1.0
    return loss, dlogits / len(labels)


def make_problems(side: int, seed: int = DATA_SEED) -> list[Problem]:
    """The three functions with an s x s input, from one seeded generator."""
    rng = np.random.default_rng(seed + side)

    X = rng.standard_normal((BATCH, side))
    b = rng.standard_normal(side)
    G = rng.standard_normal((BATCH, side))
    W = rng.standard_normal((side, side)) / np.sqrt(side)
    linear = Problem("linear layer", W, lambda w: float(np.sum(G * (X @ w + b))), X.T @ G)

    Z = rng.standard_normal((side, side))
    labels = rng.integers(0, side, size=side)

    def tanh_cross_entropy(z: np.ndarray) -> float:
        return _cross_entropy(np.tanh(z), labels)[0]

    _, dlogits = _cross_entropy(np.tanh(Z), labels)
    tanh_ce = Problem("tanh + softmax cross-entropy", Z, tanh_cross_entropy, (1.0 - np.tanh(Z) ** 2) * dlogits)

    W1 = rng.standard_normal((side, side)) / np.sqrt(side)
    b1 = rng.standard_normal(side) * 0.1
    W2 = rng.standard_normal((side, 10)) / np.sqrt(side)
    mlp_labels = rng.integers(0, 10, size=BATCH)

    def mlp(w1: np.ndarray) -> float:
        return _cross_entropy(np.tanh(X @ w1 + b1) @ W2, mlp_labels)[0]

    hidden = np.tanh(X @ W1 + b1)
    _, dlogits = _cross_entropy(hidden @ W2, mlp_labels)
    mlp_gradient = X.T @ ((dlogits @ W2.T) * (1.0 - hidden**2))
    mlp_layer = Problem("MLP layer (tanh, softmax CE)", W1, mlp, mlp_gradient)
    return [linear, tanh_ce, mlp_layer]


# ----------------------------------------------------------------------------- the checkers


def check_ours(problem: Problem, claimed: np.ndarray) -> bool:
    """True when our check passes ``claimed`` as the gradient."""
    return check_gradient(problem.forward, problem.x, claimed, seed=DIRECTION_SEED).passed


def _torch_function(problem: Problem, claimed: np.ndarray):
    """``x -> f(x)`` for torch, with ``claimed`` as the gradient its backward returns."""
    import torch

    class NumpyScalar(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return torch.tensor(problem.forward(x.detach().numpy()), dtype=torch.float64)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * torch.from_numpy(claimed)

    return NumpyScalar.apply


def check_torch(problem: Problem, claimed: np.ndarray, *, fast_mode: bool) -> bool:
    """True when ``torch.autograd.gradcheck`` (default tolerances) passes ``claimed``."""
    import torch

    torch.manual_seed(TORCH_SEED)
    x = torch.tensor(problem.x, dtype=torch.float64, requires_grad=True)
    return bool(torch.autograd.gradcheck(
        _torch_function(problem, claimed), (x,), fast_mode=fast_mode, raise_exception=False
    ))


CHECK = {
    "ours": check_ours,
    "torch fast": lambda problem, claimed: check_torch(problem, claimed, fast_mode=True),
    "torch slow": lambda problem, claimed: check_torch(problem, claimed, fast_mode=False),
}


# ----------------------------------------------------------------------------- the benchmark


@dataclass(frozen=True)
class Comparison:
    """One function at one size: timings of the correct gradient's check, and detections."""

    problem: str
    size: int
    timings: dict[str, Timing]  # checker -> timing (a checker not run is missing)
    detected: dict[str, dict[str, bool]]  # planted error -> checker -> detected
    failure_seconds: dict[str, float]  # checker -> one failing check (factor 2), with its report

    def ratio(self, checker: str) -> float | None:
        if checker not in self.timings:
            return None
        return self.timings[checker].median / self.timings["ours"].median


def compare(problem: Problem, runs: int, slow_runs: int) -> Comparison:
    """Times the three checkers (torch slow only when ``slow_runs`` > 0) and plants the errors."""
    checkers = [checker for checker in CHECKERS if checker != "torch slow" or slow_runs > 0]
    for checker in ("ours", "torch fast"):  # warm-up (torch's slow mode needs none: it is slow)
        CHECK[checker](problem, problem.gradient)
    samples: dict[str, list[Measurement]] = {checker: [] for checker in checkers}
    for round_ in range(runs):
        for checker in checkers:
            if checker == "torch slow" and round_ >= slow_runs:
                continue
            measurement, passed = time_call(functools.partial(CHECK[checker], problem, problem.gradient))
            if not passed:
                raise AssertionError(f"{checker} failed the correct gradient of {problem.name} ({problem.size})")
            samples[checker].append(measurement)
    failing = problem.planted("factor 2")
    failure_seconds = {
        checker: time_call(functools.partial(CHECK[checker], problem, failing))[0].wall
        for checker in ("ours", "torch fast")
    }
    with _verdict_only():
        detected = {
            error: {checker: not CHECK[checker](problem, problem.planted(error)) for checker in checkers}
            for error in PLANTED
        }
    timings = {checker: Timing.of(measurements) for checker, measurements in samples.items()}
    return Comparison(problem.name, problem.size, timings, detected, failure_seconds)


@contextmanager
def _verdict_only() -> Iterator[None]:
    """torch's gradcheck without the slow-mode Jacobian its fast mode computes for the message of
    a failure (after the verdict); a no-op where torch has no such function."""
    import sys

    import torch  # noqa: F401  (loads torch.autograd.gradcheck)

    module = sys.modules["torch.autograd.gradcheck"]
    original = getattr(module, "_run_slow_mode_and_get_error", None)
    if original is not None:
        module._run_slow_mode_and_get_error = lambda *args, **kwargs: ""
    try:
        yield
    finally:
        if original is not None:
            module._run_slow_mode_and_get_error = original


def bench_gradcheck_torch(
    runs: int = DEFAULT_RUNS, sides: tuple[int, ...] = SIDES, slow_limit: int = SLOW_LIMIT
) -> list[Comparison]:
    """Every function at every size; torch's threads as configured (recorded in the report)."""
    comparisons = []
    for side in sides:
        slow_runs = min(SLOW_RUNS.get(side, 1), runs) if side * side <= slow_limit else 0
        for problem in make_problems(side):
            comparisons.append(compare(problem, runs, slow_runs))
    return comparisons


def as_results(comparisons: list[Comparison]) -> list[Result]:
    """Rows for the main results table (no targets: this is a comparison)."""
    rows = []
    for comparison in comparisons:
        for checker in comparison.timings:
            missed = [error for error in PLANTED if not comparison.detected[error][checker]]
            rows.append(Result(
                f"{checker}: {comparison.problem}, {comparison.size:,} inputs",
                comparison.timings[checker],
                None,
                f"x{comparison.ratio(checker):.3g} ours; "
                + ("caught every planted error" if not missed else "missed: " + ", ".join(missed)),
            ))
    return rows


def report_lines(comparisons: list[Comparison], slow_limit: int = SLOW_LIMIT) -> list[str]:
    """The Markdown section for docs/benchmarks.md: medians, ratios, detections."""
    import torch

    mark = {True: "caught", False: "**missed**", None: "not run"}

    def median(c: Comparison, checker: str) -> str:
        return format_seconds(c.timings[checker].median) if checker in c.timings else "not run"

    def ratio(c: Comparison, checker: str) -> str:
        value = c.ratio(checker)
        return "-" if value is None else f"{value:.3g}"

    lines = [
        "## Gradient check vs `torch.autograd.gradcheck`",
        "",
        "`benchmarks/bench_gradcheck_torch.py`: the same numpy functions, points and claimed gradients",
        "checked by ours (`check_gradient`, 2 directions), torch's fast mode (one random projection)",
        "and torch's slow mode (every element), in one process; torch sees the function through an",
        "`autograd.Function` whose backward returns the claimed gradient. Times: the median of a whole",
        "check of the correct gradient, runs interleaved. Torch's slow mode costs 2 forward calls per",
        f"input element, so it grows like n times one forward call: it is not run above {slow_limit:,}",
        "inputs (`--slow-limit 100000` runs it everywhere, about 10 minutes more).",
        f"torch {torch.__version__} with {torch.get_num_threads()} threads; default tolerances everywhere.",
        "",
        ("| function | inputs | ours | torch fast | torch slow | fast / ours | slow / ours "
         "| runs (ours, fast, slow) | failing (2 g): ours | failing: torch fast |"),
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    def failing(c: Comparison, checker: str) -> str:
        passed = "" if c.detected["factor 2"][checker] else " (passed it)"
        return format_seconds(c.failure_seconds[checker]) + passed

    for c in comparisons:
        runs = ", ".join(str(c.timings[checker].runs) if checker in c.timings else "0" for checker in CHECKERS)
        lines.append(
            f"| {c.problem} | {c.size:,} | {median(c, 'ours')} | {median(c, 'torch fast')} | "
            f"{median(c, 'torch slow')} | {ratio(c, 'torch fast')} | {ratio(c, 'torch slow')} | {runs} "
            f"| {failing(c, 'ours')} | {failing(c, 'torch fast')} |"
        )
    lines += [
        "",
        "Planted errors (every checker passed the correct gradient first):",
        "",
        "| function | inputs | planted error | ours | torch fast | torch slow |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in comparisons:
        for error in PLANTED:
            found = c.detected[error]
            lines.append(
                f"| {c.problem} | {c.size:,} | {error} | "
                + " | ".join(mark[found.get(checker)] for checker in CHECKERS) + " |"
            )
    fast = [c.ratio("torch fast") for c in comparisons]
    slow = [c.ratio("torch slow") for c in comparisons if c.ratio("torch slow") is not None]
    lines += [
        "",
        f"Median over the rows of the time ratio to ours: torch fast x{statistics.median(fast):.3g}"
        + (f", torch slow x{statistics.median(slow):.3g} (where run)." if slow else "."),
        "",
        "The last two columns: one check of the factor-2 gradient, failure report included (ours",
        "localises the worst element; torch's fast mode recomputes the Jacobian in slow mode for its",
        "message, so a failure costs what slow mode costs). Planted errors: `factor 2` is 2 g;",
        "`transposed` is g.T (dW = G.T @ X instead of X.T @ G); `one wrong element` doubles the",
        "largest entry of g. A projection sees a single wrong element of size d only when d is above",
        "about rtol * sqrt(n) * ||g|| (docs/gradient-check.md); torch's slow mode compares every",
        "element. Torch's fast mode compares the projection v.J.u under atol * sum(u) * sum(v), and",
        "its u has only positive entries (`torch.rand`), so sum(u) is about 0.87 sqrt(n): where the",
        "gradient's projection is small against that, as for a softmax cross-entropy whose rows sum to",
        "about 0 and whose entries are about 1/N, even 2 g passes. Ours measures errors against ||g||.",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="timed runs per checker")
    parser.add_argument("--slow-limit", type=int, default=SLOW_LIMIT,
                        help="largest input torch's slow mode is run on (99856 runs it everywhere: ~30 min)")
    args = parser.parse_args(argv)
    comparisons = bench_gradcheck_torch(args.runs, slow_limit=args.slow_limit)
    print("\n".join(report_lines(comparisons, args.slow_limit)))


if __name__ == "__main__":
    main()
