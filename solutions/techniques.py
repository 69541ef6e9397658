"""Unit 5 - training techniques (그밖의 테크닉).

The lecture note ends its list of a model's ingredients with "그밖의 테크닉: dropout, early stopping,
k-fold validation, weight decay, batch normalization, mixup, ensemble, bayesian optimization, ...".
This unit builds each of them in numpy. Most fight overfitting (과적합): the note's ResNet remark
is about training error going down while test error goes up, and these are the everyday remedies.

* layers for Unit 2's networks: ``Dropout`` and ``BatchNorm1d``, and ``set_training`` to switch a
  whole model between training and evaluation mode (torch's ``model.train()`` / ``model.eval()``);
* around the training loop: ``EarlyStopping``, ``l2_penalty`` and ``weight_decay_paths`` (L2
  penalty vs decoupled weight decay, with your Unit 4 optimizers), ``mixup`` for the data;
* model selection: ``kfold_indices``, ``cross_validate``, ``choose_hidden_size``, an ``Ensemble``,
  and hyperparameter search: ``random_search`` and ``bayesian_optimization`` with a Gaussian-process
  surrogate (``rbf_kernel``, ``gp_posterior``, ``expected_improvement``).

Conventions shared by everything in this file:

* Rows are samples: ``X`` is ``(N, D)``; everything is float64.
* Layers follow Unit 2's contract (``forward`` / ``backward`` / ``parameters()`` / ``gradients()``,
  live arrays, no averaging over the batch inside a layer, inputs never modified) and add a
  ``training`` attribute, True after construction. In training mode Dropout drops and BatchNorm1d
  uses (and updates) batch statistics; in evaluation mode both are deterministic.
* All randomness comes from the ``numpy.random.Generator`` passed in; nothing uses ``np.random.*``.
* No function modifies its array arguments, except where it says so (``EarlyStopping.restore``
  writes into the parameters it is given, in place, like an optimizer).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from mlp import Layer  # Unit 2's layer contract

# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------


@dataclass
class DropoutCache:
    """What ``Dropout.forward`` keeps for the backward pass.

    Attributes:
        mask: (N, D) the mask of the last training-mode forward: 0 where an element was dropped,
            1 / (1 - p) where it was kept. None after an evaluation-mode forward.
    """

    mask: np.ndarray | None


class Dropout(Layer):
    """Inverted dropout (Srivastava et al. 2014; torch's ``nn.Dropout``).

    In training mode (``self.training`` True) every element is dropped, independently, with
    probability ``p``; the kept ones are scaled by 1 / (1 - p) so that the expectation is unchanged::

        u    = rng.random(X.shape)              (exactly one draw per forward call)
        mask = (u >= p) / (1 - p)               (N, D): 0 or 1 / (1 - p)
        Y    = X * mask                         E[Y] = X
        dX   = dY * mask                        (the same mask: backward uses the forward's)

    In evaluation mode (``training`` False): ``Y = X`` and ``dX = dY``.

    Args:
        p: the probability of *dropping* an element, 0 <= p < 1 (p = 0 keeps everything).
        rng: the generator every mask is drawn from.

    Raises:
        ValueError: ``p`` outside [0, 1).

    Note: the paper keeps units with probability p and multiplies by p at test time instead; torch
    (and this class) use the inverted form, so evaluation needs no scaling at all.
    """

    def __init__(self, p: float, rng: np.random.Generator):
        self.training = True
        self.cache: DropoutCache | None = None
        # Hint: raise ValueError unless 0 <= p < 1, then keep p and rng as attributes.
        ### BEGIN SOLUTION
        if not 0.0 <= p < 1.0:
            raise ValueError(f"invalid dropout probability p={p}: it must lie in [0, 1)")
        self.p = float(p)
        self.rng = rng
        ### END SOLUTION

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (N, D) -> Y: (N, D); random in training mode, the identity in evaluation mode."""
        # Hint: in training, one rng.random(X.shape), compared with p, divided by (1 - p).
        ### BEGIN SOLUTION
        if not self.training:
            self.cache = DropoutCache(mask=None)
            return X
        mask = (self.rng.random(X.shape) >= self.p) / (1.0 - self.p)
        self.cache = DropoutCache(mask=mask)
        return X * mask
        ### END SOLUTION

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """dY: (N, D) -> dX: (N, D), through the mask of the last forward (no new draw)."""
        # Hint: the mask already holds the 1 / (1 - p) scale; in evaluation mode dX = dY.
        ### BEGIN SOLUTION
        if self.cache.mask is None:
            return dY
        return dY * self.cache.mask
        ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# Batch normalization
# ---------------------------------------------------------------------------------------------


@dataclass
class BatchNormCache:
    """What ``BatchNorm1d.forward`` keeps for the backward pass.

    Attributes:
        X_hat: (N, D) the normalised input (X - mean) / sqrt(var + eps).
        inv_std: (D,) 1 / sqrt(var + eps) with the statistics the forward used.
        training: whether those were the batch's statistics (True) or the running ones (False).
    """

    X_hat: np.ndarray
    inv_std: np.ndarray
    training: bool


class BatchNorm1d(Layer):
    """Batch normalization (Ioffe & Szegedy 2015) over the batch axis, torch's ``nn.BatchNorm1d``.

    Training mode, per feature d (column), with the batch's mean and *biased* variance::

        mu    = mean_i X[i, d]                   var = mean_i (X[i, d] - mu)**2
        X_hat = (X - mu) / sqrt(var + eps)       Y   = gamma * X_hat + beta
        running_mean <- (1 - momentum) * running_mean + momentum * mu
        running_var  <- (1 - momentum) * running_var  + momentum * var * N / (N - 1)   (unbiased)

    Evaluation mode uses the running statistics instead of the batch's and updates nothing:
    ``Y = gamma * (X - running_mean) / sqrt(running_var + eps) + beta``.

    backward(dY), with g = dY * gamma (N, D), in training mode (mu and var depend on X)::

        dgamma = sum_i dY * X_hat                dbeta = sum_i dY
        dX     = inv_std / N * (N * g - sum_i g - X_hat * sum_i (g * X_hat))

    and in evaluation mode (the running statistics are constants) ``dX = g * inv_std``.

    Args:
        num_features: D.  eps: added to the variance inside the square root (default 1e-5).
        momentum: weight of the *new* batch in the running averages (default 0.1, as in torch;
            Keras' ``momentum=0.99`` weighs the *old* value instead: the same as 0.01 here).

    Attributes:
        gamma: (D,) scale, starts at 1.   beta: (D,) shift, starts at 0.
        running_mean: (D,) starts at 0.   running_var: (D,) starts at 1.
        dgamma, dbeta: (D,) gradients, set by ``backward``.   training: True after construction.

    Raises (in ``forward``):
        ValueError: X has not ``num_features`` columns, or training mode gets fewer than 2 rows
            (one sample has no spread to normalise by; torch refuses it too).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.training = True
        self.dgamma: np.ndarray | None = None
        self.dbeta: np.ndarray | None = None
        self.cache: BatchNormCache | None = None
        # Hint: four float64 arrays of shape (num_features,): gamma, beta, running_mean, running_var.
        ### BEGIN SOLUTION
        self.gamma = np.ones(self.num_features)
        self.beta = np.zeros(self.num_features)
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        ### END SOLUTION

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (N, D) -> Y: (N, D), normalised per feature (see the class docstring)."""
        # Hint: the variance as the mean of (X - mu)**2; update the running stats only in training.
        ### BEGIN SOLUTION
        if X.ndim != 2 or X.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}) expects X of shape (N, {self.num_features}), "
                             f"got {X.shape}")
        if self.training:
            N = X.shape[0]
            if N < 2:
                raise ValueError("BatchNorm1d in training mode needs at least 2 samples per batch")
            mean = X.mean(axis=0)
            centered = X - mean
            var = np.mean(centered * centered, axis=0)
            m = self.momentum
            self.running_mean[...] = (1.0 - m) * self.running_mean + m * mean
            self.running_var[...] = (1.0 - m) * self.running_var + m * var * (N / (N - 1.0))
        else:
            centered = X - self.running_mean
            var = self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        X_hat = centered * inv_std
        self.cache = BatchNormCache(X_hat=X_hat, inv_std=inv_std, training=self.training)
        return self.gamma * X_hat + self.beta
        ### END SOLUTION

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """dY: (N, D) -> dX: (N, D); sets ``self.dgamma`` and ``self.dbeta`` (both (D,))."""
        # Hint: in training mode the batch mean and variance depend on every row of X.
        ### BEGIN SOLUTION
        X_hat, inv_std = self.cache.X_hat, self.cache.inv_std
        self.dgamma = np.sum(dY * X_hat, axis=0)
        self.dbeta = np.sum(dY, axis=0)
        g = dY * self.gamma
        if not self.cache.training:
            return g * inv_std
        N = dY.shape[0]
        return inv_std / N * (N * g - g.sum(axis=0) - X_hat * np.sum(g * X_hat, axis=0))
        ### END SOLUTION

    def parameters(self) -> list[np.ndarray]:
        """``[gamma, beta]``: the live arrays (the running statistics are not parameters)."""
        # Hint: the attributes themselves, not copies.
        ### BEGIN SOLUTION
        return [self.gamma, self.beta]
        ### END SOLUTION

    def gradients(self) -> list[np.ndarray]:
        """``[dgamma, dbeta]`` from the last ``backward``, in the order of :meth:`parameters`."""
        # Hint: the same order as parameters().
        ### BEGIN SOLUTION
        return [self.dgamma, self.dbeta]
        ### END SOLUTION


