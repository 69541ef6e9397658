"""Unit 2 checks: MLP layers (다층 퍼셉트론), graded part by part.

Parts and what each check asks (ids are ``mlp.<part>.<aspect>``; docs/unit-mlp.md has the table
with points and the mistakes each hint detects):

* ``linear``: Linear's initialisation (He and Xavier statistics on a large layer, drawn from the
  rng passed in), forward and backward against the reference (a square layer too, where a
  transposed W still runs), the gradient check of dX, dW and db, the parameters() / gradients()
  contract (order, live arrays), inputs left unchanged.
* ``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``, ``gelu``, ``softmax``: forward and backward
  against the reference, a gradient check, inputs left unchanged; sigmoid, tanh and softmax also at
  |x| = 1000 (exact values, and no overflow warning); ReLU and LeakyReLU also at inputs exactly 0 (the
  kink, where the course uses torch's derivative: 0, resp. negative_slope), and LeakyReLU with a
  slope of its own (0.2), each in a check of its own.
* ``sequential``: Sequential's forward, backward (against the reference and by a gradient check)
  and parameter lists, checked with trusted stand-in layers of the grader (so these checks do not
  depend on the student's other layers), and the property that its backward equals the chain of
  the student's own layers.
* ``network``: the MLP's layer structure and init, forward and backward, a gradient check.
* ``residual``: X + f(X) and dY + f.backward(dY), checked with a trusted stand-in f; its
  parameters() / gradients() are f's.
* ``linear_stack``: the exercise "a stack of linear layers is one linear layer".
* ``universal``: the exercise "one hidden layer approximates sin(x) (and a bumpier function)".
* ``depth``: the exercise "a residual MLP of depth 20 trains where the plain one stalls", built by the
  given ``deep_mlp`` from the student's own Linear, Sigmoid, Sequential and Residual: the residual
  network must fit sin(x) *and* its first layer must learn (the "+ dY" of Residual.backward carries
  the gradient there), while the plain one stalls.

The layers are built in the sandbox through ``impl.function("mlp", "Linear")`` etc. Reference
comparisons set W and b from the case inputs, so they never depend on the random initialisation,
which is graded on its own by statistics. Gradient checks treat the input X and every parameter as
variables of the scalar objective ``sum(forward(X) * R)`` for a fixed random R, whose gradient is
exactly what ``backward(R)`` returns. Inputs of the elementwise layers with a kink (ReLU, LeakyReLU)
are kept at least 0.1 away from 0, so finite differences never step across it; the value at exactly 0
is graded apart (``at_zero``), without finite differences.

Every input comes from an explicit seed: public seeds below 1000. The hidden checks (seeds from
9000) are declared apart, in the package of hidden checks, which the student release leaves out.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..checks import Verdict
from ..diagnosis import KnownMistake
from ..evidence import (
    Case,
    ConvergenceCheck,
    GradientCheck,
    GradientProblem,
    NoWarningsCheck,
    PropertyCheck,
    ReferenceCheck,
    as_number_array,
    case_builder,
    case_rng,
)
from ..sandbox import ProbeError
from ..tolerance import allclose, compare
from . import linear
from .unit import Unit

MODULE = "mlp"
GELU_SCALE = math.sqrt(2.0 / math.pi)
GELU_CUBIC = 0.044715


def _class(impl, name: str):
    return impl.function(MODULE, name)


def _snapshot(value: Any) -> Any:
    """A copy of an array the student's code returned, so later calls cannot change what we send."""
    return value.copy() if isinstance(value, np.ndarray) else value


def _array_list(value: Any, what: str) -> list[np.ndarray]:
    """The student's parameters() / gradients() result as a list of numeric arrays."""
    if not isinstance(value, (list, tuple)):
        raise ProbeError(f"{what} should return a list of arrays, got a {type(value).__name__}")
    items = []
    for index, item in enumerate(value):
        if isinstance(item, (list, tuple)):
            raise ProbeError(
                f"{what}[{index}] is a {type(item).__name__}: return one flat list of arrays, not a list of lists"
            )
        items.append(as_number_array(item, f"{what}[{index}]"))
    return items


# ============================================================================ inputs


@case_builder
def _linear_case(seed: int, n: int, d_in: int, d_out: int) -> Case:
    rng = case_rng(seed)
    inputs = {
        "X": rng.standard_normal((n, d_in)),
        "W": rng.standard_normal((d_in, d_out)),
        "b": rng.standard_normal(d_out),
        "dY": rng.standard_normal((n, d_out)),
    }
    return Case(f"N={n}, D_in={d_in}, D_out={d_out}", inputs, batch_size=n)


# The first public case is the one a failure is reported on: N=5 keeps "factor N" apart from others.
LINEAR_PUBLIC = [_linear_case(400 + i, *s) for i, s in enumerate([(5, 3, 2), (1, 4, 3), (7, 1, 1), (129, 6, 5)])]
LINEAR_SQUARE = [_linear_case(420, 6, 4, 4)]


@case_builder
def _activation_case(seed: int, n: int, d: int, *, away_from_zero: bool = False, **extra) -> Case:
    rng = case_rng(seed)
    X = 2.0 * rng.standard_normal((n, d))
    if away_from_zero:  # keep finite differences off the kink at 0
        X = np.sign(X) * (0.1 + np.abs(X))
    label = f"N={n}, D={d}" + "".join(f", {key}={value}" for key, value in extra.items())
    return Case(label, {"X": X, "dY": rng.standard_normal((n, d)), **extra}, batch_size=n)


ACTIVATION_SHAPES = [(5, 4), (1, 7), (33, 3), (256, 10)]

EXTREME_ROW = np.array([-1000.0, -710.0, -30.0, -1.5, 0.0, 1.5, 30.0, 710.0, 1000.0])


@case_builder
def _extreme_case(seed: int) -> Case:
    rng = case_rng(seed)
    X = np.stack([EXTREME_ROW, -EXTREME_ROW[::-1] * 0.5, EXTREME_ROW[::-1]])
    return Case("inputs between -1000 and 1000", {"X": X, "dY": rng.standard_normal(X.shape)}, batch_size=3)


@case_builder
def _softmax_extreme_case(seed: int) -> Case:
    rng = case_rng(seed)
    X = np.array([
        [1000.0, 999.0, 0.0, -1000.0],
        [-1000.0, -1000.0, -999.5, -1001.0],
        [1000.0, 1000.0, 1000.0, 1000.0],
        [0.5, -0.5, 700.0, 710.0],
    ])
    return Case("rows with scores near +-1000", {"X": X, "dY": rng.standard_normal(X.shape)}, batch_size=4)


# ============================================================================ Linear


def _linear_layer(impl, W: np.ndarray, b: np.ndarray):
    """The student's Linear with W and b set from the case (the random init plays no role)."""
    layer = _class(impl, "Linear")(W.shape[0], W.shape[1], np.random.default_rng(0))
    layer.W, layer.b = W, b
    return layer


def _call_linear_forward(impl, x):
    return {"Y": _linear_layer(impl, x["W"], x["b"]).forward(x["X"])}


def _call_linear_backward(impl, x):
    layer = _linear_layer(impl, x["W"], x["b"])
    layer.forward(x["X"])
    dX = layer.backward(x["dY"])
    return {"dX": dX, "dW": getattr(layer, "dW", None), "db": getattr(layer, "db", None)}


def _call_linear_both(impl, x):
    layer = _linear_layer(impl, x["W"], x["b"])
    Y = _snapshot(layer.forward(x["X"]))
    dX = layer.backward(x["dY"])
    return {"Y": Y, "dX": dX, "dW": getattr(layer, "dW", None), "db": getattr(layer, "db", None)}


NOT_AVERAGED = "in this course layers do not average over the batch: the loss does, and its 1/N is already inside dY"

LINEAR_FORWARD_MISTAKES = (
    KnownMistake("Y", "the bias b is missing: Y = X @ W + b.", lambda x, e: x["X"] @ x["W"]),
    KnownMistake(
        "Y",
        "you multiplied by W transposed: here W has shape (D_in, D_out) (torch's nn.Linear stores the "
        "transpose), so Y = X @ W + b needs no transpose.",
        lambda x, e: x["X"] @ x["W"].T + x["b"],
    ),
)

LINEAR_BACKWARD_MISTAKES = (
    KnownMistake(
        "dW",
        f"dW is divided by the batch size N; {NOT_AVERAGED}. Use dW = X.T @ dY.",
        lambda x, e: x["X"].T @ x["dY"] / x["X"].shape[0],
    ),
    KnownMistake(
        "db",
        f"db is averaged over the batch; {NOT_AVERAGED}. Use db = dY.sum(axis=0).",
        lambda x, e: x["dY"].mean(axis=0),
    ),
    KnownMistake(
        "dX",
        f"dX is divided by the batch size N; {NOT_AVERAGED}. Use dX = dY @ W.T.",
        lambda x, e: x["dY"] @ x["W"].T / x["X"].shape[0],
    ),
    KnownMistake(
        "dX",
        "dX uses W where its transpose belongs: dX = dY @ W.T, of shape (N, D_in).",
        lambda x, e: x["dY"] @ x["W"],
    ),
    KnownMistake(
        "dW",
        "dW is missing X: by the chain rule dW = X.T @ dY (each sample's input times its output gradient).",
        lambda x, e: np.broadcast_to(x["dY"].sum(axis=0), e.shape),
    ),
)


# ---- initialisation, graded by statistics on a large layer

INIT_SHAPE = (400, 100)  # D_in != D_out, so "D_out instead of D_in" is a factor 2 in the std
XAVIER_SHAPE = (300, 200)
STD_TOLERANCE = 0.03  # relative; the sample std of 40,000 draws is within about 0.4% (1 sigma)
KURTOSIS_TOLERANCE = 0.3  # |excess kurtosis|: 0 for a normal (1 sigma about 0.025), -1.2 for a uniform


def _run_init(init: str, shape: tuple[int, int]):
    def run(impl, x):
        layer = _class(impl, "Linear")(shape[0], shape[1], np.random.default_rng(x["seed"]), init=init)
        return {"W": as_number_array(layer.W, "W")}  # b = 0 is graded on its own (mlp.linear.init_bias)

    return run


STD_FORMULA = {"he": "sqrt(2 / D_in)", "xavier": "sqrt(2 / (D_in + D_out))"}


