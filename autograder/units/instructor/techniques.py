"""Unit 5's trusted re-implementations that only compute the wrong answers of known mistakes:
BatchNorm1d's forward, running statistics and backward (that part's solution), the early-stopping
rule, the four weight-decay runs (SGD with L2 or decoupled decay, Adam with L2, AdamW: a piece of
Unit 4's Adam/AdamW too) and the ensemble's averaged softmax. Instructor-only: the student release
leaves this package out, and its grader reads these mistakes' wrong answers on the public cases from
the public fixtures instead (docs/release.md).

The public module names them by :class:`~autograder.diagnosis.InstructorAnswer` (``("techniques",
<function>, arguments)``), called as ``function(*arguments, inputs, expected)``. They only explain a
mismatch; verdicts compare with the reference. tests/test_unit_techniques.py proves that the
re-implementations without a mistake equal the reference.

What a judge recomputes from the student's own numbers (the RBF kernel, GP posterior and expected
improvement of Bayesian optimization, ``_softmax``, ``_Quadratic``) stays in
:mod:`autograder.units.techniques`, which cannot precompute it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..techniques import EARLY_STOPPING_OUTPUTS, _Quadratic, _softmax

# ============================================================================ entry points (InstructorAnswer)


def batchnorm_with_mistake(mode: str, mistake: str, output: str, inputs: Mapping[str, Any], expected) -> np.ndarray:
    """The wrong ``output`` of BatchNorm1d with the classic ``mistake``, in ``mode``: ``forward`` (Y of
    a training-mode forward), ``running`` (the running statistics after the case's batches), ``eval``
    (an evaluation-mode forward and backward after them) or ``backward`` (dX, dgamma, dbeta of a
    training-mode backward). ``expected`` is not needed."""
    if mode == "forward":
        if mistake == "rows":  # statistics over each sample's features (axis=1)
            return inputs["gamma"] * _normalise_rows(inputs["X"], inputs["eps"]) + inputs["beta"]
        return {"Y": _bn_train_forward(inputs, mistake)[0]}[output]
    if mode == "running":
        return dict(zip(("running_mean", "running_var"), _bn_running(inputs, mistake)))[output]
    if mode == "eval":
        return _bn_eval(inputs, mistake)[output]
    if mode == "backward":
        return dict(zip(("dX", "dgamma", "dbeta"), _bn_train_backward(inputs, mistake)))[output]
    raise KeyError(f"no BatchNorm1d mode {mode!r}")


def early_stopping_with_mistake(mistake: str, output: str, inputs: Mapping[str, Any], expected) -> np.ndarray:
    """The wrong ``output`` (one of :data:`~autograder.units.techniques.EARLY_STOPPING_OUTPUTS`) of
    EarlyStopping with the classic ``mistake`` on the case's curve."""
    result = _simulate_early_stopping(inputs["curve"], inputs["patience"], inputs["min_delta"], mistake)
    return result[EARLY_STOPPING_OUTPUTS.index(output)]


def weight_decay_path_with_mistake(mistake: str, output: str, inputs: Mapping[str, Any], expected) -> np.ndarray:
    """The wrong run ``output`` of weight_decay_paths with the classic ``mistake``."""
    return _trusted_paths(inputs, mistake)[output]


def ensemble_with_mistake(mistake: str, inputs: Mapping[str, Any], expected) -> np.ndarray:
    """The ensemble's probabilities P with the classic ``mistake``."""
    logits = _logits(inputs)
    if mistake == "logits_averaged":
        return _softmax(np.mean(logits, axis=0))
    if mistake == "softmax_over_samples":
        return np.mean([_softmax(Z, axis=0) for Z in logits], axis=0)
    if mistake == "last_model_only":
        return _softmax(logits[-1])
    raise KeyError(f"no ensemble mistake {mistake!r}")


# ============================================================================ batch normalization


def _bn_forward(X, gamma, beta, running_mean, running_var, eps, momentum, training, mistake=None):
    """torch's BatchNorm1d forward, or one classic ``mistake``; returns (Y, running_mean, running_var,
    X_hat, inv_std) with new running arrays. Trusted: runs in the parent, only to explain a mismatch."""
    N = X.shape[0]
    batch_mean = X.mean(axis=0)
    centered = X - batch_mean
    batch_var = np.mean(centered * centered, axis=0)
    unbiased = batch_var * N / (N - 1.0) if N > 1 else batch_var
    new_mean, new_var = running_mean.copy(), running_var.copy()
    if (training or mistake == "eval_updates_running") and mistake != "no_running_update":
        m = 1.0 - momentum if mistake == "keras_momentum" else momentum
        stored_var = batch_var if mistake == "running_biased" else unbiased
        new_mean = (1.0 - m) * running_mean + m * batch_mean
        new_var = (1.0 - m) * running_var + m * stored_var
    if training or mistake == "eval_batch_stats":
        mean, var = batch_mean, (unbiased if mistake == "unbiased_normalise" else batch_var)
    else:
        mean, var = running_mean, running_var
    root = np.sqrt(var) + eps if mistake == "eps_outside" else np.sqrt(var + eps)
    inv_std = 1.0 / root
    X_hat = (X - mean) * inv_std
    Y = X_hat if mistake == "no_affine" else gamma * X_hat + beta
    return Y, new_mean, new_var, X_hat, inv_std


def _bn_backward(dY, X_hat, inv_std, gamma, training, mistake=None):
    """The backward of :func:`_bn_forward` (dX, dgamma, dbeta), or one classic ``mistake``."""
    dgamma = dY.sum(axis=0) if mistake == "dgamma_without_xhat" else np.sum(dY * X_hat, axis=0)
    dbeta = dY.sum(axis=0)
    g = dY * gamma
    N = dY.shape[0]
    if (not training and mistake != "eval_training_backward") or mistake == "stats_constant":
        dX = g * inv_std
    elif mistake == "mean_only":
        dX = inv_std * (g - g.mean(axis=0))
    else:
        dX = inv_std / N * (N * g - g.sum(axis=0) - X_hat * np.sum(g * X_hat, axis=0))
    return dX, dgamma, dbeta


def _bn_train_forward(inputs, mistake=None):
    zeros, ones = np.zeros(inputs["X"].shape[1]), np.ones(inputs["X"].shape[1])
    return _bn_forward(inputs["X"], inputs["gamma"], inputs["beta"], zeros, ones, inputs["eps"],
                       inputs["momentum"], True, mistake)


def _bn_running(inputs, mistake=None):
    D = inputs["X"].shape[1]
    mean, var = np.zeros(D), np.ones(D)
    if mistake == "running_var_zero":
        var = np.zeros(D)
    for batch in inputs["batches"]:
        _, mean, var, _, _ = _bn_forward(batch, inputs["gamma"], inputs["beta"], mean, var, inputs["eps"],
                                         inputs["momentum"], True, mistake)
    return mean, var


def _bn_eval(inputs, mistake=None):
    mean, var = _bn_running(inputs)
    Y, new_mean, new_var, X_hat, inv_std = _bn_forward(inputs["X_eval"], inputs["gamma"], inputs["beta"], mean, var,
                                                       inputs["eps"], inputs["momentum"], False, mistake)
    dX, _, _ = _bn_backward(inputs["dY_eval"], X_hat, inv_std, inputs["gamma"], False, mistake)
    return {"Y": Y, "running_mean": new_mean, "running_var": new_var, "dX": dX}


def _bn_train_backward(inputs, mistake=None):
    _, _, _, X_hat, inv_std = _bn_train_forward(inputs)
    return _bn_backward(inputs["dY"], X_hat, inv_std, inputs["gamma"], True, mistake)


def _normalise_rows(X, eps):
    mean = X.mean(axis=1, keepdims=True)
    var = X.var(axis=1, keepdims=True)
    return (X - mean) / np.sqrt(var + eps)


# ============================================================================ early stopping


def _simulate_early_stopping(curve, patience, min_delta, mistake=None) -> np.ndarray:
    """``[stop_epoch (-1: never), best_epoch, best_loss]`` of the rule in the docstring, or of one
    classic ``mistake``. Trusted; used to explain a mismatch."""
    best, best_epoch, wait = math.inf, -1, 0
    for epoch, loss in enumerate(curve):
        if mistake == "ties":
            improved = loss <= best - min_delta
        elif mistake == "min_delta_ignored":
            improved = loss < best
        elif mistake == "min_delta_sign":
            improved = loss < best + min_delta
        else:
            improved = loss < best - min_delta
        if improved:
            best, best_epoch = loss, epoch
            wait = wait if mistake == "no_reset" else 0
        else:
            wait += 1
        if (wait > patience) if mistake == "patience_late" else (wait >= patience):
            return np.array([epoch, best_epoch + (mistake == "one_based_best"), best], dtype=np.float64)
    return np.array([-1, best_epoch + (mistake == "one_based_best"), best], dtype=np.float64)


# ============================================================================ weight decay


def _trusted_paths(inputs, mistake=None) -> dict[str, np.ndarray]:
    """The four runs of weight_decay_paths as torch.optim computes them, or with one ``mistake``."""
    loss = _Quadratic(inputs["a"], inputs["c"])
    lr, wd, steps = inputs["lr"], inputs["weight_decay"], inputs["steps"]
    beta1, beta2, eps = 0.9, 0.999, 1e-8  # Adam's and AdamW's defaults
    paths = {}
    for run in ("sgd_l2", "sgd_decoupled", "adam_l2", "adamw"):
        path = np.empty((steps + 1, len(inputs["start"])))
        path[0] = inputs["start"]
        m, v = np.zeros(path.shape[1]), np.zeros(path.shape[1])
        adam = run.startswith("adam")
        decoupled = run in ("adamw", "sgd_decoupled")
        if (mistake == "adamw_coupled" and run == "adamw") or (mistake == "adam_l2_decoupled" and run == "adam_l2"):
            decoupled = not decoupled
        for t in range(1, steps + 1):
            w = path[t - 1]
            g = loss(w)[1]
            if not decoupled and mistake != "no_penalty":
                g = g + wd * w
            if decoupled and mistake == "decay_after_step" and not adam:
                path[t] = (w - lr * g) * (1.0 - lr * wd)
                continue
            if decoupled:
                w = w * (1.0 - (1.0 if mistake == "decay_without_lr" else lr) * wd)
            if adam:
                m = beta1 * m + (1.0 - beta1) * g
                v = beta2 * v + (1.0 - beta2) * g * g
                w = w - lr * (m / (1.0 - beta1**t)) / (np.sqrt(v / (1.0 - beta2**t)) + eps)
            else:
                w = w - lr * g
            path[t] = w
        paths[run] = path
    return paths


# ============================================================================ ensemble


def _logits(inputs) -> list[np.ndarray]:
    return [inputs["X"] @ W + b for W, b in zip(inputs["W"], inputs["b"])]