def set_training(model, training: bool) -> None:
    """Puts every layer of ``model`` in training (True) or evaluation (False) mode.

    Like torch's ``model.train()`` / ``model.eval()``: sets ``.training = training`` on ``model``
    and on every layer inside it that has a ``training`` attribute, following a Sequential's
    ``.layers`` and a Residual's ``.inner``, recursively (a Residual inside a Sequential inside a
    Residual is reached too). Layers without a ``training`` attribute (Linear, ReLU, ...) are left
    as they are: do not give them one.

    Args:
        model: a layer, a Sequential (``.layers``), a Residual (``.inner``), or a nesting of them.
        training: True for training mode, False for evaluation mode.
    """
    # Hint: a small recursive function: getattr(model, "layers", ()) and getattr(model, "inner", None).
    ### BEGIN SOLUTION
    if hasattr(model, "training"):
        model.training = bool(training)
    for layer in getattr(model, "layers", ()):
        set_training(layer, training)
    inner = getattr(model, "inner", None)
    if inner is not None:
        set_training(inner, training)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# Early stopping
# ---------------------------------------------------------------------------------------------


class EarlyStopping:
    """Stops training when the validation loss stops improving, and keeps the best parameters.

    Call ``step(val_loss, params)`` once per epoch. An epoch *improves* when

        val_loss < best_loss - min_delta            (strictly: a tie is not an improvement)

    and then ``best_loss``, ``best_epoch`` and a **copy** of every parameter array are kept. ``step``
    returns True (stop) once ``patience`` epochs in a row have not improved. Afterwards
    ``restore(params)`` writes the kept values back into the live arrays, in place.

    Args:
        patience: how many epochs without improvement to allow, >= 1.
        min_delta: how much lower than the best a loss must be to count, >= 0 (default 0).

    Attributes:
        best_loss: the lowest loss so far (inf before the first step).
        best_epoch: the 0-based index of the ``step`` call that set it (-1 before the first step).
        best_params: copies of the parameters at ``best_epoch``.
        epoch: the number of ``step`` calls so far.  wait: epochs since the last improvement.

    Same rule as Keras' and PyTorch Lightning's ``EarlyStopping(mode="min")``.
    """

    def __init__(self, patience: int, min_delta: float = 0.0):
        if patience < 1:
            raise ValueError(f"invalid patience={patience}: it must be >= 1")
        if min_delta < 0.0:
            raise ValueError(f"invalid min_delta={min_delta}: it must be >= 0")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.best_loss = math.inf
        self.best_epoch = -1
        self.best_params: list[np.ndarray] = []
        self.wait = self.epoch = 0

    def step(self, val_loss: float, params: list[np.ndarray]) -> bool:
        """Records one epoch's validation loss; returns True when training should stop.

        Args:
            val_loss: this epoch's validation loss.
            params: the live parameter arrays (e.g. ``model.parameters()``); only copied, never changed.
        """
        # Hint: copy the arrays (p.copy()): the live ones keep changing after this epoch.
        ### BEGIN SOLUTION
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = float(val_loss)
            self.best_epoch = self.epoch
            self.best_params = [np.array(p, dtype=np.float64, copy=True) for p in params]
            self.wait = 0
        else:
            self.wait += 1
        self.epoch += 1
        return self.wait >= self.patience
        ### END SOLUTION

    def restore(self, params: list[np.ndarray]) -> None:
        """Copies the best epoch's values into ``params`` in place (``p[...] = best``).

        Raises:
            RuntimeError: ``step`` was never called, so there is nothing to restore.
        """
        # Hint: assign into each array (p[...] = ...): rebinding a name does not reach the model.
        ### BEGIN SOLUTION
        if self.best_epoch < 0:
            raise RuntimeError("nothing to restore: step() was never called")
        for live, kept in zip(params, self.best_params):
            live[...] = kept
        ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# k-fold cross-validation
