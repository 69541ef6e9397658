"""Unit 6 checks: the capstone, a handwritten-digit classifier (손글씨 숫자 분류) from the student's parts.

Parts and what each check asks (ids ``capstone.<part>.<aspect>``; docs/unit-capstone.md has the
table with points and the mistakes each hint detects):

* ``model``: ``build_model(rng)`` maps (N, 64) to (N, 10), is made of the student's own
  ``mlp.Linear`` layers with a ``techniques.Dropout`` or ``BatchNorm1d``, and draws from ``rng``;
* ``batches``: ``iterate_minibatches`` covers every sample once per epoch, in a fresh order drawn
  from the rng passed in;
* ``evaluate``: ``accuracy`` against the reference; ``predict_logits`` works in evaluation mode
  (deterministic, a sample's logits independent of the rest of the batch); ``evaluate`` returns
  the plain cross-entropy and the accuracy of those logits;
* ``epoch``: ``train_one_epoch`` with trusted stand-ins for the model, the loss and the optimizer
  (so only the student's loop is graded): training mode, every sample once, shuffled, forward /
  loss / backward / step per batch, the size-weighted mean loss returned;
* ``train``: the capstone itself. ``train_digits_classifier`` runs on the course's fixed training
  and validation sets (``autograder.data``) with a public seed and ``epochs=EPOCH_BUDGET``; only
  after it returns does the probe hand the held-out test images (never their labels) to the
  student's ``predict_logits``. The trusted parent then judges, from logits alone: the held-out
  accuracy (>= 0.95, the grade), the history's sense, that the returned weights are the best
  epoch's, that the schedule moved the learning rate, and that the validation set does not look
  trained on. A hidden check repeats the run with a hidden seed and the training
  set sorted by class (declared in ``units/hidden/capstone.py``).

One training run serves all public ``train`` checks: the checks of a unit run one after another in
one child (docs/architecture.md), and the run's numbers are kept per implementation in that child.
A child that dies (a timeout) takes the kept run with it, and the next check trains again.

Every input comes from an explicit seed: public seeds below 1000.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import Verdict
from ..data import (
    N_CLASSES,
    N_PIXELS,
    digits_split,
    held_out_images,
    training_and_validation_sets,
)
from ..diagnosis import KnownMistake
from ..evidence import (
    Case,
    ConvergenceCheck,
    PropertyCheck,
    ReferenceCheck,
    as_number_array,
    case_builder,
    case_rng,
    expect_tuple,
)
from ..sandbox import Implementation, ProbeError
from ..tolerance import DEFAULT, allclose
from .unit import Unit

MODULE = "capstone"
#: train_digits_classifier gets ``epochs=EPOCH_BUDGET`` and may run at most that many epochs.
EPOCH_BUDGET = 40
#: the grade: at least this fraction of the held-out test digits classified correctly.
TARGET_ACCURACY = 0.95
#: generous: the reference trains in about 0.3 s here (docs/unit-capstone.md); a timeout hints at vectorising.
TRAINING_TIMEOUT_S = 30.0
HISTORY_FIELDS = ("train_loss", "val_loss", "val_accuracy", "learning_rate")

#: The validation set "looks trained on" when the model classifies it almost perfectly and its loss
#: sits much closer to the training loss than the test set's does: its gap to the training loss is
#: below this fraction of the test set's gap. Honest runs on the fixed split measure 0.34 and more
#: (docs/unit-capstone.md), runs that trained on the validation set 0.04 and less.
HONEST_GAP_FRACTION = 0.2
MEMORISED_ACCURACY = 0.995
#: best_epoch's validation loss may exceed the lowest one by this fraction (min_delta > 0 leaves
#: the best a little above the minimum); early stopping on the training loss is 2% and more off.
BEST_LOSS_SLACK = 0.005
#: A final training loss above this fraction of ln(10) (a uniform guess's loss) means nothing was learned.
LEARNED_NOTHING = 0.8


# ============================================================================ shared helpers


def _function(impl: Implementation, name: str):
    return impl.function(MODULE, name)


def _class_names(layer: Any) -> set[tuple[str, str]]:
    return {(getattr(cls, "__module__", ""), cls.__name__) for cls in type(layer).__mro__}


def _layer_census(model: Any) -> dict[str, int]:
    """How many of the student's own Linear, Dropout and BatchNorm1d layers ``model`` holds,
    following Sequential's ``layers`` and Residual's ``inner`` (and subclasses of them)."""
    counts = {"linear": 0, "dropout": 0, "batchnorm": 0}
    seen: set[int] = set()
    stack = [model]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        names = _class_names(layer)
        counts["linear"] += ("mlp", "Linear") in names
        counts["dropout"] += ("techniques", "Dropout") in names
        counts["batchnorm"] += ("techniques", "BatchNorm1d") in names
        layers = getattr(layer, "layers", None)
        if isinstance(layers, (list, tuple)):
            stack.extend(layers)
        inner = getattr(layer, "inner", None)
        if inner is not None:
            stack.append(inner)
    return counts


def _flat_parameters(model: Any, what: str) -> np.ndarray:
    parameters = model.parameters()
    if not isinstance(parameters, (list, tuple)) or not parameters:
        raise ProbeError(f"{what}.parameters() should return a non-empty list of arrays")
    return np.concatenate([as_number_array(p, f"{what}.parameters()[{i}]").astype(np.float64).ravel()
                           for i, p in enumerate(parameters)])


def _logits(value: Any, rows: int, what: str) -> np.ndarray:
    logits = as_number_array(value, what).astype(np.float64)
    if logits.shape != (rows, N_CLASSES):
        raise ProbeError(f"{what} should have shape ({rows}, {N_CLASSES}), got {logits.shape}")
    return logits


def mean_cross_entropy(logits: np.ndarray, labels: np.ndarray, label_smoothing: float = 0.0) -> float:
    """The trusted grader's mean cross-entropy of ``logits`` (N, C) against integer ``labels`` (N,)."""
    logits = np.asarray(logits, dtype=np.float64)
    top = logits.max(axis=1, keepdims=True)
    log_p = logits - top - np.log(np.sum(np.exp(logits - top), axis=1, keepdims=True))
    picked = log_p[np.arange(labels.shape[0]), labels]
    if label_smoothing:
        return float(-np.mean((1.0 - label_smoothing) * picked + label_smoothing * log_p.mean(axis=1)))
    return float(-np.mean(picked))