def _init_verdict(facts, d_in: int, d_out: int, rule: str, std: float, std_mistakes) -> Verdict:
    W = np.asarray(facts.get("W"))
    call = f"Linear({d_in}, {d_out}, rng, init={rule!r})"
    if W.shape != (d_in, d_out):
        hint = "W must be (D_in, D_out) so that Y = X @ W + b"
        if W.shape == (d_out, d_in):
            hint = "W is transposed: here W has shape (D_in, D_out) (torch's nn.Linear stores (D_out, D_in))"
        return Verdict(False, f"{call} made W of shape {W.shape}, expected {(d_in, d_out)}", hint + ".")
    if W.dtype != np.float64:
        return Verdict(False, f"{call} made W of dtype {W.dtype}", "keep W float64.")
    if not np.all(np.isfinite(W)):
        return Verdict(False, f"{call} made W with inf or NaN entries")
    measured_std, mean = float(W.std()), float(W.mean())
    ratio = measured_std / std
    if abs(ratio - 1.0) > STD_TOLERANCE:
        hint = next((text for factor, text in std_mistakes if abs(ratio / factor - 1.0) <= STD_TOLERANCE), None)
        return Verdict(
            False,
            f"the entries of W have standard deviation {measured_std:.4g}, expected {std:.4g} ({rule} init)",
            hint or f"draw W from N(0, std**2) with std = {STD_FORMULA[rule]}.",
        )
    if abs(mean) > 6.0 * std / math.sqrt(W.size):
        return Verdict(False, f"the entries of W have mean {mean:.3g}, expected 0", "draw W with mean 0.")
    kurtosis = float(np.mean(((W - mean) / measured_std) ** 4) - 3.0)
    if abs(kurtosis) > KURTOSIS_TOLERANCE:
        return Verdict(
            False,
            f"the entries of W do not look normally distributed (excess kurtosis {kurtosis:.2f}, 0 for a normal)",
            "this course draws W from a normal distribution, rng.normal(0.0, std, size=...); "
            + ("a uniform draw has excess kurtosis -1.2." if kurtosis < -0.9 else "check how W is drawn."),
        )
    return Verdict.ok()


def _he_std_mistakes(d_in, d_out):
    std = math.sqrt(2.0 / d_in)
    return (
        (math.sqrt(0.5), "the standard deviation is sqrt(1 / D_in): He init uses variance 2 / D_in, to make "
                         "up for ReLU zeroing about half of its inputs."),
        (math.sqrt(2.0), "the standard deviation is sqrt(2) times too large: the variance is 2 / D_in, so the "
                         "standard deviation is sqrt(2 / D_in)."),
        (math.sqrt(d_in / d_out), "the standard deviation uses D_out: He init scales with the number of inputs, "
                                  "std = sqrt(2 / D_in)."),
        ((2.0 / d_in) / std, "you passed the variance 2 / D_in where rng.normal expects the standard deviation: "
                             "use np.sqrt(2 / D_in)."),
        (1.0 / std, "W looks like a standard normal: multiply by std = sqrt(2 / D_in)."),
    )


def _xavier_std_mistakes(d_in, d_out):
    std = math.sqrt(2.0 / (d_in + d_out))
    return (
        (math.sqrt(2.0 / d_in) / std, "this is He init (std = sqrt(2 / D_in)): Xavier uses both sizes, "
                                      "std = sqrt(2 / (D_in + D_out))."),
        (math.sqrt(1.0 / d_in) / std, "the standard deviation is sqrt(1 / D_in): Xavier uses both sizes, "
                                      "std = sqrt(2 / (D_in + D_out))."),
        (math.sqrt(0.5), "the standard deviation is sqrt(1 / (D_in + D_out)): Xavier's variance is "
                         "2 / (D_in + D_out)."),
        ((2.0 / (d_in + d_out)) / std, "you passed the variance where rng.normal expects the standard deviation: "
                                       "use np.sqrt(2 / (D_in + D_out))."),
    )


def _assess_he(facts, inputs) -> Verdict:
    d_in, d_out = INIT_SHAPE
    return _init_verdict(facts, d_in, d_out, "he", math.sqrt(2.0 / d_in), _he_std_mistakes(d_in, d_out))


def _assess_xavier(facts, inputs) -> Verdict:
    d_in, d_out = XAVIER_SHAPE
    return _init_verdict(
        facts, d_in, d_out, "xavier", math.sqrt(2.0 / (d_in + d_out)), _xavier_std_mistakes(d_in, d_out)
    )


def _run_init_bias(impl, x):
    Linear = _class(impl, "Linear")
    return {f"{init}/b": as_number_array(Linear(6, 5, np.random.default_rng(x["seed"]), init=init).b, "b")
            for init in ("he", "xavier")}


def _assess_init_bias(facts, x) -> Verdict:
    for init in ("he", "xavier"):
        b = np.asarray(facts.get(f"{init}/b"))
        call = f"Linear(6, 5, rng, init={init!r})"
        if b.shape != (5,):
            return Verdict(False, f"{call} made b of shape {b.shape}, expected (5,)",
                           "b has one entry per output, shape (D_out,), e.g. np.zeros(out_features).")
        if b.dtype != np.float64:
            return Verdict(False, f"{call} made b of dtype {b.dtype}", "keep b float64: np.zeros(out_features).")
        if np.any(b != 0):
            return Verdict(False, f"{call} made b with nonzero entries",
                           "b starts at zero (np.zeros(out_features)); only W is drawn from rng.")
    return Verdict.ok()


def _run_init_rng(impl, x):
    Linear = _class(impl, "Linear")
    first = Linear(6, 5, np.random.default_rng(x["seed"])).W
    again = Linear(6, 5, np.random.default_rng(x["seed"])).W
    other = Linear(6, 5, np.random.default_rng(x["seed"] + 1)).W
    return {"first": as_number_array(first, "W"), "again": as_number_array(again, "W"),
            "other": as_number_array(other, "W")}


def _assess_init_rng(facts, inputs) -> Verdict:
    first, again, other = (np.asarray(facts[k]) for k in ("first", "again", "other"))
    if first.shape != again.shape or not np.array_equal(first, again):
        return Verdict(
            False,
            "two layers built with generators of the same seed got different weights",
            "draw W from the rng argument (rng.normal(...)), not from np.random.* or a generator of your own.",
        )
    if first.shape == other.shape and np.array_equal(first, other):
        return Verdict(
            False,
            "layers built with generators of different seeds got the same weights",
            "draw W from the rng argument (rng.normal(...)) rather than from a fixed seed of your own.",
        )
    return Verdict.ok()


# ---- gradient check and the parameters() contract


def _linear_gradient_problem(impl, x) -> GradientProblem:
    layer = _linear_layer(impl, x["W"], x["b"])
    R = x["dY"]
    layer.forward(x["X"])
    dX = _snapshot(layer.backward(R))
    analytic = {"X": dX, "W": _snapshot(getattr(layer, "dW", None)), "b": _snapshot(getattr(layer, "db", None))}

    def objective(p):
        layer.W, layer.b = p["W"], p["b"]
        return float(np.sum(layer.forward(p["X"]) * R))

    return GradientProblem(objective, {"X": x["X"], "W": x["W"], "b": x["b"]}, analytic)


def _parameter_contract_facts(model, X, dY, deltas, held: Callable[[], list], held_gradients: Callable[[], list]):
    """The parameters() / gradients() contract, and nothing else.

    After forward and backward, reads parameters() and gradients() and, for comparison, the arrays the
    layers themselves hold (``held()``: their W and b; ``held_gradients()``: their dW and db, in the
    expected order). Then updates parameters() in place the way an optimizer will (p -= delta) and
    reads the layers' own arrays again: the update must have reached them. Whether backward computes
    the right gradients is for the backward checks to say; here only order and identity matter."""
    model.forward(X)
    model.backward(dY)
    params = _array_list(model.parameters(), "parameters()")
    grads = _array_list(model.gradients(), "gradients()")
    facts: dict[str, Any] = {"n_params": len(params), "n_grads": len(grads)}
    facts.update({f"param{i}": p.copy() for i, p in enumerate(params)})
    facts.update({f"grad{i}": g.copy() for i, g in enumerate(grads)})
    facts.update({f"held{i}": as_number_array(p, "a parameter").copy() for i, p in enumerate(held())})
    facts.update({f"held_grad{i}": as_number_array(g, "a gradient").copy() for i, g in enumerate(held_gradients())})
    live = model.parameters()
    if len(live) == len(deltas) and all(np.shape(p) == d.shape for p, d in zip(live, deltas)):
        for parameter, delta in zip(live, deltas):
            parameter -= delta
        facts.update({f"after{i}": as_number_array(p, "a parameter").copy() for i, p in enumerate(held())})
    return facts


def _parameter_contract_verdict(facts, deltas, *, names: list[str], owner: str) -> Verdict:
    order = ", ".join(names)
    grad_order = ", ".join("d" + name for name in names)
    held = [np.asarray(facts[f"held{i}"]) for i in range(len(names))]
    if facts["n_params"] != len(names):
        return Verdict(
            False,
            f"{owner}.parameters() returned {facts['n_params']} arrays, expected {len(names)} ({order})",
            f"list every parameter once, in the order {order}.",
        )
    received = [np.asarray(facts[f"param{i}"]) for i in range(len(names))]
    if not all(_same(r, h) for r, h in zip(received, held)):
        if sorted(map(np.shape, received)) == sorted(map(np.shape, held)) and all(
            any(_same(r, h) for h in held) for r in received
        ):
            hint = f"the order is wrong: parameters() lists {order}, first layer first."
        else:
            hint = f"parameters() must return the parameter arrays themselves ({order})."
        return Verdict(False, f"{owner}.parameters() is not [{order}]", hint)
    if facts["n_grads"] != len(names):
        return Verdict(
            False,
            f"{owner}.gradients() returned {facts['n_grads']} arrays, expected {len(names)} ({grad_order})",
            "gradients()[i] is the gradient of parameters()[i]: one gradient per parameter, in the same order.",
        )
    for index, name in enumerate(names):
        if not _same(facts[f"grad{index}"], facts[f"held_grad{index}"]):
            return Verdict(
                False,
                f"{owner}.gradients()[{index}] is not d{name}, the gradient backward stored",
                "gradients()[i] is the gradient of parameters()[i]: list them in the order of parameters() "
                f"({grad_order}).",
            )
    after = [facts.get(f"after{i}") for i in range(len(names))]
    if any(a is None for a in after) or not all(
        allclose(a, h - d) for a, h, d in zip(after, held, deltas)
    ):
        return Verdict(
            False,
            f"updating {owner}.parameters() in place (p -= step) did not change the layer's own parameters",
            "parameters() must return the layer's own arrays, not copies: optimizers update them in place "
            "(p -= lr * g), and the layer must see the change.",
        )
    return Verdict.ok()


def _same(received, expected) -> bool:
    received, expected = np.asarray(received), np.asarray(expected)
    return received.shape == expected.shape and np.array_equal(received, expected, equal_nan=True)


