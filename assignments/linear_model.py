"""Unit 1 - the linear model (선형 신경망).

The lecture note's first network: data D = {(x_i, y_i)}_{i=1..N}, a model y_hat = w x + b, the mean
squared error as loss, its partial derivatives (역전파, backpropagation), and gradient descent
w <- w - eta * dloss/dw. Here the model is written for many features and many outputs at once.

Conventions shared by every function in this file (and the rest of the course):

* Rows are samples. ``X`` is ``(N, D)``: N samples with D features each.
* Targets and predictions are ``(N, K)``: K outputs per sample (K = 1 for the note's y = w x + b).
* The weights are ``W`` with shape ``(D, K)`` and the bias is ``b`` with shape ``(K,)``, so that
  ``Y_hat = X @ W + b`` (the bias is broadcast over the rows).
* The loss is the note's MSE: summed over the K outputs, averaged over the N samples::

      MSE = (1/N) * sum_i sum_k (Y[i, k] - Y_hat[i, k])**2

  (torch's ``MSELoss(reduction="mean")`` divides by N*K instead; for K = 1 the two agree.)
* Everything is float64, and no function modifies the arrays it is given.

Note on the lecture note's derivation: its last line of dloss/dw reads -1/N sum_i -2(y_i - w x_i - b)
and drops the factor x_i that the chain rule brings in (d(w x_i)/dw = x_i). The correct form is

    dloss/dw = -(2/N) * sum_i x_i (y_i - y_hat_i),      dloss/db = -(2/N) * sum_i (y_i - y_hat_i).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class DivergenceError(RuntimeError):
    """Raised by :func:`fit` when training blows up (the loss is no longer a finite number).

    The note warns that the step size eta matters: "too large and it fails to learn". A loss that
    overflows to inf or NaN is that failure made visible; we stop and say so instead of handing back
    NaN weights.
    """

    def __init__(self, step: int, loss: float, lr: float):
        self.step = step
        self.loss = loss
        self.lr = lr
        super().__init__(
            f"training diverged at step {step}: the loss became {loss} with learning rate {lr}; "
            "try a smaller learning rate"
        )


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        W: (D, K) trained weights.
        b: (K,) trained bias.
        losses: (steps,) the training loss at the start of each step, before that step's update.
    """

    W: np.ndarray
    b: np.ndarray
    losses: np.ndarray