def fraction_correct(logits: np.ndarray, labels: np.ndarray) -> float:
    """The trusted grader's accuracy: rows whose first largest logit is the label."""
    hits = np.argmax(np.asarray(logits, dtype=np.float64), axis=1) == np.asarray(labels)
    return float(hits.mean())


@functools.lru_cache(maxsize=1)
def _labels() -> dict[str, np.ndarray]:
    """The labels of the fixed split, for the trusted parent's judgement."""
    split = digits_split()
    return {"train": split.y_train, "val": split.y_val, "test": split.y_test}


def _close(a: float, b: float) -> bool:
    return allclose(np.array(a), np.array(b), DEFAULT)


# ============================================================================ model


def _digit_like_inputs(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, (n, N_PIXELS))


def _run_build(impl, x):
    build = _function(impl, "build_model")
    model = build(np.random.default_rng(x["seed"]))
    census = _layer_census(model)
    outputs = as_number_array(model.forward(x["X"]), "model.forward(X)")
    return {
        "outputs": outputs,
        "linear": census["linear"], "dropout": census["dropout"], "batchnorm": census["batchnorm"],
        "parameters": _flat_parameters(model, "model"),
        "again": _flat_parameters(build(np.random.default_rng(x["seed"])), "model"),
        "other": _flat_parameters(build(np.random.default_rng(x["seed"] + 1)), "model"),
    }


def _assess_build(facts, x) -> Verdict:
    outputs = np.asarray(facts["outputs"])
    n = x["X"].shape[0]
    if outputs.shape != (n, N_CLASSES):
        return Verdict(False, f"build_model(rng).forward(X) of shape {x['X'].shape} returned shape {outputs.shape}",
                       f"the model maps (N, {N_PIXELS}) pixels to (N, {N_CLASSES}) logits: the last layer is "
                       f"Linear(..., {N_CLASSES}), with no softmax after it.")
    if not np.all(np.isfinite(outputs)):
        return Verdict(False, "build_model(rng).forward(X) returned inf or NaN")
    if facts["linear"] < 1:
        return Verdict(False, "the model holds none of your mlp.Linear layers",
                       "build it from your own layers (from mlp import Linear, ReLU, Sequential), in a "
                       "Sequential, so that the capstone trains your code.")
    if facts["dropout"] + facts["batchnorm"] < 1:
        return Verdict(False, "the model holds no Dropout or BatchNorm1d layer of yours",
                       "add your techniques.Dropout (the recipe: after the hidden ReLU) or BatchNorm1d: "
                       "the capstone uses a regulariser from Unit 5.")
    first, again, other = (np.asarray(facts[k]) for k in ("parameters", "again", "other"))
    if first.shape != again.shape or not np.array_equal(first, again):
        return Verdict(False, "two models built with generators of the same seed got different weights",
                       "draw every random number from the rng argument (pass it to each Linear and Dropout), "
                       "not from np.random.* or a generator of your own.")
    if first.shape == other.shape and np.array_equal(first, other):
        return Verdict(False, "models built with generators of different seeds got the same weights",
                       "pass the rng argument to the layers rather than a generator with a fixed seed.")
    return Verdict.ok(f"{facts['linear']} Linear, {facts['dropout']} Dropout, {facts['batchnorm']} BatchNorm1d")


# ============================================================================ mini-batches


def _run_batches(impl, x):
    iterate = _function(impl, "iterate_minibatches")
    n, size, seed = x["n"], x["batch_size"], x["seed"]

    def epoch(rng) -> list[np.ndarray]:
        batches = iterate(n, size, rng)
        if batches is None:
            raise ProbeError("iterate_minibatches returned None: is a return statement missing?")
        return [as_number_array(batch, "a batch").ravel() for batch in batches]

    rng = np.random.default_rng(seed)
    first = epoch(rng)
    second = epoch(rng)  # the next epoch, from the same generator
    again = epoch(np.random.default_rng(seed))
    other = epoch(np.random.default_rng(seed + 1))

    def joined(batches):
        return np.concatenate(batches) if batches else np.zeros(0)

    return {"sizes": np.array([b.size for b in first]), "first": joined(first), "second": joined(second),
            "again": joined(again), "other": joined(other),
            "integer": all(np.issubdtype(b.dtype, np.integer) for b in first)}


