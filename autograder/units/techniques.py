"""Unit 5 checks: training techniques (그밖의 테크닉), graded part by part.

The lecture note's list, "dropout, early stopping, k-fold validation, weight decay, batch
normalization, mixup, ensemble, bayesian optimization", one part each (ids ``techniques.<part>.<aspect>``):

* ``dropout``: graded by statistics that do not depend on how or in which order the student draws
  random numbers (keep rate within a stated band, element by element independence, kept elements
  scaled by 1/(1-p), the expectation preserved, evaluation mode the identity), by the backward's
  consistency with the forward's own mask, and a gradient check with a re-seeded layer;
* ``batchnorm``: forward, running statistics, evaluation mode and the full backward against the
  reference (held against torch's ``BatchNorm1d`` in tests/test_torch_oracle_techniques.py), a
  gradient check, the parameters contract, a constant feature without warnings;
* ``set_training``: a nesting of Sequential- and Residual-like stand-ins is walked completely;
* ``early_stopping``: stop epoch, best epoch and best loss on given validation curves; copies kept
  and restored in place;
* ``kfold``: disjoint folds covering every sample, balanced sizes (the first n % k one larger, as
  scikit-learn's KFold), the unshuffled folds exactly, shuffling from the rng;
* ``cross_validation``: a recording ``train_and_score`` sees every fold's rows once with their own
  targets; the grader recomputes every score from the rows the student's code used, so the verdict
  does not depend on the student's shuffling; choosing a hidden size by CV picks 8 on the given data;
* ``mixup``: properties only: every row a convex combination of a row and its partner under a
  permutation, one lambda per batch, the same lambda and pairs for the targets, lambda's mean and
  variance those of Beta(alpha, alpha);
* ``weight_decay``: the L2 penalty, and four runs with the student's Unit 4 optimizers: SGD with L2
  equals decoupled decay, Adam with L2 differs from AdamW;
* ``ensemble``: averaged probabilities against the reference, no overflow at logits of +-1000, and on
  a seeded spiral problem the ensemble beats each of its members on held-out data;
* ``surrogate``: the RBF kernel, the Gaussian-process posterior (Cholesky only: np.linalg.inv is
  forbidden there) and expected improvement on fixed points, so a wrong formula gets a precise hint;
* ``search``: random search by its distribution, every Bayesian-optimization step recomputed by the
  grader from the student's own history, and BO finding the best learning rate (within a factor
  10**0.05) in fewer evaluations than random search needs on average.

This module holds the public checks (seeds below 1000); the hidden ones (seeds from 9000) are in
units/hidden/techniques.py. docs/unit-techniques.md lists the checks, their points and the hints.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..checks import Verdict
from ..diagnosis import InstructorAnswer, KnownMistake
from ..evidence import (
    Case,
    ConvergenceCheck,
    GradientCheck,
    GradientProblem,
    InputsUnchangedCheck,
    NoWarningsCheck,
    PropertyCheck,
    ReferenceCheck,
    as_number_array,
    case_builder,
    case_rng,
    expect_tuple,
    redrawing,
)
from ..sandbox import ProbeError
from ..tolerance import ITERATIVE, allclose, compare
from .unit import Unit

MODULE = "techniques"


def _get(impl, name: str):
    return impl.function(MODULE, name)


def _array(value, name: str) -> np.ndarray:
    """The student's value as a float64 copy (later calls cannot change it)."""
    return np.array(as_number_array(value, name), dtype=np.float64)


def _softmax(Z: np.ndarray, axis: int = 1) -> np.ndarray:
    Z = Z - Z.max(axis=axis, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=axis, keepdims=True)


def _fail(message: str, hint: str | None = None, *details: str) -> Verdict:
    return Verdict(False, message, hint, tuple(details))


def _hidden(assess: Callable, subject: str) -> Callable:
    """For a hidden property: the verdict's hint, but a message without the hidden inputs or values."""

    def judged(facts, inputs) -> Verdict:
        verdict = assess(facts, inputs)
        if verdict.passed:
            return Verdict.ok()
        return Verdict(False, f"{subject}: wrong on the hidden inputs", verdict.hint)

    return judged


# ============================================================================ dropout

#: Keep rates must lie within this many standard deviations of 1 - p (binomial), per array; columns
#: and rows within COLUMN_SIGMAS. For a correct layer the chance of a false alarm is below 1e-6.
KEEP_SIGMAS = 5.0
COLUMN_SIGMAS = 6.0
DROPOUT_SHAPE = (400, 100)


def _dropout_input(seed: int, shape) -> np.ndarray:
    """Positive inputs (never 0), so a 0 in the output always means "dropped"."""
    return np.random.default_rng(seed).uniform(0.5, 1.5, tuple(shape))


def _dropout_stats_case(cases: list[tuple[int, float]], shape=DROPOUT_SHAPE) -> Case:
    label = ", ".join(f"p={p}" for _, p in cases) + f", X of shape {tuple(shape)}"
    return Case(label, {"cases": [{"seed": seed, "p": p} for seed, p in cases], "shape": tuple(shape)})


def _run_dropout(backward: bool):
    """Each case's training-mode forward (and, when ``backward``, the backward of a seeded dY)."""

    def run(impl, x):
        facts = {}
        Dropout = _get(impl, "Dropout")
        for index, case in enumerate(x["cases"]):
            X = _dropout_input(case["seed"], x["shape"])
            layer = Dropout(case["p"], np.random.default_rng(case["seed"] + 1))
            facts[f"{index}/Y"] = _array(layer.forward(X), "Y")
            if backward:
                dY = np.random.default_rng(case["seed"] + 2).standard_normal(X.shape)
                facts[f"{index}/dX"] = _array(layer.backward(dY), "dX")
        return facts

    return run


def _dropout_outputs(facts, x, index):
    X = _dropout_input(x["cases"][index]["seed"], x["shape"])
    Y = np.asarray(facts.get(f"{index}/Y"), dtype=np.float64)
    if Y.shape != X.shape:
        return X, None, _fail(f"Dropout.forward returned shape {Y.shape} for X of shape {X.shape}",
                              "Y = X * mask keeps the shape of X.")
    if not np.all(np.isfinite(Y)):
        return X, None, _fail("Dropout.forward returned inf or NaN", "p must lie in [0, 1): 1 / (1 - p) is finite.")
    return X, Y, None


def _assess_keep_rate(facts, x) -> Verdict:
    for index, case in enumerate(x["cases"]):
        _, Y, problem = _dropout_outputs(facts, x, index)
        if problem:
            return problem
        p, q = case["p"], 1.0 - case["p"]
        kept = Y != 0.0
        N, D = Y.shape
        per_axis = ((kept.mean(axis=0), N, "column", "per column"), (kept.mean(axis=1), D, "row", "per sample"))
        for rates, _, what, other in per_axis:
            if np.all((rates == 0.0) | (rates == 1.0)):
                return _fail(f"with p={p}, every {what} is kept or dropped as a whole",
                             f"drop every element independently: one rng.random(X.shape), not one number {other}.")
        rate = float(kept.mean())
        band = KEEP_SIGMAS * math.sqrt(p * q / kept.size)
        if abs(rate - q) > band:
            hint = ("p is the probability of DROPPING an element: keep it where rng.random(X.shape) >= p."
                    if abs(rate - p) <= band and abs(p - 0.5) > band else
                    "keep each element with probability 1 - p: mask = rng.random(X.shape) >= p.")
            return _fail(f"with p={p} your Dropout kept {rate:.4f} of the elements; expected {q:g} "
                         f"(within +-{band:.4f})", hint)
        for rates, length, what, other in per_axis:
            limit = COLUMN_SIGMAS * math.sqrt(p * q / length)
            if np.any(np.abs(rates - q) > limit):
                return _fail(f"with p={p}, some {what}s keep far more or far fewer elements than 1 - p",
                             f"drop every element independently: one rng.random(X.shape), not one number {other}.")
    return Verdict.ok()


def _assess_scaling(facts, x) -> Verdict:
    for index, case in enumerate(x["cases"]):
        X, Y, problem = _dropout_outputs(facts, x, index)
        if problem:
            return problem
        p = case["p"]
        kept = Y != 0.0
        if not kept.any():
            return _fail(f"with p={p} every element was dropped", "keep an element where rng.random(X.shape) >= p.")
        got, want = Y[kept], X[kept] / (1.0 - p)
        comparison = compare(got, want)
        if comparison.matches:
            continue
        if allclose(got, X[kept]):
            hint = ("the kept elements are not scaled: inverted dropout divides them by (1 - p) in training, "
                    "so that E[Y] = X and evaluation mode needs no scaling.")
        elif allclose(got, X[kept] * (1.0 - p)):
            hint = "the kept elements are multiplied by (1 - p); inverted dropout divides by (1 - p)."
        else:
            hint = "a kept element must equal X / (1 - p) and a dropped one 0: Y = X * mask, mask = (u >= p) / (1 - p)."
        return _fail(f"with p={p} the kept elements are not X / (1 - p)", hint,
                     f"worst kept element: expected {comparison.worst_expected:.6g}, got {comparison.worst_received:.6g}")
    return Verdict.ok()


def _assess_expectation(facts, x) -> Verdict:
    for index, case in enumerate(x["cases"]):
        X, Y, problem = _dropout_outputs(facts, x, index)
        if problem:
            return problem
        p = case["p"]
        # Var(Y - X) per element is X**2 p / (1 - p); the mean over all elements has this deviation.
        deviation = math.sqrt(float(np.sum(X * X)) * p / (1.0 - p)) / X.size
        difference = float(np.mean(Y - X))
        if abs(difference) > KEEP_SIGMAS * deviation + 1e-12:
            ratio = float(Y.mean() / X.mean())
            return _fail(f"with p={p} the mean of Y is {ratio:.4f} times the mean of X; dropout must keep the "
                         f"expectation (ratio 1 within +-{KEEP_SIGMAS * deviation / X.mean():.4f})",
                         "E[Y] = (1 - p) * X / (1 - p) = X: keep with probability 1 - p and divide the kept "
                         "elements by (1 - p).")
    return Verdict.ok()


def _assess_mask_gradient(facts, x) -> Verdict:
    """dX must be dY times the forward's own mask (read off Y / X: X is positive)."""
    for index, case in enumerate(x["cases"]):
        X, Y, problem = _dropout_outputs(facts, x, index)
        if problem:
            return problem
        dY = np.random.default_rng(case["seed"] + 2).standard_normal(X.shape)
        dX = np.asarray(facts.get(f"{index}/dX"), dtype=np.float64)
        mask = Y / X
        if dX.shape == dY.shape and compare(dX, dY * mask).matches:
            continue
        kept = Y != 0.0
        if dX.shape != dY.shape:
            hint = "dX has the shape of dY: dX = dY * mask."
        elif allclose(dX, dY):
            hint = "backward ignores the mask: dX = dY * mask, with the mask of the forward pass."
        elif not np.array_equal(dX != 0.0, kept & (dY != 0.0)):
            hint = ("dX is non-zero where the forward dropped an element (or zero where it kept one): backward "
                    "must reuse the forward's mask (keep it in self.cache), not draw a new one.")
        elif allclose(dX, dY * kept):
            hint = "the mask in backward lacks the 1 / (1 - p) scale: use the same mask as the forward, scale included."
        else:
            hint = "dX = dY * mask: the derivative of X * mask with respect to X."
        return _fail(f"with p={case['p']} Dropout.backward is not dY times the forward's mask", hint)
    return Verdict.ok()


def _assess_dropout_hidden(facts, x) -> Verdict:
    for assess in (_assess_keep_rate, _assess_scaling, _assess_expectation, _assess_mask_gradient):
        verdict = assess(facts, x)
        if not verdict.passed:
            return verdict
    return Verdict.ok()


def _dropout_eval_case(seed: int) -> Case:
    rng = np.random.default_rng(seed)
    return Case("p=0.5, X (20, 8), evaluation mode", {"X": rng.uniform(0.5, 1.5, (20, 8)), "dY": rng.standard_normal((20, 8)),
                                                       "p": 0.5, "seed": seed})


def _run_dropout_eval(impl, x):
    layer = _get(impl, "Dropout")(x["p"], np.random.default_rng(x["seed"]))
    layer.training = False
    Y = _array(layer.forward(x["X"]), "Y")
    dX = _array(layer.backward(x["dY"]), "dX")
    return {"Y": Y, "dX": dX, "Y_again": _array(layer.forward(x["X"]), "Y")}


def _assess_dropout_eval(facts, x) -> Verdict:
    X, p = x["X"], x["p"]
    for key in ("Y", "Y_again"):
        Y = np.asarray(facts.get(key), dtype=np.float64)
        if Y.shape == X.shape and allclose(Y, X):
            continue
        if Y.shape == X.shape and allclose(Y, X * (1.0 - p)):
            hint = ("that is the paper's test-time scaling by (1 - p); with inverted dropout the training pass "
                    "already divides by (1 - p), so evaluation mode returns X unchanged.")
        elif Y.shape == X.shape and np.any(Y == 0.0):
            hint = "evaluation mode must not drop anything: check self.training in forward."
        else:
            hint = "in evaluation mode (training False) Dropout is the identity: Y = X."
        return _fail("Dropout in evaluation mode does not return X", hint)
    if not allclose(np.asarray(facts.get("dX"), dtype=np.float64), x["dY"]):
        return _fail("Dropout.backward in evaluation mode does not return dY",
                     "after an evaluation-mode forward there is no mask: dX = dY.")
    return Verdict.ok()


def _dropout_gradient_case(seed: int, N: int, D: int, p: float) -> Case:
    rng = np.random.default_rng(seed)
    return Case(f"p={p}, X ({N}, {D})", {"X": rng.standard_normal((N, D)), "dY": rng.standard_normal((N, D)),
                                          "p": p, "seed": seed + 1}, batch_size=N)


def _dropout_gradient_problem(impl, x) -> GradientProblem:
    Dropout = _get(impl, "Dropout")

    def fresh():  # the same seed every time: the same mask, so the forward is a fixed linear map
        return Dropout(x["p"], np.random.default_rng(x["seed"]))

    layer = fresh()
    layer.forward(x["X"])
    dX = _array(layer.backward(x["dY"]), "dX")
    return GradientProblem(lambda params: float(np.sum(fresh().forward(params["X"]) * x["dY"])), {"X": x["X"]},
                           {"X": dX})


def _run_dropout_rng(impl, x):
    Dropout = _get(impl, "Dropout")
    X, p, seed = x["X"], x["p"], x["seed"]
    facts = {
        "first": _array(Dropout(p, np.random.default_rng(seed)).forward(X), "Y"),
        "again": _array(Dropout(p, np.random.default_rng(seed)).forward(X), "Y"),
        "other": _array(Dropout(p, np.random.default_rng(seed + 1)).forward(X), "Y"),
    }
    layer = Dropout(p, np.random.default_rng(seed))
    facts["call1"] = _array(layer.forward(X), "Y")
    facts["call2"] = _array(layer.forward(X), "Y")
    return facts


def _assess_dropout_rng(facts, x) -> Verdict:
    get = {key: np.asarray(facts.get(key), dtype=np.float64) for key in ("first", "again", "other", "call1", "call2")}
    if get["first"].shape != get["again"].shape or not np.array_equal(get["first"], get["again"]):
        return _fail("two Dropout layers built with generators of the same seed dropped different elements",
                     "draw the mask from the rng passed to __init__ (self.rng.random(X.shape)), not from np.random.")
    if np.array_equal(get["first"], get["other"]):
        return _fail("Dropout layers built with generators of different seeds dropped the same elements",
                     "draw the mask from the rng passed to __init__, not from a generator of your own.")
    if np.array_equal(get["call1"], get["call2"]):
        return _fail("two forward calls of one Dropout layer dropped the same elements",
                     "draw a new mask at every forward call (not once in __init__).")
    return Verdict.ok()


