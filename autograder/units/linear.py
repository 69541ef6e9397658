"""Unit 1 checks: the linear model (선형 신경망), graded part by part.

Parts and what each check asks (ids are ``linear.<part>.<aspect>``):

* ``predict``: Y_hat = X @ W + b on several shapes, hidden shapes too; the result is a float64 numpy
  array (not a list: the value checks convert what they get, so this is a check of its own); inputs
  left unchanged.
* ``loss``: the note's MSE (sum over outputs, mean over samples), also on huge values.
* ``gradients``: dW and db against the reference, and against finite differences of the student's
  own forward pass.
* ``step``: one gradient-descent step, returning new arrays.
* ``fit``: the loss history; convergence to the closed-form least-squares solution; a too-large
  learning rate raises DivergenceError instead of returning NaN.
* ``collapse``: a stack of linear layers equals one linear layer.

Every input comes from an explicit seed: public seeds below 1000. The hidden checks (seeds from
9000) are declared apart, in the package of hidden checks, which the student release leaves out.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..checks import Verdict
from ..diagnosis import KnownMistake
from ..evidence import (
    Case,
    ConvergenceCheck,
    GradientCheck,
    GradientProblem,
    InputsUnchangedCheck,
    PropertyCheck,
    ReferenceCheck,
    as_number_array,
    case_builder,
    case_rng,
    expect_tuple,
)
from ..sandbox import ProbeError
from ..tolerance import ITERATIVE, compare
from .unit import Unit

MODULE = "linear_model"


def _function(impl, name: str):
    return impl.function(MODULE, name)


# ----------------------------------------------------------------------------- inputs


@case_builder
def _model_case(seed: int, n: int, d: int, k: int, scale: float = 1.0) -> Case:
    rng = case_rng(seed)
    X = scale * rng.standard_normal((n, d))
    W = rng.standard_normal((d, k))
    b = rng.standard_normal(k)
    Y = X @ rng.standard_normal((d, k)) + rng.standard_normal(k) + 0.5 * rng.standard_normal((n, k))
    return Case(f"N={n}, D={d}, K={k}", {"X": X, "W": W, "b": b, "Y": Y}, batch_size=n)


# The first public case is the one a failure is reported on: N=5 keeps "factor N" apart from "2".
PUBLIC_SHAPES = [(5, 3, 2), (8, 1, 1), (6, 4, 4), (1, 4, 3)]
PUBLIC_CASES = [_model_case(100 + i, *shape) for i, shape in enumerate(PUBLIC_SHAPES)]


@case_builder
def _loss_case(case: Case) -> Case:
    rng = case_rng(int(case.inputs["X"].shape[0]) * 7919 + case.inputs["Y"].shape[1])
    Y = case.inputs["Y"]
    return Case(case.label, {"Y_hat": Y + rng.standard_normal(Y.shape), "Y": Y}, case.batch_size)


@case_builder
def _extreme_loss_case() -> Case:
    rng = case_rng(321)
    Y = 1e160 * (1.0 + rng.random((4, 2)))
    Y_hat = Y + 1e150 * rng.standard_normal((4, 2))
    return Case("values near 1e160 that differ by about 1e150", {"Y_hat": Y_hat, "Y": Y}, 4)


@case_builder
def _step_case(seed: int, d: int, k: int, lr: float) -> Case:
    rng = case_rng(seed)
    inputs = {
        "W": rng.standard_normal((d, k)),
        "b": rng.standard_normal(k),
        "dW": rng.standard_normal((d, k)),
        "db": rng.standard_normal(k),
        "lr": lr,
    }
    return Case(f"D={d}, K={k}, lr={lr}", inputs)


@case_builder
def _stack_case(seed: int, sizes: tuple[int, ...]) -> Case:
    rng = case_rng(seed)
    weights = [rng.standard_normal((a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal(b) for b in sizes[1:]]
    label = " -> ".join(str(s) for s in sizes)
    return Case(f"layers {label}", {"weights": weights, "biases": biases, "X": rng.standard_normal((6, sizes[0]))})


@case_builder
def _fit_case(seed: int, n: int, d: int, k: int, lr: float, steps: int) -> Case:
    rng = case_rng(seed)
    X = rng.standard_normal((n, d))
    Y = X @ rng.standard_normal((d, k)) + rng.standard_normal(k) + 0.1 * rng.standard_normal((n, k))
    return Case(f"N={n}, D={d}, K={k}, lr={lr}, {steps} steps", {"X": X, "Y": Y, "lr": lr, "steps": steps}, n)


# ----------------------------------------------------------------------------- calls (run in the sandbox)


def _call_predict(impl, x: Mapping[str, Any]):
    return {"Y_hat": _function(impl, "predict")(x["X"], x["W"], x["b"])}


def _call_loss(impl, x):
    return {"loss": _function(impl, "mse_loss")(x["Y_hat"], x["Y"])}


def _call_gradients(impl, x):
    result = _function(impl, "loss_gradients")(x["X"], x["Y"], x["W"], x["b"])
    dW, db = expect_tuple(result, ("dW", "db"), "loss_gradients")
    return {"dW": dW, "db": db}


def _call_step(impl, x):
    result = _function(impl, "gradient_descent_step")(x["W"], x["b"], x["dW"], x["db"], x["lr"])
    W_new, b_new = expect_tuple(result, ("W_new", "b_new"), "gradient_descent_step")
    return {"W_new": W_new, "b_new": b_new}


def _call_fit(impl, x):
    result = _function(impl, "fit")(x["X"], x["Y"], x["lr"], x["steps"])
    for field in ("losses", "W", "b"):
        if not hasattr(result, field):
            raise ProbeError(f"fit should return a FitResult with W, b and losses; it has no {field!r}")
    # losses first: when several outputs differ, the history says most about what went wrong.
    return {field: as_number_array(getattr(result, field), field) for field in ("losses", "W", "b")}


def _call_collapse(impl, x):
    result = _function(impl, "collapse_linear_stack")(x["weights"], x["biases"])
    W, b = expect_tuple(result, ("W", "b"), "collapse_linear_stack")
    return {"W": W, "b": b}


def _run_predict_type(impl, x):
    """What predict returns, as it is: its type and dtype (the value checks convert the result to an
    array before comparing, so a list of the right numbers would pass them)."""
    result = _function(impl, "predict")(x["X"], x["W"], x["b"])
    kind = type(result)
    return {"type": f"{kind.__module__}.{kind.__qualname__}", "dtype": str(getattr(result, "dtype", ""))}


def _assess_predict_type(facts, inputs) -> Verdict:
    kind, dtype = str(facts.get("type", "")), str(facts.get("dtype", ""))
    if kind == "numpy.ndarray" and dtype == "float64":
        return Verdict.ok()
    if kind != "numpy.ndarray":
        name = kind.removeprefix("builtins.")
        hint = ("return the numpy array itself: X @ W + b already is one. A Python list (from .tolist(), or "
                "rows appended in a loop) breaks the code that uses the predictions as an array "
                "(Y_hat - Y, Y_hat.shape).")
        if kind == "numpy.matrix":
            hint = "use plain numpy arrays (np.ndarray), not np.matrix: `*` means something else for matrices."
        return Verdict(False, f"predict returned a {name}, expected a numpy array (np.ndarray) of float64", hint)
    return Verdict(
        False, f"predict returned an array of dtype {dtype}, expected float64",
        "keep everything float64 (the convention of linear_model.py): no astype(np.float32) or int arrays.",
    )


# ----------------------------------------------------------------------------- known mistakes


def _without_x(inputs, expected):
    """dW as the lecture note's last line writes it: the factor x_i dropped."""
    X, Y, W, b = inputs["X"], inputs["Y"], inputs["W"], inputs["b"]
    dY = -2.0 / X.shape[0] * (Y - X @ W - b)
    return np.broadcast_to(dY.sum(axis=0), expected.shape)