def _assess_batches(facts, x) -> Verdict:
    n, size = x["n"], x["batch_size"]
    call = f"iterate_minibatches({n}, {size}, rng)"
    if not facts["integer"]:
        return Verdict(False, f"{call} returned batches that are not integer index arrays",
                       "each batch is an array of integer indices (a slice of rng.permutation(n)).")
    sizes, first = np.asarray(facts["sizes"]), np.asarray(facts["first"])
    full, rest = divmod(n, size)
    expected_sizes = [size] * full + ([rest] if rest else [])
    if sorted(first.tolist()) != list(range(n)):
        hint = "every index 0..n-1 must appear exactly once per epoch."
        if first.size == full * size and rest:
            hint = f"the last, smaller batch (of {rest}) is missing: keep the samples that do not fill a whole batch."
        return Verdict(False, f"{call} does not cover every sample exactly once", hint)
    if sizes.tolist() != expected_sizes:
        return Verdict(False, f"{call} made batches of sizes {sizes.tolist()}, expected {expected_sizes}",
                       "cut the shuffled order into consecutive pieces of batch_size; the last holds the rest.")
    if np.array_equal(first, np.arange(n)):
        return Verdict(False, f"{call} returns the samples in their original order",
                       "shuffle: draw the order with rng.permutation(n). A training set sorted by class would "
                       "otherwise end every epoch on the last class.")
    if not np.array_equal(first, np.asarray(facts["again"])):
        return Verdict(False, "two generators of the same seed gave different batches",
                       "draw the order from the rng argument (rng.permutation), not from np.random.*.")
    if np.array_equal(first, np.asarray(facts["other"])):
        return Verdict(False, "generators of different seeds gave the same batches",
                       "draw the order from the rng argument rather than from a generator with a fixed seed.")
    if np.array_equal(first, np.asarray(facts["second"])):
        return Verdict(False, "two calls with the same generator (two epochs) gave the same order",
                       "draw a new permutation from rng on every call: each epoch needs a fresh order.")
    return Verdict.ok()


# ============================================================================ evaluation