# ---------------------------------------------------------------------------------------------


def kfold_indices(n: int, k: int, shuffle: bool = True,
                  rng: np.random.Generator | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Splits the sample indices 0 .. n-1 into k folds, like scikit-learn's ``KFold``.

    The order is ``rng.permutation(n)`` when ``shuffle`` (``np.random.default_rng()`` when rng is
    None), else ``0, 1, ..., n-1``. The validation folds are consecutive pieces of that order: the
    first ``n % k`` folds hold ``n // k + 1`` indices and the others ``n // k``, so sizes differ by
    at most 1 and together they cover every index exactly once. Fold i's training indices are all
    the others (sorted ascending).

    Args:
        n: number of samples.  k: number of folds, 2 <= k <= n.
        shuffle: shuffle before splitting (default True).  rng: the generator that shuffles.

    Returns:
        A list of k pairs ``(train_idx, val_idx)`` of integer arrays, ``len(train_idx) + len(val_idx) == n``.

    Raises:
        ValueError: k < 2 or k > n.
    """
    # Hint: np.full(k, n // k), plus 1 for the first n % k folds; np.setdiff1d or a boolean mask for train.
    ### BEGIN SOLUTION
    if k < 2 or k > n:
        raise ValueError(f"k-fold needs 2 <= k <= n, got k={k} for n={n}")
    if shuffle:
        order = (rng if rng is not None else np.random.default_rng()).permutation(n)
    else:
        order = np.arange(n)
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    folds = []
    start = 0
    for size in sizes:
        val_idx = order[start : start + size]
        in_training = np.ones(n, dtype=bool)
        in_training[val_idx] = False
        folds.append((np.flatnonzero(in_training), val_idx))
        start += size
    return folds
    ### END SOLUTION


def cross_validate(train_and_score: Callable, X: np.ndarray, y: np.ndarray, k: int,
                   rng: np.random.Generator) -> np.ndarray:
    """k-fold cross-validation: one score per fold.

    For each ``(train_idx, val_idx)`` of ``kfold_indices(len(X), k, shuffle=True, rng=rng)``, calls

        train_and_score(X[train_idx], y[train_idx], X[val_idx], y[val_idx]) -> float

    which trains a fresh model on the training rows and returns its validation score (for example
    a validation loss).

    Args:
        train_and_score: the callable above.  X: (N, ...) inputs.  y: (N, ...) targets.
        k: number of folds.  rng: the generator that shuffles the samples.

    Returns:
        (k,) the scores, fold 0 first.
    """
    # Hint: index X and y with the same index arrays, so each row keeps its own target.
    ### BEGIN SOLUTION
    scores = [float(train_and_score(X[train_idx], y[train_idx], X[val_idx], y[val_idx]))
              for train_idx, val_idx in kfold_indices(len(X), k, shuffle=True, rng=rng)]
    return np.array(scores)
    ### END SOLUTION


def choose_hidden_size(make_train_and_score: Callable, hidden_sizes: Sequence[int], X: np.ndarray,
                       y: np.ndarray, k: int, seed: int) -> tuple[int, np.ndarray]:
    """Chooses a hidden-layer size by k-fold cross-validation (lower score is better).

    Each candidate h is scored with ``cross_validate(make_train_and_score(h), X, y, k, rng)``, using
    a **new** generator ``np.random.default_rng(seed)`` for every candidate: all candidates are then
    scored on the same folds, so their difference is not the luck of a split.

    Args:
        make_train_and_score: ``h -> train_and_score`` (see :func:`cross_validate`) for a model
            with h hidden units, e.g. :func:`random_feature_regressor`.
        hidden_sizes: the candidates.  X, y: the data.  k: number of folds.  seed: the folds' seed.

    Returns:
        ``(best, mean_scores)``: the candidate with the lowest mean score (the first one on a tie),
        and (len(hidden_sizes),) the mean validation score of each candidate.
    """
    # Hint: np.argmin of the mean scores; a fresh np.random.default_rng(seed) per candidate.
    ### BEGIN SOLUTION
    means = np.array([
        cross_validate(make_train_and_score(h), X, y, k, np.random.default_rng(seed)).mean()
        for h in hidden_sizes
    ])
    return int(hidden_sizes[int(np.argmin(means))]), means
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# mixup
# ---------------------------------------------------------------------------------------------


def mixup(x: np.ndarray, y_onehot: np.ndarray, alpha: float,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """mixup (Zhang et al. 2018): train on convex combinations of pairs of samples.

    One lambda per batch and one pairing, a shuffled copy of the batch::

        lam   ~ Beta(alpha, alpha)            (rng.beta(alpha, alpha))
        perm  = rng.permutation(N)
        x_mix = lam * x + (1 - lam) * x[perm]
        y_mix = lam * y + (1 - lam) * y[perm]   (the same lam and perm for the targets)

    Every row of ``y_mix`` still sums to 1. Small alpha (0.2) keeps most lambdas near 0 or 1 (mild
    mixing); alpha = 1 draws lambda uniformly.

    Args:
        x: (N, ...) inputs.  y_onehot: (N, K) one-hot (or probability) targets.
        alpha: > 0.  rng: the generator for lam and perm.

    Returns:
        ``(x_mix, y_mix)``, new arrays shaped like x and y_onehot; the inputs are unchanged.

    Raises:
        ValueError: alpha <= 0.
    """
    # Hint: draw lam and perm once, then two convex combinations (new arrays, not in place).
    ### BEGIN SOLUTION
    if alpha <= 0.0:
        raise ValueError(f"invalid alpha={alpha}: it must be > 0")
    lam = rng.beta(alpha, alpha)
    perm = rng.permutation(x.shape[0])
    return lam * x + (1.0 - lam) * x[perm], lam * y_onehot + (1.0 - lam) * y_onehot[perm]
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# Weight decay: an L2 penalty in the loss vs decay in the optimizer
# ---------------------------------------------------------------------------------------------


def l2_penalty(params: list[np.ndarray], weight_decay: float) -> tuple[float, list[np.ndarray]]:
    """The L2 penalty added to a loss, and its gradient::

        penalty = weight_decay / 2 * sum_p ||p||**2        d penalty / d p = weight_decay * p

    Args:
        params: parameter arrays (left unchanged).  weight_decay: lambda >= 0.

    Returns:
        ``(penalty, grads)``: a float and one new array per parameter, shaped like it.
    """
    # Hint: the 1/2 makes the gradient exactly weight_decay * p.
    ### BEGIN SOLUTION
    penalty = 0.5 * weight_decay * sum(float(np.sum(p * p)) for p in params)
    return float(penalty), [weight_decay * p for p in params]
    ### END SOLUTION


#: The runs of :func:`weight_decay_paths`, in order.
WEIGHT_DECAY_RUNS = ("sgd_l2", "sgd_decoupled", "adam_l2", "adamw")


def weight_decay_paths(loss_and_gradient: Callable, start: np.ndarray, lr: float, weight_decay: float,
                       steps: int) -> dict[str, np.ndarray]:
    """L2 penalty vs decoupled weight decay (Loshchilov & Hutter 2019), with your Unit 4 optimizers.

    Four runs of ``steps`` steps from ``start``, each on a fresh copy of it; ``loss_and_gradient(w)``
    returns ``(loss, dloss/dw)`` of the loss *without* penalty::

        "sgd_l2"        SGD(lr), gradient of loss + l2_penalty      (= torch SGD(weight_decay=wd))
        "sgd_decoupled" w <- w * (1 - lr * wd), then SGD(lr) with the gradient of the loss alone
        "adam_l2"       Adam(lr), gradient of loss + l2_penalty     (= torch Adam(weight_decay=wd))
        "adamw"         AdamW(lr, weight_decay=wd) with the gradient of the loss alone

    For SGD the two are the same update, w - lr * (g + wd * w) = (1 - lr * wd) * w - lr * g. For Adam
    they are not: the L2 gradient is divided by sqrt(v_hat) with the rest, so weights with large
    gradients are hardly decayed, while AdamW shrinks every weight by the same factor.

    Args:
        loss_and_gradient: w (D,) -> (float, (D,) gradient).  start: (D,) the initial parameters.
        lr: learning rate.  weight_decay: lambda >= 0.  steps: number of steps.

    Returns:
        ``{run: path}`` for each run of :data:`WEIGHT_DECAY_RUNS`; path is (steps + 1, D): the
        parameters before the first step (row 0, = start) and after each step.
    """
    # your Unit 4 optimizers, imported here: only this exercise needs them
    from optimizers import SGD, Adam, AdamW

    # Hint: one loop per run; the L2 runs add l2_penalty([w], weight_decay)[1][0] to the gradient.
    ### BEGIN SOLUTION
    paths = {}
    for run in WEIGHT_DECAY_RUNS:
        w = np.array(start, dtype=np.float64)
        if run == "adam_l2":
            optimizer = Adam([w], lr=lr)
        elif run == "adamw":
            optimizer = AdamW([w], lr=lr, weight_decay=weight_decay)
        else:
            optimizer = SGD([w], lr=lr)
        rows = [w.copy()]
        for _ in range(steps):
            _, gradient = loss_and_gradient(w)
            if run.endswith("_l2"):
                gradient = gradient + l2_penalty([w], weight_decay)[1][0]
            if run == "sgd_decoupled":
                w *= 1.0 - lr * weight_decay
            optimizer.step([gradient])
            rows.append(w.copy())
        paths[run] = np.array(rows)
    return paths
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# Ensemble
# ---------------------------------------------------------------------------------------------


class Ensemble:
    """An ensemble of classifiers: the average of the members' predicted probabilities.

    Each member is a layer whose ``forward(X)`` returns logits (N, K)::

        P_m = softmax(member_m.forward(X))           row by row, computed stably
        predict_proba(X) = (1 / M) * sum_m P_m       (N, K), every row sums to 1

    Averaging *probabilities* (not logits) is what makes an ensemble of over-confident members
    better calibrated than any of them.

    Args:
        models: the M >= 1 members (their ``forward`` is called; nothing is trained here).
    """

    def __init__(self, models: Sequence[Layer]):
        if len(models) == 0:
            raise ValueError("an ensemble needs at least one model")
        self.models = list(models)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """X: (N, D) -> (N, K) the members' average softmax probabilities."""
        # Hint: subtract each row's max before np.exp (logits of +-1000 must not overflow).
        ### BEGIN SOLUTION
        total = None
        for model in self.models:
            Z = model.forward(X)
            Z = Z - Z.max(axis=1, keepdims=True)
            P = np.exp(Z)
            P /= P.sum(axis=1, keepdims=True)
            total = P if total is None else total + P
        return total / len(self.models)
        ### END SOLUTION

    def predict(self, X: np.ndarray) -> np.ndarray:
        """X: (N, D) -> (N,) the class with the highest average probability."""
        return np.argmax(self.predict_proba(X), axis=1)


# ---------------------------------------------------------------------------------------------
# Hyperparameter search: random search and Bayesian optimization
# ---------------------------------------------------------------------------------------------

#: The Gaussian-process surrogate's settings, on the unit interval (see :func:`to_unit`) and on
#: standardised objective values: RBF length scale, noise variance (it also keeps the Cholesky
#: factorisation stable when two points are close), and the grid that expected improvement is
#: maximised over (``np.linspace(0, 1, GRID_SIZE)``).
LENGTH_SCALE = 0.15
NOISE = 1e-6
GRID_SIZE = 1001


def to_unit(x, low: float, high: float, log_scale: bool = True):
    """Maps x in [low, high] to z in [0, 1]: linearly in log10(x) when ``log_scale``, else in x."""
    if log_scale:
        return (np.log10(x) - math.log10(low)) / (math.log10(high) - math.log10(low))
    return (np.asarray(x, dtype=np.float64) - low) / (high - low)


def from_unit(z, low: float, high: float, log_scale: bool = True):
    """The inverse of :func:`to_unit`: z in [0, 1] -> x in [low, high]."""
    if log_scale:
        return 10.0 ** (math.log10(low) + np.asarray(z, dtype=np.float64) * (math.log10(high) - math.log10(low)))
    return low + np.asarray(z, dtype=np.float64) * (high - low)


def normal_cdf(z):
    """Phi(z), the standard normal distribution function, elementwise (via math.erf)."""
    z = np.asarray(z, dtype=np.float64)
    return 0.5 * (1.0 + np.vectorize(math.erf, otypes=[np.float64])(z / math.sqrt(2.0)))


def normal_pdf(z):
    """phi(z) = exp(-z**2 / 2) / sqrt(2 pi), elementwise."""
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def rbf_kernel(a: np.ndarray, b: np.ndarray, length_scale: float = LENGTH_SCALE) -> np.ndarray:
    """The squared-exponential (RBF) kernel between two sets of points on a line::

        K[i, j] = exp(-(a[i] - b[j])**2 / (2 * length_scale**2))

    Args:
        a: (n,) points.  b: (m,) points.  length_scale: l > 0.

    Returns:
        (n, m) the kernel matrix (signal variance 1: K[i, i] = 1 when a = b).
    """
    # Hint: broadcast a[:, None] - b[None, :]; mind the 2 in the denominator.
    ### BEGIN SOLUTION
    difference = a[:, None] - b[None, :]
    return np.exp(-(difference * difference) / (2.0 * length_scale * length_scale))
    ### END SOLUTION


def gp_posterior(z_train: np.ndarray, y_train: np.ndarray, z_query: np.ndarray,
                 length_scale: float = LENGTH_SCALE, noise: float = NOISE) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and variance of a zero-mean Gaussian process with the RBF kernel.

    With K = rbf(z_train, z_train) + noise * I (n, n), k_* = rbf(z_train, z_query) (n, m), and the
    Cholesky factor L of K (K = L L^T, L lower triangular)::

        alpha    = K^-1 y      = solve(L^T, solve(L, y))
        mean     = k_*^T alpha                                  (m,)
        v        = solve(L, k_*)                                (n, m)
        variance = 1 - sum over rows of v**2, clipped at 0      (m,)   (k(z, z) = 1)

    ``variance`` is that of the function itself (without the noise term). Never invert K: the
    triangular solves are cheaper and stable (np.linalg.inv is not allowed here).

    Args:
        z_train: (n,) observed points.  y_train: (n,) observed values (standardised).
        z_query: (m,) where to predict.  length_scale: the RBF's l.  noise: variance added to K's diagonal.

    Returns:
        ``(mean, variance)``, both (m,).
    """
    # Hint: np.linalg.cholesky(K) gives L; np.linalg.solve(L, ...) does the triangular solves.
    ### BEGIN SOLUTION
    K = rbf_kernel(z_train, z_train, length_scale) + noise * np.eye(len(z_train))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y_train))
    k_star = rbf_kernel(z_train, z_query, length_scale)
    mean = k_star.T @ alpha
    v = np.linalg.solve(L, k_star)
    variance = np.maximum(1.0 - np.sum(v * v, axis=0), 0.0)
    return mean, variance
    ### END SOLUTION


def expected_improvement(mean: np.ndarray, variance: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """Expected improvement below ``best`` (we *minimise*), elementwise.

    With sigma = sqrt(variance) and the improvement I = best - mean - xi::

        EI = I * Phi(I / sigma) + sigma * phi(I / sigma)      where sigma > 0
        EI = max(I, 0)                                        where sigma = 0

    (Phi, phi: :func:`normal_cdf`, :func:`normal_pdf`.) EI is large where the surrogate predicts a
    low value (exploitation) or is unsure (exploration).

    Args:
        mean: (m,) posterior means.  variance: (m,) posterior variances (>= 0).
        best: the lowest value observed so far.  xi: >= 0, demands a margin of improvement (default 0).

    Returns:
        (m,) expected improvements, >= 0, finite, without numpy warnings where variance is 0.
    """
    # Hint: divide only where sigma > 0, e.g. z = np.divide(I, sigma, out=np.zeros_like(I), where=sigma > 0).
    ### BEGIN SOLUTION
    sigma = np.sqrt(variance)
    improvement = best - mean - xi
    positive = sigma > 0.0
    z = np.divide(improvement, sigma, out=np.zeros_like(improvement), where=positive)
    ei = improvement * normal_cdf(z) + sigma * normal_pdf(z)
    return np.where(positive, ei, np.maximum(improvement, 0.0))
    ### END SOLUTION


def random_search(objective: Callable[[float], float], low: float, high: float, n_evals: int,
                  rng: np.random.Generator, log_scale: bool = True) -> tuple[float, list[tuple[float, float]]]:
    """Random search: ``n_evals`` independent points, uniform on the scale of :func:`to_unit`.

    Each x is ``from_unit(rng.uniform(), low, high, log_scale)``: log-uniform in [low, high] when
    ``log_scale`` (the right prior for a learning rate: 1e-4 .. 1e-3 is as likely as 0.1 .. 1),
    uniform otherwise.

    Args:
        objective: x -> value to minimise (for example a validation loss).
        low, high: the range of x (0 < low < high when log_scale).  n_evals: number of evaluations.
        rng: the generator.  log_scale: sample log10(x) uniformly (default True).

    Returns:
        ``(best_x, history)``: the x with the lowest value, and the list of ``(x, value)`` pairs
        in the order they were evaluated (Python floats).
    """
    # Hint: keep the history as a list of (float(x), float(objective(x))); min(..., key=...) finds the best.
    ### BEGIN SOLUTION
    history = []
    for _ in range(n_evals):
        x = float(from_unit(rng.uniform(), low, high, log_scale))
        history.append((x, float(objective(x))))
    best_x = min(history, key=lambda pair: pair[1])[0]
    return best_x, history
    ### END SOLUTION


def bayesian_optimization(objective: Callable[[float], float], low: float, high: float, n_evals: int,
                          rng: np.random.Generator, n_init: int = 3,
                          log_scale: bool = True) -> tuple[float, list[tuple[float, float]]]:
    """Bayesian optimization with a Gaussian-process surrogate (Snoek et al. 2012), on one hyperparameter.

    Works on z = to_unit(x) in [0, 1]:

    1. ``n_init`` random points, z = rng.uniform() each (as in :func:`random_search`);
    2. then, until ``n_evals`` evaluations: standardise the values seen so far,
       y_s = (y - mean(y)) / std(y) (std 1 if all are equal); fit :func:`gp_posterior` to
       (z, y_s) with the module's LENGTH_SCALE and NOISE; compute :func:`expected_improvement`
       (xi = 0, best = min(y_s)) on the grid ``np.linspace(0, 1, GRID_SIZE)``; evaluate the
       objective at ``from_unit`` of the grid point with the largest EI (the first one on a tie).

    Args and Returns: as :func:`random_search`, plus ``n_init`` >= 1 (default 3).
    """
    # Hint: keep z and y in lists; np.argmax(ei) picks the next grid point.
    ### BEGIN SOLUTION
    if n_init < 1:
        raise ValueError(f"invalid n_init={n_init}: it must be >= 1")
    grid = np.linspace(0.0, 1.0, GRID_SIZE)
    zs: list[float] = []
    history: list[tuple[float, float]] = []

    def evaluate(z: float) -> None:
        x = float(from_unit(z, low, high, log_scale))
        zs.append(float(z))
        history.append((x, float(objective(x))))

    for _ in range(min(n_init, n_evals)):
        evaluate(rng.uniform())
    while len(history) < n_evals:
        y = np.array([value for _, value in history])
        scale = y.std() if y.std() > 0.0 else 1.0
        y_standard = (y - y.mean()) / scale
        mean, variance = gp_posterior(np.array(zs), y_standard, grid)
        ei = expected_improvement(mean, variance, float(y_standard.min()))
        evaluate(grid[int(np.argmax(ei))])
    best_x = min(history, key=lambda pair: pair[1])[0]
    return best_x, history
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# Given helpers (not graded): the exercises' problems, and pictures
# ---------------------------------------------------------------------------------------------

#: The learning-rate range of the search exercise, and the gradient-descent steps per evaluation.
LR_RANGE = (1e-4, 1.0)
LR_OBJECTIVE_STEPS = 50


def learning_rate_objective(seed: int = 1, steps: int = LR_OBJECTIVE_STEPS) -> Callable:
    """The search exercise's 1-D objective: lr -> log10 of a validation MSE.

    A seeded linear regression (30 training rows, 20 features of decreasing scale, noisy targets)
    is trained by ``steps`` steps of full-batch gradient descent from w = 0 with learning rate lr,
    and the validation MSE (400 other rows) of the result is returned in log10 (capped at the MSE
    of w = 0, i.e. "no progress", where training diverges). Too small an lr underfits, too large a
    one fits the noise (a few steps of gradient descent act as a regulariser), and beyond
    2 / (largest curvature) training diverges. Computed in closed form from the eigenvectors of the
    training Gram matrix, so the returned function also accepts an array of learning rates.
    """
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
    start_offset = Q.T @ (-w_fit)  # w_0 - w_fit in the eigenbasis (w_0 = 0)
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


def curve_data(seed: int = 1, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """The hidden-size exercise's data: x (n, 1) uniform on [-1, 1], y = sin(3x) + noise 0.3, (n,)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, 1))
    return x, np.sin(3.0 * x[:, 0]) + 0.3 * rng.standard_normal(n)


def random_feature_regressor(hidden: int, seed: int = 0, ridge: float = 1e-6) -> Callable:
    """``train_and_score`` for a one-hidden-layer tanh network of ``hidden`` units whose hidden
    layer is random (drawn from ``seed``) and whose output layer is fitted by ridge regression, in
    closed form; the score is the validation MSE. Few units underfit; close to as many units as
    training rows, the fit interpolates the noise and the validation error soars."""

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


def spiral_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three interleaved noisy spiral arms in 2-d: X (n, 2) and integer labels (n,) in {0, 1, 2}."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    radius = rng.uniform(0.2, 1.0, n)
    angle = 1.75 * np.pi * radius + 2.0 * np.pi * labels / 3.0 + 0.35 * rng.standard_normal(n)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1), labels