def _linear_contract_case() -> Case:
    case = _linear_case(430, 5, 3, 2)
    rng = np.random.default_rng(431)
    deltas = [0.1 * rng.standard_normal((3, 2)), 0.1 * rng.standard_normal(2)]
    return Case(case.label, {**case.inputs, "deltas": deltas}, batch_size=5)


def _run_linear_contract(impl, x):
    layer = _linear_layer(impl, x["W"], x["b"])

    def held_gradients():
        for name in ("dW", "db"):
            if getattr(layer, name, None) is None:
                raise ProbeError(f"after backward, Linear.{name} is not set: backward stores the gradients in "
                                 "self.dW and self.db")
        return [layer.dW, layer.db]

    return _parameter_contract_facts(layer, x["X"], x["dY"], x["deltas"], lambda: [layer.W, layer.b],
                                     held_gradients)


def _assess_linear_contract(facts, x) -> Verdict:
    return _parameter_contract_verdict(facts, x["deltas"], names=["W", "b"], owner="Linear")


# ---- inputs unchanged, for every layer


def _unchanged_check(id: str, owner: str, build: Callable, case: Case, parameters: tuple[str, ...] = (), **common):
    """forward must leave X unchanged, backward must leave dY (and the cached X) unchanged; Linear's
    forward and backward must not change W and b either (only an optimizer does). backward must not
    change the Y that forward returned either: Sigmoid and Tanh cache that very array, and
    ``Y = self.cache.Y; Y *= 1 - Y`` corrupts the caller's activations (and a second backward)."""

    def run(impl, x):
        layer = build(impl, x)
        # Leaving the inputs alone earns nothing when the results themselves are unusable.
        Y = layer.forward(x["X"])
        as_number_array(Y, "Y")
        facts = {"X/forward": x["X"].copy(), **{f"{p}/forward": x[p].copy() for p in parameters},
                 "Y after forward": np.array(Y, dtype=np.float64)}
        as_number_array(layer.backward(x["dY"]), "dX")
        facts.update({"X/backward": x["X"], "dY/backward": x["dY"], **{f"{p}/backward": x[p] for p in parameters},
                      "Y after backward": np.array(Y, dtype=np.float64)})
        return facts

    def assess(facts, inputs) -> Verdict:
        for key in ["X/forward", *(f"{p}/forward" for p in parameters), "X/backward", "dY/backward",
                    *(f"{p}/backward" for p in parameters)]:
            name, method = key.split("/")
            after = facts.get(key)
            if after is None or np.shape(after) != inputs[name].shape or not np.array_equal(after, inputs[name]):
                if name in parameters:
                    hint = f"forward and backward only read {name}; only an optimizer changes the parameters."
                elif method == "forward":
                    hint = ("build a new array (e.g. np.maximum(X, 0.0) or np.where(...)) instead of assigning into "
                            "X (X[X < 0] = 0, X *= ...): the caller still needs X.")
                elif name == "dY":
                    hint = ("compute dX as a new array (e.g. dY * mask or np.where(...)) instead of writing into "
                            "dY (dY[...] = 0, dY *= ...): the caller still owns dY.")
                else:
                    hint = "backward must not write into the X kept from forward (the caller's array)."
                argument = "its argument" if (name == "X") == (method == "forward") else "the array"
                return Verdict(False, f"{owner}.{method} changed {argument} {name} in place", hint)
        before, after = facts.get("Y after forward"), facts.get("Y after backward")
        if before is None or after is None or np.shape(before) != np.shape(after) or not np.array_equal(
                before, after, equal_nan=True):
            return Verdict(
                False, f"{owner}.backward changed the output Y of forward in place",
                "the Y that forward returned belongs to the caller (the next layer, a plot): in backward, "
                "build the derivative as a new array (e.g. Y * (1.0 - Y)) instead of updating the cached Y "
                "(Y *= ..., Y **= 2), which is that same array.",
            )
        return Verdict.ok()

    return PropertyCheck(id, run=run, assess=assess, case=case, **common)


# ============================================================================ activations


def _stable_sigmoid(X):
    E = np.exp(-np.abs(X))
    return np.where(X >= 0, 1.0 / (1.0 + E), E / (1.0 + E))


def _softmax(X, axis=1):
    E = np.exp(X - X.max(axis=axis, keepdims=True))
    return E / E.sum(axis=axis, keepdims=True)


def _gelu_parts(X):
    T = np.tanh(GELU_SCALE * (X + GELU_CUBIC * X**3))
    du = GELU_SCALE * (1.0 + 3.0 * GELU_CUBIC * X**2)
    return T, du


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _missing_dY(name):
    return KnownMistake(
        "dX",
        f"dX is the derivative of {name} alone: multiply it by dY (chain rule: dX = dY * f'(X)).",
        lambda x, e: e / x["dY"],
    )


SIGMOID_NAN = (
    "sigmoid returned inf or NaN for inputs near +-1000: np.exp overflows to inf beyond about 709 (and "
    "inf / inf is NaN). Write both forms with E = np.exp(-np.abs(X)), which lies in (0, 1]: "
    "1 / (1 + E) where X >= 0 and E / (1 + E) where X < 0."
)
TANH_NAN = (
    "tanh returned inf or NaN for inputs near +-1000: (e^x - e^-x) / (e^x + e^-x) overflows to inf / inf; "
    "use np.tanh, which is stable everywhere."
)
SOFTMAX_NAN = (
    "softmax returned inf or NaN for scores near +-1000: exp(1000) overflows to inf (inf / inf is NaN) and "
    "exp(-1000) underflows to 0 (0 / 0 is NaN). Subtract each row's own maximum first, "
    "X - X.max(axis=1, keepdims=True): softmax does not change, and every exp is at most 1."
)


def _nan_mistake(output: str, hint: str) -> KnownMistake:
    return KnownMistake(
        output, hint,
        explains=lambda received, expected, inputs: received.shape == expected.shape
        and not np.all(np.isfinite(received)),
    )


ACTIVATION_MISTAKES: dict[str, tuple[KnownMistake, ...]] = {
    "ReLU": (
        KnownMistake(
            "Y",
            "np.max(X, 0) is the largest entry of each column; np.maximum(X, 0.0) compares every element with 0.",
            lambda x, e: np.max(x["X"], axis=0),
        ),
        KnownMistake("Y", "ReLU keeps the positive entries and sets the negative ones to 0: max(x, 0).",
                     lambda x, e: np.minimum(x["X"], 0.0)),
        KnownMistake(
            "dX",
            "dX equals dY: ReLU passes the gradient only where the input was positive; set dX to 0 where X <= 0.",
            lambda x, e: x["dY"],
        ),
        _missing_dY("ReLU"),
    ),
    "LeakyReLU": (
        KnownMistake(
            "Y",
            "the negative side is missing: LeakyReLU gives negative_slope * x where x <= 0 (ReLU gives 0).",
            lambda x, e: np.maximum(x["X"], 0.0),
        ),
        KnownMistake(
            "Y",
            "the slope is on the wrong side: x where x > 0, negative_slope * x where x <= 0.",
            lambda x, e: np.where(x["X"] > 0, _slope(x) * x["X"], x["X"]),
        ),
        KnownMistake(
            "Y",
            "the negative slope is not the one the layer was built with: use self.negative_slope "
            "(default 0.01, as in torch).",
            explains=lambda r, e, x: r.shape == e.shape and np.allclose(r[x["X"] > 0], e[x["X"] > 0], rtol=1e-9)
            and not np.allclose(r, e, rtol=1e-9),
        ),
        KnownMistake(
            "dX",
            "this is ReLU's derivative: LeakyReLU's derivative is negative_slope (not 0) where x <= 0.",
            lambda x, e: np.where(x["X"] > 0, x["dY"], 0.0),
        ),
        _missing_dY("LeakyReLU"),
    ),
    "Sigmoid": (
        KnownMistake(
            "dX",
            "sigma'(x) = y * (1 - y) with y = sigma(x), the OUTPUT of the forward pass; this used the input x "
            "in its place (x * (1 - x)).",
            lambda x, e: x["dY"] * x["X"] * (1.0 - x["X"]),
        ),
        KnownMistake(
            "dX",
            "the factor (1 - y) is missing: sigma'(x) = y * (1 - y).",
            lambda x, e: x["dY"] * _stable_sigmoid(x["X"]),
        ),
        _missing_dY("sigmoid"),
        _nan_mistake("Y", SIGMOID_NAN),
        _nan_mistake("dX", SIGMOID_NAN),
    ),
    "Tanh": (
        KnownMistake(
            "dX",
            "tanh'(x) = 1 - y**2 with y = tanh(x), the OUTPUT of the forward pass; this squared the input x.",
            lambda x, e: x["dY"] * (1.0 - x["X"] ** 2),
        ),
        KnownMistake("dX", "square y: tanh'(x) = 1 - y**2, not 1 - y.",
                     lambda x, e: x["dY"] * (1.0 - np.tanh(x["X"]))),
        _missing_dY("tanh"),
        _nan_mistake("Y", TANH_NAN),
        _nan_mistake("dX", TANH_NAN),
    ),
    "GELU": (
        KnownMistake(
            "Y",
            "this is the exact GELU, x * Phi(x) with erf; this course uses the tanh approximation "
            "0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))) (torch's approximate='tanh').",
            lambda x, e: 0.5 * x["X"] * (1.0 + _erf(x["X"] / math.sqrt(2.0))),
        ),
        KnownMistake(
            "dX",
            "GELU's derivative is missing the term 0.5 * (1 + t): the product rule on 0.5 * x * (1 + t) gives "
            "two terms, d(0.5 x)/dx * (1 + t) and 0.5 * x * dt/dx.",
            lambda x, e: x["dY"] * 0.5 * x["X"] * (1.0 - _gelu_parts(x["X"])[0] ** 2) * _gelu_parts(x["X"])[1],
        ),
        KnownMistake(
            "dX",
            "GELU's derivative is missing the term 0.5 * x * (1 - t**2) * du/dx: the product rule on "
            "0.5 * x * (1 + t) gives two terms, and t = tanh(u(x)) depends on x too.",
            lambda x, e: x["dY"] * 0.5 * (1.0 + _gelu_parts(x["X"])[0]),
        ),
        KnownMistake(
            "dX",
            "the chain rule through u is missing (the lesson's \"usual mistake\"): t = tanh(u(x)), so "
            "dt/dx = (1 - t**2) * du/dx, and the second term needs the factor du/dx = "
            "sqrt(2/pi) * (1 + 3 * 0.044715 * x**2) (GELU_SCALE * (1 + 3 * GELU_CUBIC * x**2)).",
            lambda x, e: x["dY"] * _gelu_derivative(x["X"], du=1.0),
        ),
        KnownMistake(
            "dX",
            "du/dx is missing the cubic term's 3 * 0.044715 * x**2: du/dx = sqrt(2/pi) * (1 + 3 * 0.044715 * x**2).",
            lambda x, e: x["dY"] * _gelu_derivative(x["X"], du=GELU_SCALE),
        ),
        KnownMistake(
            "dX",
            "du/dx is missing the factor sqrt(2/pi): du/dx = sqrt(2/pi) * (1 + 3 * 0.044715 * x**2).",
            lambda x, e: x["dY"] * _gelu_derivative(x["X"], du=1.0 + 3.0 * GELU_CUBIC * x["X"] ** 2),
        ),
        _missing_dY("GELU"),
    ),
    "Softmax": (
        KnownMistake(
            "Y",
            "softmax was taken over the wrong axis: each row (each sample) is normalised over its own D scores, "
            "so use axis=1 with keepdims=True.",
            lambda x, e: _softmax(x["X"], axis=0),
        ),
        KnownMistake(
            "dX",
            "this is only the diagonal of the softmax Jacobian (y * (1 - y) * dY): every output of a row depends "
            "on every input of the row, so dX = Y * (dY - sum(dY * Y, axis=1, keepdims=True)).",
            lambda x, e: x["dY"] * _softmax(x["X"]) * (1.0 - _softmax(x["X"])),
        ),
        KnownMistake(
            "dX",
            "the sum in dX = Y * (dY - sum(dY * Y)) runs over each row: use axis=1 with keepdims=True.",
            lambda x, e: _softmax(x["X"]) * (x["dY"] - np.sum(x["dY"] * _softmax(x["X"]), axis=0, keepdims=True)),
        ),
        _nan_mistake("Y", SOFTMAX_NAN),
        _nan_mistake("dX", SOFTMAX_NAN),
    ),
}