GRADIENT_MISTAKES = (
    KnownMistake(
        "dW",
        "dW is missing the factor x_i: the chain rule gives d(w x_i + b)/dw = x_i, so "
        "dW = -(2/N) X.T @ (Y - Y_hat) (the lecture note's last line drops x_i too; see the note in "
        "linear_model.py).",
        _without_x,
    ),
    KnownMistake(
        "dW",
        "the gradient is divided by the number of features D = X.shape[1]; the MSE averages over the "
        "N = X.shape[0] samples (rows are samples).",
        lambda inputs, expected: expected * inputs["X"].shape[0] / inputs["X"].shape[1],
    ),
    KnownMistake(
        "dW",
        "dW looks like X @ (something) transposed: dW must be X.T @ dY_hat with shape (D, K).",
        lambda inputs, expected: expected.T,
    ),
    # Before the generic diagnosis, which would blame a missing factor 2 of the square for K = 2
    # outputs; with K = 2 the two mistakes give the same numbers, so the hint names both.
    *(
        KnownMistake(
            output,
            f"{output} is divided by N*K, the gradient of a mean over every element (torch's MSELoss); "
            "the lecture note's MSE sums over the K outputs and divides by the N samples only: "
            "dY_hat = -(2/N) * (Y - Y_hat).",
            lambda inputs, expected: None if inputs["Y"].shape[1] == 2 else expected / inputs["Y"].shape[1],
        )
        for output in ("dW", "db")
    ),
    *(
        KnownMistake(
            output,
            f"{output} is half of what it should be: either the factor 2 of the square is missing, or "
            "it is divided by N*K (here K = 2 outputs) instead of N; the note's MSE sums over the K "
            "outputs and averages over the N samples: dY_hat = -(2/N) * (Y - Y_hat).",
            lambda inputs, expected: expected / 2 if inputs["Y"].shape[1] == 2 else None,
        )
        for output in ("dW", "db")
    ),
)