class RandomFeatureClassifier(Layer):
    """A quick classifier for the ensemble exercise: random tanh features of a bootstrap sample,
    an output layer fitted by ridge regression on one-hot targets, logits scaled by ``temperature``
    (which makes single members over-confident, as deep networks often are). Only ``forward``."""

    def __init__(self, X: np.ndarray, labels: np.ndarray, rng: np.random.Generator, n_features: int = 48,
                 n_classes: int = 3, scale: float = 3.0, ridge: float = 1e-4, temperature: float = 6.0):
        self.weights = scale * rng.standard_normal((X.shape[1], n_features))
        self.bias = rng.uniform(-np.pi, np.pi, n_features)
        rows = rng.integers(0, len(X), len(X))  # a bootstrap sample: each member sees other data
        F = np.tanh(X[rows] @ self.weights + self.bias)
        targets = np.eye(n_classes)[labels[rows]]
        self.W = temperature * np.linalg.solve(F.T @ F + ridge * np.eye(n_features), F.T @ targets)

    def forward(self, X: np.ndarray) -> np.ndarray:
        return np.tanh(X @ self.weights + self.bias) @ self.W


def ensemble_members(X: np.ndarray, labels: np.ndarray, n_members: int, seed: int) -> list[RandomFeatureClassifier]:
    """``n_members`` random-feature classifiers, member m drawn from ``default_rng([seed, m])``."""
    return [RandomFeatureClassifier(X, labels, np.random.default_rng([seed, m])) for m in range(n_members)]