def _construction_code(make) -> int:
    """0: built, 1: ValueError, 2: another exception (NotImplementedError propagates: a stub)."""
    try:
        make()
        return 0
    except ValueError:
        return 1
    except NotImplementedError:
        raise
    except Exception:  # noqa: BLE001  (any other error is a wrong answer, reported as such)
        return 2


def _run_dropout_validation(impl, x):
    Dropout = _get(impl, "Dropout")
    facts = {"codes": np.array([_construction_code(lambda p=p: Dropout(p, np.random.default_rng(0)))
                                for p in x["invalid"] + x["valid"]])}
    if facts["codes"][-1] == 0:
        facts["p0"] = _array(Dropout(0.0, np.random.default_rng(1)).forward(x["X"]), "Y")
    return facts


def _assess_dropout_validation(facts, x) -> Verdict:
    codes = [int(c) for c in np.asarray(facts.get("codes", ())).ravel()]
    for code, p in zip(codes, x["invalid"] + x["valid"]):
        if p in x["valid"] and code != 0:
            return _fail(f"Dropout(p={p}) was refused", "every p in [0, 1) is valid; p = 0 simply keeps everything.")
        if p in x["invalid"] and code != 1:
            got = "was accepted" if code == 0 else "raised something other than ValueError"
            return _fail(f"Dropout(p={p}) {got}", "p must lie in [0, 1): raise ValueError otherwise "
                                                  "(p = 1 would divide by 1 - p = 0).")
    if not allclose(np.asarray(facts.get("p0"), dtype=np.float64), x["X"]):
        return _fail("Dropout(p=0) in training mode changed X", "with p = 0 nothing is dropped and 1 / (1 - p) = 1.")
    return Verdict.ok()


def _dropout_unchanged_call(impl, x):
    layer = _get(impl, "Dropout")(x["p"], np.random.default_rng(x["seed"]))
    return {"Y": layer.forward(x["X"]), "dX": layer.backward(x["dY"])}


# ============================================================================ batch normalization


@case_builder
def _bn_case(label: str, seed: int, N: int, D: int, *, eps: float = 1e-5, momentum: float = 0.1,
             offsets=None, scales=None, batch_sizes=(8, 5, 16), eval_rows: int = 6) -> Case:
    rng = case_rng(seed)
    loc = rng.normal(0.0, 2.0, D) if offsets is None else np.asarray(offsets, dtype=np.float64)
    scale = rng.uniform(0.5, 3.0, D) if scales is None else np.asarray(scales, dtype=np.float64)

    def batch(n):
        return loc + scale * rng.standard_normal((n, D))

    return Case(label, {
        "X": batch(N), "gamma": rng.uniform(0.5, 2.0, D), "beta": rng.normal(0.0, 1.0, D),
        "dY": rng.standard_normal((N, D)), "eps": eps, "momentum": momentum,
        "batches": [batch(n) for n in batch_sizes], "X_eval": batch(eval_rows),
        "dY_eval": rng.standard_normal((eval_rows, D)),
    }, batch_size=N)


def _new_batchnorm(impl, x):
    layer = _get(impl, "BatchNorm1d")(x["X"].shape[1], eps=x["eps"], momentum=x["momentum"])
    layer.gamma = np.array(x["gamma"], dtype=np.float64)
    layer.beta = np.array(x["beta"], dtype=np.float64)
    return layer


def _bn_gradients(layer):
    dgamma, dbeta = getattr(layer, "dgamma", None), getattr(layer, "dbeta", None)
    if dgamma is None or dbeta is None:
        raise ProbeError("BatchNorm1d.backward did not set self.dgamma and self.dbeta")
    return _array(dgamma, "dgamma"), _array(dbeta, "dbeta")


def _call_bn_forward(impl, x):
    return {"Y": _new_batchnorm(impl, x).forward(x["X"])}


def _call_bn_running(impl, x):
    layer = _new_batchnorm(impl, x)
    for batch in x["batches"]:
        layer.forward(batch)
    return {"running_mean": _array(layer.running_mean, "running_mean"),
            "running_var": _array(layer.running_var, "running_var")}


def _call_bn_eval(impl, x):
    layer = _new_batchnorm(impl, x)
    for batch in x["batches"]:
        layer.forward(batch)
    layer.training = False
    Y = _array(layer.forward(x["X_eval"]), "Y")
    outputs = {"Y": Y, "running_mean": _array(layer.running_mean, "running_mean"),
               "running_var": _array(layer.running_var, "running_var")}
    outputs["dX"] = _array(layer.backward(x["dY_eval"]), "dX")
    return outputs


def _call_bn_backward(impl, x):
    layer = _new_batchnorm(impl, x)
    layer.forward(x["X"])
    dX = _array(layer.backward(x["dY"]), "dX")
    dgamma, dbeta = _bn_gradients(layer)
    return {"dX": dX, "dgamma": dgamma, "dbeta": dbeta}


def _call_bn_everything(impl, x):
    """Forward, backward and running statistics in training mode, then evaluation mode (``eval_...``)."""
    evaluated = {f"eval_{name}": value for name, value in _call_bn_eval(impl, x).items()}
    return {**_call_bn_forward(impl, x), **_call_bn_backward(impl, x), **_call_bn_running(impl, x), **evaluated}


def _columns_with_large_mean(received, expected, inputs) -> bool:
    """Only features whose mean is huge next to their spread are off: the one-pass variance."""
    X = inputs["X"]
    if received.shape != expected.shape:
        return False
    bad = np.any(np.abs(received - expected) > 1e-7 * np.maximum(np.abs(expected), 1e-3 * np.abs(expected).max()) + 1e-12,
                 axis=0)
    ratio = np.abs(X.mean(axis=0)) / X.std(axis=0)
    return bool(bad.any() and np.all(ratio[bad] > 1e4))


def _bn_answer(mode: str, mistake: str, output: str) -> InstructorAnswer:
    """The wrong ``output`` of BatchNorm1d with ``mistake`` in ``mode`` (forward, running, eval, backward), computed by
    the instructor-only re-implementation (units/instructor/techniques.py; precomputed in a release)."""
    return InstructorAnswer(MODULE, "batchnorm_with_mistake", (mode, mistake, output))


BN_FORWARD_MISTAKES = (
    KnownMistake("Y", "the batch is normalised with the unbiased variance (N - 1); torch normalises with the "
                      "biased one, mean((X - mu)**2), and keeps the unbiased one only for running_var.",
                 wrong_answer=_bn_answer("forward", "unbiased_normalise", "Y"), key="unbiased_normalise"),
    KnownMistake("Y", "eps is added outside the square root: X_hat = (X - mu) / sqrt(var + eps).",
                 wrong_answer=_bn_answer("forward", "eps_outside", "Y"), key="eps_outside"),
    KnownMistake("Y", "gamma and beta are not applied: Y = gamma * X_hat + beta.",
                 wrong_answer=_bn_answer("forward", "no_affine", "Y"), key="no_affine"),
    KnownMistake("Y", "the statistics are taken over the features of each sample (axis=1); batch normalization "
                      "averages over the batch, axis=0, per feature.",
                 wrong_answer=_bn_answer("forward", "rows", "Y"), key="rows"),
    KnownMistake("Y", "only features with a large mean compared with their spread are off: the variance lost its "
                      "precision. Compute it as mean((X - mu)**2), not mean(X**2) - mu**2 (which subtracts two "
                      "huge, nearly equal numbers).", explains=_columns_with_large_mean),
)


BN_RUNNING_MISTAKES = (
    KnownMistake("running_var", "running_var uses the biased batch variance; torch stores the unbiased one, "
                                "var * N / (N - 1), in the running average.",
                 wrong_answer=_bn_answer("running", "running_biased", "running_var"), key="running_biased"),
    KnownMistake("running_mean", "momentum weighs the new batch: running = (1 - momentum) * running + momentum * "
                                 "batch (torch's convention; Keras' momentum is the weight of the old value).",
                 wrong_answer=_bn_answer("running", "keras_momentum", "running_mean"), key="keras_momentum"),
    KnownMistake("running_mean", "the running statistics never change: update them in every training-mode forward.",
                 wrong_answer=lambda inputs, expected: np.zeros_like(expected)),
    KnownMistake("running_var", "the running variance must start at ones (running_mean at zeros), as in torch.",
                 wrong_answer=_bn_answer("running", "running_var_zero", "running_var"), key="running_var_zero"),
)

def _bn_eval_mistakes(prefix: str = "") -> tuple[KnownMistake, ...]:
    """The evaluation-mode mistakes, for outputs named ``prefix + name``."""

    return (
        KnownMistake(prefix + "Y", "evaluation mode normalises with the batch's own statistics; it must use "
                                   "running_mean and running_var (a single test sample has no batch statistics).",
                     wrong_answer=_bn_answer("eval", "eval_batch_stats", "Y"), key=prefix + "eval_batch_stats"),
        KnownMistake(prefix + "running_mean", "an evaluation-mode forward changed the running statistics: update "
                                              "them only in training mode.",
                     wrong_answer=_bn_answer("eval", "eval_updates_running", "running_mean"),
                     key=prefix + "eval_updates_running"),
        KnownMistake(prefix + "dX", "in evaluation mode the running statistics are constants: dX = dY * gamma / "
                                    "sqrt(running_var + eps), without the batch terms of the training-mode backward.",
                     wrong_answer=_bn_answer("eval", "eval_training_backward", "dX"),
                     key=prefix + "eval_training_backward"),
    )


BN_EVAL_MISTAKES = _bn_eval_mistakes()

BN_BACKWARD_MISTAKES = (
    KnownMistake("dX", "dX treats the batch mean and variance as constants (dX = dY * gamma / sqrt(var + eps)); in "
                       "training mode both depend on every row of X, which adds the two sum terms.",
                 wrong_answer=_bn_answer("backward", "stats_constant", "dX"), key="stats_constant"),
    KnownMistake("dX", "dX has the mean's term but not the variance's: add - X_hat * sum_i(g * X_hat), "
                       "all times inv_std / N.",
                 wrong_answer=_bn_answer("backward", "mean_only", "dX"), key="mean_only"),
    KnownMistake("dgamma", "dgamma is the sum of dY * X_hat over the batch (gamma multiplies X_hat), not of dY.",
                 wrong_answer=_bn_answer("backward", "dgamma_without_xhat", "dgamma"), key="dgamma_without_xhat"),
)


def _bn_gradient_problem(impl, x) -> GradientProblem:
    layer = _new_batchnorm(impl, x)
    if not x["training"]:
        layer.running_mean = np.array(x["running_mean"], dtype=np.float64)
        layer.running_var = np.array(x["running_var"], dtype=np.float64)
        layer.training = False
    layer.forward(x["X"])
    dX = _array(layer.backward(x["dY"]), "dX")
    dgamma, dbeta = _bn_gradients(layer)

    def objective(params):
        layer.gamma, layer.beta = params["gamma"], params["beta"]
        return float(np.sum(layer.forward(params["X"]) * x["dY"]))

    return GradientProblem(objective, {"X": x["X"], "gamma": x["gamma"], "beta": x["beta"]},
                           {"X": dX, "gamma": dgamma, "beta": dbeta})


def _bn_gradient_case(label, seed, N, D, training) -> Case:
    case = _bn_case(label, seed, N, D)
    rng = np.random.default_rng(seed + 1)
    return Case(label, {**case.inputs, "training": training, "running_mean": rng.normal(0.0, 1.0, D),
                        "running_var": rng.uniform(0.5, 2.0, D)}, batch_size=N)


def _run_bn_contract(impl, x):
    D = x["X"].shape[1]
    layer = _get(impl, "BatchNorm1d")(D)
    facts = {"training": int(getattr(layer, "training", None) is True)}
    for name in ("gamma", "beta", "running_mean", "running_var"):
        value = getattr(layer, name, None)
        if value is None:
            raise ProbeError(f"BatchNorm1d({D}) has no attribute {name}")
        facts[f"init/{name}"] = _array(value, name)
        facts[f"dtype/{name}"] = str(np.asarray(value).dtype)
    params = list(layer.parameters())
    facts["n_params"] = len(params)
    facts["live"] = int(len(params) == 2 and params[0] is layer.gamma and params[1] is layer.beta)
    layer.forward(x["X"])
    layer.backward(x["dY"])
    grads = list(layer.gradients())
    facts["n_grads"] = len(grads)
    for index, gradient in enumerate(grads[:2]):
        facts[f"grad{index}"] = _array(gradient, "gradients()")
    dgamma, dbeta = _bn_gradients(layer)
    facts["dgamma"], facts["dbeta"] = dgamma, dbeta
    return facts


def _assess_bn_contract(facts, x) -> Verdict:
    D = x["X"].shape[1]
    if facts.get("training") != 1:
        return _fail("a new BatchNorm1d is not in training mode", "set self.training = True in __init__.")
    for name, value in (("gamma", 1.0), ("beta", 0.0), ("running_mean", 0.0), ("running_var", 1.0)):
        array = np.asarray(facts.get(f"init/{name}"))
        if array.shape != (D,) or not np.all(array == value):
            return _fail(f"BatchNorm1d({D}).{name} should start as an array of shape ({D},) full of {value:g}",
                         "gamma = ones, beta = zeros, running_mean = zeros, running_var = ones, each (num_features,) "
                         "as in torch.")
        if facts.get(f"dtype/{name}") != "float64":
            return _fail(f"BatchNorm1d.{name} is {facts.get(f'dtype/{name}')}, not float64",
                         "np.ones(D) and np.zeros(D) are float64; keep it that way.")
    if facts.get("n_params") != 2 or facts.get("live") != 1:
        return _fail("parameters() is not [gamma, beta], the layer's own arrays",
                     "return [self.gamma, self.beta] (not copies): an optimizer updates them in place.")
    dY = x["dY"]
    grads = [np.asarray(facts.get(f"grad{i}"), dtype=np.float64) for i in range(2)]
    if facts.get("n_grads") != 2 or not (allclose(grads[1], dY.sum(axis=0)) and allclose(grads[0], facts["dgamma"])):
        return _fail("gradients() is not [dgamma, dbeta] in the order of parameters()",
                     "return [self.dgamma, self.dbeta] after backward: the same order as [gamma, beta].")
    return Verdict.ok()


def _bn_constant_feature_call(impl, x):
    layer = _get(impl, "BatchNorm1d")(x["X"].shape[1])
    Y = layer.forward(x["X"])
    return {"Y": Y, "dX": layer.backward(x["dY"])}


def _run_bn_validation(impl, x):
    BatchNorm1d = _get(impl, "BatchNorm1d")
    codes = []
    for X, training in ((x["one_row"], True), (x["wrong_width"], True)):
        layer = BatchNorm1d(x["D"])
        layer.training = training
        try:
            layer.forward(X)
            codes.append(0)
        except ValueError:
            codes.append(1)
        except NotImplementedError:
            raise
        except Exception:  # noqa: BLE001  (any other error is a wrong answer, reported as such)
            codes.append(2)
    layer = BatchNorm1d(x["D"])
    layer.training = False
    return {"codes": np.array(codes), "eval_one_row": _array(layer.forward(x["one_row"]), "Y")}


def _assess_bn_validation(facts, x) -> Verdict:
    codes = [int(c) for c in np.asarray(facts.get("codes", ())).ravel()]
    what = ("a training-mode forward of a single sample (N = 1)", "X with the wrong number of features")
    for code, description in zip(codes, what):
        if code != 1:
            got = "was accepted" if code == 0 else "raised something other than ValueError"
            return _fail(f"{description} {got}",
                         "raise ValueError: one sample has no spread to normalise by (torch refuses it too), and X "
                         "must have num_features columns.")
    expected = x["one_row"] / math.sqrt(1.0 + 1e-5)  # running_mean 0, running_var 1, gamma 1, beta 0
    if not allclose(np.asarray(facts.get("eval_one_row"), dtype=np.float64), expected):
        return _fail("evaluation mode did not normalise a single sample with the running statistics",
                     "in evaluation mode a batch of one is fine: use running_mean and running_var.")
    return Verdict.ok()