@case_builder
def _accuracy_case(seed: int, n: int, classes: int) -> Case:
    rng = case_rng(seed)
    logits = rng.standard_normal((n, classes))
    labels = rng.integers(0, classes, n)
    labels[: n // 2] = logits[: n // 2].argmax(axis=1)  # some right, some wrong
    return Case(f"N={n}, C={classes}", {"logits": logits, "y": labels}, batch_size=n)


def _call_accuracy(impl, x):
    return {"accuracy": _function(impl, "accuracy")(x["logits"], x["y"])}


ACCURACY_MISTAKES = (
    KnownMistake("accuracy", "accuracy is a fraction in [0, 1], not a percentage: do not multiply by 100.",
                 lambda x, e: 100.0 * e),
    KnownMistake("accuracy", "this is the number of correct rows: divide by N to get the fraction.",
                 lambda x, e: e * x["y"].shape[0]),
)


def _run_predict(impl, x):
    model = _function(impl, "build_model")(np.random.default_rng(x["seed"]))
    predict = _function(impl, "predict_logits")
    X = x["X"]
    first = _logits(predict(model, X), X.shape[0], "predict_logits(model, X)").copy()
    second = _logits(predict(model, X), X.shape[0], "predict_logits(model, X)").copy()
    head = _logits(predict(model, X[:5]), 5, "predict_logits(model, X[:5])").copy()
    return {"first": first, "second": second, "head": head}


def _assess_predict(facts, x) -> Verdict:
    first, second, head = (np.asarray(facts[k]) for k in ("first", "second", "head"))
    if not np.all(np.isfinite(first)):
        return Verdict(False, "predict_logits returned inf or NaN")
    eval_mode = ("predict in evaluation mode: call set_training(model, False) before model.forward, so that "
                 "dropout keeps every unit (and batch norm uses its running statistics).")
    if not np.array_equal(first, second):
        return Verdict(False, "predict_logits gave different logits for the same X on two calls", eval_mode)
    if not allclose(head, first[:5], DEFAULT):
        return Verdict(False, "the logits of the first 5 samples change when the rest of the batch is left out",
                       eval_mode)
    if np.all(first >= 0.0) and np.allclose(first.sum(axis=1), 1.0, rtol=1e-9, atol=1e-12):
        return Verdict(False, "predict_logits returned probabilities (rows summing to 1)",
                       "return the logits, model.forward(X), without a softmax: the loss applies it itself.")
    return Verdict.ok()


def _run_evaluate(impl, x):
    model = _function(impl, "build_model")(np.random.default_rng(x["seed"]))
    evaluate = _function(impl, "evaluate")
    first = expect_tuple(evaluate(model, x["X"], x["y"]), ("loss", "accuracy"), "evaluate")
    second = expect_tuple(evaluate(model, x["X"], x["y"]), ("loss", "accuracy"), "evaluate")
    logits = _logits(_function(impl, "predict_logits")(model, x["X"]), x["X"].shape[0], "predict_logits(model, X)")
    return {"loss": as_number_array(first[0], "loss"), "accuracy": as_number_array(first[1], "accuracy"),
            "loss_again": as_number_array(second[0], "loss"), "logits": logits}


def _assess_evaluate(facts, x) -> Verdict:
    y = x["y"]
    logits = np.asarray(facts["logits"], dtype=np.float64)
    loss, again = np.asarray(facts["loss"], dtype=np.float64), np.asarray(facts["loss_again"], dtype=np.float64)
    accuracy = np.asarray(facts["accuracy"], dtype=np.float64)
    if loss.shape != () or accuracy.shape != ():
        return Verdict(False, f"evaluate returned a loss of shape {loss.shape} and an accuracy of shape "
                              f"{accuracy.shape}", "return two Python floats (loss, accuracy).")
    if float(loss) != float(again):
        return Verdict(False, "evaluate gave two different losses for the same model and data",
                       "evaluate through predict_logits, which puts the model in evaluation mode (dropout off).")
    expected = mean_cross_entropy(logits, y)
    if not _close(float(loss), expected):
        hint = "the loss is the mean cross-entropy of predict_logits(model, X) against y: CrossEntropyLoss()."
        if _close(float(loss), mean_cross_entropy(logits, y, 0.1)):
            hint = ("this is the label-smoothed loss: evaluate with the plain CrossEntropyLoss() (no label "
                    "smoothing), so that validation losses measure the model alone.")
        elif _close(float(loss), expected * y.shape[0]):
            hint = "the loss is summed over the samples: it is the mean (CrossEntropyLoss already divides by N)."
        return Verdict(False, f"evaluate's loss is {float(loss):.6g}, but the cross-entropy of the model's logits "
                              f"is {expected:.6g}", hint)
    right = fraction_correct(logits, y)
    if not _close(float(accuracy), right):
        return Verdict(False, f"evaluate's accuracy is {float(accuracy):.6g}, but the model's logits give {right:.6g}",
                       "return accuracy(logits, y) of the same logits, a fraction in [0, 1].")
    return Verdict.ok()


# ============================================================================ one epoch, with stand-ins


@dataclass
class _EpochLog:
    """What the trusted stand-ins saw while the student's train_one_epoch ran."""

    events: list[str] = field(default_factory=list)
    batches: list[np.ndarray] = field(default_factory=list)
    modes: list[bool] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    loss_sizes: list[int] = field(default_factory=list)
    backward_got_loss_gradient: list[bool] = field(default_factory=list)
    step_got_gradients: list[bool] = field(default_factory=list)
    last_gradient: np.ndarray | None = None


class _StandInModel:
    """A trusted softmax-regression "model" (column 0 of X carries each sample's id, the others are
    features). It starts in evaluation mode, as ``evaluate`` leaves a model, and records each call."""

    def __init__(self, W: np.ndarray, b: np.ndarray, log: _EpochLog):
        self.W, self.b = W, b
        self.dW = np.zeros_like(W)
        self.db = np.zeros_like(b)
        self.layers: list = []
        self.training = False
        self.log = log
        self._features: np.ndarray | None = None

    def forward(self, X):
        X = np.asarray(X, dtype=np.float64)
        self.log.events.append("F")
        self.log.batches.append(X[:, 0].copy())
        self.log.modes.append(self.training is True)
        self._features = X[:, 1:]
        return self._features @ self.W + self.b

    def backward(self, dZ):
        self.log.events.append("B")
        expected = self.log.last_gradient
        self.log.backward_got_loss_gradient.append(
            expected is not None and np.shape(dZ) == expected.shape and np.array_equal(dZ, expected))
        dZ = np.asarray(dZ, dtype=np.float64)
        self.dW = self._features.T @ dZ
        self.db = dZ.sum(axis=0)
        return dZ @ self.W.T

    def parameters(self):
        return [self.W, self.b]

    def gradients(self):
        return [self.dW, self.db]


class _StandInLoss:
    """A trusted mean softmax cross-entropy that records each batch's value and size."""

    def __init__(self, log: _EpochLog):
        self.log = log
        self._gradient: np.ndarray | None = None

    def forward(self, Z, y):
        Z = np.asarray(Z, dtype=np.float64)
        y = np.asarray(y)
        self.log.events.append("L")
        value = mean_cross_entropy(Z, y)
        exponentials = np.exp(Z - np.max(Z, axis=1, keepdims=True))
        softmax = exponentials / np.sum(exponentials, axis=1, keepdims=True)
        self._gradient = (softmax - np.eye(Z.shape[1])[y]) / y.shape[0]
        self.log.losses.append(value)
        self.log.loss_sizes.append(int(y.shape[0]))
        return value

    def backward(self):
        self.log.last_gradient = self._gradient.copy()
        return self._gradient


class _StandInOptimizer:
    """A trusted plain SGD that records whether each step got the model's current gradients."""

    def __init__(self, model: _StandInModel, log: _EpochLog, lr: float = 0.5):
        self.model, self.log, self.lr = model, log, lr

    def step(self, grads):
        self.log.events.append("S")
        current = self.model.gradients()
        self.log.step_got_gradients.append(
            isinstance(grads, (list, tuple)) and len(grads) == len(current)
            and all(np.shape(g) == c.shape and np.array_equal(g, c) for g, c in zip(grads, current)))
        for parameter, gradient in zip(self.model.parameters(), current):
            parameter -= self.lr * gradient


def _epoch_case(seed: int, n: int, features: int, classes: int, batch_size: int) -> Case:
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.arange(n, dtype=np.float64), rng.standard_normal((n, features))])
    return Case(f"N={n}, batch_size={batch_size}, stand-in model, loss and optimizer",
                {"X": X, "y": rng.integers(0, classes, n), "W": 0.1 * rng.standard_normal((features, classes)),
                 "b": np.zeros(classes), "batch_size": batch_size, "seed": seed})


def _run_epoch(impl, x):
    log = _EpochLog()
    model = _StandInModel(x["W"], x["b"], log)
    returned = _function(impl, "train_one_epoch")(
        model, _StandInLoss(log), _StandInOptimizer(model, log), x["X"], x["y"], x["batch_size"],
        np.random.default_rng(x["seed"]))
    batches = log.batches
    return {
        "returned": as_number_array(returned, "train_one_epoch's result"),
        "events": "".join(log.events)[:4000],
        "ids": np.concatenate(batches) if batches else np.zeros(0),
        "sizes": np.array([b.size for b in batches], dtype=np.int64),
        "modes": np.array(log.modes, dtype=bool),
        "losses": np.array(log.losses), "loss_sizes": np.array(log.loss_sizes, dtype=np.int64),
        "backward_ok": np.array(log.backward_got_loss_gradient, dtype=bool),
        "step_ok": np.array(log.step_got_gradients, dtype=bool),
    }