def _new_figure(width: float, height: float, columns: int = 1, rows: int = 1):
    from matplotlib.figure import Figure  # lazily: grading never needs matplotlib

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, [figure.add_subplot(rows, columns, index + 1) for index in range(rows * columns)]


def plot_early_stopping(val_losses, patience: int = 5, min_delta: float = 0.0, train_losses=None):
    """Draws a validation curve (and optionally the training curve), runs your EarlyStopping on it and
    marks the best epoch and the epoch where it stopped. Returns the matplotlib Figure."""
    figure, (axis,) = _new_figure(6.5, 4.0)
    val_losses = np.asarray(val_losses, dtype=np.float64)
    epochs = np.arange(len(val_losses))
    if train_losses is not None:
        axis.plot(epochs, train_losses, color="tab:gray", label="training loss")
    axis.plot(epochs, val_losses, color="tab:blue", label="validation loss")
    title = f"early stopping, patience {patience}"
    try:
        stopper, params = EarlyStopping(patience, min_delta), [np.zeros(1)]
        stopped = None
        for epoch, loss in enumerate(val_losses):
            if stopper.step(float(loss), params):
                stopped = epoch
                break
        axis.axvline(stopper.best_epoch, color="tab:green", linestyle="--", label=f"best epoch {stopper.best_epoch}")
        if stopped is not None:
            axis.axvline(stopped, color="tab:red", linestyle=":", label=f"stopped at epoch {stopped}")
    except NotImplementedError:
        title += " (EarlyStopping not implemented yet)"
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")
    axis.set_title(title)
    axis.legend()
    return figure