LOSS_MISTAKES = (
    KnownMistake(
        "loss",
        "the loss is divided by N*K (np.mean over every element, as torch's MSELoss does); the "
        "lecture note's MSE sums over the K outputs and divides by the N samples only.",
        lambda inputs, expected: expected / inputs["Y"].shape[1],
    ),
    KnownMistake(
        "loss",
        "this is the mean absolute error (L1), not the squared error: square the differences.",
        lambda inputs, expected: np.abs(inputs["Y"] - inputs["Y_hat"]).sum() / inputs["Y"].shape[0],
    ),
    KnownMistake(
        "loss",
        "this is the square root of the MSE (RMSE); the MSE has no square root.",
        lambda inputs, expected: np.sqrt(expected),
    ),
)

PREDICT_MISTAKES = (
    KnownMistake(
        "Y_hat",
        "the bias b is missing: Y_hat = X @ W + b.",
        lambda inputs, expected: inputs["X"] @ inputs["W"],
    ),
    KnownMistake(
        "Y_hat",
        "you multiplied by W transposed; W is (D, K), so Y_hat = X @ W + b needs no transpose.",
        lambda inputs, expected: inputs["X"] @ inputs["W"].T + inputs["b"],
    ),
)

STEP_MISTAKES = tuple(
    KnownMistake(output, hint, make)
    for output, param, grad in (("W_new", "W", "dW"), ("b_new", "b", "db"))
    for hint, make in (
        (
            "the step goes uphill: gradient descent subtracts the gradient, W - lr * dW.",
            lambda x, e, p=param, g=grad: x[p] + x["lr"] * x[g],
        ),
        (
            "the learning rate is missing from the update: W - lr * dW.",
            lambda x, e, p=param, g=grad: x[p] - x[g],
        ),
        (
            "the learning rate is applied twice (lr**2): W - lr * dW uses it once.",
            lambda x, e, p=param, g=grad: x[p] - x["lr"] ** 2 * x[g],
        ),
        (
            "the update returns only the step, -lr * dW; add it to the current W.",
            lambda x, e, p=param, g=grad: -x["lr"] * x[g],
        ),
    )
)

HISTORY_MISTAKES = (
    KnownMistake(
        "losses",
        "the history is shifted by one step: record the loss *before* each update, so losses[0] is "
        "the loss at W = 0, b = 0.",
        explains=lambda received, expected, inputs: received.shape == expected.shape
        and np.allclose(received[:-1], expected[1:], rtol=1e-6),
    ),
)