def _assess_epoch(facts, x) -> Verdict:
    n, size = x["y"].shape[0], x["batch_size"]
    batches = math.ceil(n / size)
    ids, sizes = np.asarray(facts["ids"]), np.asarray(facts["sizes"])
    events = str(facts["events"])
    use_batches = f"loop over iterate_minibatches(len(y), batch_size, rng): {batches} batches of at most {size}."
    if ids.size == 0:
        return Verdict(False, "train_one_epoch never called model.forward", use_batches)
    if sorted(ids.astype(np.int64).tolist()) != list(range(n)) or np.any(sizes > size):
        return Verdict(False, f"in one epoch the model saw {ids.size} samples in {sizes.size} batches; expected each "
                              f"of the {n} samples once, in {batches} batches", use_batches)
    if np.array_equal(ids, np.arange(n)):
        return Verdict(False, "the epoch went through the samples in their original order",
                       "shuffle every epoch: " + use_batches)
    if not np.all(facts["modes"]):
        return Verdict(False, "the model was in evaluation mode while it trained",
                       "start train_one_epoch with set_training(model, True): evaluate() and predict_logits() "
                       "leave the model in evaluation mode, and dropout would stay off for the rest of training.")
    if events != "FLBS" * batches:
        step_count = events.count("S")
        hint = ("each batch: logits = model.forward(X[batch]); loss_function.forward(logits, y[batch]); "
                "model.backward(loss_function.backward()); optimizer.step(model.gradients()).")
        if step_count == 0:
            hint = "optimizer.step(model.gradients()) was never called: " + hint
        elif step_count != batches:
            hint = f"optimizer.step was called {step_count} times for {batches} batches: once per batch. " + hint
        return Verdict(False, "the calls of one epoch are not forward, loss, backward, step for every batch",
                       hint, (f"calls (F forward, L loss, B backward, S step): {events[:60]}",))
    if not np.all(facts["backward_ok"]):
        return Verdict(False, "model.backward did not get the gradient of the batch's loss",
                       "call model.backward(loss_function.backward()) right after the loss's forward.")
    if not np.all(facts["step_ok"]):
        return Verdict(False, "optimizer.step did not get the model's gradients",
                       "call optimizer.step(model.gradients()) after model.backward.")
    losses, weights = np.asarray(facts["losses"], dtype=np.float64), np.asarray(facts["loss_sizes"], dtype=np.float64)
    expected = float(np.sum(losses * weights) / n)
    returned = np.asarray(facts["returned"], dtype=np.float64)
    if returned.shape != ():
        return Verdict(False, f"train_one_epoch returned an array of shape {returned.shape}",
                       "return the epoch's mean loss, one Python float.")
    if not _close(float(returned), expected):
        hint = "return the mean over the epoch's samples: sum of loss * len(batch) over the batches, divided by N."
        if _close(float(returned), float(losses.mean())):
            hint = "weight each batch's loss by its size: the last batch is smaller, so a plain mean of batch losses " \
                   "is not the mean over the samples."
        elif _close(float(returned), float(losses[-1])):
            hint = "this is the last batch's loss: return the mean over the whole epoch."
        elif _close(float(returned), float(losses.sum())):
            hint = "this is the sum of the batch losses: weight each by its size and divide by N."
        return Verdict(False, f"train_one_epoch returned {float(returned):.6g}, but the epoch's mean loss is "
                              f"{expected:.6g}", hint)
    return Verdict.ok()


# ============================================================================ the training run


@dataclass(frozen=True)
class TrainingRun:
    """One graded run of ``train_digits_classifier``: the seed of its generator, the order of the
    training set (``"split"``: the fixed split's shuffled order; ``"by_class"``: sorted by label)
    and the epoch budget passed as ``epochs``."""

    seed: int
    order: str = "split"
    epochs: int = EPOCH_BUDGET

    def case(self, label: str) -> Case:
        return Case(label, {"seed": self.seed, "order": self.order, "epochs": self.epochs})