def _bn_unchanged_call(impl, x):
    layer = _new_batchnorm(impl, x)
    Y = layer.forward(x["X"])
    return {"Y": Y, "dX": layer.backward(x["dY"])}


# ============================================================================ set_training


class _Flagged:
    """A stand-in layer with a training flag (like Dropout or BatchNorm1d)."""

    def __init__(self):
        self.training = True


class _Plain:
    """A stand-in layer without a training flag (like Linear): it must not get one."""


class _Sequence:
    def __init__(self, *layers):
        self.layers = list(layers)


class _FlaggedSequence(_Sequence):
    def __init__(self, *layers):
        super().__init__(*layers)
        self.training = True


class _Skip:
    def __init__(self, inner):
        self.inner = inner


#: The flagged objects of the stand-in model, and where they sit (for the hint).
TRAINING_PLACES = {
    "model": ("the model itself (a container with a training attribute)", "set it on the model itself too."),
    "direct": ("a layer directly in the model's .layers", "walk the model's .layers."),
    "in_residual": ("a layer inside a Residual's .inner", "follow a Residual's .inner as well as .layers."),
    "residual_in_residual": ("a layer in a Residual inside a Sequential inside a Residual",
                             "recurse: call set_training on every child, whatever its kind."),
    "nested": ("a layer in a Sequential inside a Sequential", "recurse into every .layers, not only the top one."),
    "flagged_container": ("a Sequential with its own training attribute, inside a Residual",
                          "set .training on containers that have the attribute too."),
    "single": ("a single layer passed as the model", "a model can be one layer: set its own .training."),
}


def _run_set_training(impl, x):
    set_training = _get(impl, "set_training")
    flagged = {name: _Flagged() for name in ("direct", "in_residual", "residual_in_residual", "nested")}
    plains = [_Plain() for _ in range(3)]
    container = _FlaggedSequence(_Plain())
    model = _FlaggedSequence(
        flagged["direct"], plains[0],
        _Skip(_Sequence(flagged["in_residual"], _Skip(flagged["residual_in_residual"]), plains[1])),
        _Sequence(_Sequence(flagged["nested"]), plains[2]),
        _Skip(container),
    )
    objects = {**flagged, "model": model, "flagged_container": container}
    single = _Flagged()
    facts = {}
    for phase in (False, True):
        set_training(model, phase)
        set_training(single, phase)
        for name, holder in {**objects, "single": single}.items():
            facts[f"{int(phase)}/{name}"] = int(getattr(holder, "training", None) is phase)
        facts[f"{int(phase)}/plain"] = int(any(hasattr(plain, "training") for plain in plains + container.layers))
    return facts


def _assess_set_training(facts, x) -> Verdict:
    for phase in (0, 1):
        for name, (where, hint) in TRAINING_PLACES.items():
            if facts.get(f"{phase}/{name}") != 1:
                mode = "training" if phase else "evaluation"
                extra = (" (it worked for evaluation mode: use the training argument, not a constant)"
                         if phase == 1 and facts.get(f"0/{name}") == 1 else "")
                return _fail(f"set_training(model, {bool(phase)}) did not put {where} in {mode} mode{extra}", hint)
        if facts.get(f"{phase}/plain") != 0:
            return _fail("set_training gave a training attribute to a layer that had none",
                         "set .training only where hasattr(layer, 'training'); Linear and ReLU have no modes.")
    return Verdict.ok()


# ============================================================================ early stopping


@case_builder
def _curve_case(label: str, curve, patience: int, min_delta: float = 0.0) -> Case:
    curve = np.asarray(curve, dtype=np.float64)
    if redrawing():
        # Fresh inputs (evidence/fresh.py): the same curve through an increasing affine map, with
        # min_delta scaled alike. Every comparison the rule makes (a tie, a rise smaller than
        # min_delta, an improvement just past it) keeps its outcome; the numbers are new.
        rng = case_rng([len(curve), patience, int(round(min_delta * 1000))])
        scale, shift = 2.0 ** rng.integers(-2, 3), rng.uniform(-0.5, 0.5)
        curve, min_delta = scale * curve + shift, scale * min_delta
    return Case(label, {"curve": curve, "patience": patience, "min_delta": min_delta})


@case_builder
def _noisy_curve_case(label: str, seed: int, n: int, patience: int) -> Case:
    return _curve_case(label, _noisy_curve(seed, n), patience)


def _noisy_curve(seed: int, n: int) -> np.ndarray:
    rng = case_rng(seed)
    epochs = np.arange(n)
    return 0.3 + 1.5 * np.exp(-epochs / 6.0) + 0.004 * epochs + 0.02 * rng.standard_normal(n)


def _call_early_stopping(impl, x):
    stopper = _get(impl, "EarlyStopping")(x["patience"], x["min_delta"])
    params = [np.zeros((3, 2)), np.zeros(2)]
    stop_epoch = -1
    for epoch, loss in enumerate(x["curve"]):
        params[0][...] = epoch
        if stopper.step(float(loss), params):
            stop_epoch = epoch
            break
    return {"stop_epoch": float(stop_epoch),
            "best_epoch": _array(getattr(stopper, "best_epoch", np.nan), "best_epoch").reshape(()),
            "best_loss": _array(getattr(stopper, "best_loss", np.nan), "best_loss").reshape(())}


#: The outputs of the early-stopping checks, in the order of the instructor-only simulator's result.
EARLY_STOPPING_OUTPUTS = ("stop_epoch", "best_epoch", "best_loss")


def _early_mistake(mistake: str, hint: str) -> tuple[KnownMistake, ...]:
    """The mistake, for each output it may change (the first output that differs is diagnosed)."""

    return tuple(KnownMistake(output, hint, wrong_answer=InstructorAnswer(MODULE, "early_stopping_with_mistake",
                                                                         (mistake, output)),
                              key=f"{mistake}-{output}")
                 for output in EARLY_STOPPING_OUTPUTS)


EARLY_STOPPING_MISTAKES = tuple(mistake for variants in (
    _early_mistake("ties", "a loss equal to the best counts as an improvement here; it must be strictly lower: "
                           "val_loss < best_loss - min_delta."),
    _early_mistake("patience_late", "training stops one epoch late: stop as soon as `patience` epochs in a row "
                                    "have not improved (wait >= patience)."),
    _early_mistake("min_delta_ignored", "min_delta is ignored: an epoch improves only when val_loss < best_loss - "
                                        "min_delta."),
    _early_mistake("min_delta_sign", "min_delta has the wrong sign: an improvement must beat the best by more than "
                                     "min_delta (val_loss < best_loss - min_delta)."),
    _early_mistake("no_reset", "the count of epochs without improvement is not reset to 0 when an epoch improves."),
    _early_mistake("one_based_best", "best_epoch counts from 1; it is the 0-based index of the step() call "
                                     "(the first call is epoch 0)."),
) for mistake in variants)


def _run_early_restore(impl, x):
    stopper = _get(impl, "EarlyStopping")(x["patience"])
    W, b = np.zeros((3, 2)), np.zeros(2)
    params = [W, b]
    untouched = 1
    stopped = -1
    for epoch, loss in enumerate(x["curve"]):
        W[...] = x["W"] * (epoch + 1)
        b[...] = -float(epoch)
        if stopper.step(float(loss), params):
            stopped = epoch
        untouched &= int(np.array_equal(W, x["W"] * (epoch + 1)) and np.array_equal(b, np.full(2, -float(epoch))))
        if stopped >= 0:
            break
    stopper.restore(params)
    return {"untouched": untouched, "stopped": stopped, "W": W.copy(), "b": b.copy()}


def _assess_early_restore(facts, x) -> Verdict:
    if facts.get("untouched") != 1:
        return _fail("EarlyStopping.step changed the parameter arrays it was given",
                     "step only copies the parameters (p.copy()); it never writes into them.")
    best = int(np.argmin(x["curve"]))
    W, b = np.asarray(facts.get("W"), dtype=np.float64), np.asarray(facts.get("b"), dtype=np.float64)
    if allclose(W, x["W"] * (best + 1)) and allclose(b, np.full(2, -float(best))):
        return Verdict.ok()
    last = int(facts.get("stopped", -1))
    if last >= 0 and allclose(W, x["W"] * (last + 1)):
        hint = ("the parameters are still (or again) those of the last epoch: in step keep copies (p.copy(), the "
                "live arrays keep changing), and in restore write them into the live arrays in place (p[...] = best).")
    else:
        hint = "restore must write the best epoch's values into the given arrays, in place: p[...] = best."
    return _fail(f"after restore the parameters are not those of the best epoch (epoch {best})", hint)


# ============================================================================ k-fold


def _run_folds(impl, x):
    kfold = _get(impl, "kfold_indices")
    facts = {}
    for index, (n, k, shuffle, seed) in enumerate(x["configs"]):
        folds = kfold(n, k, shuffle=shuffle, rng=np.random.default_rng(seed))
        if not isinstance(folds, (list, tuple)):
            raise ProbeError(f"kfold_indices should return a list of (train_idx, val_idx) pairs, got {type(folds).__name__}")
        facts[f"{index}/k"] = len(folds)
        for fold, pair in enumerate(folds):
            train, val = expect_tuple(pair, ("train_idx", "val_idx"), "each fold of kfold_indices")
            facts[f"{index}/{fold}/train"] = np.asarray(as_number_array(train, "train_idx")).ravel()
            facts[f"{index}/{fold}/val"] = np.asarray(as_number_array(val, "val_idx")).ravel()
    return facts


def _folds_of(facts, index):
    k = int(facts.get(f"{index}/k", 0))
    return [(np.asarray(facts.get(f"{index}/{fold}/train")), np.asarray(facts.get(f"{index}/{fold}/val")))
            for fold in range(k)]


def _partition_problem(n: int, k: int, folds) -> Verdict | None:
    """Why ``folds`` is not a k-fold split of range(n), or None."""
    if len(folds) != k:
        return _fail(f"kfold_indices({n}, {k}) returned {len(folds)} folds", "return one (train_idx, val_idx) per fold.")
    seen = np.zeros(n, dtype=int)
    for fold, (train, val) in enumerate(folds):
        for name, indices in (("train_idx", train), ("val_idx", val)):
            if indices.size and not np.issubdtype(indices.dtype, np.integer):
                return _fail(f"fold {fold}'s {name} holds {indices.dtype} values, not integer indices",
                             "return integer index arrays (np.arange, a permutation and slices of it).")
            if indices.size and (indices.min() < 0 or indices.max() >= n):
                return _fail(f"fold {fold}'s {name} holds indices outside 0 .. {n - 1}", "indices run from 0 to n - 1.")
        if len(np.unique(val)) != len(val):
            return _fail(f"fold {fold}'s validation indices repeat a sample", "each sample is validated exactly once.")
        seen[val] += 1
        complement = np.setdiff1d(np.arange(n), val)
        if np.intersect1d(train, val).size:
            return _fail(f"fold {fold}'s training indices include validation indices",
                         "train on the complement of the validation fold: a model scored on samples it was trained "
                         "on looks better than it is (leakage).")
        if len(train) != len(complement) or not np.array_equal(np.sort(train), complement):
            return _fail(f"fold {fold}'s training indices are not all the other samples",
                         "train_idx is every index that is not in val_idx, each once.")
    if np.any(seen > 1):
        return _fail(f"sample {int(np.argmax(seen > 1))} is in more than one validation fold",
                     "the validation folds must be disjoint: consecutive slices of one order.")
    if np.any(seen == 0):
        return _fail(f"sample {int(np.argmax(seen == 0))} is in no validation fold (kfold_indices({n}, {k}))",
                     "the validation folds must cover every sample: the sizes add up to n (the first n % k folds "
                     "hold one more).")
    return None