def _slope(x) -> float:
    return 0.01 if x.get("negative_slope") is None else x["negative_slope"]


def _gelu_derivative(X, du):
    T = np.tanh(GELU_SCALE * (X + GELU_CUBIC * X**3))
    return 0.5 * (1.0 + T) + 0.5 * X * (1.0 - T * T) * du


def _activation_layer(impl, name: str, x):
    cls = _class(impl, name)
    if x.get("negative_slope") is not None:
        return cls(negative_slope=x["negative_slope"])
    return cls()


def _activation_calls(name: str):
    def forward(impl, x):
        return {"Y": _activation_layer(impl, name, x).forward(x["X"])}

    def backward(impl, x):
        layer = _activation_layer(impl, name, x)
        layer.forward(x["X"])
        return {"dX": layer.backward(x["dY"])}

    def both(impl, x):
        layer = _activation_layer(impl, name, x)
        Y = _snapshot(layer.forward(x["X"]))
        return {"Y": Y, "dX": layer.backward(x["dY"])}

    def gradient_problem(impl, x) -> GradientProblem:
        layer = _activation_layer(impl, name, x)
        R = x["dY"]
        layer.forward(x["X"])
        dX = _snapshot(layer.backward(R))
        return GradientProblem(lambda p: float(np.sum(layer.forward(p["X"]) * R)), {"X": x["X"]}, {"X": dX})

    return forward, backward, both, gradient_problem


NO_WARNING_ADVICE = {
    "Sigmoid": "np.exp(-x) overflows for x below about -709; compute with E = np.exp(-np.abs(X)), which never "
               "overflows (1 / (1 + E) where X >= 0, E / (1 + E) where X < 0).",
    "Tanh": "use np.tanh: written with exponentials, tanh overflows for |x| above about 709.",
    "Softmax": "subtract each row's maximum before np.exp (X - X.max(axis=1, keepdims=True)); then no exp "
               "can overflow and no row sums to 0.",
}


def _no_warnings_check(id: str, name: str, case: Case, **common) -> NoWarningsCheck:
    """Forward and backward at |x| = 1000: finite, and no overflow / invalid-value / division warning."""

    def call(impl, x):
        layer = _activation_layer(impl, name, x)
        return {"Y": layer.forward(x["X"]), "dX": layer.backward(x["dY"])}

    return NoWarningsCheck(
        id, call=call, subject=f"{name}.forward / backward for inputs near +-1000",
        advice=NO_WARNING_ADVICE[name], case=case, **common,
    )


# ---- the kink at exactly 0: a documented convention, graded on its own


def _kink_case(seed: int, **extra) -> Case:
    """Inputs of which about a third are exactly 0.0 or -0.0; the rest are at least 0.1 away from 0."""
    rng = np.random.default_rng(seed)
    X = 2.0 * rng.standard_normal((8, 5))
    X = np.sign(X) * (0.1 + np.abs(X))
    zero = rng.random(X.shape) < 0.35
    zero[0, 0] = zero[1, 1] = True  # at least one 0.0 and one -0.0
    X[zero] = 0.0
    X[1, 1] = -0.0
    label = "N=8, D=5, some inputs exactly 0" + "".join(f", {key}={value}" for key, value in extra.items())
    return Case(label, {"X": X, "dY": rng.standard_normal(X.shape), **extra}, batch_size=8)


#: the derivative each kinked layer uses at exactly x = 0 (the module's docstrings; torch does the same)
KINK_CONVENTION = {
    "ReLU": ("0", "the mask is X > 0, not X >= 0"),
    "LeakyReLU": ("negative_slope", "test X > 0 (not X >= 0), so that x = 0 takes the negative side"),
}


def _kink_derivative(name: str, x) -> np.ndarray:
    """f'(x) elementwise with the course's value at 0 (0 for ReLU, negative_slope for LeakyReLU)."""
    low = 0.0 if name == "ReLU" else _slope(x)
    return np.where(x["X"] > 0, 1.0, low)


def _at_zero_check(part: str, name: str, seed: int) -> PropertyCheck:
    """backward at inputs exactly 0: only the entries at the kink are judged here (the others are the
    backward check's business), so a student who picked the other side of the kink loses exactly this."""

    def run(impl, x):
        layer = _activation_layer(impl, name, x)
        layer.forward(x["X"])
        return {"dX": as_number_array(layer.backward(x["dY"]), "dX")}

    def assess(facts, x) -> Verdict:
        value, advice = KINK_CONVENTION[name]
        dX, dY = np.asarray(facts.get("dX")), x["dY"]
        expected = dY * _kink_derivative(name, x)
        if dX.shape != expected.shape:
            return Verdict(False, f"{name}.backward returned dX of shape {dX.shape}, expected {expected.shape}")
        zero = x["X"] == 0
        if allclose(dX[zero], expected[zero]):
            return Verdict.ok()
        message = (f"{name}.backward is wrong where the input is exactly 0 ({int(zero.sum())} of {zero.size} "
                   f"entries); this course uses the derivative {value} at the kink x = 0, as torch does")
        if not allclose(dX[~zero], expected[~zero]):
            hint = f"dX is wrong away from 0 too: fix mlp.{part}.backward first."
        elif allclose(dX[zero], dY[zero]):
            hint = f"at x = 0 your derivative is 1; {name}'s is {value} there: {advice}."
        else:
            hint = f"at x = 0 use the derivative {value}: {advice}."
        return Verdict(False, message, hint)

    return PropertyCheck(f"mlp.{part}.at_zero", description=f"{name}.backward uses the derivative "
                         f"{KINK_CONVENTION[name][0]} at inputs exactly 0 (the kink), as torch does", points=1,
                         run=run, assess=assess, case=_kink_case(seed))


def _activation_checks(part: str, name: str, seed: int, *, kink: bool = False, extreme: Case | None = None,
                       slope_cases: bool = False) -> list:
    forward, backward, both, gradient_problem = _activation_calls(name)
    mistakes = ACTIVATION_MISTAKES[name]

    def case(index, shape, base, **extra):
        return _activation_case(base + index, *shape, away_from_zero=kink, **extra)

    public = [case(i, shape, seed) for i, shape in enumerate(ACTIVATION_SHAPES)]
    checks = [
        ReferenceCheck(f"mlp.{part}.forward", description=f"{name}.forward on several shapes", points=1,
                       call=forward, cases=public, known_mistakes=mistakes),
        ReferenceCheck(f"mlp.{part}.backward", description=f"{name}.backward returns dX = dY * f'(X)"
                       if name != "Softmax" else "Softmax.backward applies each row's Jacobian to dY",
                       points=1, call=backward, cases=public, known_mistakes=mistakes),
        GradientCheck(f"mlp.{part}.gradcheck",
                      description=f"{name}.backward is the derivative of {name}.forward (finite differences)",
                      points=1, build=gradient_problem, cases=[public[0], public[3]],
                      requires=(f"mlp.{part}.forward",)),
        _unchanged_check(f"mlp.{part}.unchanged", name, lambda impl, x: _activation_layer(impl, name, x),
                         public[0], description=f"{name}.forward and backward leave X, dY and forward's output unchanged",
                         points=1),
    ]
    if kink:
        checks.append(_at_zero_check(part, name, seed + 10))
    if slope_cases:  # the layer's own negative_slope, not a hard-coded 0.01: its own check
        checks.append(ReferenceCheck(
            f"mlp.{part}.slope", description=f"{name}(negative_slope=0.2) uses its own slope, forward and backward",
            points=1, call=both, cases=[case(len(public), (6, 4), seed, negative_slope=0.2)],
            known_mistakes=mistakes,
        ))
    if extreme is not None:
        checks += [
            ReferenceCheck(f"mlp.{part}.extreme", description=f"{name} forward and backward are exact at |x| = 1000",
                           points=1, call=both, cases=[extreme], known_mistakes=mistakes),
            _no_warnings_check(f"mlp.{part}.no_warnings", name, extreme, points=1,
                               description=f"{name} raises no overflow warning at |x| = 1000"),
        ]
    return checks


# ============================================================================ containers: trusted stand-in layers


class _TanhAffine:
    """A trusted stand-in layer for checking containers: ``Y = tanh(X @ W + b)``, with parameters.

    Container checks (Sequential, Residual) run the student's container around these, so they grade
    the container alone, whatever the state of the student's own layers."""

    def __init__(self, W: np.ndarray, b: np.ndarray):
        self.W, self.b = W, b
        self.dW, self.db = np.full(W.shape, np.nan), np.full(b.shape, np.nan)
        self._X = self._Y = None

    def forward(self, X):
        self._X = np.array(X, dtype=np.float64)
        self._Y = np.tanh(self._X @ self.W + self.b)
        return self._Y.copy()

    def backward(self, dY):
        dZ = np.asarray(dY, dtype=np.float64) * (1.0 - self._Y**2)
        self.dW, self.db = self._X.T @ dZ, dZ.sum(axis=0)
        return dZ @ self.W.T

    def parameters(self):
        return [self.W, self.b]

    def gradients(self):
        return [self.dW, self.db]