def plot_cross_validation(hidden_sizes=(1, 2, 4, 8, 16, 32, 64), k: int = 5, seed: int = 0, data_seed: int = 1):
    """The mean k-fold validation MSE of :func:`random_feature_regressor` per hidden size (with the
    spread over folds) on :func:`curve_data`, and the size your choose_hidden_size picks."""
    figure, (axis,) = _new_figure(6.5, 4.0)
    X, y = curve_data(data_seed)
    try:
        scores = np.array([cross_validate(random_feature_regressor(size), X, y, k, np.random.default_rng(seed))
                           for size in hidden_sizes])
        best, _ = choose_hidden_size(random_feature_regressor, hidden_sizes, X, y, k, seed)
    except NotImplementedError:
        axis.set_title("cross-validation: not implemented yet")
        return figure
    axis.errorbar(hidden_sizes, scores.mean(axis=1), yerr=scores.std(axis=1), marker="o", capsize=3,
                  label=f"mean validation MSE over {k} folds")
    axis.axvline(best, color="tab:green", linestyle="--", label=f"chosen: {best} hidden units")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.set_xlabel("hidden units")
    axis.set_ylabel("validation MSE")
    axis.set_title("choosing a hidden size by k-fold cross-validation")
    axis.legend()
    return figure


def plot_bayesian_optimization(n_evals: int = 15, seed: int = 0, objective_seed: int = 1):
    """Left: the learning-rate objective, the Gaussian-process surrogate after your
    bayesian_optimization's evaluations (mean +- 2 sd), the points in the order they were taken,
    and the expected improvement for the next one. Right: the best value so far against the number
    of evaluations, for Bayesian optimization and random search. Returns the Figure."""
    figure, (surface, progress) = _new_figure(12.0, 4.5, columns=2)
    objective = learning_rate_objective(objective_seed)
    low, high = LR_RANGE
    unit_points = np.linspace(0.0, 1.0, GRID_SIZE)
    x_grid = from_unit(unit_points, low, high)
    surface.plot(x_grid, objective(x_grid), color="black", linewidth=1.5, label="objective")
    try:
        _, history = bayesian_optimization(objective, low, high, n_evals, np.random.default_rng(seed))
        xs, ys = np.array(history).T
        scale = ys.std() if ys.std() > 0 else 1.0
        mean, variance = gp_posterior(to_unit(xs, low, high), (ys - ys.mean()) / scale, unit_points)
        surface.plot(x_grid, ys.mean() + scale * mean, color="tab:blue", label="surrogate mean")
        sd = scale * np.sqrt(variance)
        surface.fill_between(x_grid, ys.mean() + scale * mean - 2 * sd, ys.mean() + scale * mean + 2 * sd,
                             color="tab:blue", alpha=0.2, label="+- 2 sd")
        surface.scatter(xs, ys, color="tab:red", zorder=3, label="evaluations")
        for order, (x, y) in enumerate(history):
            surface.annotate(str(order + 1), (x, y), textcoords="offset points", xytext=(3, 3), fontsize="x-small")
        ei = expected_improvement(mean, variance, float(((ys - ys.mean()) / scale).min()))
        twin = surface.twinx()
        twin.plot(x_grid, ei, color="tab:green", linewidth=0.8)
        twin.set_ylabel("expected improvement (green)")
        progress.plot(np.arange(1, n_evals + 1), np.minimum.accumulate(ys), marker="o", label="Bayesian optimization")
        _, random_history = random_search(objective, low, high, n_evals, np.random.default_rng(seed))
        progress.plot(np.arange(1, n_evals + 1), np.minimum.accumulate([y for _, y in random_history]),
                      marker="s", label="random search")
        progress.axhline(float(objective(x_grid).min()), color="black", linestyle=":", label="best on the grid")
        progress.legend()
        surface.set_title(f"Bayesian optimization: {n_evals} evaluations")
    except NotImplementedError:
        surface.set_title("Bayesian optimization: not implemented yet")
    surface.set_xscale("log")
    surface.set_xlabel("learning rate")
    surface.set_ylabel("log10 validation MSE")
    surface.legend(fontsize="small", loc="upper left")
    progress.set_xlabel("evaluations")
    progress.set_ylabel("best log10 validation MSE so far")
    progress.set_title("best value found so far")
    return figure