def _sizes_problem(n: int, k: int, folds) -> Verdict | None:
    sizes = [len(val) for _, val in folds]
    expected = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
    if sizes == expected:
        return None
    if sorted(sizes) == sorted(expected):
        hint = "the larger folds come first, as in scikit-learn's KFold: the first n % k folds hold n // k + 1."
    elif sizes[:-1] == [n // k] * (k - 1):
        hint = ("the last fold takes the whole remainder: spread it, one extra sample to each of the first n % k "
                "folds, so sizes differ by at most 1.")
    else:
        hint = "fold sizes must differ by at most 1: n // k + 1 for the first n % k folds, n // k for the others."
    return _fail(f"kfold_indices({n}, {k}) made folds of sizes {sizes}; expected {expected}", hint)


def _assess_partition(facts, x) -> Verdict:
    for index, (n, k, _, _) in enumerate(x["configs"]):
        problem = _partition_problem(n, k, _folds_of(facts, index))
        if problem:
            return problem
    return Verdict.ok()


def _assess_sizes(facts, x) -> Verdict:
    for index, (n, k, _, _) in enumerate(x["configs"]):
        folds = _folds_of(facts, index)
        problem = _partition_problem(n, k, folds) or _sizes_problem(n, k, folds)
        if problem:
            return problem
    return Verdict.ok()


def _call_unshuffled(impl, x):
    folds = _get(impl, "kfold_indices")(x["n"], x["k"], shuffle=False)
    outputs = {}
    for fold, pair in enumerate(folds):
        train, val = expect_tuple(pair, ("train_idx", "val_idx"), "each fold of kfold_indices")
        outputs[f"fold{fold}_val"] = np.asarray(as_number_array(val, "val_idx")).ravel()
        outputs[f"fold{fold}_train"] = np.asarray(as_number_array(train, "train_idx")).ravel()
    return outputs


def _fold_size_mistakes(folds: int = 4) -> tuple[KnownMistake, ...]:
    """A fold of the wrong length, in the unshuffled split: name the sizes rule."""
    hint = ("a fold has the wrong size: the first n % k folds hold n // k + 1 indices, the others n // k (as "
            "scikit-learn's KFold); see techniques.kfold.sizes.")
    return tuple(KnownMistake(f"fold{fold}_{half}", hint,
                              explains=lambda received, expected, inputs: received.shape != expected.shape)
                 for fold in range(folds) for half in ("val", "train"))


def _run_shuffle(impl, x):
    kfold = _get(impl, "kfold_indices")
    facts = {}
    for name, seed in (("first", x["seed"]), ("again", x["seed"]), ("other", x["seed"] + 1)):
        for fold, (_, val) in enumerate(kfold(x["n"], x["k"], shuffle=True, rng=np.random.default_rng(seed))):
            facts[f"{name}/{fold}"] = np.asarray(as_number_array(val, "val_idx")).ravel()
    return facts


def _assess_shuffle(facts, x) -> Verdict:
    n, k = x["n"], x["k"]

    def folds(name):
        return [np.asarray(facts.get(f"{name}/{fold}"), dtype=np.float64) for fold in range(k)]

    first, again, other = folds("first"), folds("again"), folds("other")
    if any(f.shape != a.shape or not np.array_equal(f, a) for f, a in zip(first, again)):
        return _fail("two calls with generators of the same seed made different folds",
                     "shuffle with the rng passed in (rng.permutation(n)), not np.random.")
    sizes = np.cumsum([0] + [len(f) for f in first])
    if all(np.array_equal(np.sort(f), np.arange(sizes[i], sizes[i + 1])) for i, f in enumerate(first)):
        return _fail(f"with shuffle=True the validation folds of kfold_indices({n}, {k}) are consecutive blocks "
                     "0, 1, 2, ...", "shuffle=True must split rng.permutation(n), not np.arange(n).")
    if all(f.shape == o.shape and np.array_equal(f, o) for f, o in zip(first, other)):
        return _fail("generators of different seeds made the same folds",
                     "shuffle with the rng passed in, not with a generator of your own.")
    return Verdict.ok()


def _run_kfold_validation(impl, x):
    kfold = _get(impl, "kfold_indices")
    codes = []
    for n, k in x["invalid"]:
        try:
            kfold(n, k, shuffle=False)
            codes.append(0)
        except ValueError:
            codes.append(1)
        except NotImplementedError:
            raise
        except Exception:  # noqa: BLE001  (any other error is a wrong answer, reported as such)
            codes.append(2)
    loo = kfold(x["n"], x["n"], shuffle=False)
    return {"codes": np.array(codes), "loo": len(loo)}


def _assess_kfold_validation(facts, x) -> Verdict:
    codes = [int(c) for c in np.asarray(facts.get("codes", ())).ravel()]
    for code, (n, k) in zip(codes, x["invalid"]):
        if code != 1:
            got = "was accepted" if code == 0 else "raised something other than ValueError"
            return _fail(f"kfold_indices({n}, {k}) {got}", "k must satisfy 2 <= k <= n: raise ValueError otherwise.")
    if facts.get("loo") != x["n"]:
        return _fail(f"kfold_indices({x['n']}, {x['n']}) (leave-one-out) did not return {x['n']} folds",
                     "k = n is allowed: every fold validates one sample.")
    return Verdict.ok()


# ============================================================================ cross-validation


def _curve_data(seed: int, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """The grader's copy of techniques.curve_data (tests hold the two equal)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, 1))
    return x, np.sin(3.0 * x[:, 0]) + 0.3 * rng.standard_normal(n)


def _random_feature_regressor(hidden: int, seed: int = 0, ridge: float = 1e-6):
    """The grader's copy of techniques.random_feature_regressor (tests hold the two equal)."""

    def train_and_score(X_train, y_train, X_val, y_val) -> float:
        rng = np.random.default_rng(seed)
        weights = 3.0 * rng.standard_normal((X_train.shape[1], hidden))
        bias = rng.uniform(-3.0, 3.0, hidden)

        def features(X):
            return np.hstack([np.tanh(X @ weights + bias), np.ones((len(X), 1))])

        F = features(X_train)
        w = np.linalg.solve(F.T @ F + ridge * np.eye(hidden + 1), F.T @ y_train)
        residual = features(X_val) @ w - y_val
        return float(np.mean(residual * residual))

    return train_and_score


def _simple_score(X_train, y_train, X_val, y_val) -> float:
    """A score that differs from fold to fold and depends on both halves and their targets."""
    return float(np.mean(y_val) + 0.01 * len(y_train) + 0.1 * np.mean(X_train[:, 0]))


class _Recorder:
    """A ``train_and_score`` that records which rows of X it was given (rows are recognised by their
    first column, whose values are distinct) and the targets that came with them."""

    def __init__(self, X: np.ndarray, score: Callable, hidden: int | None = None):
        self.row_of = {float(value): row for row, value in enumerate(X[:, 0])}
        self.score = score
        self.hidden = hidden
        self.calls: list[dict[str, np.ndarray]] = []

    def _rows(self, part, what: str) -> np.ndarray:
        part = np.asarray(part, dtype=np.float64)
        try:
            return np.array([self.row_of[float(v)] for v in part.reshape(len(part), -1)[:, 0]], dtype=np.int64)
        except (KeyError, TypeError, ValueError):
            raise ProbeError(f"train_and_score received {what} rows that are not rows of X "
                             "(pass X[idx] as it is)") from None

    def __call__(self, X_train, y_train, X_val, y_val):
        self.calls.append({"train": self._rows(X_train, "training"), "val": self._rows(X_val, "validation"),
                           "y_train": np.array(y_train, dtype=np.float64).ravel(),
                           "y_val": np.array(y_val, dtype=np.float64).ravel()})
        return self.score(np.asarray(X_train), np.asarray(y_train), np.asarray(X_val), np.asarray(y_val))


def _recorded(prefix: str, recorder: _Recorder) -> dict:
    facts = {f"{prefix}calls": len(recorder.calls)}
    for index, call in enumerate(recorder.calls):
        for key, value in call.items():
            facts[f"{prefix}{index}/{key}"] = value
    return facts


def _calls_of(facts, prefix: str) -> list[dict[str, np.ndarray]]:
    return [{key: np.asarray(facts.get(f"{prefix}{index}/{key}")) for key in ("train", "val", "y_train", "y_val")}
            for index in range(int(facts.get(f"{prefix}calls", 0)))]


def _run_cross_validate(impl, x):
    X, y = _curve_data(x["data_seed"], x["n"])
    recorder = _Recorder(X, _simple_score)
    scores = _get(impl, "cross_validate")(recorder, X, y, x["k"], np.random.default_rng(x["seed"]))
    return {**_recorded("", recorder), "scores": _array(scores, "scores")}


def _check_calls(calls, X, y, k, score, what: str) -> tuple[Verdict | None, list[float]]:
    """Checks that ``calls`` are the k folds of a k-fold split with aligned targets; returns the
    scores the grader computes itself from the rows the student's code used."""
    n = len(X)
    folds = [(call["train"].astype(np.int64), call["val"].astype(np.int64)) for call in calls]
    problem = _partition_problem(n, k, folds)
    if problem:
        return _fail(f"{what}: " + problem.message[0].lower() + problem.message[1:], problem.hint), []
    for index, call in enumerate(calls):
        for half in ("train", "val"):
            rows = call[half].astype(np.int64)
            if call[f"y_{half}"].shape != rows.shape or not np.array_equal(call[f"y_{half}"], y[rows]):
                return _fail(f"{what}: fold {index}'s y_{half} are not the targets of its X_{half} rows",
                             "index X and y with the same index arrays: X[train_idx], y[train_idx], X[val_idx], "
                             "y[val_idx]."), []
    return None, [score(X[call["train"]], y[call["train"]], X[call["val"]], y[call["val"]]) for call in calls]


def _assess_cross_validate(facts, x) -> Verdict:
    X, y = _curve_data(x["data_seed"], x["n"])
    calls = _calls_of(facts, "")
    problem, scores = _check_calls(calls, X, y, x["k"], _simple_score, "cross_validate")
    if problem:
        return problem
    received = np.asarray(facts.get("scores"), dtype=np.float64)
    if received.shape != (x["k"],):
        hint = ("return the k scores as an array, not their mean." if received.size == 1 else
                "return one score per fold, as an array of shape (k,).")
        return _fail(f"cross_validate returned shape {received.shape}; expected ({x['k']},)", hint)
    if not allclose(received, np.array(scores)):
        return _fail("cross_validate's scores are not the values train_and_score returned, fold by fold",
                     "collect float(train_and_score(...)) for the folds in order, fold 0 first.")
    return Verdict.ok()


def _run_choose(impl, x):
    X, y = _curve_data(x["data_seed"], x["n"])
    recorders: list[_Recorder] = []

    def make_train_and_score(hidden):
        recorder = _Recorder(X, _random_feature_regressor(int(hidden)), int(hidden))
        recorders.append(recorder)
        return recorder

    best, means = expect_tuple(
        _get(impl, "choose_hidden_size")(make_train_and_score, list(x["sizes"]), X, y, x["k"], x["seed"]),
        ("best", "mean_scores"), "choose_hidden_size")
    facts = {"best": float(as_number_array(best, "best")), "means": _array(means, "mean_scores"),
             "made": np.array([r.hidden for r in recorders], dtype=np.int64)}
    for index, recorder in enumerate(recorders):
        facts.update(_recorded(f"{index}:", recorder))
    return facts


def _assess_choose(facts, x, demonstrate: int | None = None) -> Verdict:
    X, y = _curve_data(x["data_seed"], x["n"])
    sizes, k = list(x["sizes"]), x["k"]
    made = [int(h) for h in np.asarray(facts.get("made", ())).ravel()]
    expected_means, reference_folds = [], None
    for hidden in sizes:
        if made.count(hidden) != 1:
            return _fail(f"choose_hidden_size called make_train_and_score({hidden}) {made.count(hidden)} times",
                         "score every candidate once: cross_validate(make_train_and_score(h), ...) for h in hidden_sizes.")
        calls = _calls_of(facts, f"{made.index(hidden)}:")
        problem, scores = _check_calls(calls, X, y, k, _random_feature_regressor(hidden), f"candidate {hidden}")
        if problem:
            return problem
        folds = [tuple(np.sort(call["val"])) for call in calls]
        if reference_folds is None:
            reference_folds = folds
        elif folds != reference_folds:
            return _fail("the candidates were scored on different folds",
                         "give cross_validate a new np.random.default_rng(seed) for every candidate, so all of "
                         "them are compared on the same split.")
        expected_means.append(float(np.mean(scores)))
    means = np.asarray(facts.get("means"), dtype=np.float64)
    if means.shape != (len(sizes),) or not allclose(means, np.array(expected_means)):
        return _fail("mean_scores are not the mean cross-validation score of each candidate",
                     "mean_scores[i] = cross_validate(make_train_and_score(hidden_sizes[i]), ...).mean().")
    best = facts.get("best")
    wanted = sizes[int(np.argmin(expected_means))]
    if best != wanted:
        if best == sizes[int(np.argmax(expected_means))]:
            hint = "the score is a validation loss: lower is better, take np.argmin."
        elif best == int(np.argmin(expected_means)):
            hint = "return the hidden size itself (hidden_sizes[i]), not its index i."
        else:
            hint = "best is the candidate with the lowest mean score."
        return _fail(f"choose_hidden_size chose {best:g}; the lowest mean score belongs to {wanted}", hint)
    curve = {"mean validation MSE per candidate": tuple(expected_means)}
    if demonstrate is not None and wanted != demonstrate:
        return Verdict(False, f"cross-validation chose {wanted} hidden units; on this data it picks {demonstrate}",
                       "the folds themselves passed the checks: compare your kfold_indices with the docstring.",
                       (), curve)
    return Verdict.ok(f"chose {wanted} hidden units", curve)


# ============================================================================ mixup


def _mixup_case(label: str, calls: list[tuple[int, float]], N: int = 12, D: int = 16, K: int = 4, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D))  # rows linearly independent: every mix can be decomposed uniquely
    labels = rng.integers(0, K, N)
    return Case(label, {"x": x, "y": np.eye(K)[labels], "calls": list(calls)})


def _run_mixup_pairs(impl, x):
    mixup = _get(impl, "mixup")
    facts = {}
    for index, (seed, alpha) in enumerate(x["calls"]):
        x_mix, y_mix = expect_tuple(mixup(x["x"], x["y"], alpha, np.random.default_rng(seed)),
                                    ("x_mix", "y_mix"), "mixup")
        facts[f"{index}/x"], facts[f"{index}/y"] = _array(x_mix, "x_mix"), _array(y_mix, "y_mix")
    return facts


@dataclass
class _Mixing:
    partner: list[int]
    weight: list[float | None]  # the coefficient of row i itself (lam), None where partner == i


def _decompose(x: np.ndarray, x_mix: np.ndarray) -> _Mixing | Verdict:
    """Writes each row of x_mix in the basis of x's rows and reads off partner and lambda."""
    N = len(x)
    if x_mix.shape != x.shape:
        return _fail(f"x_mix has shape {x_mix.shape}; expected {x.shape}", "x_mix is shaped like x.")
    if not np.all(np.isfinite(x_mix)):
        return _fail("x_mix contains inf or NaN", "lam comes from rng.beta(alpha, alpha) and lies in [0, 1].")
    coefficients = np.linalg.lstsq(x.T, x_mix.T, rcond=None)[0].T  # x_mix[i] = sum_j C[i, j] x[j]
    scale = np.abs(x).max()
    if np.abs(coefficients @ x - x_mix).max() > 1e-9 * scale:
        return _fail("x_mix contains rows that are not combinations of rows of x",
                     "x_mix = lam * x + (1 - lam) * x[perm]: mix whole rows (samples), not features.")
    partner, weight = [], []
    for i, row in enumerate(coefficients):
        used = [j for j in range(N) if abs(row[j]) > 1e-9]
        others = [j for j in used if j != i]
        if len(others) > 1:
            return _fail(f"row {i} of x_mix mixes more than two samples",
                         "each row mixes one sample with one partner: lam * x[i] + (1 - lam) * x[perm[i]].")
        if not others:
            if abs(row[i] - 1.0) > 1e-9:
                return _fail(f"row {i} of x_mix is {row[i]:.4g} times x[{i}], not a convex combination",
                             "the two weights lam and 1 - lam add up to 1.")
            partner.append(i)
            weight.append(None)
            continue
        j = others[0]
        a, b = row[i], row[j]
        if abs(a + b - 1.0) > 1e-9 or a < -1e-9 or b < -1e-9:
            return _fail(f"row {i} of x_mix is {a:.4g} * x[{i}] + {b:.4g} * x[{j}], not a convex combination",
                         "use weights lam and 1 - lam with lam in [0, 1]: lam * x + (1 - lam) * x[perm].")
        partner.append(j)
        weight.append(float(a))
    if sorted(partner) != list(range(N)):
        return _fail("some samples are the partner of two rows and others of none",
                     "pair the batch with a shuffled copy of itself, perm = rng.permutation(N), not with random "
                     "indices drawn independently.")
    return _Mixing(partner, weight)


def _assess_pairs(facts, x) -> Verdict:
    for index in range(len(x["calls"])):
        mixing = _decompose(x["x"], np.asarray(facts.get(f"{index}/x"), dtype=np.float64))
        if isinstance(mixing, Verdict):
            return mixing
        weights = [w for w in mixing.weight if w is not None]
        if weights and max(weights) - min(weights) > 1e-9:
            return _fail("the rows of x_mix use different lambdas",
                         "draw ONE lambda per batch, lam = rng.beta(alpha, alpha), as in the mixup paper.")
    return Verdict.ok()


def _assess_targets(facts, x) -> Verdict:
    y = x["y"]
    for index in range(len(x["calls"])):
        mixing = _decompose(x["x"], np.asarray(facts.get(f"{index}/x"), dtype=np.float64))
        if isinstance(mixing, Verdict):
            return _fail("x_mix is not made of pairs of samples, so the targets cannot be checked",
                         "fix techniques.mixup.pairs first.")
        y_mix = np.asarray(facts.get(f"{index}/y"), dtype=np.float64)
        if y_mix.shape != y.shape:
            return _fail(f"y_mix has shape {y_mix.shape}; expected {y.shape}", "y_mix is shaped like y_onehot.")
        if not allclose(y_mix.sum(axis=1), np.ones(len(y))):
            return _fail("the rows of y_mix do not sum to 1",
                         "a convex combination of two one-hot rows sums to 1: lam * y + (1 - lam) * y[perm].")
        lam = next((w for w in mixing.weight if w is not None), 1.0)
        partner = mixing.partner
        expected = lam * y + (1.0 - lam) * y[partner]
        if allclose(y_mix, expected):
            continue
        if allclose(y_mix, y) and not allclose(expected, y):
            hint = "y_mix is y unchanged: mix the targets with the same lam and perm as the inputs."
        elif allclose(y_mix, (1.0 - lam) * y + lam * y[partner]):
            hint = "y_mix weighs the pair with 1 - lam where x_mix uses lam: use the same lam for both."
        else:
            hint = "y_mix must use the same lam and the same perm as x_mix: lam * y + (1 - lam) * y[perm]."
        return _fail("y_mix is not the same combination of targets as x_mix is of inputs", hint)
    return Verdict.ok()


def _beta_moments(alpha: float) -> tuple[float, float]:
    """Variance and fourth central moment of Beta(alpha, alpha) (mean 1/2)."""
    variance = 1.0 / (4.0 * (2.0 * alpha + 1.0))
    return variance, variance * variance * 3.0 * (2.0 * alpha + 1.0) / (2.0 * alpha + 3.0)


def _run_mixup_alpha(impl, x):
    mixup = _get(impl, "mixup")
    eye = np.eye(x["N"])
    facts = {}
    for index, (seed, alpha) in enumerate(x["settings"]):
        rng = np.random.default_rng(seed)
        mixes = np.empty((x["calls"], x["N"], x["N"]))
        for call in range(x["calls"]):
            mixes[call] = as_number_array(expect_tuple(mixup(eye, eye, alpha, rng), ("x_mix", "y_mix"), "mixup")[0],
                                           "x_mix")
        facts[f"{index}/mixes"] = mixes
    return facts


def _lambdas(mixes: np.ndarray) -> np.ndarray:
    """lam of every call, read off the first row that was mixed with another one (x is the identity,
    so row i of x_mix is lam e_i + (1 - lam) e_partner); calls that mixed nothing are left out."""
    N = mixes.shape[1]
    mixed = np.any(mixes * (1.0 - np.eye(N)) != 0.0, axis=2)  # (calls, N): row i has a partner j != i
    calls = np.flatnonzero(mixed.any(axis=1))
    rows = np.argmax(mixed[calls], axis=1)
    return mixes[calls, rows, rows]


def _assess_alpha(facts, x) -> Verdict:
    for index, (_, alpha) in enumerate(x["settings"]):
        mixes = np.asarray(facts.get(f"{index}/mixes"), dtype=np.float64)
        if mixes.shape != (x["calls"], x["N"], x["N"]) or not np.all(np.isfinite(mixes)):
            return _fail("mixup of an identity batch did not return a finite x_mix of the same shape",
                         "x_mix = lam * x + (1 - lam) * x[perm].")
        lam = _lambdas(mixes)
        if len(lam) < x["calls"] // 2:
            return _fail("most calls of mixup returned x unchanged", "mix every batch: lam ~ Beta(alpha, alpha).")
        variance, fourth = _beta_moments(alpha)
        n = len(lam)
        mean_band = KEEP_SIGMAS * math.sqrt(variance / n)
        variance_band = KEEP_SIGMAS * math.sqrt((fourth - variance * variance) / n)
        got_mean, got_variance = float(lam.mean()), float(np.mean((lam - 0.5) ** 2))
        if abs(got_mean - 0.5) <= mean_band and abs(got_variance - variance) <= variance_band:
            continue
        if got_variance < 1e-12:
            hint = "lambda is the same in every call: draw a new lam = rng.beta(alpha, alpha) for every batch."
        elif np.all(lam >= 0.5) or np.all(lam <= 0.5):
            hint = ("lambda always lies on one side of 1/2: do not fold it with max(lam, 1 - lam); the paper uses "
                    "lam ~ Beta(alpha, alpha) as drawn.")
        elif abs(got_variance - 1.0 / 12.0) <= variance_band and abs(variance - 1.0 / 12.0) > 2 * variance_band:
            hint = "lambda looks uniform on [0, 1] whatever alpha is: draw it with rng.beta(alpha, alpha)."
        else:
            hint = "lambda must follow Beta(alpha, alpha): rng.beta(alpha, alpha), one draw per call."
        return _fail(f"with alpha={alpha}, lambda over {n} calls has mean {got_mean:.3f} and variance "
                     f"{got_variance:.4f}; Beta(alpha, alpha) has mean 0.5 and variance {variance:.4f} "
                     f"(within +-{mean_band:.3f} and +-{variance_band:.4f})", hint)
    return Verdict.ok()


def _assess_mixup_hidden(facts, x) -> Verdict:
    for assess in (_assess_pairs, _assess_targets):
        verdict = assess(facts, x)
        if not verdict.passed:
            return verdict
    return _assess_alpha(facts, {**x["alpha"]})


def _run_mixup_hidden(impl, x):
    facts = _run_mixup_pairs(impl, x)
    facts.update(_run_mixup_alpha(impl, x["alpha"]))
    return facts


def _mixup_unchanged_call(impl, x):
    x_mix, y_mix = expect_tuple(_get(impl, "mixup")(x["x"], x["y"], 1.0, np.random.default_rng(x["seed"])),
                                ("x_mix", "y_mix"), "mixup")
    return {"x_mix": x_mix, "y_mix": y_mix}


# ============================================================================ weight decay


class _Quadratic:
    """loss(w) = 1/2 sum_i a_i (w_i - c_i)**2: curvatures of very different sizes, so that Adam's
    per-coordinate scaling shows."""

    def __init__(self, a: np.ndarray, c: np.ndarray):
        self.a, self.c = a, c

    def __call__(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        r = w - self.c
        return float(0.5 * np.sum(self.a * r * r)), self.a * r


@case_builder
def _wd_case(label: str, seed: int, *, lr: float, weight_decay: float, steps: int) -> Case:
    rng = case_rng(seed)
    return Case(label, {"a": np.array([20.0, 1.0, 0.05]) * rng.uniform(0.8, 1.2, 3), "c": rng.normal(0.0, 2.0, 3),
                        "start": rng.normal(0.0, 1.0, 3), "lr": lr, "weight_decay": weight_decay, "steps": steps})


def _call_wd_paths(impl, x):
    paths = _get(impl, "weight_decay_paths")(_Quadratic(x["a"], x["c"]), x["start"], x["lr"], x["weight_decay"],
                                             x["steps"])
    if not isinstance(paths, Mapping):
        raise ProbeError(f"weight_decay_paths should return a dict of four paths, got {type(paths).__name__}")
    missing = [run for run in ("sgd_l2", "sgd_decoupled", "adam_l2", "adamw") if run not in paths]
    if missing:
        raise ProbeError(f"weight_decay_paths did not return the run(s) {', '.join(missing)}")
    return {run: _array(paths[run], run) for run in ("sgd_l2", "sgd_decoupled", "adam_l2", "adamw")}


def _wd_mistake(output: str, mistake: str, hint: str) -> KnownMistake:
    return KnownMistake(output, hint, wrong_answer=InstructorAnswer(MODULE, "weight_decay_path_with_mistake",
                                                                    (mistake, output)), key=f"{mistake}-{output}")


WD_MISTAKES = (
    _wd_mistake("sgd_l2", "no_penalty", "sgd_l2 follows the loss alone: add the penalty's gradient, "
                                        "l2_penalty([w], weight_decay)[1][0], to the loss's gradient."),
    _wd_mistake("sgd_decoupled", "decay_without_lr", "the decoupled decay multiplies w by 1 - lr * weight_decay "
                                                     "(the learning rate is part of it, as in AdamW)."),
    _wd_mistake("sgd_decoupled", "decay_after_step", "decay w before the step: w *= 1 - lr * wd, then the "
                                                     "optimizer's step with the gradient taken at the old w (as AdamW "
                                                     "does)."),
    _wd_mistake("adam_l2", "adam_l2_decoupled", "adam_l2 decays the weights directly, as AdamW does; it is Adam "
                                                "(weight_decay 0) with the penalty's gradient added."),
    _wd_mistake("adamw", "adamw_coupled", "adamw adds weight_decay * w to the gradient (that is what Adam's own "
                                          "weight_decay does: L2); AdamW decays w directly: AdamW(lr=lr, "
                                          "weight_decay=weight_decay) with the plain gradient."),
    _wd_mistake("adam_l2", "no_penalty", "adam_l2 follows the loss alone: add the penalty's gradient before "
                                         "Adam's step."),
)


def _call_l2(impl, x):
    penalty, grads = expect_tuple(_get(impl, "l2_penalty")(x["params"], x["weight_decay"]), ("penalty", "grads"),
                                  "l2_penalty")
    grads = list(grads)
    if len(grads) != len(x["params"]):
        raise ProbeError(f"l2_penalty returned {len(grads)} gradients for {len(x['params'])} parameters")
    return {"penalty": _array(penalty, "penalty").reshape(()),
            "grads": np.concatenate([_array(g, "grads").ravel() for g in grads])}


L2_MISTAKES = (
    KnownMistake("penalty", "the penalty is weight_decay / 2 * sum ||p||**2: the 1/2 is part of it (so that its "
                            "gradient is exactly weight_decay * p).",
                 wrong_answer=lambda inputs, expected: 2.0 * expected),
    KnownMistake("grads", "the gradient of weight_decay / 2 * ||p||**2 is weight_decay * p: the 2 of the square "
                          "cancels the 1/2.", wrong_answer=lambda inputs, expected: 2.0 * expected),
    KnownMistake("penalty", "the penalty uses the norms ||p||, not their squares ||p||**2.",
                 wrong_answer=lambda inputs, expected: 0.5 * inputs["weight_decay"] * sum(
                     np.sqrt(np.sum(p * p)) for p in inputs["params"])),
)


@case_builder
def _l2_case(label: str, seed: int, shapes, weight_decay: float) -> Case:
    rng = case_rng(seed)
    return Case(label, {"params": [rng.standard_normal(shape) for shape in shapes], "weight_decay": weight_decay})


def _run_wd_equivalence(impl, x):
    return _call_wd_paths(impl, x)


def _assess_wd_equivalence(facts, x) -> Verdict:
    paths = {run: np.asarray(facts.get(run), dtype=np.float64) for run in ("sgd_l2", "sgd_decoupled", "adam_l2", "adamw")}
    shape = (x["steps"] + 1, len(x["start"]))
    for run, path in paths.items():
        if path.shape != shape or not np.all(np.isfinite(path)):
            return _fail(f"the {run} path has shape {path.shape} or is not finite; expected {shape}",
                         "one row per step plus the start, of finite numbers.")
    sgd_gap = float(np.max(np.abs(paths["sgd_l2"] - paths["sgd_decoupled"])))
    adam_gap = float(np.max(np.abs(paths["adam_l2"] - paths["adamw"])))
    if not compare(paths["sgd_l2"], paths["sgd_decoupled"], ITERATIVE).matches:
        return _fail(f"your SGD runs with the L2 penalty and with decoupled decay differ (by up to {sgd_gap:.3g})",
                     "for SGD they are one update: w - lr * (g + wd * w) = (1 - lr * wd) * w - lr * g.")
    if adam_gap < 1e-3 * float(np.max(np.abs(paths["adamw"]))):
        return _fail("your Adam + L2 run and your AdamW run are the same",
                     "Adam divides the L2 gradient by sqrt(v_hat) with the rest; AdamW decays w directly. One run "
                     "must use Adam with the penalty's gradient, the other AdamW with the plain gradient.")
    return Verdict.ok(f"SGD: L2 and decoupled decay differ by {sgd_gap:.1e} (rounding); Adam + L2 and AdamW by "
                      f"{adam_gap:.3g}")


# ============================================================================ ensemble


class _Affine:
    """A stand-in member: logits = X @ W + b."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray):
        self.weights, self.bias = weights, bias

    def forward(self, X: np.ndarray) -> np.ndarray:
        return X @ self.weights + self.bias


@case_builder
def _ensemble_case(label: str, seed: int, N: int, D: int, K: int, M: int, scale: float = 3.0) -> Case:
    rng = case_rng(seed)
    return Case(label, {"X": rng.standard_normal((N, D)), "W": [scale * rng.standard_normal((D, K)) for _ in range(M)],
                        "b": [rng.normal(0.0, 1.0, K) for _ in range(M)]}, batch_size=N)


def _call_ensemble(impl, x):
    models = [_Affine(W, b) for W, b in zip(x["W"], x["b"])]
    return {"P": _get(impl, "Ensemble")(models).predict_proba(x["X"])}


ENSEMBLE_MISTAKES = (
    KnownMistake("P", "the logits are averaged and then passed through one softmax; average the members' "
                      "probabilities instead: mean over m of softmax(logits_m).",
                 wrong_answer=InstructorAnswer(MODULE, "ensemble_with_mistake", ("logits_averaged",)),
                 key="logits_averaged"),
    KnownMistake("P", "the probabilities are summed, not averaged: divide by the number of models.",
                 wrong_answer=lambda inputs, expected: len(inputs["W"]) * expected),
    KnownMistake("P", "softmax is taken over the samples (axis 0); it normalises each row (axis=1).",
                 wrong_answer=InstructorAnswer(MODULE, "ensemble_with_mistake", ("softmax_over_samples",)),
                 key="softmax_over_samples"),
    KnownMistake("P", "only the last model counts: average over every member.",
                 wrong_answer=InstructorAnswer(MODULE, "ensemble_with_mistake", ("last_model_only",)),
                 key="last_model_only"),
)


def _spiral_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The grader's copy of techniques.spiral_data (tests hold the two equal)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    radius = rng.uniform(0.2, 1.0, n)
    angle = 1.75 * np.pi * radius + 2.0 * np.pi * labels / 3.0 + 0.35 * rng.standard_normal(n)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1), labels


class _RandomFeatureClassifier:
    """The grader's copy of techniques.RandomFeatureClassifier (tests hold the two equal)."""

    def __init__(self, X, labels, rng, n_features=48, n_classes=3, scale=3.0, ridge=1e-4, temperature=6.0):
        self.weights = scale * rng.standard_normal((X.shape[1], n_features))
        self.bias = rng.uniform(-np.pi, np.pi, n_features)
        rows = rng.integers(0, len(X), len(X))
        F = np.tanh(X[rows] @ self.weights + self.bias)
        targets = np.eye(n_classes)[labels[rows]]
        self.W = temperature * np.linalg.solve(F.T @ F + ridge * np.eye(n_features), F.T @ targets)

    def forward(self, X):
        return np.tanh(X @ self.weights + self.bias) @ self.W


ENSEMBLE_TRAIN, ENSEMBLE_TEST, ENSEMBLE_MEMBERS = 60, 600, 7


@lru_cache(maxsize=4)
def _ensemble_problem(seed: int):
    """(X_test, labels_test, members, the members' test probabilities) of the seeded spiral problem."""
    X, labels = _spiral_data(ENSEMBLE_TRAIN, seed)
    X_test, labels_test = _spiral_data(ENSEMBLE_TEST, seed + 50000)
    members = [_RandomFeatureClassifier(X, labels, np.random.default_rng([seed, m])) for m in range(ENSEMBLE_MEMBERS)]
    return X_test, labels_test, members, [_softmax(member.forward(X_test)) for member in members]


def _run_beats_members(impl, x):
    X_test, _, members, _ = _ensemble_problem(x["seed"])
    return {"P": _array(_get(impl, "Ensemble")(members).predict_proba(X_test), "P")}


def _nll(P: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.mean(np.log(np.maximum(P[np.arange(len(labels)), labels], 1e-300))))


def _assess_beats_members(facts, x) -> Verdict:
    _, labels, _, member_P = _ensemble_problem(x["seed"])
    P = np.asarray(facts.get("P"), dtype=np.float64)
    if P.shape != (len(labels), 3) or not np.all(np.isfinite(P)) or np.any(P < 0):
        return _fail(f"predict_proba returned shape {P.shape} (or negative / non-finite values); expected "
                     f"({len(labels)}, 3)", "one row of K probabilities per sample.")
    if not allclose(P.sum(axis=1), np.ones(len(labels))):
        return _fail("the rows of predict_proba do not sum to 1", "average the members' softmax probabilities "
                                                                  "(divide the sum by the number of members).")
    member_nll = [_nll(Q, labels) for Q in member_P]
    member_accuracy = [float(np.mean(Q.argmax(axis=1) == labels)) for Q in member_P]
    nll, accuracy = _nll(P, labels), float(np.mean(P.argmax(axis=1) == labels))
    summary = (f"held-out cross-entropy {nll:.3f} (members {min(member_nll):.3f} .. {max(member_nll):.3f}), "
               f"accuracy {accuracy:.1%} (members {min(member_accuracy):.1%} .. {max(member_accuracy):.1%})")
    if nll < min(member_nll) and accuracy >= max(member_accuracy):
        return Verdict.ok(summary)
    return _fail(f"on held-out data the ensemble does not beat every member: {summary}",
                 "average the members' probabilities, softmax(logits) per member, not their logits or their labels.")


# ============================================================================ surrogate (Gaussian process, EI)

LENGTH_SCALE = 0.15
NOISE = 1e-6
GRID_SIZE = 1001
#: gp_posterior is to solve with its Cholesky factor, never by inverting K
GP_FORBIDDEN = ("numpy.linalg.inv", "numpy.linalg.pinv")


def _rbf(a, b, length_scale, mistake=None):
    d = np.asarray(a)[:, None] - np.asarray(b)[None, :]
    if mistake == "no_two":
        return np.exp(-(d * d) / (length_scale * length_scale))
    if mistake == "abs_distance":
        return np.exp(-np.abs(d) / (2.0 * length_scale * length_scale))
    if mistake == "length_not_squared":
        return np.exp(-(d * d) / (2.0 * length_scale))
    return np.exp(-(d * d) / (2.0 * length_scale * length_scale))


def _gp(z_train, y_train, z_query, length_scale=LENGTH_SCALE, noise=NOISE, mistake=None):
    """The grader's Gaussian-process posterior (mean, variance), or with one classic ``mistake``;
    trusted. An independent formulation (solves with K itself; students use its Cholesky factor):
    mean = k_*^T K^-1 y, variance = 1 - diag(k_*^T K^-1 k_*)."""
    K = _rbf(z_train, z_train, length_scale) + (0.0 if mistake == "no_noise" else noise) * np.eye(len(z_train))
    cross = _rbf(z_train, z_query, length_scale)
    weights = np.linalg.solve(K, np.column_stack([y_train, cross]))  # K^-1 [y, k_*]
    mean = cross.T @ weights[:, 0]
    explained = np.einsum("ij,ij->j", cross, weights[:, 1:])
    if mistake == "variance_without_one_minus":
        return mean, explained
    variance = np.maximum(1.0 - explained, 0.0)
    if mistake == "std_not_variance":
        return mean, np.sqrt(variance)
    if mistake == "variance_with_noise":
        return mean, variance + noise
    return mean, variance


def _normal_cdf(z):
    return 0.5 * (1.0 + np.vectorize(math.erf, otypes=[np.float64])(np.asarray(z, dtype=np.float64) / math.sqrt(2.0)))


def _normal_pdf(z):
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _ei(mean, variance, best, xi=0.0, mistake=None):
    """The grader's expected improvement (minimisation); trusted."""
    mean, variance = np.asarray(mean, dtype=np.float64), np.asarray(variance, dtype=np.float64)
    sigma = variance if mistake == "variance_as_sigma" else np.sqrt(variance)
    margin = {"xi_ignored": 0.0, "xi_sign": -xi}.get(mistake, xi)
    gain = (mean - best if mistake == "maximise" else best - mean) - margin  # the improvement I
    # EI = sigma * (u Phi(u) + phi(u)) with u = I / sigma, and max(I, 0) where sigma = 0
    safe = np.where(sigma > 0.0, sigma, 1.0)
    u = gain / safe
    explore = 0.0 if mistake == "no_exploration" else _normal_pdf(u)
    return np.where(sigma > 0.0, safe * (u * _normal_cdf(u) + explore), np.maximum(gain, 0.0))


@case_builder
def _kernel_case(label, seed, n, m, length_scale, same=False) -> Case:
    rng = case_rng(seed)
    a = rng.uniform(0.0, 1.0, n)
    return Case(label, {"a": a, "b": a.copy() if same else rng.uniform(0.0, 1.0, m), "length_scale": length_scale})


def _call_kernel(impl, x):
    return {"K": _get(impl, "rbf_kernel")(x["a"], x["b"], x["length_scale"])}


KERNEL_MISTAKES = (
    KnownMistake("K", "the 2 is missing: K = exp(-(a - b)**2 / (2 * length_scale**2)).",
                 wrong_answer=lambda x, expected: _rbf(x["a"], x["b"], x["length_scale"], "no_two")),
    KnownMistake("K", "the distance must be squared: (a - b)**2, not |a - b|.",
                 wrong_answer=lambda x, expected: _rbf(x["a"], x["b"], x["length_scale"], "abs_distance")),
    KnownMistake("K", "the length scale must be squared: 2 * length_scale**2 in the denominator.",
                 wrong_answer=lambda x, expected: _rbf(x["a"], x["b"], x["length_scale"], "length_not_squared")),
)


@case_builder
def _gp_case(label, seed, n, m, *, length_scale=LENGTH_SCALE, noise=NOISE, duplicate=False) -> Case:
    rng = case_rng(seed)
    z_train = np.sort(rng.uniform(0.0, 1.0, n))
    if duplicate:
        z_train = np.append(z_train, z_train[0])
    z_query = np.concatenate([np.linspace(0.0, 1.0, m), z_train[:2]])
    return Case(label, {"z_train": z_train, "y_train": rng.standard_normal(len(z_train)), "z_query": z_query,
                        "length_scale": length_scale, "noise": noise})


def _call_gp(impl, x):
    mean, variance = expect_tuple(_get(impl, "gp_posterior")(x["z_train"], x["y_train"], x["z_query"],
                                                             x["length_scale"], x["noise"]),
                                  ("mean", "variance"), "gp_posterior")
    return {"mean": mean, "variance": variance}


def _gp_mistake(output: str, mistake: str, hint: str) -> KnownMistake:
    def wrong(x, expected):
        return _gp(x["z_train"], x["y_train"], x["z_query"], x["length_scale"], x["noise"], mistake)[
            0 if output == "mean" else 1]

    return KnownMistake(output, hint, wrong_answer=wrong)


GP_MISTAKES = (
    _gp_mistake("mean", "no_noise", "K needs the noise on its diagonal: K = rbf(z_train, z_train) + noise * I."),
    _gp_mistake("variance", "no_noise", "K needs the noise on its diagonal: K = rbf(z_train, z_train) + noise * I."),
    _gp_mistake("variance", "variance_without_one_minus", "the posterior variance is the prior's 1 minus what the "
                                                          "data explain: 1 - sum(v**2, axis=0), v = solve(L, k_*)."),
    _gp_mistake("variance", "std_not_variance", "return the variance, not its square root (the standard deviation)."),
    _gp_mistake("variance", "variance_with_noise", "the variance is that of the function itself: 1 - sum(v**2), "
                                                   "without adding the noise."),
)


@case_builder
def _ei_case(label, seed, m, *, xi=0.0, zeros=2) -> Case:
    rng = case_rng(seed)
    variance = rng.uniform(0.01, 1.5, m)
    variance[:zeros] = 0.0
    mean = rng.normal(0.0, 1.0, m)
    return Case(label, {"mean": mean, "variance": variance, "best": float(np.sort(mean)[m // 3]), "xi": xi})


def _call_ei(impl, x):
    return {"ei": _get(impl, "expected_improvement")(x["mean"], x["variance"], x["best"], x["xi"])}


def _ei_mistake(mistake: str, hint: str) -> KnownMistake:
    return KnownMistake("ei", hint, wrong_answer=lambda x, expected: _ei(x["mean"], x["variance"], x["best"], x["xi"],
                                                                          mistake))


EI_MISTAKES = (
    _ei_mistake("maximise", "this is the expected improvement for maximising; we minimise, so the improvement is "
                            "best - mean - xi."),
    _ei_mistake("variance_as_sigma", "sigma is the standard deviation, sqrt(variance), not the variance."),
    _ei_mistake("no_exploration", "the exploration term sigma * phi(z) is missing."),
    _ei_mistake("xi_ignored", "xi is ignored: the improvement is best - mean - xi."),
    _ei_mistake("xi_sign", "xi has the wrong sign: the improvement is best - mean - xi."),
)


def _call_gp_and_ei(impl, x):
    return {**_call_gp(impl, x), **_call_ei(impl, x)}


def _ei_extreme_call(impl, x):
    return {"ei": _get(impl, "expected_improvement")(x["mean"], x["variance"], x["best"], x["xi"])}


# ============================================================================ search

LR_RANGE = (1e-4, 1.0)
LR_OBJECTIVE_STEPS = 50
#: "found the optimum": the best learning rate found so far is within this many decades of the best
#: learning rate of the objective (a factor 10**0.05 = 1.12).
SEARCH_TOLERANCE_DECADES = 0.05
BO_BUDGET = 15
RANDOM_EVALS = 60


@lru_cache(maxsize=8)
def _lr_objective(seed: int, steps: int = LR_OBJECTIVE_STEPS):
    """The grader's copy of techniques.learning_rate_objective (tests hold the two equal)."""
    rng = np.random.default_rng(seed)
    n_train, n_val, dim = 30, 400, 20
    scales = np.geomspace(1.0, 0.05, dim)
    X = rng.standard_normal((n_train, dim)) * scales
    X_val = rng.standard_normal((n_val, dim)) * scales
    w_true = rng.standard_normal(dim)
    y = X @ w_true + rng.standard_normal(n_train)
    y_val = X_val @ w_true + rng.standard_normal(n_val)
    curvatures, Q = np.linalg.eigh(X.T @ X / n_train)
    w_fit = np.linalg.lstsq(X, y, rcond=None)[0]
    start_offset = Q.T @ (-w_fit)
    no_progress = float(np.mean(y_val * y_val))

    def objective(lr):
        lr = np.asarray(lr, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            shrink = (1.0 - lr[..., None] * curvatures) ** steps
            w = w_fit + (shrink * start_offset) @ Q.T
            mse = np.mean((w @ X_val.T - y_val) ** 2, axis=-1)
        mse = np.where(np.isfinite(mse), np.minimum(mse, no_progress), no_progress)
        return float(np.log10(mse)) if mse.ndim == 0 else np.log10(mse)

    return objective


@lru_cache(maxsize=8)
def _lr_optimum(seed: int) -> tuple[float, float]:
    """(log10 of the best learning rate on a fine grid, the chance that one log-uniform draw lands within
    the tolerance of it): random search needs 1 / chance evaluations on average."""
    low, high = math.log10(LR_RANGE[0]), math.log10(LR_RANGE[1])
    objective = _lr_objective(seed)
    coarse = np.linspace(low, high, 2001)  # every 0.002 decades, then 2001 points around the best of them
    centre = float(coarse[int(np.argmin(objective(10.0**coarse)))])
    fine = np.linspace(max(low, centre - 0.004), min(high, centre + 0.004), 2001)
    best = float(fine[int(np.argmin(objective(10.0**fine)))])
    chance = (min(high, best + SEARCH_TOLERANCE_DECADES) - max(low, best - SEARCH_TOLERANCE_DECADES)) / (high - low)
    return best, chance


def _log_quadratic(x):
    return (math.log10(x) + 2.0) ** 2


def _shifted_quadratic(x):
    return (x - 1.2) ** 2


def _bumpy(x):
    return (x - 0.3) ** 2 + 0.05 * math.sin(20.0 * x)


SIMPLE_OBJECTIVES: dict[str, Callable[[float], float]] = {
    "(log10 x + 2)**2": _log_quadratic, "(x - 1.2)**2": _shifted_quadratic, "(x - 0.3)**2 + 0.05 sin(20x)": _bumpy,
}


def _objective(name):
    """A named objective: one of SIMPLE_OBJECTIVES, or "lr:<seed>" for the learning-rate objective."""
    if isinstance(name, str) and name.startswith("lr:"):
        objective = _lr_objective(int(name[3:]))
        return lambda x: float(objective(x))
    return SIMPLE_OBJECTIVES[name]


class _Counted:
    """Wraps an objective and records every x it is called with."""

    def __init__(self, objective):
        self.objective, self.calls = objective, []

    def __call__(self, x):
        x = float(x)
        self.calls.append(x)
        return self.objective(x)


def _history_facts(prefix: str, result, counted: _Counted) -> dict:
    best_x, history = expect_tuple(result, ("best_x", "history"), "the search")
    try:
        pairs = np.array([[float(x), float(y)] for x, y in history], dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise ProbeError("history should be a list of (x, value) pairs") from None
    return {f"{prefix}xs": pairs[:, 0], f"{prefix}ys": pairs[:, 1], f"{prefix}calls": np.array(counted.calls),
            f"{prefix}best": float(as_number_array(best_x, "best_x"))}


def _run_search(function: str):
    def run(impl, x):
        search = _get(impl, function)
        facts = {}
        for index, config in enumerate(x["configs"]):
            counted = _Counted(_objective(config["objective"]))
            kwargs = {"log_scale": config["log_scale"]}
            if function == "bayesian_optimization":
                kwargs["n_init"] = config["n_init"]
            result = search(counted, config["low"], config["high"], config["n"], np.random.default_rng(config["seed"]),
                            **kwargs)
            facts.update(_history_facts(f"{index}/", result, counted))
        return facts

    return run


def _to_unit(x, low, high, log_scale):
    if log_scale:
        return (np.log10(x) - math.log10(low)) / (math.log10(high) - math.log10(low))
    return (np.asarray(x, dtype=np.float64) - low) / (high - low)


def _from_unit(z, low, high, log_scale):
    if log_scale:
        return 10.0 ** (math.log10(low) + np.asarray(z, dtype=np.float64) * (math.log10(high) - math.log10(low)))
    return low + np.asarray(z, dtype=np.float64) * (high - low)


def _history_problem(facts, prefix: str, config) -> tuple[Verdict | None, np.ndarray, np.ndarray]:
    """The common contract of both searches; returns the xs and the values the grader computes itself."""
    xs = np.asarray(facts.get(f"{prefix}xs"), dtype=np.float64)
    ys = np.asarray(facts.get(f"{prefix}ys"), dtype=np.float64)
    calls = np.asarray(facts.get(f"{prefix}calls"), dtype=np.float64)
    n, low, high = config["n"], config["low"], config["high"]
    if xs.shape != (n,):
        return _fail(f"the history holds {xs.size} evaluations; n_evals={n}",
                     "evaluate the objective exactly n_evals times and list every (x, value) in the history."), xs, ys
    if calls.shape != xs.shape or not np.allclose(calls, xs, rtol=1e-12, atol=0.0):
        return _fail("the history is not the list of the objective's evaluations, in order",
                     "call the objective once per point and append (x, value) right away."), xs, ys
    if np.any(xs < low * (1 - 1e-12)) or np.any(xs > high * (1 + 1e-12)) or not np.all(np.isfinite(xs)):
        return _fail(f"some evaluated points lie outside [{low:g}, {high:g}]",
                     "map z in [0, 1] to x with from_unit(z, low, high, log_scale)."), xs, ys
    objective = _objective(config["objective"])
    truth = np.array([objective(float(v)) for v in xs])
    if not np.allclose(ys, truth, rtol=1e-12, atol=1e-12):
        return _fail("the values in the history are not the objective's values at those points",
                     "store float(objective(x)) itself."), xs, truth
    best = facts.get(f"{prefix}best")
    if best is None or not math.isclose(float(best), float(xs[int(np.argmin(truth))]), rel_tol=1e-12):
        hint = ("best_x is the x with the lowest value (we minimise), not the last one evaluated."
                if best is not None and math.isclose(float(best), float(xs[-1]), rel_tol=1e-12) else
                "best_x is the x with the lowest value in the history (we minimise).")
        return _fail("best_x is not the evaluated point with the lowest value", hint), xs, truth
    return None, xs, truth


def _assess_random_search(facts, x) -> Verdict:
    for index, config in enumerate(x["configs"]):
        problem, xs, _ = _history_problem(facts, f"{index}/", config)
        if problem:
            return problem
        z = np.sort(_to_unit(xs, config["low"], config["high"], config["log_scale"]))
        n = len(z)
        ks = float(np.max(np.maximum(np.arange(1, n + 1) / n - z, z - np.arange(n) / n)))
        limit = 1.95 / math.sqrt(n)  # Kolmogorov-Smirnov at the 0.1% level
        if ks > limit:
            scale = "log10(x)" if config["log_scale"] else "x"
            other = np.sort(_to_unit(xs, config["low"], config["high"], not config["log_scale"]))
            other_ks = float(np.max(np.maximum(np.arange(1, n + 1) / n - other, other - np.arange(n) / n)))
            if other_ks <= limit:
                hint = ("the points are uniform in x, not in log10(x): with log_scale=True draw z = rng.uniform() "
                        "and use from_unit (most of a log-uniform range lies in its lowest decades)."
                        if config["log_scale"] else
                        "with log_scale=False the points must be uniform in x itself, not in log10(x).")
            else:
                hint = "x = from_unit(rng.uniform(), low, high, log_scale), independently for every evaluation."
            return _fail(f"the {n} points are not uniform in {scale} (Kolmogorov-Smirnov distance {ks:.3f}, at "
                         f"most {limit:.3f} expected)", hint)
    return Verdict.ok()


def _standardised(y: np.ndarray) -> np.ndarray:
    spread = float(np.std(y))
    return (y - np.mean(y)) / (spread if spread > 0.0 else 1.0)


def _bo_step_problem(xs, ys, config) -> Verdict | None:
    """Recomputes every step after the initial points: it must be the grid point of largest EI given the
    points before it (the grader's own GP, on the student's own history)."""
    low, high, log_scale = config["low"], config["high"], config["log_scale"]
    z = _to_unit(xs, low, high, log_scale)
    points = np.linspace(0.0, 1.0, GRID_SIZE)
    for k in range(config["n_init"], len(xs)):
        y = _standardised(ys[:k])
        mean, variance = _gp(z[:k], y, points)
        ei = _ei(mean, variance, float(y.min()))
        best_j = int(np.argmax(ei))
        position = z[k] * (GRID_SIZE - 1)
        j = round(position)
        on_grid = abs(position - j) < 1e-6 and 0 <= j < GRID_SIZE
        if on_grid and ei[j] >= ei[best_j] * (1.0 - 1e-7) - 1e-12:  # a maximiser, up to rounding
            continue
        alternatives = (
            (int(np.argmin(ei)), "it is where expected improvement is smallest: take np.argmax(ei)."),
            (int(np.argmin(mean)), "it is the lowest posterior mean (pure exploitation): maximise EI instead."),
            (int(np.argmax(_ei(*_gp(z[:k], ys[:k] - 0.0, points), float(ys[:k].min())))),
             "it is EI's maximum for unstandardised values: fit the GP to (y - mean(y)) / std(y)."),
            (int(np.argmax(_ei(mean, variance, float(y.min()), 0.0, "maximise"))),
             "it maximises the expected improvement for maximisation; we minimise (best - mean)."),
            (int(np.argmax(_ei(mean, variance, float(y.max())))), "best is the lowest standardised value, min(y_s)."),
        )
        hint = next((text for index, text in alternatives if on_grid and j == index and index != best_j), None)
        if hint is None:
            hint = ("the next point is a grid point: from_unit(np.linspace(0, 1, GRID_SIZE)[np.argmax(ei)], ...)."
                    if not on_grid else
                    "fit gp_posterior to all points so far (z = to_unit(x)) with the standardised values, then "
                    "take the grid point of largest expected_improvement (xi = 0, best = min of the standardised values).")
        return _fail(f"Bayesian optimization's evaluation {k + 1} is not the grid point of largest expected improvement "
                     f"given the {k} before it", hint,
                     f"your point: x = {xs[k]:.6g}; largest EI at x = {float(_from_unit(points[best_j], low, high, log_scale)):.6g}")
    return None


def _assess_bo_steps(facts, x) -> Verdict:
    for index, config in enumerate(x["configs"]):
        problem, xs, truth = _history_problem(facts, f"{index}/", config)
        if problem:
            return problem
        problem = _bo_step_problem(xs, truth, config)
        if problem:
            return problem
    return Verdict.ok()


def _evaluations_to_optimum(xs, ys, seed: int) -> int | None:
    """1 + the index of the first evaluation after which the best-so-far x lies within the tolerance."""
    target, _ = _lr_optimum(seed)
    best_index = 0
    for k in range(len(xs)):
        if ys[k] < ys[best_index]:
            best_index = k
        if abs(math.log10(xs[best_index]) - target) <= SEARCH_TOLERANCE_DECADES:
            return k + 1
    return None


def _run_bo_vs_random(impl, x):
    facts = {}
    bo, rs = _get(impl, "bayesian_optimization"), _get(impl, "random_search")
    objective = _objective(f"lr:{x['objective_seed']}")
    low, high = LR_RANGE
    for index, seed in enumerate(x["seeds"]):
        counted = _Counted(objective)
        facts.update(_history_facts(f"bo{index}/", bo(counted, low, high, x["budget"], np.random.default_rng(seed),
                                                      n_init=3, log_scale=True), counted))
        if x["random_evals"]:
            counted = _Counted(objective)
            facts.update(_history_facts(f"rs{index}/", rs(counted, low, high, x["random_evals"],
                                                          np.random.default_rng(seed), log_scale=True), counted))
    ys = np.asarray(facts.get("bo0/ys"), dtype=np.float64)
    facts["bo_best_so_far"] = np.minimum.accumulate(ys) if ys.size else ys
    return facts


def _assess_bo_vs_random(facts, x) -> Verdict:
    seed = x["objective_seed"]
    _, chance = _lr_optimum(seed)
    expected_random = 1.0 / chance
    found, random_found = [], []
    for index, rng_seed in enumerate(x["seeds"]):
        config = {"objective": f"lr:{seed}", "low": LR_RANGE[0], "high": LR_RANGE[1], "n": x["budget"],
                  "log_scale": True, "n_init": 3}
        problem, xs, truth = _history_problem(facts, f"bo{index}/", config)
        if problem:
            return _fail("bayesian_optimization: " + problem.message, problem.hint)
        problem = _bo_step_problem(xs, truth, config)
        if problem:
            return problem
        evaluations = _evaluations_to_optimum(xs, truth, seed)
        if evaluations is None:
            return _fail(f"in {x['budget']} evaluations Bayesian optimization did not find the best learning rate "
                         f"(within a factor 10**{SEARCH_TOLERANCE_DECADES}) with the generator of seed {rng_seed}",
                         "the steps follow the recipe: check that the initial points are z = rng.uniform() and "
                         "mapped with from_unit(z, low, high, log_scale).")
        found.append(evaluations)
        if x["random_evals"]:
            rs_config = {**config, "n": x["random_evals"]}
            problem, rs_xs, rs_truth = _history_problem(facts, f"rs{index}/", rs_config)
            if problem:
                return _fail("random_search: " + problem.message, problem.hint)
            random_found.append(_evaluations_to_optimum(rs_xs, rs_truth, seed))
    if max(found) >= expected_random:
        return _fail(f"Bayesian optimization needed {max(found)} evaluations; random search needs "
                     f"{expected_random:.0f} on average", "the surrogate should guide the search to the optimum.")
    shown = ", ".join(str(n) for n in found)
    message = (f"Bayesian optimization found the best learning rate (within a factor 10**{SEARCH_TOLERANCE_DECADES}) "
               f"after {shown} evaluations; random search needs {expected_random:.0f} on average")
    if random_found:
        message += " (yours: " + ", ".join(str(n) if n else f"not in {x['random_evals']}" for n in random_found) + ")"
    return Verdict.ok(message)


# ============================================================================ the unit

_dropout_public = _dropout_stats_case([(10, 0.2), (11, 0.5)])
_bn_public = [
    _bn_case("X (8, 4)", 300, 8, 4),
    _bn_case("N=2, the smallest batch, X (2, 3)", 301, 2, 3, batch_sizes=(2, 3)),
    _bn_case("X (64, 10), eps=0.1, momentum=0.3", 302, 64, 10, eps=0.1, momentum=0.3),
    _bn_case("X (16, 3) with a feature of mean 1e5 and spread 0.1", 303, 16, 3, offsets=[0.0, 1e5, -3.0],
             scales=[1.0, 0.1, 2.0]),
]
_early_public = [
    _noisy_curve_case("a noisy U-shaped validation curve, patience 4", 20, 40, 4),
    _curve_case("ties with the best are no improvement, patience 3", [1.0, 0.8, 0.8, 0.8, 0.8, 0.7, 0.6, 0.5], 3),
    _curve_case("rises smaller than min_delta=0.05 after the best, patience 3",
                [1.0, 0.8, 0.82, 0.83, 0.84, 0.85, 0.7], 3, 0.05),
    _curve_case("improvements smaller than min_delta=0.05, patience 3",
                [1.0, 0.97, 0.94, 0.93, 0.92, 0.91, 0.9, 0.85, 0.8], 3, 0.05),
    _curve_case("a curve that keeps improving, patience 2", np.linspace(1.0, 0.1, 10), 2),
    _curve_case("patience 1", [0.5, 0.6, 0.4, 0.3], 1),
    _curve_case("one improvement after a long plateau, patience 5",
                [1.0, 1.1, 1.2, 1.05, 1.01, 0.99, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3], 5),
]
@case_builder
def _unshuffled_case(n: int, k: int) -> Case:
    if redrawing():  # all settings: fresh inputs (evidence/fresh.py) draw another number of samples
        n = int(n + case_rng([n, k]).integers(1, 2 * k))
    return Case(f"n={n}, k={k}, shuffle=False", {"n": n, "k": k})


_kfold_configs = [(10, 5, True, 40), (11, 3, True, 41), (7, 7, True, 42), (100, 10, True, 43), (5, 2, False, 44),
                  (23, 5, True, 45), (10, 4, False, 46)]
_mixup_pairs = _mixup_case("x (12, 16), 4 classes; alpha 1.0, 0.4 and 2.0", [(60, 1.0), (61, 0.4), (62, 2.0)], seed=63)
_mixup_alpha = {"settings": [(70, 0.2), (71, 2.0)], "calls": 1200, "N": 8}
_search_configs = [
    {"objective": "(log10 x + 2)**2", "low": 1e-4, "high": 1.0, "n": 400, "seed": 80, "log_scale": True},
    {"objective": "(x - 1.2)**2", "low": 0.5, "high": 2.5, "n": 300, "seed": 81, "log_scale": False},
]
_bo_configs = [
    {"objective": "lr:1", "low": LR_RANGE[0], "high": LR_RANGE[1], "n": 10, "seed": 82, "log_scale": True, "n_init": 3},
    {"objective": "(x - 0.3)**2 + 0.05 sin(20x)", "low": 0.0, "high": 1.0, "n": 8, "seed": 83, "log_scale": False,
     "n_init": 2},
]

SEARCH_USES = ("techniques.surrogate",)
CV_USES = ("techniques.kfold",)
WD_USES = ("optimizers.sgd", "optimizers.adam", "optimizers.adamw")

DROPOUT_CHECKS = (
    PropertyCheck("techniques.dropout.keep_rate", points=2, run=_run_dropout(False), assess=_assess_keep_rate,
                  case=_dropout_public,
                  description=f"Dropout keeps 1 - p of the elements (within {KEEP_SIGMAS:g} standard deviations), each "
                              "independently, whatever order the random numbers are drawn in"),
    PropertyCheck("techniques.dropout.scaling", points=1, run=_run_dropout(False), assess=_assess_scaling,
                  case=_dropout_public, description="Dropout's kept elements are X / (1 - p), the others 0 (inverted dropout)"),
    PropertyCheck("techniques.dropout.expectation", points=1, run=_run_dropout(False), assess=_assess_expectation,
                  case=_dropout_public, description="Dropout preserves the expectation: mean(Y) = mean(X) within the "
                                                    "statistical band"),
    PropertyCheck("techniques.dropout.eval", points=1, run=_run_dropout_eval, assess=_assess_dropout_eval,
                  case=_dropout_eval_case(12), description="in evaluation mode Dropout is the identity (forward and backward)"),
    PropertyCheck("techniques.dropout.backward", points=1, run=_run_dropout(True), assess=_assess_mask_gradient,
                  case=_dropout_public, description="Dropout.backward is dY times the mask of its own forward pass"),
    GradientCheck("techniques.dropout.gradcheck", points=1, build=_dropout_gradient_problem,
                  cases=[_dropout_gradient_case(13, 6, 5, 0.5), _dropout_gradient_case(14, 50, 20, 0.2)],
                  description="Dropout.backward is the derivative of its forward with the same mask (a re-seeded "
                              "layer, finite differences)",
                  requires=("techniques.dropout.keep_rate", "techniques.dropout.scaling")),
    PropertyCheck("techniques.dropout.rng", points=1, run=_run_dropout_rng, assess=_assess_dropout_rng,
                  case=Case("p=0.5, X (30, 10)", {"X": _dropout_input(15, (30, 10)), "p": 0.5, "seed": 16}),
                  description="Dropout draws its masks from the rng passed in, a new mask at every forward call"),
    PropertyCheck("techniques.dropout.validation", points=1, run=_run_dropout_validation,
                  assess=_assess_dropout_validation,
                  case=Case("p in {1, -0.1, 1.5} refused, p = 0 the identity",
                            {"invalid": [1.0, -0.1, 1.5], "valid": [0.95, 0.0], "X": _dropout_input(17, (10, 4))}),
                  description="Dropout raises ValueError for p outside [0, 1); p = 0 keeps everything"),
    InputsUnchangedCheck("techniques.dropout.unchanged", points=1, call=_dropout_unchanged_call,
                         function="Dropout.forward / backward",
                         hint="build new arrays (X * mask, dY * mask) instead of X *= mask: the caller still needs "
                              "{name}.",
                         case=Case("p=0.5, X (8, 5)", {"X": _dropout_input(18, (8, 5)),
                                                       "dY": np.random.default_rng(19).standard_normal((8, 5)),
                                                       "p": 0.5, "seed": 20}),
                         description="Dropout.forward and backward leave X and dY unchanged"),
)

BATCHNORM_CHECKS = (
    PropertyCheck("techniques.batchnorm.init", points=2, run=_run_bn_contract, assess=_assess_bn_contract,
                  case=_bn_case("X (6, 4)", 310, 6, 4),
                  description="BatchNorm1d starts with gamma 1, beta 0, running_mean 0, running_var 1, in training "
                              "mode; parameters() is [gamma, beta] (live), gradients() [dgamma, dbeta]"),
    ReferenceCheck("techniques.batchnorm.forward", points=2, call=_call_bn_forward, cases=_bn_public,
                   known_mistakes=BN_FORWARD_MISTAKES,
                   description="BatchNorm1d training forward: batch mean and biased variance, eps inside the root, "
                               "gamma and beta"),
    ReferenceCheck("techniques.batchnorm.running_stats", points=2, call=_call_bn_running, cases=_bn_public[:3],
                   known_mistakes=BN_RUNNING_MISTAKES,
                   description="running_mean and running_var after several batches (torch's momentum, unbiased "
                               "variance)"),
    ReferenceCheck("techniques.batchnorm.eval", points=2, call=_call_bn_eval, cases=_bn_public[:3],
                   known_mistakes=BN_EVAL_MISTAKES,
                   description="BatchNorm1d in evaluation mode: running statistics, nothing updated, backward with "
                               "constant statistics"),
    ReferenceCheck("techniques.batchnorm.backward", points=3, call=_call_bn_backward, cases=_bn_public[:3],
                   known_mistakes=BN_BACKWARD_MISTAKES,
                   description="BatchNorm1d training backward: dX (through the batch mean and variance), dgamma, dbeta"),
    GradientCheck("techniques.batchnorm.gradcheck", points=2, build=_bn_gradient_problem,
                  cases=[_bn_gradient_case("training mode, X (6, 3)", 311, 6, 3, True),
                         _bn_gradient_case("training mode, X (32, 8)", 312, 32, 8, True),
                         _bn_gradient_case("evaluation mode, X (5, 4)", 313, 5, 4, False)],
                  description="BatchNorm1d's dX, dgamma and dbeta are the derivatives of its forward (finite "
                              "differences), in training and evaluation mode",
                  requires=("techniques.batchnorm.forward", "techniques.batchnorm.eval")),
    NoWarningsCheck("techniques.batchnorm.no_warnings", points=1, call=_bn_constant_feature_call,
                    subject="BatchNorm1d forward / backward with a feature that is constant over the batch",
                    advice="its variance is 0: add eps to the variance inside the square root, 1 / sqrt(var + eps).",
                    case=Case("X (5, 3), column 1 constant", {
                        "X": np.column_stack([np.arange(5.0), np.full(5, 2.5), np.linspace(-1.0, 3.0, 5) ** 2]),
                        "dY": np.random.default_rng(314).standard_normal((5, 3))}),
                    description="BatchNorm1d stays finite, without warnings, when a feature is constant over the batch"),
    PropertyCheck("techniques.batchnorm.validation", points=1, run=_run_bn_validation, assess=_assess_bn_validation,
                  case=Case("N = 1, wrong width", {"D": 3, "one_row": np.array([[0.5, -1.0, 2.0]]),
                                                   "wrong_width": np.ones((4, 5))}),
                  description="BatchNorm1d refuses one sample in training mode and the wrong width; evaluation mode "
                              "takes one sample"),
    InputsUnchangedCheck("techniques.batchnorm.unchanged", points=1, call=_bn_unchanged_call,
                         function="BatchNorm1d.forward / backward",
                         hint="build new arrays (X - mean) instead of X -= mean: the caller still needs {name}.",
                         case=_bn_case("X (6, 3)", 315, 6, 3),
                         description="BatchNorm1d.forward and backward leave X, dY, gamma and beta unchanged"),
)

OTHER_LAYER_CHECKS = (
    PropertyCheck("techniques.set_training.walk", points=2, run=_run_set_training, assess=_assess_set_training,
                  case=Case("a nesting of Sequential / Residual stand-ins", {}),
                  description="set_training reaches every layer with a training attribute (through .layers and "
                              ".inner, recursively) and gives none to the others"),
)

EARLY_STOPPING_CHECKS = (
    ReferenceCheck("techniques.early_stopping.curves", points=3, call=_call_early_stopping, cases=_early_public,
                   known_mistakes=EARLY_STOPPING_MISTAKES,
                   description="EarlyStopping on given validation curves: the epoch step() first returns True "
                               "(stop_epoch, -1 if never), best_epoch and best_loss"),
    PropertyCheck("techniques.early_stopping.restore", points=2, run=_run_early_restore, assess=_assess_early_restore,
                  case=Case("a curve with its minimum at epoch 2, patience 3",
                            {"curve": np.array([1.0, 0.7, 0.5, 0.6, 0.65, 0.9]), "patience": 3,
                             "W": np.arange(1.0, 7.0).reshape(3, 2)}),
                  description="EarlyStopping keeps copies of the best parameters and restore writes them back in place"),
)

KFOLD_CHECKS = (
    PropertyCheck("techniques.kfold.partition", points=2, run=_run_folds, assess=_assess_partition,
                  case=Case("n, k in (10, 5), (11, 3), (7, 7), (100, 10), (5, 2), (23, 5), (10, 4)",
                            {"configs": _kfold_configs}),
                  description="kfold_indices: disjoint validation folds covering every sample; train = the rest"),
    PropertyCheck("techniques.kfold.sizes", points=1, run=_run_folds, assess=_assess_sizes,
                  case=Case("n % k != 0", {"configs": [c for c in _kfold_configs if c[0] % c[1]]}),
                  description="fold sizes differ by at most 1, the first n % k folds one larger (scikit-learn's KFold)"),
    ReferenceCheck("techniques.kfold.unshuffled", points=1, call=_call_unshuffled, known_mistakes=_fold_size_mistakes(),
                   cases=[_unshuffled_case(10, 3), _unshuffled_case(8, 4)],
                   description="with shuffle=False the folds are consecutive blocks, exactly as scikit-learn's KFold"),
    PropertyCheck("techniques.kfold.shuffle", points=1, run=_run_shuffle, assess=_assess_shuffle,
                  case=Case("n=40, k=4", {"n": 40, "k": 4, "seed": 47}),
                  description="with shuffle=True the folds are shuffled by the rng passed in (same seed, same folds)"),
    PropertyCheck("techniques.kfold.validation", points=1, run=_run_kfold_validation, assess=_assess_kfold_validation,
                  case=Case("k < 2 or k > n", {"invalid": [(10, 1), (10, 0), (5, 6)], "n": 5}),
                  description="kfold_indices raises ValueError unless 2 <= k <= n; k = n (leave-one-out) works"),
)

CROSS_VALIDATION_CHECKS = (
    PropertyCheck("techniques.cross_validation.folds", points=2, run=_run_cross_validate, assess=_assess_cross_validate,
                  case=Case("40 samples, k=5", {"data_seed": 3, "n": 40, "k": 5, "seed": 50}), depends_on=CV_USES,
                  description="cross_validate trains and scores once per fold, on that fold's rows with their own "
                              "targets, and returns the k scores in order"),
    PropertyCheck("techniques.cross_validation.choose", points=2, run=_run_choose, assess=_assess_choose,
                  case=Case("hidden sizes 2, 8, 32; k=4", {"data_seed": 1, "n": 40, "k": 4, "seed": 51,
                                                          "sizes": (2, 8, 32)}),
                  depends_on=CV_USES,
                  description="choose_hidden_size scores every candidate on the same folds and picks the lowest mean"),
    ConvergenceCheck("techniques.cross_validation.demonstration", points=1, run=_run_choose,
                     assess=lambda facts, x: _assess_choose(facts, x, demonstrate=8), curve_key="means",
                     case=Case("sin(3x) + noise, 40 samples, hidden sizes 1, 2, 8, 32, 64, k=5",
                               {"data_seed": 12, "n": 40, "k": 5, "seed": 0, "sizes": (1, 2, 8, 32, 64)}),
                     depends_on=CV_USES, timeout_s=10.0,
                     description="5-fold cross-validation chooses 8 hidden units (1-2 underfit, 32-64 fit the noise)"),
)

MIXUP_CHECKS = (
    PropertyCheck("techniques.mixup.pairs", points=2, run=_run_mixup_pairs, assess=_assess_pairs, case=_mixup_pairs,
                  description="every row of x_mix is lam * x[i] + (1 - lam) * x[perm[i]]: a permutation, one lam "
                              "per batch"),
    PropertyCheck("techniques.mixup.targets", points=2, run=_run_mixup_pairs, assess=_assess_targets,
                  case=_mixup_pairs,
                  description="y_mix mixes the targets with the same lam and pairs; its rows sum to 1"),
    PropertyCheck("techniques.mixup.alpha", points=2, run=_run_mixup_alpha, assess=_assess_alpha,
                  case=Case("alpha 0.2 and 2.0, 1200 calls each", _mixup_alpha), timeout_s=10.0,
                  description="lam follows Beta(alpha, alpha): its mean and variance over many calls"),
    InputsUnchangedCheck("techniques.mixup.unchanged", points=1, call=_mixup_unchanged_call, function="mixup",
                         hint="return new arrays (lam * x + ...) instead of changing {name} in place.",
                         case=Case("x (6, 3)", {"x": np.random.default_rng(64).standard_normal((6, 3)),
                                                "y": np.eye(3)[[0, 1, 2, 0, 1, 2]], "seed": 65}),
                         description="mixup leaves x and y_onehot unchanged"),
)

_wd_public = [_wd_case("3-d quadratic, lr 0.05, weight_decay 0.1, 100 steps", 90, lr=0.05, weight_decay=0.1, steps=100),
              _wd_case("3-d quadratic, lr 0.02, weight_decay 0.5, 60 steps", 91, lr=0.02, weight_decay=0.5, steps=60)]

WEIGHT_DECAY_CHECKS = (
    ReferenceCheck("techniques.weight_decay.l2_penalty", points=2, call=_call_l2, known_mistakes=L2_MISTAKES,
                   cases=[_l2_case("W (4, 3) and b (3,), weight_decay 0.1", 92, [(4, 3), (3,)], 0.1),
                          _l2_case("one parameter, weight_decay 0", 93, [(5,)], 0.0),
                          _l2_case("three parameters, weight_decay 0.01", 94, [(2, 2), (7,), (3, 1)], 0.01)],
                   description="l2_penalty: weight_decay / 2 * sum ||p||**2 and its gradient weight_decay * p"),
    ReferenceCheck("techniques.weight_decay.paths", points=2, call=_call_wd_paths, cases=_wd_public,
                   known_mistakes=WD_MISTAKES, tolerance=ITERATIVE, depends_on=WD_USES,
                   description="weight_decay_paths: SGD + L2, SGD with decoupled decay, Adam + L2, AdamW, step by step"),
    PropertyCheck("techniques.weight_decay.equivalence", points=1, run=_run_wd_equivalence,
                  assess=_assess_wd_equivalence, case=_wd_public[0], depends_on=WD_USES,
                  description="for SGD the L2 penalty and decoupled decay are the same; for Adam they differ"),
    InputsUnchangedCheck("techniques.weight_decay.unchanged", points=1,
                         call=lambda impl, x: {**_call_l2(impl, x),
                                               **_call_wd_paths(impl, {**_wd_public[1].inputs, "start": x["start"]})},
                         function="l2_penalty / weight_decay_paths",
                         hint="build new arrays (weight_decay * p; np.array(start) for each run) instead of changing "
                              "{name} in place.", depends_on=WD_USES,
                         case=Case("params and start", {**_l2_case("", 95, [(3, 2), (2,)], 0.3).inputs,
                                                        "start": np.array([0.3, -0.2, 0.5])}),
                         description="l2_penalty leaves the parameters unchanged, weight_decay_paths leaves start"),
)

ENSEMBLE_CHECKS = (
    ReferenceCheck("techniques.ensemble.values", points=2, call=_call_ensemble, known_mistakes=ENSEMBLE_MISTAKES,
                   cases=[_ensemble_case("3 models, X (5, 3), 4 classes", 100, 5, 3, 4, 3),
                          _ensemble_case("1 model, X (1, 2), 2 classes", 101, 1, 2, 2, 1),
                          _ensemble_case("5 models, X (20, 4), 3 classes", 102, 20, 4, 3, 5)],
                   description="Ensemble.predict_proba averages the members' softmax probabilities"),
    NoWarningsCheck("techniques.ensemble.no_warnings", points=1, call=_call_ensemble,
                    subject="Ensemble.predict_proba for logits near +-1000",
                    advice="subtract each row's maximum before np.exp (softmax(Z) = softmax(Z - max)).",
                    case=_ensemble_case("logits near +-1000", 103, 6, 3, 4, 2, scale=400.0),
                    description="Ensemble.predict_proba is finite, without warnings, for logits near +-1000"),
    PropertyCheck("techniques.ensemble.beats_members", points=2, run=_run_beats_members, assess=_assess_beats_members,
                  case=Case(f"{ENSEMBLE_MEMBERS} random-feature classifiers on 3 spirals", {"seed": 500}),
                  description=f"on held-out data the ensemble of {ENSEMBLE_MEMBERS} over-confident members has a lower "
                              "cross-entropy and at least the accuracy of every member"),
)

SURROGATE_CHECKS = (
    ReferenceCheck("techniques.surrogate.kernel", points=1, call=_call_kernel, known_mistakes=KERNEL_MISTAKES,
                   cases=[_kernel_case("a (5,), b (7,), length scale 0.15", 110, 5, 7, 0.15),
                          _kernel_case("a (1,), b (3,), length scale 1", 111, 1, 3, 1.0),
                          _kernel_case("a = b (4,), length scale 0.3", 112, 4, 4, 0.3, same=True)],
                   description="rbf_kernel: exp(-(a_i - b_j)**2 / (2 l**2))"),
    ReferenceCheck("techniques.surrogate.gp_posterior", points=3, call=_call_gp, known_mistakes=GP_MISTAKES,
                   forbidden_calls=GP_FORBIDDEN,
                   cases=[_gp_case("4 points, length scale 0.15, noise 1e-6", 113, 4, 9),
                          _gp_case("1 point", 114, 1, 5),
                          _gp_case("6 points, length scale 0.3, noise 1e-2", 115, 6, 7, length_scale=0.3, noise=1e-2),
                          _gp_case("a repeated point, noise 1e-2", 116, 3, 5, noise=1e-2, duplicate=True)],
                   description="gp_posterior: the posterior mean and variance, with a Cholesky factorisation "
                               "(np.linalg.inv is not allowed)"),
    ReferenceCheck("techniques.surrogate.expected_improvement", points=2, call=_call_ei, known_mistakes=EI_MISTAKES,
                   cases=[_ei_case("12 points, two with variance 0", 117, 12),
                          _ei_case("8 points, xi = 0.1", 118, 8, xi=0.1)],
                   description="expected_improvement for minimisation, with xi, and max(I, 0) where the variance is 0"),
    NoWarningsCheck("techniques.surrogate.ei_no_warnings", points=1, call=_ei_extreme_call,
                    subject="expected_improvement where the variance is 0",
                    advice="divide only where sigma > 0: np.divide(I, sigma, out=np.zeros_like(I), where=sigma > 0), "
                           "and use max(I, 0) where sigma is 0.",
                    case=Case("variance all 0", {"mean": np.array([0.5, -0.2, 0.1, 0.0]), "variance": np.zeros(4),
                                                 "best": 0.0, "xi": 0.0}),
                    description="expected_improvement is finite, without warnings, where the variance is 0"),
)

SEARCH_CHECKS = (
    PropertyCheck("techniques.search.random_search", points=2, run=_run_search("random_search"),
                  assess=_assess_random_search, timeout_s=10.0,
                  case=Case("400 log-uniform points in [1e-4, 1]; 300 uniform points in [0.5, 2.5]",
                            {"configs": _search_configs}),
                  description="random_search: n_evals independent points, uniform in log10(x) (or in x), the best "
                              "one returned"),
    PropertyCheck("techniques.search.bo_steps", points=2, run=_run_search("bayesian_optimization"),
                  assess=_assess_bo_steps, timeout_s=10.0, depends_on=SEARCH_USES,
                  case=Case("the learning-rate objective (10 evaluations) and a bumpy 1-d function on a linear scale",
                            {"configs": _bo_configs}),
                  description="every Bayesian-optimization step is the grid point of largest expected improvement "
                              "(recomputed by the grader from your own history)"),
    ConvergenceCheck("techniques.search.bo_beats_random", points=3, run=_run_bo_vs_random,
                     assess=_assess_bo_vs_random, curve_key="bo_best_so_far", timeout_s=15.0, depends_on=SEARCH_USES,
                     case=Case(f"learning rate in [1e-4, 1], {BO_BUDGET} evaluations, two seeds",
                               {"objective_seed": 1, "seeds": (0, 1), "budget": BO_BUDGET,
                                "random_evals": RANDOM_EVALS}),
                     description=f"Bayesian optimization finds the best learning rate (within a factor "
                                 f"10**{SEARCH_TOLERANCE_DECADES}) within {BO_BUDGET} evaluations, fewer than random "
                                 "search needs on average"),
)


UNIT = Unit(
    name="techniques",
    title="Unit 5: training techniques (그밖의 테크닉)",
    module=MODULE,
    checks=DROPOUT_CHECKS + BATCHNORM_CHECKS + OTHER_LAYER_CHECKS + EARLY_STOPPING_CHECKS + KFOLD_CHECKS
    + CROSS_VALIDATION_CHECKS + MIXUP_CHECKS + WEIGHT_DECAY_CHECKS + ENSEMBLE_CHECKS + SURROGATE_CHECKS + SEARCH_CHECKS,
)

#: The public constants the student's file must share with the grader (tests hold them equal).
SHARED_CONSTANTS: Mapping[str, Any] = {"LENGTH_SCALE": LENGTH_SCALE, "NOISE": NOISE, "GRID_SIZE": GRID_SIZE,
                                       "LR_RANGE": LR_RANGE, "LR_OBJECTIVE_STEPS": LR_OBJECTIVE_STEPS}