#: Per implementation (one per child), the numbers of each training run, or the error it raised.
_RUNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def training_facts(impl: Implementation, x: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers of the run ``x`` describes, trained once per implementation and kept."""
    key = (x["seed"], x["order"], x["epochs"])
    runs = _RUNS.setdefault(impl, {})
    if key not in runs:
        try:
            runs[key] = _train_and_predict(impl, x)
        except BaseException as error:  # noqa: BLE001  (kept: the same failure for every check of the run)
            runs[key] = error
    kept = runs[key]
    if isinstance(kept, BaseException):
        raise kept
    return dict(kept)


def _train_and_predict(impl: Implementation, x: Mapping[str, Any]) -> dict[str, Any]:
    train = _function(impl, "train_digits_classifier")
    predict = _function(impl, "predict_logits")
    X_train, y_train, X_val, y_val = training_and_validation_sets()
    fit_X, fit_y = X_train, y_train
    if x["order"] == "by_class":
        order = np.argsort(y_train, kind="stable")
        fit_X, fit_y = X_train[order], y_train[order]
    result = train(fit_X.copy(), fit_y.copy(), X_val.copy(), y_val.copy(), np.random.default_rng(x["seed"]),
                   epochs=x["epochs"])
    model, history = expect_tuple(result, ("model", "history"), "train_digits_classifier")
    facts: dict[str, Any] = {}
    for name in HISTORY_FIELDS:
        value = getattr(history, name, None)
        if value is None:
            raise ProbeError(f"the history has no {name}: return (model, TrainingHistory(...))")
        facts[name] = as_number_array(value, f"history.{name}").astype(np.float64).ravel().copy()
    best = as_number_array(getattr(history, "best_epoch", None), "history.best_epoch")
    if best.shape != () or not np.issubdtype(best.dtype, np.integer):
        raise ProbeError(f"history.best_epoch should be one integer, got {best.dtype} of shape {best.shape}")
    facts["best_epoch"] = int(best)
    # Only now, after training, do test inputs enter the student's code: the images, never the labels.
    for name, images in (("test", held_out_images()), ("val", X_val), ("train", X_train)):
        facts[f"logits/{name}"] = _logits(predict(model, images.copy()), images.shape[0],
                                          f"predict_logits(model, X_{name})").copy()
    return facts


@dataclass(frozen=True)
class _Run:
    """The parent's view of a training run's numbers."""

    history: dict[str, np.ndarray]
    best_epoch: int
    logits: dict[str, np.ndarray]

    @classmethod
    def of(cls, facts) -> _Run:
        return cls({name: np.asarray(facts[name], dtype=np.float64).ravel() for name in HISTORY_FIELDS},
                   int(facts["best_epoch"]), {name: np.asarray(facts[f"logits/{name}"], dtype=np.float64)
                                              for name in ("train", "val", "test")})

    @property
    def epochs(self) -> int:
        return max(values.size for values in self.history.values())

    def accuracy(self, name: str) -> float:
        return fraction_correct(self.logits[name], _labels()[name])

    def loss(self, name: str) -> float:
        return mean_cross_entropy(self.logits[name], _labels()[name])

    def curves(self) -> dict[str, tuple[float, ...]]:
        return {"train_loss": tuple(float(v) for v in self.history["train_loss"])}


RECIPE = ("the docstring's recipe reaches about 0.98: 128 hidden units, dropout 0.2, Adam with lr 1e-2, a cosine "
          "schedule, label smoothing 0.1 for training, batches of 32, early stopping with patience 6.")


def assess_held_out(facts, x) -> Verdict:
    """The grade: held-out test accuracy >= TARGET_ACCURACY within the epoch budget."""
    run = _Run.of(facts)
    budget = x["epochs"]
    if not np.all(np.isfinite(run.logits["test"])):
        return Verdict(False, "the trained model's test logits hold inf or NaN",
                       "training diverged: lower the learning rate, and check that the loss is computed stably.",
                       curves=run.curves())
    if run.epochs > budget:
        return Verdict(False, f"training ran {run.epochs} epochs; the budget is {budget}",
                       "run at most `epochs` epochs (the argument): for epoch in range(epochs).", curves=run.curves())
    test = run.accuracy("test")
    if test >= TARGET_ACCURACY:
        return Verdict.ok(f"test accuracy {test:.4f} after {run.epochs} epochs", run.curves())
    predicted = np.argmax(run.logits["test"], axis=1)
    counts = np.bincount(predicted, minlength=N_CLASSES)
    train_loss = run.history["train_loss"]
    val_accuracy = run.history["val_accuracy"]
    if train_loss.size and not train_loss[-1] < LEARNED_NOTHING * math.log(N_CLASSES):
        hint = (f"the training loss ended at {train_loss[-1]:.3g}, near ln(10) = {math.log(N_CLASSES):.2f}, the loss "
                "of a uniform guess: the model learned nothing. A learning rate far too large blows the weights up "
                "(and kills the ReLUs); otherwise check that each batch runs model.backward(loss.backward()) and "
                "optimizer.step(model.gradients()).")
    elif train_loss.size >= 2 and not np.min(train_loss[1:]) < train_loss[0]:
        hint = ("the training loss never went down: each batch needs model.backward(loss.backward()) and then "
                "optimizer.step(model.gradients()).")
    elif counts.max() > 0.4 * predicted.size:
        hint = (f"the model predicts the digit {int(counts.argmax())} for {counts.max()} of the {predicted.size} test "
                "images, although its training loss fell. If the training set comes sorted by class, a loop that "
                "does not shuffle ends every epoch on the last class: draw a fresh order each epoch "
                "(iterate_minibatches).")
    elif val_accuracy.size and np.max(val_accuracy) >= TARGET_ACCURACY:
        hint = (f"the history's validation accuracy reached {np.max(val_accuracy):.3f}, but the returned model "
                "classifies the test set worse: does predict_logits use evaluation mode, and does the model hold "
                "the best epoch's weights?")
    else:
        hint = "the model is not accurate enough yet; " + RECIPE
    val = run.accuracy("val")
    worst = np.argmin([np.mean(predicted[_labels()["test"] == digit] == digit) for digit in range(N_CLASSES)])
    details = (f"validation accuracy of the returned model: {val:.4f}",
               f"the digit recognised worst in the test set: {worst}")
    return Verdict(False, f"the held-out test accuracy is {test:.4f} after {run.epochs} epochs; the target is "
                          f"{TARGET_ACCURACY}", hint, details, run.curves())


def _assess_history(facts, x) -> Verdict:
    run = _Run.of(facts)
    lengths = {name: values.size for name, values in run.history.items()}
    shown = ", ".join(f"{name} {size}" for name, size in lengths.items())
    if len(set(lengths.values())) != 1:
        return Verdict(False, f"the history's lists have different lengths ({shown})",
                       "append exactly one value to each list per epoch (the training loss of the epoch, not "
                       "of every batch).")
    epochs = run.epochs
    if not 1 <= epochs <= x["epochs"]:
        return Verdict(False, f"the history holds {epochs} epochs; expected between 1 and the budget {x['epochs']}",
                       "one entry per epoch run, at most `epochs` of them.")
    for name, values in run.history.items():
        if not np.all(np.isfinite(values)):
            return Verdict(False, f"history.{name} holds inf or NaN", "training diverged: lower the learning rate.")
    if np.any(run.history["val_accuracy"] < 0.0) or np.any(run.history["val_accuracy"] > 1.0):
        return Verdict(False, "history.val_accuracy holds values outside [0, 1]",
                       "record accuracies as fractions (evaluate's accuracy), not percentages.")
    if np.any(run.history["learning_rate"] <= 0.0):
        return Verdict(False, "history.learning_rate holds a value <= 0",
                       "record optimizer.lr at the start of each epoch, before training on it.")
    if epochs >= 2 and not np.min(run.history["train_loss"][1:]) < run.history["train_loss"][0]:
        return Verdict(False, "the training loss never fell below the first epoch's",
                       "each batch needs model.backward(loss.backward()) and optimizer.step(model.gradients()).")
    return Verdict.ok(f"{epochs} epochs")


def _assess_best_weights(facts, x) -> Verdict:
    run = _Run.of(facts)
    val_loss = run.history["val_loss"]
    best = run.best_epoch
    if val_loss.size == 0 or not np.all(np.isfinite(val_loss)):
        return Verdict(False, "history.val_loss is empty or holds inf or NaN")
    if not 0 <= best < val_loss.size:
        return Verdict(False, f"history.best_epoch is {best}, not an epoch of the history (0 to {val_loss.size - 1})",
                       "set history.best_epoch = early_stopping.best_epoch after training.")
    model_loss = run.loss("val")
    lowest = int(np.argmin(val_loss))
    epoch_of_model = [epoch for epoch in range(val_loss.size) if _close(model_loss, float(val_loss[epoch]))]
    message = (f"the returned model's validation loss is {model_loss:.6g}; history.val_loss[best_epoch={best}] is "
               f"{val_loss[best]:.6g}, the lowest is {val_loss[lowest]:.6g} (epoch {lowest})")
    if best in epoch_of_model:
        if val_loss[best] <= val_loss[lowest] * (1.0 + BEST_LOSS_SLACK):
            return Verdict.ok(f"best epoch {best} of {val_loss.size}")
        return Verdict(False, message,
                       "the model holds the weights of history.best_epoch, but another epoch had a lower validation "
                       "loss: early stopping must watch the validation loss, early_stopping.step(val_loss, params).")
    if epoch_of_model and epoch_of_model[-1] == val_loss.size - 1 and best != val_loss.size - 1:
        return Verdict(False, message,
                       "the model holds the weights of the last epoch, not of the best one: after the loop, call "
                       "early_stopping.restore(model.parameters()).")
    if epoch_of_model:
        return Verdict(False, message,
                       f"the model holds the weights of epoch {epoch_of_model[0]}, but history.best_epoch says {best}: "
                       "set history.best_epoch = early_stopping.best_epoch.")
    return Verdict(False, message,
                   "the returned model's validation loss is none of the history's: record history.val_loss with "
                   "evaluate() (evaluation mode, plain cross-entropy) after each epoch, and restore the best "
                   "weights at the end (with BatchNorm1d, restore its running statistics too).")


def _assess_schedule(facts, x) -> Verdict:
    rates = _Run.of(facts).history["learning_rate"]
    if rates.size < 2:
        return Verdict(False, f"the history holds {rates.size} learning rate(s): too few epochs to see a schedule",
                       "record optimizer.lr once per epoch.")
    if np.all(rates == rates[0]):
        return Verdict(False, f"the learning rate stayed {rates[0]:.4g} for all {rates.size} epochs",
                       "call schedule.step() once per epoch (after the epoch's training), and record optimizer.lr at "
                       "the start of each epoch; a schedule whose first change comes after early stopping ends "
                       "does nothing either (the recipe's CosineAnnealingLR changes lr every epoch).")
    return Verdict.ok(f"lr from {rates[0]:.3g} to {rates[-1]:.3g}")


def looks_trained_on(loss: float, accuracy: float, train_loss: float, other_loss: float) -> bool:
    """Whether a held-out set with this ``loss`` and ``accuracy`` looks like training data.

    Only a set classified almost perfectly is judged. It looks trained on when the other held-out
    set shows a clear generalisation gap (its loss at least ``HONEST_GAP_FRACTION`` above the
    training loss, relatively) and this set's gap is below ``HONEST_GAP_FRACTION`` of that; or when
    its loss is below half of both the training loss and the other set's (trained on it alone).
    """
    if accuracy < MEMORISED_ACCURACY:
        return False
    gap, other_gap = loss - train_loss, other_loss - train_loss
    clear_gap = other_gap >= HONEST_GAP_FRACTION * other_loss
    return (clear_gap and gap < HONEST_GAP_FRACTION * other_gap) or loss < 0.5 * min(train_loss, other_loss)


def _assess_honest_split(facts, x) -> Verdict:
    run = _Run.of(facts)
    losses = {name: run.loss(name) for name in ("train", "val", "test")}
    val_accuracy = run.accuracy("val")
    if not all(np.isfinite(value) for value in losses.values()):
        return Verdict(False, "the trained model's logits hold inf or NaN")
    shown = ", ".join(f"{name} {value:.4g}" for name, value in losses.items())
    if looks_trained_on(losses["val"], val_accuracy, losses["train"], losses["test"]):
        return Verdict(False, f"the validation set looks like training data (losses: {shown})",
                       "train only on X_train, y_train: the validation set may only be evaluated (early stopping, "
                       "the history), never take a training step.")
    return Verdict.ok(shown)


# ============================================================================ the unit


#: The parts of the recipe in the docstring whose code the training checks run. (A student who
#: picks another optimizer sees a note about Adam only if that training check fails too.)
RECIPE_USES = ("mlp.linear", "mlp.relu", "mlp.sequential", "losses.ce", "optimizers.adam", "optimizers.schedules",
               "techniques.dropout", "techniques.set_training", "techniques.early_stopping")
TRAINING_USES = RECIPE_USES + ("capstone.model", "capstone.batches", "capstone.evaluate", "capstone.epoch")

PUBLIC_RUN = TrainingRun(seed=606)
_public_run_case = PUBLIC_RUN.case(f"the fixed split (1078 training, 359 validation digits), seed {PUBLIC_RUN.seed}, "
                                   f"epochs={EPOCH_BUDGET}")


def _training_check(kind, id: str, *, description: str, points: float, assess, **extra):
    return kind(id, description=description, points=points, run=training_facts, assess=assess,
                case=_public_run_case, timeout_s=TRAINING_TIMEOUT_S, depends_on=TRAINING_USES, **extra)


UNIT = Unit(
    name="capstone",
    title="Unit 6: capstone, a handwritten-digit classifier (손글씨 숫자 분류)",
    module=MODULE,
    checks=(
        PropertyCheck(
            "capstone.model.build", description="build_model(rng) maps (N, 64) to (N, 10) logits with your Linear "
            "layers and a Dropout or BatchNorm1d, drawing from rng", points=2, run=_run_build, assess=_assess_build,
            case=Case("N=20", {"seed": 610, "X": _digit_like_inputs(611, 20)}),
            depends_on=("mlp.linear", "mlp.relu", "mlp.sequential", "techniques.dropout"),
        ),
        PropertyCheck(
            "capstone.batches.order", description="iterate_minibatches covers every sample once per epoch, in a fresh "
            "order from rng", points=1, run=_run_batches, assess=_assess_batches,
            case=Case("n=103, batch_size=16", {"n": 103, "batch_size": 16, "seed": 620}),
        ),
        ReferenceCheck(
            "capstone.evaluate.accuracy", description="accuracy(logits, y): the fraction of rows whose largest logit "
            "is the label", points=1, call=_call_accuracy, known_mistakes=ACCURACY_MISTAKES,
            cases=[_accuracy_case(630, 12, 10), _accuracy_case(631, 1, 10), _accuracy_case(632, 200, 3)],
        ),
        PropertyCheck(
            "capstone.evaluate.predict", description="predict_logits uses evaluation mode: the same logits on every "
            "call, whatever else is in the batch", points=1, run=_run_predict, assess=_assess_predict,
            case=Case("N=40, a new model", {"seed": 640, "X": _digit_like_inputs(641, 40)}),
            depends_on=("capstone.model", "techniques.dropout", "techniques.set_training"),
        ),
        PropertyCheck(
            "capstone.evaluate.loss", description="evaluate returns the plain mean cross-entropy and the accuracy of "
            "predict_logits' logits", points=1, run=_run_evaluate, assess=_assess_evaluate,
            case=Case("N=50, a new model", {"seed": 650, "X": _digit_like_inputs(651, 50),
                                            "y": np.random.default_rng(652).integers(0, N_CLASSES, 50)}),
            depends_on=("capstone.model", "losses.ce", "techniques.set_training"),
        ),
        PropertyCheck(
            "capstone.epoch.one_pass", description="train_one_epoch: training mode, each sample once in shuffled "
            "batches, forward / loss / backward / step per batch, the mean loss returned", points=1,
            run=_run_epoch, assess=_assess_epoch, case=_epoch_case(660, 70, 4, 3, 16),
            depends_on=("capstone.batches", "techniques.set_training"),
        ),
        _training_check(
            ConvergenceCheck, "capstone.train.held_out", points=6, assess=assess_held_out, curve_key="val_loss",
            description=f"train_digits_classifier reaches a held-out test accuracy of at least {TARGET_ACCURACY} "
                        f"within {EPOCH_BUDGET} epochs",
        ),
        _training_check(
            PropertyCheck, "capstone.train.history", points=1, assess=_assess_history,
            description="the history has one finite entry per epoch run (at most the budget) and the training loss "
                        "falls",
        ),
        _training_check(
            PropertyCheck, "capstone.train.best_weights", points=2, assess=_assess_best_weights,
            description="the returned model holds the weights of history.best_epoch, the epoch of the lowest "
                        "validation loss",
        ),
        _training_check(
            PropertyCheck, "capstone.train.schedule", points=1, assess=_assess_schedule,
            description="the learning-rate schedule changes the learning rate during training",
        ),
        _training_check(
            PropertyCheck, "capstone.train.honest_split", points=1, assess=_assess_honest_split,
            description="the validation set took no training step (its loss looks like unseen data's, not "
                        "like the training set's)",
        ),
    ),
)