class _HalfSquare:
    """A trusted stand-in layer without parameters: ``Y = X * X / 2``, ``dX = dY * X``."""

    def __init__(self):
        self._X = None

    def forward(self, X):
        self._X = np.array(X, dtype=np.float64)
        return 0.5 * self._X * self._X

    def backward(self, dY):
        return np.asarray(dY, dtype=np.float64) * self._X

    def parameters(self):
        return []

    def gradients(self):
        return []


#: The stand-in stack of the Sequential checks: square layers (D -> D), so that a wrong order of the
#: backward pass still runs and can be recognised by its values.
SEQUENCE = ("affine", "square", "affine", "affine")


@case_builder
def _sequence_case(seed: int, n: int, d: int) -> Case:
    rng = case_rng(seed)
    weights = [0.8 * rng.standard_normal((d, d)) for kind in SEQUENCE if kind == "affine"]
    biases = [0.5 * rng.standard_normal(d) for kind in SEQUENCE if kind == "affine"]
    inputs = {"X": rng.standard_normal((n, d)), "dY": rng.standard_normal((n, d)), "weights": weights,
              "biases": biases}
    return Case(f"N={n}, D={d}, layers tanh-affine, x*x/2, tanh-affine, tanh-affine", inputs, batch_size=n)


def _stand_in_layers(x) -> list:
    layers, affine = [], iter(zip(x["weights"], x["biases"]))
    for kind in SEQUENCE:
        layers.append(_TanhAffine(*next(affine)) if kind == "affine" else _HalfSquare())
    return layers


def _student_sequential(impl, layers):
    return _class(impl, "Sequential")(*layers)


def _call_sequential_forward(impl, x):
    return {"Y": _student_sequential(impl, _stand_in_layers(x)).forward(x["X"])}


def _call_sequential_backward(impl, x):
    layers = _stand_in_layers(x)
    model = _student_sequential(impl, layers)
    model.forward(x["X"])
    outputs = {"dX": model.backward(x["dY"])}
    for index, layer in enumerate(layers):
        if isinstance(layer, _TanhAffine):
            outputs[f"dW{index + 1}"], outputs[f"db{index + 1}"] = layer.dW, layer.db
    return outputs


def _call_sequential_both(impl, x):
    model = _student_sequential(impl, _stand_in_layers(x))
    Y = _snapshot(model.forward(x["X"]))
    return {"Y": Y, "dX": model.backward(x["dY"])}


def _sequential_gradient_problem(impl, x) -> GradientProblem:
    """Variables: X and every stand-in layer's W and b. The analytic gradients are the student's dX
    and what the stand-in layers computed from the dY the student's Sequential handed them."""
    layers = _stand_in_layers(x)
    model = _student_sequential(impl, layers)
    R = x["dY"]
    model.forward(x["X"])
    analytic = {"X": _snapshot(model.backward(R))}
    affine = [layer for layer in layers if isinstance(layer, _TanhAffine)]
    params = {"X": x["X"]}
    for index, layer in enumerate(affine):
        params[f"W{index + 1}"], params[f"b{index + 1}"] = layer.W, layer.b
        analytic[f"W{index + 1}"], analytic[f"b{index + 1}"] = layer.dW.copy(), layer.db.copy()

    def objective(p):
        for index, layer in enumerate(affine):
            layer.W, layer.b = p[f"W{index + 1}"], p[f"b{index + 1}"]
        return float(np.sum(model.forward(p["X"]) * R))

    return GradientProblem(objective, params, analytic)


def _trusted_forward(layers, X):
    for layer in layers:
        X = layer.forward(X)
    return X


def _backward_in_forward_order(x, expected):
    layers = _stand_in_layers(x)
    _trusted_forward(layers, x["X"])
    dY = x["dY"]
    for layer in layers:
        dY = layer.backward(dY)
    return dY


def _first_layer_gets_dY(x, expected):
    layers = _stand_in_layers(x)
    _trusted_forward(layers, x["X"])
    return layers[0].backward(x["dY"])


SEQUENTIAL_MISTAKES = (
    KnownMistake(
        "Y", "forward returns after the first layer: move the return after the loop over the layers.",
        lambda x, e: _stand_in_layers(x)[0].forward(x["X"]),
    ),
    KnownMistake(
        "Y", "every layer was applied to the original X: feed each layer's output to the next (X = layer.forward(X)).",
        lambda x, e: _stand_in_layers(x)[-1].forward(x["X"]),
    ),
    KnownMistake(
        "dX",
        "backward visits the layers in forward order: the chain rule starts at the last layer, so loop over "
        "reversed(self.layers).",
        _backward_in_forward_order,
    ),
    KnownMistake(
        "dX",
        "every layer's backward got the original dY: pass each layer's result on to the layer before it "
        "(dY = layer.backward(dY)).",
        _first_layer_gets_dY,
    ),
)


def _sequential_contract_case() -> Case:
    case = _sequence_case(530, 5, 3)
    rng = np.random.default_rng(531)
    deltas = [0.1 * rng.standard_normal(np.shape(p)) for W, b in zip(case.inputs["weights"], case.inputs["biases"])
              for p in (W, b)]
    return Case(case.label, {**case.inputs, "deltas": deltas}, batch_size=5)


def _run_sequential_contract(impl, x):
    layers = _stand_in_layers(x)
    model = _student_sequential(impl, layers)
    return _parameter_contract_facts(
        model, x["X"], x["dY"], x["deltas"],
        lambda: [p for layer in layers for p in layer.parameters()],
        lambda: [g for layer in layers for g in layer.gradients()],
    )


def _layer_parameter_names(n_affine: int) -> list[str]:
    return [name for i in range(1, n_affine + 1) for name in (f"W{i}", f"b{i}")]


def _assess_sequential_contract(facts, x) -> Verdict:
    return _parameter_contract_verdict(facts, x["deltas"], names=_layer_parameter_names(len(x["weights"])),
                                       owner="Sequential")


# ---- Sequential backward equals the chain of its (the student's) layers

CHAIN_SIZES = (4, 6, 6, 3)


def _chain_case(seed: int) -> Case:
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((a, b)) / math.sqrt(a) for a, b in zip(CHAIN_SIZES[:-1], CHAIN_SIZES[1:])]
    biases = [0.5 * rng.standard_normal(b) for b in CHAIN_SIZES[1:]]
    inputs = {"X": rng.standard_normal((7, CHAIN_SIZES[0])), "dY": rng.standard_normal((7, CHAIN_SIZES[-1])),
              "weights": weights, "biases": biases}
    return Case("Linear(4, 6), Tanh, Linear(6, 6), ReLU, Linear(6, 3); N=7", inputs, batch_size=7)


def _student_chain_layers(impl, x) -> list:
    linears = [_linear_layer(impl, W.copy(), b.copy()) for W, b in zip(x["weights"], x["biases"])]
    return [linears[0], _class(impl, "Tanh")(), linears[1], _class(impl, "ReLU")(), linears[2]]


def _run_chain(impl, x):
    model = _student_sequential(impl, _student_chain_layers(impl, x))
    facts = {"sequential/Y": _snapshot(model.forward(x["X"])), "sequential/dX": _snapshot(model.backward(x["dY"]))}
    facts.update({f"sequential/grad{i}": g.copy() for i, g in enumerate(_array_list(model.gradients(), "gradients()"))})
    layers = _student_chain_layers(impl, x)
    H = x["X"]
    for layer in layers:
        H = layer.forward(H)
    facts["layers/Y"] = _snapshot(H)
    G = x["dY"]
    for layer in reversed(layers):
        G = layer.backward(G)
    facts["layers/dX"] = _snapshot(G)
    grads = [g for layer in layers for g in _array_list(layer.gradients(), f"{type(layer).__name__}.gradients()")]
    facts.update({f"layers/grad{i}": g.copy() for i, g in enumerate(grads)})
    return facts


def _assess_chain(facts, x) -> Verdict:
    for name in ["Y", "dX", *(f"grad{i}" for i in range(2 * len(x["weights"])))]:
        chain, sequential = facts.get(f"layers/{name}"), facts.get(f"sequential/{name}")
        if sequential is None or chain is None:
            return Verdict(False, f"Sequential.gradients() has no entry {name[4:]}; the layers' lists give "
                           f"{2 * len(x['weights'])} gradients",
                           "concatenate the layers' gradients() in layer order.")
        comparison = compare(sequential, chain)
        if not comparison.matches:
            what = {"Y": "forward output", "dX": "dX"}.get(name, f"gradients()[{name[4:]}]")
            return Verdict(
                False,
                f"Sequential's {what} differs from running your layers one by one",
                "Sequential.forward applies the layers in order; Sequential.backward calls their backward in "
                "reverse order, feeding each result to the layer before.",
            )
    return Verdict.ok()


# ============================================================================ MLP