COLLAPSE_MISTAKES = (
    KnownMistake(
        "b",
        "only the last layer's bias survived: the earlier biases must pass through the later weights "
        "too, (X @ W + b) @ W_l + b_l = X @ (W @ W_l) + (b @ W_l + b_l).",
        lambda inputs, expected: inputs["biases"][-1],
    ),
    KnownMistake(
        "b",
        "the earlier biases must pass through the later weights too: "
        "(X @ W + b) @ W_l + b_l = X @ (W @ W_l) + (b @ W_l + b_l).",
        lambda inputs, expected: sum(inputs["biases"]),
    ),
)


# ----------------------------------------------------------------------------- fit: convergence and divergence


def _least_squares(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form minimiser of the MSE, computed by the trusted grader (not by student code)."""
    augmented = np.hstack([X, np.ones((X.shape[0], 1))])
    solution, *_ = np.linalg.lstsq(augmented, Y, rcond=None)
    return solution[:-1], solution[-1]


def _assess_least_squares(facts, inputs) -> Verdict:
    W_star, b_star = _least_squares(inputs["X"], inputs["Y"])
    losses = np.asarray(facts.get("losses", ()), dtype=np.float64).reshape(-1)
    curve_hint = _curve_hint(losses, inputs["steps"])
    for name in ("W", "b"):
        value = np.asarray(facts.get(name))
        if value.size and np.issubdtype(value.dtype, np.number) and np.all(value == 0):
            return Verdict(
                False,
                f"after {inputs['steps']} steps, {name} is still all zeros",
                f"{name} never moved from its starting value: is its update applied and kept at every step?",
            )
    for name, received, optimum in (("W", facts.get("W"), W_star), ("b", facts.get("b"), b_star)):
        comparison = compare(received, optimum, ITERATIVE)
        if not comparison.matches:
            if not comparison.shape_matches:
                details = (f"{name} has shape {comparison.received_shape}, expected {comparison.expected_shape}",)
            else:
                details = (
                    f"worst element {name}{list(comparison.worst_index)}: least squares gives "
                    f"{comparison.worst_expected:.6g}, fit gave {comparison.worst_received:.6g}",
                )
            return Verdict(
                False,
                f"after {inputs['steps']} steps, {name} is not at the least-squares solution",
                curve_hint,
                details + ("run `autograder check linear.fit --plots DIR` to see the loss curve",),
            )
    return Verdict.ok()


def _curve_hint(losses: np.ndarray, steps: int) -> str | None:
    if losses.shape != (steps,):
        return f"losses should hold one value per step ({steps}), got shape {losses.shape}."
    if not np.all(np.isfinite(losses)):
        return "the loss became inf or NaN."
    if losses[-1] > losses[0]:
        return "the loss grows instead of shrinking: check the sign of the update."
    if np.allclose(losses, losses[0]):
        return "the loss never changes: are W and b updated (and the new values kept) at every step?"
    return "the loss goes down, but not to the optimum: check the gradients and the update."


def _run_divergent_fit(impl, x):
    module = impl.module(MODULE)
    fit = _function(impl, "fit")
    try:
        result = fit(x["X"], x["Y"], x["lr"], x["steps"])
    except getattr(module, "DivergenceError", ()) as error:  # type: ignore[misc]
        return {"raised": True, "step": int(getattr(error, "step", -1))}
    losses = as_number_array(getattr(result, "losses", None), "losses")
    W = as_number_array(getattr(result, "W", None), "W")
    finite = bool(np.all(np.isfinite(losses)) and np.all(np.isfinite(W)))
    return {"raised": False, "finite": finite}


def _assess_divergence(facts, inputs) -> Verdict:
    if facts.get("raised"):
        return Verdict.ok()
    if not facts.get("finite"):
        return Verdict(
            False,
            f"with lr={inputs['lr']} training blows up, and fit returned inf/NaN silently",
            "check np.isfinite(loss) at each step and raise DivergenceError(step, loss, lr) when it fails.",
        )
    return Verdict(
        False,
        f"with lr={inputs['lr']} the loss should blow up, but fit returned finite values",
        "is the learning rate actually used in the update?",
    )


def _run_fit_twice(impl, x):
    first, second = _call_fit(impl, x), _call_fit(impl, x)
    return {**{f"first/{k}": v for k, v in first.items()}, **{f"second/{k}": v for k, v in second.items()}}


def _assess_deterministic(facts, inputs) -> Verdict:
    for name in ("losses", "W", "b"):
        first, second = np.asarray(facts[f"first/{name}"]), np.asarray(facts[f"second/{name}"])
        if first.shape != second.shape or not np.array_equal(first, second):
            return Verdict(
                False,
                f"two calls of fit with the same inputs returned different {name}",
                "fit must be deterministic: start from W = 0 and b = 0, with no random numbers.",
            )
    return Verdict.ok()


# ----------------------------------------------------------------------------- collapse: equivalence


def _assess_collapse_equivalence(facts, inputs) -> Verdict:
    X = inputs["X"]
    stacked = X
    for W, b in zip(inputs["weights"], inputs["biases"]):
        stacked = stacked @ W + b
    try:
        single = X @ np.asarray(facts["W"]) + np.asarray(facts["b"])
    except ValueError:
        return Verdict(False, "X @ W + b cannot be computed with the returned W and b (shapes do not fit)")
    comparison = compare(single, stacked)
    if comparison.matches:
        return Verdict.ok()
    return Verdict(
        False,
        "X @ W + b with the collapsed W, b differs from applying the layers one after another",
        None,
        (f"largest difference at output {list(comparison.worst_index)}: layers give "
         f"{comparison.worst_expected:.6g}, collapsed gives {comparison.worst_received:.6g}",),
    )


# ----------------------------------------------------------------------------- the unit


def _gradient_problem(impl, x) -> GradientProblem:
    predict, mse_loss = _function(impl, "predict"), _function(impl, "mse_loss")
    dW, db = expect_tuple(
        _function(impl, "loss_gradients")(x["X"], x["Y"], x["W"], x["b"]), ("dW", "db"), "loss_gradients"
    )
    X, Y = x["X"], x["Y"]
    return GradientProblem(
        forward=lambda p: mse_loss(predict(X, p["W"], p["b"]), Y),
        params={"W": x["W"], "b": x["b"]},
        analytic={"W": dW, "b": db},
    )


#: fit runs the student's predict, loss, gradients and step: their failures explain fit's.
FIT_USES = ("linear.predict", "linear.loss", "linear.gradients", "linear.step")
#: fit must get there by gradient descent, not by solving the normal equations.
CLOSED_FORM_SOLVERS = ("numpy.linalg.lstsq", "numpy.linalg.solve", "numpy.linalg.pinv", "numpy.linalg.inv")
_FIT_CASE = _fit_case(7, n=200, d=3, k=2, lr=0.1, steps=300)
_DIVERGENT_CASE = _fit_case(8, n=50, d=2, k=1, lr=3.0, steps=1000)
_HISTORY_CASE = _fit_case(9, n=20, d=3, k=2, lr=0.05, steps=25)


UNIT = Unit(
    name="linear",
    title="Unit 1: the linear model (선형 신경망)",
    module=MODULE,
    checks=(
        ReferenceCheck(
            "linear.predict.values",
            description="predict(X, W, b) = X @ W + b on several shapes",
            points=2,
            call=_call_predict,
            cases=PUBLIC_CASES,
            known_mistakes=PREDICT_MISTAKES,
        ),
        PropertyCheck(
            "linear.predict.returns_array",
            description="predict returns a numpy array (np.ndarray) of float64, not a list",
            points=1,
            run=_run_predict_type,
            assess=_assess_predict_type,
            case=PUBLIC_CASES[0],
        ),
        InputsUnchangedCheck(
            "linear.predict.inputs_unchanged",
            description="predict leaves X, W and b unchanged",
            points=1,
            call=_call_predict,
            function="predict",
            case=PUBLIC_CASES[0],
        ),
        ReferenceCheck(
            "linear.loss.values",
            description="mse_loss: sum over outputs, mean over samples",
            points=2,
            call=_call_loss,
            cases=[_loss_case(case) for case in PUBLIC_CASES],
            known_mistakes=LOSS_MISTAKES,
        ),
        ReferenceCheck(
            "linear.loss.huge_values",
            description="mse_loss stays finite and exact for values near 1e160",
            points=1,
            call=_call_loss,
            cases=[_extreme_loss_case()],
            known_mistakes=LOSS_MISTAKES,
        ),
        ReferenceCheck(
            "linear.gradients.values",
            description="loss_gradients returns dW (D, K) and db (K,)",
            points=3,
            call=_call_gradients,
            cases=PUBLIC_CASES,
            known_mistakes=GRADIENT_MISTAKES,
            depends_on=("linear.predict",),  # loss_gradients calls predict (as the solution does)
        ),
        GradientCheck(
            "linear.gradients.finite_differences",
            description="loss_gradients is the derivative of mse_loss(predict(...)) (finite differences)",
            points=2,
            build=_gradient_problem,
            cases=[PUBLIC_CASES[0], _model_case(77, 64, 50, 10)],
            depends_on=("linear.predict", "linear.loss"),
            requires=("linear.predict.values", "linear.loss.values"),
        ),
        ReferenceCheck(
            "linear.step.values",
            description="gradient_descent_step: W - lr * dW, b - lr * db",
            points=2,
            call=_call_step,
            cases=[_step_case(200, 3, 2, 0.1), _step_case(201, 1, 1, 0.5), _step_case(202, 4, 3, 0.01)],
            known_mistakes=STEP_MISTAKES,
        ),
        InputsUnchangedCheck(
            "linear.step.inputs_unchanged",
            description="gradient_descent_step returns new arrays and leaves its inputs unchanged",
            points=1,
            call=_call_step,
            function="gradient_descent_step",
            case=_step_case(203, 3, 2, 0.1),
        ),
        ReferenceCheck(
            "linear.fit.history",
            description="fit starts at W = 0, b = 0 and records the loss before each step",
            points=2,
            call=_call_fit,
            cases=[_HISTORY_CASE],
            tolerance=ITERATIVE,
            known_mistakes=HISTORY_MISTAKES,
            depends_on=FIT_USES,
            forbidden_calls=CLOSED_FORM_SOLVERS,
        ),
        ConvergenceCheck(
            "linear.fit.least_squares",
            description="fit reaches the closed-form least-squares solution within 300 steps",
            points=3,
            run=_call_fit,
            assess=_assess_least_squares,
            case=_FIT_CASE,
            timeout_s=10.0,
            depends_on=FIT_USES,
            forbidden_calls=CLOSED_FORM_SOLVERS,
        ),
        PropertyCheck(
            "linear.fit.divergence",
            description="with a too-large learning rate, fit raises DivergenceError instead of returning NaN",
            points=2,
            run=_run_divergent_fit,
            assess=_assess_divergence,
            case=_DIVERGENT_CASE,
            timeout_s=10.0,
            depends_on=FIT_USES,
            forbidden_calls=CLOSED_FORM_SOLVERS,
        ),
        PropertyCheck(
            "linear.fit.deterministic",
            description="fit gives the same result twice for the same inputs",
            points=1,
            run=_run_fit_twice,
            assess=_assess_deterministic,
            case=_fit_case(10, n=12, d=2, k=2, lr=0.1, steps=5),
        ),
        ReferenceCheck(
            "linear.collapse.values",
            description="collapse_linear_stack returns the single W and b of a stack of linear layers",
            points=2,
            call=_call_collapse,
            cases=[_stack_case(300, (4, 5, 3, 2)), _stack_case(301, (3, 3)), _stack_case(302, (2, 6, 6, 4, 1))],
            known_mistakes=COLLAPSE_MISTAKES,
        ),
        PropertyCheck(
            "linear.collapse.equivalence",
            description="X @ W + b with the collapsed W, b equals the stack applied layer by layer",
            points=1,
            run=_call_collapse,
            assess=_assess_collapse_equivalence,
            case=_stack_case(303, (5, 4, 4, 3)),
        ),
    ),
)