def predict(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Forward pass of the linear model: ``Y_hat = X @ W + b``.

    Args:
        X: (N, D) inputs, one sample per row.
        W: (D, K) weights.
        b: (K,) bias, added to every row.

    Returns:
        (N, K) predictions.
    """
    # Hint: one matrix product and a broadcast addition; no loop is needed.
    raise NotImplementedError("predict: not implemented yet")


def mse_loss(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """Mean squared error as the lecture note writes it (평균 제곱 오차).

    MSE = (1/N) * sum_{i=1..N} sum_{k=1..K} (Y[i, k] - Y_hat[i, k])**2

    Args:
        Y_hat: (N, K) predictions.
        Y: (N, K) targets.

    Returns:
        The loss as a Python float. Sum over the K outputs, mean over the N samples.
    """
    # Hint: square the differences, sum them all, divide by N = number of rows (not by N*K).
    raise NotImplementedError("mse_loss: not implemented yet")


def loss_gradients(
    X: np.ndarray, Y: np.ndarray, W: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Backward pass: the gradients of ``mse_loss(predict(X, W, b), Y)`` with respect to W and b.

    By the chain rule, with R = Y - Y_hat of shape (N, K):

        dloss/dY_hat = -(2/N) * R                       (N, K)
        dloss/dW     = X.T @ dloss/dY_hat               (D, K)
        dloss/db     = sum over the rows of dloss/dY_hat (K,)

    Args:
        X: (N, D) inputs.
        Y: (N, K) targets.
        W: (D, K) weights.
        b: (K,) bias.

    Returns:
        ``(dW, db)`` with the shapes of ``W`` and ``b``.
    """
    # Hint: compute dloss/dY_hat first, then push it back through Y_hat = X @ W + b.
    raise NotImplementedError("loss_gradients: not implemented yet")


def gradient_descent_step(
    W: np.ndarray, b: np.ndarray, dW: np.ndarray, db: np.ndarray, lr: float
) -> tuple[np.ndarray, np.ndarray]:
    """One step of gradient descent (경사 하강법): ``W <- W - lr * dW``, ``b <- b - lr * db``.

    Args:
        W: (D, K) current weights.  b: (K,) current bias.
        dW: (D, K) gradient of the loss w.r.t. W.  db: (K,) gradient w.r.t. b.
        lr: the step size eta (learning rate), a positive float.

    Returns:
        ``(W_new, b_new)``: new arrays. ``W`` and ``b`` themselves are left unchanged.
    """
    # Hint: step against the gradient, and build new arrays instead of updating W and b in place.
    raise NotImplementedError("gradient_descent_step: not implemented yet")


def fit(X: np.ndarray, Y: np.ndarray, lr: float, steps: int) -> FitResult:
    """Train the linear model with full-batch gradient descent, starting from W = 0 and b = 0.

    Each step: record the current loss, compute the gradients, take one gradient-descent step.
    If the recorded loss is not a finite number (inf or NaN), stop and raise
    :class:`DivergenceError` with that step, that loss and ``lr``: the learning rate was too large.

    Args:
        X: (N, D) inputs.  Y: (N, K) targets.
        lr: learning rate.  steps: number of gradient-descent steps.

    Returns:
        A :class:`FitResult` with the trained W (D, K), b (K,) and the (steps,) loss history.
    """
    # Hint: start from np.zeros, loop `steps` times using the functions above, check np.isfinite.
    raise NotImplementedError("fit: not implemented yet")


def collapse_linear_stack(
    weights: list[np.ndarray], biases: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Why we need nonlinearity (비선형성 추가 이유): a stack of linear maps is one linear map.

    Applying the layers one after another, ``H = H @ weights[l] + biases[l]`` for l = 0, 1, ...,
    gives exactly the same result as a single ``X @ W + b``. Compute that W and b.

    Args:
        weights: L arrays, ``weights[l]`` of shape (D_l, D_{l+1}).
        biases: L arrays, ``biases[l]`` of shape (D_{l+1},).

    Returns:
        ``(W, b)`` with W of shape (D_0, D_L) and b of shape (D_L,).
    """
    # Hint: fold the layers in one at a time: (X @ W + b) @ W_l + b_l = X @ (W @ W_l) + (b @ W_l + b_l).
    raise NotImplementedError("collapse_linear_stack: not implemented yet")


# ---------------------------------------------------------------------------------------------
# Given helpers (not graded): data and a picture of the note's warning about the step size.
# ---------------------------------------------------------------------------------------------


def make_regression_data(
    rng: np.random.Generator, n: int = 100, d: int = 1, k: int = 1, noise: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Samples ``X`` (n, d) from a standard normal and ``Y = X @ W_true + b_true + noise`` (n, k)."""
    X = rng.standard_normal((n, d))
    W_true = rng.standard_normal((d, k))
    b_true = rng.standard_normal(k)
    Y = X @ W_true + b_true + noise * rng.standard_normal((n, k))
    return X, Y


def plot_learning_rates(X, Y, learning_rates=(0.01, 0.1, 0.5, 1.05), steps=50, ax=None):
    """Draws the loss curve of :func:`fit` for several learning rates on one log-scale axis.

    A curve that stops early marks a run that raised :class:`DivergenceError`. Returns the axis.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for lr in learning_rates:
        try:
            losses = fit(X, Y, lr, steps).losses
            label = f"lr = {lr}"
        except DivergenceError as error:
            losses = np.array([])
            label = f"lr = {lr} (diverged at step {error.step})"
        except NotImplementedError:
            ax.set_title("fit is not implemented yet")
            return ax
        ax.plot(np.arange(len(losses)), losses, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (MSE)")
    ax.set_title("The step size matters: too large and it fails to learn")
    ax.legend()
    return ax