@case_builder
def _network_case(seed: int, sizes: tuple[int, ...], activation: str, n: int) -> Case:
    rng = case_rng(seed)
    weights = [rng.standard_normal((a, b)) / math.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [0.3 * rng.standard_normal(b) for b in sizes[1:]]
    inputs = {"sizes": list(sizes), "activation": activation, "X": rng.standard_normal((n, sizes[0])),
              "dY": rng.standard_normal((n, sizes[-1])), "weights": weights, "biases": biases}
    return Case(f"MLP({list(sizes)}, {activation!r}), N={n}", inputs, batch_size=n)


def _student_mlp(impl, x):
    model = _class(impl, "MLP")(list(x["sizes"]), x["activation"], np.random.default_rng(0))
    linears = [layer for layer in getattr(model, "layers", []) if type(layer).__name__ == "Linear"]
    if len(linears) != len(x["weights"]):
        raise ProbeError(
            f"MLP({list(x['sizes'])}, ...) should hold {len(x['weights'])} Linear layers in model.layers, "
            f"found {len(linears)}"
        )
    for layer, W, b in zip(linears, x["weights"], x["biases"]):
        layer.W, layer.b = W, b
    return model, linears


def _call_network(impl, x):
    model, _ = _student_mlp(impl, x)
    outputs = {"Y": _snapshot(model.forward(x["X"])), "dX": _snapshot(model.backward(x["dY"]))}
    for index, gradient in enumerate(_array_list(model.gradients(), "MLP.gradients()")):
        outputs[f"gradients()[{index}]"] = gradient
    return outputs


def _network_gradient_problem(impl, x) -> GradientProblem:
    model, linears = _student_mlp(impl, x)
    R = x["dY"]
    model.forward(x["X"])
    analytic = {"X": _snapshot(model.backward(R))}
    gradients = _array_list(model.gradients(), "MLP.gradients()")
    params = {"X": x["X"]}
    for index, (W, b) in enumerate(zip(x["weights"], x["biases"])):
        params[f"W{index + 1}"], params[f"b{index + 1}"] = W, b
    names = list(params)[1:]
    if len(gradients) != len(names):
        raise ProbeError(
            f"MLP.gradients() returned {len(gradients)} arrays, expected {len(names)} ({', '.join(names)})"
        )
    analytic.update({name: g.copy() for name, g in zip(names, gradients)})

    def objective(p):
        for index, layer in enumerate(linears):
            layer.W, layer.b = p[f"W{index + 1}"], p[f"b{index + 1}"]
        return float(np.sum(model.forward(p["X"]) * R))

    return GradientProblem(objective, params, analytic)


STRUCTURE_SIZES = (3, 5, 4, 2)


def _run_structure(impl, x):
    MLP = _class(impl, "MLP")
    model = MLP(list(STRUCTURE_SIZES), "tanh", np.random.default_rng(x["seed"]))
    layers = getattr(model, "layers", None)
    if not isinstance(layers, list):
        raise ProbeError("MLP should keep its layers in the list model.layers (set by Sequential.__init__)")
    facts: dict[str, Any] = {"n_layers": len(layers)}
    facts.update({f"layer{i}": type(layer).__name__ for i, layer in enumerate(layers)})
    params = _array_list(model.parameters(), "MLP.parameters()")
    facts["n_params"] = len(params)
    facts.update({f"shape{i}": np.array(p.shape, dtype=np.int64) for i, p in enumerate(params)})
    # init is passed on: the first layer's W of a wide Xavier MLP has Xavier's spread, not He's
    wide = MLP([400, 300, 10], "relu", np.random.default_rng(x["seed"]), init="xavier")
    first = next((layer for layer in getattr(wide, "layers", []) if type(layer).__name__ == "Linear"), None)
    if first is not None:
        facts["xavier_W1_std"] = float(np.std(as_number_array(first.W, "W")))
    return facts


def _assess_structure(facts, x) -> Verdict:
    expected = ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    received = [str(facts.get(f"layer{i}")) for i in range(int(facts["n_layers"]))]
    call = f"MLP({list(STRUCTURE_SIZES)}, 'tanh', rng)"
    if received != expected:
        if received == expected + ["Tanh"]:
            hint = ("no activation after the last Linear: the MLP's outputs are its predictions (the note's "
                    "logits), which the loss takes as they are.")
        elif [name for name in received if name != "Linear"] == []:
            hint = ("the activations are missing: without them the whole stack collapses to one linear layer "
                    "(see collapse_linear_layers); put ACTIVATIONS[activation]() between consecutive Linears.")
        elif received == ["Tanh", "Linear", "Tanh", "Linear", "Tanh", "Linear"]:
            hint = "the first layer is the first Linear: the activation comes after a Linear, not before it."
        else:
            hint = "one Linear per pair of consecutive sizes, with ACTIVATIONS[activation]() between two Linears."
        return Verdict(False, f"{call} holds the layers [{', '.join(received)}], expected [{', '.join(expected)}]",
                       hint)
    shapes = [tuple(int(s) for s in np.asarray(facts.get(f"shape{i}", []))) for i in range(int(facts["n_params"]))]
    wanted = [s for a, b in zip(STRUCTURE_SIZES[:-1], STRUCTURE_SIZES[1:]) for s in ((a, b), (b,))]
    if shapes != wanted:
        return Verdict(False, f"{call}.parameters() has shapes {shapes}, expected {wanted}",
                       "the Linear layers map sizes[i] to sizes[i + 1], and parameters() lists W, b of each, in order.")
    xavier, he = math.sqrt(2.0 / 700), math.sqrt(2.0 / 400)
    measured = float(facts.get("xavier_W1_std", float("nan")))
    if not abs(measured / xavier - 1.0) <= STD_TOLERANCE:  # (nan: no Linear layer found)
        hint = ("pass init on to every Linear layer: MLP(..., init='xavier') built He-initialised layers."
                if abs(measured / he - 1.0) <= STD_TOLERANCE else "pass init on to every Linear layer.")
        return Verdict(False, f"MLP([400, 300, 10], 'relu', rng, init='xavier'): the first W has standard deviation "
                       f"{measured:.4g}, expected {xavier:.4g}", hint)
    return Verdict.ok()


# ============================================================================ Residual


@case_builder
def _residual_case(seed: int, n: int, d: int) -> Case:
    rng = case_rng(seed)
    inputs = {"X": rng.standard_normal((n, d)), "dY": rng.standard_normal((n, d)),
              "W": 0.7 * rng.standard_normal((d, d)), "b": 0.5 * rng.standard_normal(d)}
    return Case(f"N={n}, D={d}, f = tanh(X @ W + b)", inputs, batch_size=n)


def _student_residual(impl, x):
    inner = _TanhAffine(x["W"], x["b"])
    return _class(impl, "Residual")(inner), inner


def _call_residual(impl, x):
    block, inner = _student_residual(impl, x)
    Y = _snapshot(block.forward(x["X"]))
    dX = block.backward(x["dY"])
    return {"Y": Y, "dX": dX, "dW of f": inner.dW, "db of f": inner.db}


def _inner_forward(x):
    return np.tanh(x["X"] @ x["W"] + x["b"])


def _inner_dX(x):
    return (x["dY"] * (1.0 - _inner_forward(x) ** 2)) @ x["W"].T


RESIDUAL_MISTAKES = (
    KnownMistake("Y", "the skip connection is missing: Residual(f)(X) = X + f(X).", lambda x, e: _inner_forward(x)),
    KnownMistake("Y", "the block returns X + X + f(X)? It is X + f(X): add the input once.",
                 lambda x, e: 2.0 * x["X"] + _inner_forward(x)),
    KnownMistake(
        "dX",
        "the skip path's gradient is missing: X reaches the output both directly and through f, so "
        "dX = dY + f.backward(dY).",
        lambda x, e: _inner_dX(x),
    ),
    KnownMistake(
        "dX",
        "f's gradient is missing: dX = dY + f.backward(dY), and f.backward also fills f's parameter gradients.",
        lambda x, e: x["dY"],
    ),
)


def _residual_gradient_problem(impl, x) -> GradientProblem:
    block, inner = _student_residual(impl, x)
    R = x["dY"]
    block.forward(x["X"])
    dX = _snapshot(block.backward(R))
    grads = _array_list(block.gradients(), "Residual.gradients()")
    if len(grads) != 2:
        raise ProbeError(f"Residual.gradients() returned {len(grads)} arrays; f has 2 parameters (W, b)")

    def objective(p):
        inner.W, inner.b = p["W"], p["b"]
        return float(np.sum(block.forward(p["X"]) * R))

    return GradientProblem(objective, {"X": x["X"], "W": x["W"], "b": x["b"]},
                           {"X": dX, "W": grads[0].copy(), "b": grads[1].copy()})


def _residual_contract_case() -> Case:
    case = _residual_case(630, 5, 3)
    rng = np.random.default_rng(631)
    return Case(case.label, {**case.inputs, "deltas": [0.1 * rng.standard_normal((3, 3)),
                                                        0.1 * rng.standard_normal(3)]}, batch_size=5)


def _run_residual_contract(impl, x):
    block, inner = _student_residual(impl, x)
    return _parameter_contract_facts(block, x["X"], x["dY"], x["deltas"], inner.parameters, inner.gradients)


def _assess_residual_contract(facts, x) -> Verdict:
    return _parameter_contract_verdict(facts, x["deltas"], names=["W", "b"], owner="Residual")


# ============================================================================ exercise: a stack of linear layers


@case_builder
def _stack_case(seed: int, sizes: tuple[int, ...], n: int = 6) -> Case:
    rng = case_rng(seed)
    weights = [rng.standard_normal((a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal(b) for b in sizes[1:]]
    label = "Sequential of Linear layers " + " -> ".join(str(s) for s in sizes)
    return Case(label, {"weights": weights, "biases": biases, "X": rng.standard_normal((n, sizes[0]))})


def _student_stack(impl, x):
    layers = [_linear_layer(impl, W, b) for W, b in zip(x["weights"], x["biases"])]
    return _student_sequential(impl, layers)


def _collapsed(impl, model):
    layer = _class(impl, "collapse_linear_layers")(model)
    if layer is None:
        raise ProbeError("collapse_linear_layers returned None: is a return statement missing?")
    for name in ("W", "b", "forward"):
        if not hasattr(layer, name):
            raise ProbeError(f"collapse_linear_layers should return a Linear layer; what it returned has no {name!r}")
    return layer


def _call_collapse(impl, x):
    layer = _collapsed(impl, _student_stack(impl, x))
    return {"W": layer.W, "b": layer.b}


def _run_collapse_equivalence(impl, x):
    model = _student_stack(impl, x)
    facts = {"stack/Y": _snapshot(model.forward(x["X"]))}
    layer = _collapsed(impl, model)
    facts["single/Y"] = _snapshot(layer.forward(x["X"]))
    for index, layer_i in enumerate(model.layers):
        facts[f"W{index + 1}"], facts[f"b{index + 1}"] = layer_i.W, layer_i.b
    return facts


def _assess_collapse_equivalence(facts, x) -> Verdict:
    stacked = x["X"]
    for W, b in zip(x["weights"], x["biases"]):
        stacked = stacked @ W + b
    if not allclose(facts["stack/Y"], stacked):
        return Verdict(False, "your Sequential of Linear layers does not compute the stack of X @ W + b",
                       "fix Sequential.forward and Linear.forward first.")
    for index, (W, b) in enumerate(zip(x["weights"], x["biases"])):
        for name, original in ((f"W{index + 1}", W), (f"b{index + 1}", b)):
            if not np.array_equal(np.asarray(facts[name]), original):
                return Verdict(
                    False, f"collapse_linear_layers changed the model's parameter {name} in place",
                    "build new arrays (W = W @ layer.W, b = b @ layer.W + layer.b) instead of updating a layer's "
                    "own W or b with @=, +=, or index assignment.",
                )
    comparison = compare(facts["single/Y"], stacked)
    if comparison.matches:
        return Verdict.ok()
    detail = (f"expected shape {comparison.expected_shape}, got {comparison.received_shape}",) if not \
        comparison.shape_matches else (
        f"largest difference at output {list(comparison.worst_index)}: the layers give "
        f"{comparison.worst_expected:.6g}, the collapsed layer gives {comparison.worst_received:.6g}",)
    return Verdict(False, "the collapsed layer's forward differs from the Sequential of Linear layers",
                   "fold the layers in one at a time: (X @ W + b) @ W_l + b_l = X @ (W @ W_l) + (b @ W_l + b_l).",
                   detail)


def _run_collapse_rejects(impl, x):
    linears = [_linear_layer(impl, W, b) for W, b in zip(x["weights"], x["biases"])]
    model = _student_sequential(impl, [linears[0], _class(impl, "ReLU")(), linears[1]])
    collapse = _class(impl, "collapse_linear_layers")
    try:
        collapse(model)
    except NotImplementedError:
        raise
    except Exception as error:
        if getattr(error, "is_forbidden_use", False):  # a banned import or call is the sandbox's verdict
            raise  # the type is the fact; the parent decides whether it is the right one
        return {"raised": type(error).__name__}
    return {"raised": ""}


def _assess_collapse_rejects(facts, x) -> Verdict:
    raised = str(facts.get("raised") or "")
    if raised == "TypeError":
        return Verdict.ok()
    what = f"raised {raised}" if raised else "returned a layer"
    return Verdict(
        False,
        f"for Sequential(Linear, ReLU, Linear), collapse_linear_layers {what} instead of raising TypeError",
        "check every layer with isinstance(layer, Linear) and raise TypeError otherwise: an activation between "
        "the layers cannot be folded in, which is exactly why MLPs have activations (비선형성 추가 이유).",
    )


# The same two mistakes as Unit 1's collapse_linear_stack, on the same input names.
COLLAPSE_MISTAKES = linear.COLLAPSE_MISTAKES


# ============================================================================ exercises: training


UNIVERSAL_HIDDEN = 32
UNIVERSAL_LR = 0.05
UNIVERSAL_STEPS = 1500
UNIVERSAL_POINTS = 64
#: target MSE per function; the reference reaches at most 0.0047 (sin) and 0.0082 (bumpy) over 20 seeds
UNIVERSAL_TARGETS = {"sin": 0.01, "bumpy": 0.02}


def _bumpy(x):
    return np.sin(x) + 0.5 * np.sin(2.0 * x)


def _curve(function_name: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.linspace(-np.pi, np.pi, UNIVERSAL_POINTS).reshape(-1, 1)
    return X, (np.sin(X) if function_name == "sin" else _bumpy(X))


def _universal_case(function_name: str, seed: int) -> Case:
    X, Y = _curve(function_name)
    return Case(f"{function_name}(x) on [-pi, pi], {UNIVERSAL_POINTS} points",
                {"X": X, "Y": Y, "seed": seed, "function": function_name}, batch_size=UNIVERSAL_POINTS)


def _run_universal(impl, x):
    model = _class(impl, "MLP")([1, UNIVERSAL_HIDDEN, 1], "tanh", np.random.default_rng(x["seed"]), init="xavier")
    losses = _class(impl, "train_mse")(model, x["X"], x["Y"], UNIVERSAL_LR, UNIVERSAL_STEPS)
    return {"losses": as_number_array(losses, "losses").astype(np.float64).reshape(-1),
            "Y_hat": as_number_array(model.forward(x["X"]), "Y_hat")}


def _curve_hint(losses: np.ndarray, not_far_enough: str) -> str:
    if losses.size and not np.all(np.isfinite(losses)):
        return "the loss became inf or NaN: check the gradient checks of the layers first."
    if losses.size > 1 and np.allclose(losses, losses[0]):
        return ("the loss never changes: train_mse updates model.parameters() in place with model.gradients(), "
                "so parameters() must return the live arrays and gradients() must be up to date after backward.")
    if losses.size > 1 and losses[-1] > losses[0]:
        return "the loss grows: check the signs of your backward passes (the gradient checks of each layer)."
    return "the loss goes down, but not far enough: " + not_far_enough


UNIVERSAL_ADVICE = ("check the gradient checks of Linear and Tanh, and that MLP passes init on to its Linear "
                    "layers (mlp.network.structure).")
DEPTH_ADVICE = "check Residual (dX = dY + f.backward(dY)) and the gradient checks of Linear and Sigmoid."


def _prediction_mse(facts, Y) -> float | None:
    Y_hat = np.asarray(facts.get("Y_hat"))
    if Y_hat.shape != Y.shape or not np.all(np.isfinite(Y_hat)):
        return None
    return float(np.sum((Y_hat - Y) ** 2) / Y.shape[0])


def _assess_universal(facts, x) -> Verdict:
    target = UNIVERSAL_TARGETS[x["function"]]
    losses = np.asarray(facts.get("losses"), dtype=np.float64).reshape(-1)
    error = _prediction_mse(facts, x["Y"])
    setup = (f"MLP([1, {UNIVERSAL_HIDDEN}, 1], 'tanh', init='xavier') after {UNIVERSAL_STEPS} steps of train_mse "
             f"with lr={UNIVERSAL_LR}")
    if error is None:
        return Verdict(False, f"{setup}: the predictions are not finite, or not of shape {x['Y'].shape}",
                       _curve_hint(losses, UNIVERSAL_ADVICE))
    if error < target:
        return Verdict.ok(f"MSE {error:.3g} < {target}")
    return Verdict(
        False, f"{setup}: MSE {error:.3g}, the target is below {target}", _curve_hint(losses, UNIVERSAL_ADVICE),
        ("run `autograder check mlp.universal --plots DIR` to see the loss curve",),
    )


DEPTH = 20
DEPTH_WIDTH = 16
DEPTH_LR = 0.05
DEPTH_STEPS = 300
#: As fractions of the variance of the targets (the MSE of the best constant prediction). Over 300
#: seeds, and three ways of drawing W (the reference's, transposed, uniform with the same variance),
#: the residual network ends at most at 0.079 (median 0.009) and the plain one never below 0.9999.
RESIDUAL_TARGET = 0.25
PLAIN_STALLED = 0.9
#: How far the residual network's first Linear layer must move in training, ||W1 - W1_start|| /
#: ||W1_start||. The point of the exercise is that the skip path's "+ dY" carries the gradient past
#: the 20 blocks to the early layers. Over 40 seeds and three ways of drawing W (the reference's,
#: transposed, uniform of the same variance), a correct Residual moves W1 by at least 0.013; without the "+ dY" in Residual.backward it moves by at most 5e-14
#: (the later blocks still fit sin(x) through the forward skip path: MSE up to 0.12 x Var(y), so the
#: loss alone cannot tell), and the plain network's by at most 4e-10.
FIRST_LAYER_MOVED = 1e-4


def _depth_case(seed: int) -> Case:
    X, Y = _curve("sin")
    return Case(f"sin(x), depth {DEPTH}, width {DEPTH_WIDTH}", {"X": X, "Y": Y, "seed": seed},
                batch_size=UNIVERSAL_POINTS)


def _run_depth(impl, x):
    deep_mlp, train = _class(impl, "deep_mlp"), _class(impl, "train_mse")
    facts = {}
    for name, residual in (("plain", False), ("residual", True)):
        model = deep_mlp(1, DEPTH_WIDTH, DEPTH, 1, "sigmoid", np.random.default_rng(x["seed"]), residual=residual)
        # the first layer's W (parameters() lists the first layer first): did the gradient reach it?
        facts[f"{name}/W1_start"] = _array_list(model.parameters(), "parameters()")[0].copy()
        losses = train(model, x["X"], x["Y"], DEPTH_LR, DEPTH_STEPS)
        facts[f"{name}/W1_end"] = _array_list(model.parameters(), "parameters()")[0].copy()
        facts[f"{name}_losses"] = as_number_array(losses, "losses").astype(np.float64).reshape(-1)
        facts[f"{name}/Y_hat"] = as_number_array(model.forward(x["X"]), "Y_hat")
    return facts


def _first_layer_moved(facts, name: str) -> float:
    """||W1_end - W1_start|| / ||W1_start|| of one network's first Linear layer; nan when unusable."""
    start, end = np.asarray(facts.get(f"{name}/W1_start")), np.asarray(facts.get(f"{name}/W1_end"))
    if start.shape != end.shape or start.size == 0 or not np.all(np.isfinite(end)):
        return float("nan")
    size = float(np.linalg.norm(start))
    return float(np.linalg.norm(end - start)) / size if size > 0 else float("nan")


def _assess_depth(facts, x) -> Verdict:
    variance = float(np.var(x["Y"]))
    curves = {name: tuple(float(v) for v in np.asarray(facts[f"{name}_losses"]).reshape(-1))
              for name in ("plain", "residual")}
    errors = {name: _prediction_mse({"Y_hat": facts.get(f"{name}/Y_hat")}, x["Y"]) for name in ("plain", "residual")}
    setup = f"after {DEPTH_STEPS} steps of train_mse (lr={DEPTH_LR}), depth {DEPTH}, sigmoid"
    residual, plain = errors["residual"], errors["plain"]
    if residual is None or residual > RESIDUAL_TARGET * variance:
        shown = "not finite" if residual is None else f"{residual / variance:.3g}"
        return Verdict(
            False,
            f"{setup}: the residual network's MSE is {shown} times the variance of sin(x); the target is below "
            f"{RESIDUAL_TARGET}",
            "for the residual network, " + _curve_hint(np.asarray(curves["residual"]), DEPTH_ADVICE),
            ("run `autograder check mlp.depth --plots DIR` to see both loss curves",),
            curves,
        )
    moved = _first_layer_moved(facts, "residual")
    if not moved >= FIRST_LAYER_MOVED:  # (nan: W1 missing or of another shape: fail closed)
        return Verdict(
            False,
            f"{setup}: the residual network fits sin(x), but its first Linear layer barely learned (its W moved by "
            f"{moved:.2g} of its size, expected at least {FIRST_LAYER_MOVED:g}): the gradient does not get past "
            f"the {DEPTH} blocks, exactly as in the plain network",
            "the skip path's gradient is missing in Residual.backward: X reaches the output both directly and "
            "through f, so dX = dY + f.backward(dY). That \"+ dY\" is what carries the gradient to the early "
            "layers; without it only the last blocks learn.",
            (), curves,
        )
    if plain is None or plain < PLAIN_STALLED * variance:
        shown = "not finite" if plain is None else f"{plain / variance:.3g}"
        return Verdict(
            False,
            f"{setup}: the plain network's MSE is {shown} times the variance of sin(x); with sigmoid at this depth "
            f"it should stay above {PLAIN_STALLED} (its gradients vanish)",
            "sigmoid's derivative is at most 1/4, so 20 plain layers shrink the gradient a lot: a plain network "
            "that trains anyway points at a backward pass that is too large (check Sigmoid.backward).",
            (), curves,
        )
    return Verdict.ok(f"residual {residual / variance:.3g}, plain {plain / variance:.3g} (x variance)", curves)


# ============================================================================ the unit


#: parts whose student code the MLP checks run (its Linear layers, activations and Sequential)
NETWORK_USES = ("mlp.linear", "mlp.tanh", "mlp.relu", "mlp.sequential")
#: the universal-approximation exercise trains a tanh MLP
UNIVERSAL_USES = ("mlp.linear", "mlp.tanh", "mlp.sequential", "mlp.network")

_seq_public = [_sequence_case(500 + i, n, 4) for i, n in enumerate((5, 1, 64))]
_net_public = [_network_case(700, (4, 8, 6, 3), "tanh", 5), _network_case(701, (3, 7, 2), "relu", 1),
               _network_case(702, (5, 9, 9, 9, 4), "gelu", 40)]
_res_public = [_residual_case(600 + i, n, d) for i, (n, d) in enumerate(((5, 3), (1, 4), (50, 6)))]


UNIT = Unit(
    name="mlp",
    title="Unit 2: MLP layers (다층 퍼셉트론)",
    module=MODULE,
    checks=(
        # ------------------------------------------------------------------ Linear
        PropertyCheck(
            "mlp.linear.init", description="Linear(400, 100, rng) draws W from N(0, 2 / D_in) (He)",
            points=2, run=_run_init("he", INIT_SHAPE), assess=_assess_he, case=Case("He", {"seed": 440}),
        ),
        PropertyCheck(
            "mlp.linear.init_xavier",
            description="Linear(300, 200, rng, init='xavier') draws W from N(0, 2 / (D_in + D_out))",
            points=1, run=_run_init("xavier", XAVIER_SHAPE), assess=_assess_xavier,
            case=Case("Xavier", {"seed": 441}),
        ),
        PropertyCheck(
            "mlp.linear.init_bias", description="Linear's bias starts at zero, shape (D_out,), for either init",
            points=1, run=_run_init_bias, assess=_assess_init_bias, case=Case("seeded", {"seed": 443}),
        ),
        PropertyCheck(
            "mlp.linear.init_rng", description="the initial weights come from the rng passed in (same seed, "
            "same weights; another seed, other weights)", points=1, run=_run_init_rng, assess=_assess_init_rng,
            case=Case("seeded", {"seed": 442}),
        ),
        ReferenceCheck(
            "mlp.linear.forward", description="Linear.forward: Y = X @ W + b on several shapes", points=2,
            call=_call_linear_forward, cases=LINEAR_PUBLIC, known_mistakes=LINEAR_FORWARD_MISTAKES,
        ),
        ReferenceCheck(
            "mlp.linear.square", description="Linear forward and backward on a square layer (D_in = D_out), where "
            "a transposed W still runs", points=1, call=_call_linear_both, cases=LINEAR_SQUARE,
            known_mistakes=LINEAR_FORWARD_MISTAKES + LINEAR_BACKWARD_MISTAKES,
        ),
        ReferenceCheck(
            "mlp.linear.backward", description="Linear.backward: dX = dY @ W.T, dW = X.T @ dY, db = sum of dY over "
            "the batch (no averaging)", points=3, call=_call_linear_backward, cases=LINEAR_PUBLIC,
            known_mistakes=LINEAR_BACKWARD_MISTAKES,
        ),
        GradientCheck(
            "mlp.linear.gradcheck", description="Linear.backward's dX, dW and db are the derivatives of forward "
            "(finite differences)", points=2, build=_linear_gradient_problem,
            cases=[LINEAR_PUBLIC[0], _linear_case(450, 64, 50, 10)], requires=("mlp.linear.forward",),
        ),
        PropertyCheck(
            "mlp.linear.parameters", description="parameters() is [W, b] (the live arrays) and gradients() is "
            "[dW, db]", points=2, run=_run_linear_contract, assess=_assess_linear_contract,
            case=_linear_contract_case(),
        ),
        _unchanged_check(
            "mlp.linear.unchanged", "Linear", lambda impl, x: _linear_layer(impl, x["W"], x["b"]), LINEAR_PUBLIC[0],
            parameters=("W", "b"), description="Linear.forward and backward leave X, dY, W and b unchanged", points=1,
        ),
        # ------------------------------------------------------------------ activations (활성화 함수)
        *_activation_checks("relu", "ReLU", 100, kink=True),
        *_activation_checks("leaky_relu", "LeakyReLU", 120, kink=True, slope_cases=True),
        *_activation_checks("sigmoid", "Sigmoid", 140, extreme=_extreme_case(150)),
        *_activation_checks("tanh", "Tanh", 160, extreme=_extreme_case(170)),
        *_activation_checks("gelu", "GELU", 180),
        *_activation_checks("softmax", "Softmax", 200, extreme=_softmax_extreme_case(210)),
        # ------------------------------------------------------------------ Sequential
        ReferenceCheck(
            "mlp.sequential.forward", description="Sequential.forward applies the layers in order", points=1,
            call=_call_sequential_forward, cases=_seq_public, known_mistakes=SEQUENTIAL_MISTAKES,
        ),
        ReferenceCheck(
            "mlp.sequential.backward", description="Sequential.backward chains the layers' backward in reverse "
            "order", points=2, call=_call_sequential_backward, cases=_seq_public, known_mistakes=SEQUENTIAL_MISTAKES,
        ),
        GradientCheck(
            "mlp.sequential.gradcheck", description="Sequential's backward is the derivative of its forward, for "
            "X and every layer's W and b (finite differences)", points=1, build=_sequential_gradient_problem,
            cases=[_seq_public[0], _sequence_case(520, 32, 8)], requires=("mlp.sequential.forward",),
        ),
        PropertyCheck(
            "mlp.sequential.parameters", description="parameters() is [W1, b1, W2, b2, ...] (live arrays, first "
            "layer first) and gradients() follows the same order", points=2, run=_run_sequential_contract,
            assess=_assess_sequential_contract, case=_sequential_contract_case(),
        ),
        PropertyCheck(
            "mlp.sequential.chain", description="Sequential of your Linear, Tanh and ReLU layers equals running "
            "them one by one (forward, backward, gradients)", points=1, run=_run_chain, assess=_assess_chain,
            case=_chain_case(540), depends_on=("mlp.linear", "mlp.tanh", "mlp.relu"),
        ),
        # ------------------------------------------------------------------ MLP (다층 퍼셉트론)
        PropertyCheck(
            "mlp.network.structure", description="MLP(sizes, activation, rng) holds Linear, act, ..., Linear "
            "(no activation at the end) and passes init on", points=2, run=_run_structure, assess=_assess_structure,
            case=Case("structure", {"seed": 710}), depends_on=("mlp.linear", "mlp.sequential"),
        ),
        ReferenceCheck(
            "mlp.network.forward_backward", description="MLP forward, backward and gradients() with given weights",
            points=2, call=_call_network, cases=_net_public, depends_on=NETWORK_USES + ("mlp.gelu",),
        ),
        GradientCheck(
            "mlp.network.gradcheck", description="the MLP's backward is the derivative of its forward, for X and "
            "every W and b (finite differences)", points=1, build=_network_gradient_problem,
            cases=[_net_public[0], _network_case(703, (6, 16, 16, 4), "gelu", 32)],
            depends_on=NETWORK_USES + ("mlp.gelu",), requires=("mlp.network.forward_backward",),
        ),
        # ------------------------------------------------------------------ Residual
        ReferenceCheck(
            "mlp.residual.forward_backward", description="Residual(f): X + f(X) forward, dY + f.backward(dY) "
            "backward", points=2, call=_call_residual, cases=_res_public, known_mistakes=RESIDUAL_MISTAKES,
        ),
        GradientCheck(
            "mlp.residual.gradcheck", description="Residual's backward is the derivative of its forward, for X "
            "and f's W and b (finite differences)", points=1, build=_residual_gradient_problem,
            cases=[_res_public[0], _residual_case(610, 32, 16)], requires=("mlp.residual.forward_backward",),
        ),
        PropertyCheck(
            "mlp.residual.parameters", description="Residual's parameters() and gradients() are f's (live arrays)",
            points=1, run=_run_residual_contract, assess=_assess_residual_contract, case=_residual_contract_case(),
        ),
        # ------------------------------------------------------------------ exercise: 비선형성 추가 이유
        ReferenceCheck(
            "mlp.linear_stack.values", description="collapse_linear_layers returns one Linear with the stack's "
            "W and b", points=2, call=_call_collapse,
            cases=[_stack_case(800, (4, 5, 3, 2)), _stack_case(801, (3, 3)), _stack_case(802, (2, 6, 6, 4, 1))],
            known_mistakes=COLLAPSE_MISTAKES, depends_on=("mlp.linear",),
        ),
        PropertyCheck(
            "mlp.linear_stack.equivalence", description="Sequential(Linear, Linear, Linear) and the collapsed "
            "Linear compute the same outputs; the model is left unchanged", points=1, run=_run_collapse_equivalence,
            assess=_assess_collapse_equivalence, case=_stack_case(803, (5, 4, 4, 3)),
            depends_on=("mlp.linear", "mlp.sequential"),
        ),
        PropertyCheck(
            "mlp.linear_stack.rejects_activation", description="collapse_linear_layers raises TypeError for a "
            "stack with an activation in it", points=1, run=_run_collapse_rejects, assess=_assess_collapse_rejects,
            case=_stack_case(804, (3, 4, 2)), depends_on=("mlp.linear",),
        ),
        # ------------------------------------------------------------------ exercise: universal approximation
        ConvergenceCheck(
            "mlp.universal.sin", description=f"a one-hidden-layer MLP fits sin(x) on [-pi, pi] to MSE < "
            f"{UNIVERSAL_TARGETS['sin']} with train_mse", points=2, run=_run_universal, assess=_assess_universal,
            case=_universal_case("sin", 820), timeout_s=15.0, depends_on=UNIVERSAL_USES,
        ),
        ConvergenceCheck(
            "mlp.universal.bumpy", description=f"the same MLP fits sin(x) + 0.5 sin(2x) to MSE < "
            f"{UNIVERSAL_TARGETS['bumpy']}", points=2, run=_run_universal, assess=_assess_universal,
            case=_universal_case("bumpy", 821), timeout_s=15.0, depends_on=UNIVERSAL_USES,
        ),
        # ------------------------------------------------------------------ exercise: depth (ResNet, 2015)
        ConvergenceCheck(
            "mlp.depth.residual_vs_plain", description=f"with the same budget, a residual MLP of depth {DEPTH} fits "
            "sin(x), its first layer learning too, while the plain one stalls", points=3, run=_run_depth, assess=_assess_depth,
            case=_depth_case(830), timeout_s=20.0, curve_key="residual_losses",
            depends_on=("mlp.linear", "mlp.sigmoid", "mlp.sequential", "mlp.residual"),
        ),
    ),
)
