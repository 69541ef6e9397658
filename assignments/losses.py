"""Unit 3 - losses (손실 함수).

The lecture note names one loss function (손실 함수) per kind of problem, and adds a remark to each:

* 회귀 (regression): MSE = (1/N) sum_i sum_k (y_i^(k) - y_hat_i^(k))**2. "Must it be a square?" A network
  that tries to fit outliers can be ruined by them; the L1 norm can be more robust to outliers than L2.
* 분류 (classification): CE = -(1/N) sum_i sum_c y_i^(c) log y_hat_i^(c). Only one class is 1, and the
  note remarks that the right class only has to score higher than the others (strictly, that is what
  accuracy asks; cross-entropy keeps rewarding a wider margin). What holds exactly: CE depends only
  on the differences of the logits within a row, so adding a constant to a row changes nothing.
* 확률 기반 (probabilistic): MLE = (1/N) sum_i sum_k log N(y_i^(k); y_hat_i^(k), 1). Probabilistic
  losses let a model report its confidence / uncertainty as well.

You implement each loss as a small class, then the graded exercises check the three remarks with the
given helpers at the end of this file (`fit_line`, `fit_heteroscedastic` and two pictures).

The contract every loss in this file shares:

* One class per loss, used in two steps::

      loss = MSELoss()
      value = loss.forward(Y_hat, Y)   # the loss, a Python float
      grad = loss.backward()           # dloss/dY_hat: a new array with the shape of Y_hat

  ``forward`` stores what ``backward`` needs in ``self.cache``, a small dataclass defined below
  (``ResidualCache``, ``LogitCache``, ``GaussianCache``); ``backward`` uses the cache of the last
  ``forward`` call. The one exception to "backward returns an array": ``GaussianNLLLoss`` with a
  learned variance returns ``GaussianNLLGradients(mu=..., var=...)``, the gradient for each input.
* Rows are samples: predictions are ``(N, K)`` (K outputs per sample, as in Unit 1), logits
  ``(N, C)`` (C classes). Everything is float64.
* Reduction as the note writes it: **sum over the output dimensions, mean over the N samples** of the
  batch (for cross-entropy: the sum over classes is part of the formula, then the mean over samples).
* Neither ``forward`` nor ``backward`` modifies the arrays it is given.
* Finite inputs give finite results without numpy warnings, even extreme ones such as logits of
  +-1e4: no overflow, no division by zero, no invalid value (an underflow to 0, as exp(-1e4), is
  fine). The checks at extreme logits count such a warning as a failure, and nbgrader scores a test
  cell 0 when anything is printed on stderr.

Where torch differs (torch is the independent oracle of this course's own tests):

* ``torch.nn.MSELoss``, ``L1Loss``, ``HuberLoss``, ``BCEWithLogitsLoss`` and ``GaussianNLLLoss`` with
  ``reduction="mean"`` divide by N*K, the number of elements; here we divide by N only. For K = 1 the
  two agree; in general ours equals torch's mean times K (or torch's ``reduction="sum"`` divided by N).
* ``torch.nn.CrossEntropyLoss(reduction="mean", label_smoothing=...)`` is the same as ours (mean over
  the batch), for class-index labels and for probability targets alike (no class weights here).
* ``torch.nn.GaussianNLLLoss`` always needs ``var``; here ``var=None`` means unit variance, the note's
  MLE. torch raises ValueError for a negative ``var`` and accepts a ``var`` of shape (N,) or (N, 1);
  here ``var`` has the shape of ``mu`` and is clamped at ``eps`` like every small entry.
"""

import math
from dataclasses import dataclass

import numpy as np


# ---------------------------------------------------------------------------------------------
# Caches: what forward hands to backward (typed, so that nothing is unpacked by position).
# ---------------------------------------------------------------------------------------------


@dataclass
class ResidualCache:
    """Saved by ``MSELoss``, ``L1Loss`` and ``HuberLoss``.

    Attributes:
        residual: (N, K) ``Y_hat - Y``.
    """

    residual: np.ndarray


@dataclass
class LogitCache:
    """Saved by ``CrossEntropyLoss`` and ``BCEWithLogitsLoss``.

    Attributes:
        probabilities: softmax(Z) row by row, (N, C); or sigmoid(Z) element by element, (N, K).
        targets: the targets as probabilities, same shape: one-hot rows for class labels, after label
            smoothing when it is on.
    """

    probabilities: np.ndarray
    targets: np.ndarray


@dataclass
class GaussianCache:
    """Saved by ``GaussianNLLLoss``.

    Attributes:
        residual: (N, K) ``mu - Y``.
        variance: (N, K) ``max(var, eps)``, the clamped variance; None for unit variance (var=None).
    """

    residual: np.ndarray
    variance: np.ndarray | None


@dataclass
class GaussianNLLGradients:
    """What ``GaussianNLLLoss.backward`` returns when ``forward`` was given a variance.

    Attributes:
        mu: (N, K) dloss/dmu.
        var: (N, K) dloss/dvar.
    """

    mu: np.ndarray
    var: np.ndarray


class Loss:
    """What every loss shares: ``forward`` stores ``self.cache``, ``backward`` reads it."""

    cache = None

    def _cached(self):
        """The cache of the last ``forward`` call; a clear error when there is none."""
        if self.cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() found no cache: call forward() first, and store "
                "what backward needs in self.cache inside forward()"
            )
        return self.cache


# ---------------------------------------------------------------------------------------------
# 회귀 (regression): MSE, L1, Huber
# ---------------------------------------------------------------------------------------------


class MSELoss(Loss):
    """Mean squared error (회귀, regression), exactly as the lecture note writes it::

        r            = Y_hat - Y                          (N, K)
        loss         = (1/N) * sum_i sum_k r[i, k]**2     sum over outputs, mean over samples
        dloss/dY_hat = (2/N) * r

    torch's ``MSELoss(reduction="mean")`` divides by N*K instead of N.
    """

    cache: ResidualCache | None = None

    def forward(self, Y_hat: np.ndarray, Y: np.ndarray) -> float:
        """Args: Y_hat (N, K) predictions; Y (N, K) targets. Returns the loss as a Python float."""
        # Hint: keep r = Y_hat - Y in self.cache = ResidualCache(r); divide the sum of squares by N = rows.
        raise NotImplementedError("MSELoss.forward: not implemented yet")

    def backward(self) -> np.ndarray:
        """Returns dloss/dY_hat, (N, K), for the inputs of the last ``forward``."""
        cache = self._cached()
        # Hint: the derivative of r**2 is 2 r, and the 1/N of the mean stays.
        raise NotImplementedError("MSELoss.backward: not implemented yet")


class L1Loss(Loss):
    """Mean absolute error, the L1 loss (회귀, regression), reduced like the note's MSE::

        r            = Y_hat - Y                          (N, K)
        loss         = (1/N) * sum_i sum_k |r[i, k]|
        dloss/dY_hat = sign(r) / N                        with sign(0) = 0

    |r| has no derivative at r = 0; we use the subgradient 0 there, as ``np.sign`` and torch's
    autograd do. torch's ``L1Loss(reduction="mean")`` divides by N*K instead of N.
    """

    cache: ResidualCache | None = None

    def forward(self, Y_hat: np.ndarray, Y: np.ndarray) -> float:
        """Args: Y_hat (N, K) predictions; Y (N, K) targets. Returns the loss as a Python float."""
        # Hint: like MSELoss.forward, with |r| in place of r**2.
        raise NotImplementedError("L1Loss.forward: not implemented yet")

    def backward(self) -> np.ndarray:
        """Returns dloss/dY_hat, (N, K): sign(r) / N, and 0 where Y_hat == Y."""
        cache = self._cached()
        # Hint: np.sign gives -1, 0 or +1; a test such as r >= 0 would give 1 at r = 0.
        raise NotImplementedError("L1Loss.backward: not implemented yet")


class HuberLoss(Loss):
    """Huber loss (회귀, regression): quadratic for small residuals, linear for large ones, so it is
    smooth at 0 like MSE and robust to outliers like L1. Element by element, with r = Y_hat - Y::

        h(r) = 0.5 * r**2                     if |r| <= delta
             = delta * (|r| - 0.5 * delta)    otherwise          (the two pieces meet at |r| = delta)

        loss         = (1/N) * sum_i sum_k h(r[i, k])           sum over outputs, mean over samples
        dloss/dY_hat = clip(r, -delta, delta) / N

    Args:
        delta: where the quadratic part turns linear; default 1.0, as torch's ``HuberLoss``.

    The elementwise h is torch's ``HuberLoss(delta)``; torch's ``reduction="mean"`` divides by N*K
    instead of N. (torch's ``SmoothL1Loss(beta)`` is ``h / beta`` with ``delta = beta``.)
    """

    cache: ResidualCache | None = None

    def __init__(self, delta: float = 1.0):
        self.delta = float(delta)

    def forward(self, Y_hat: np.ndarray, Y: np.ndarray) -> float:
        """Args: Y_hat (N, K) predictions; Y (N, K) targets. Returns the loss as a Python float."""
        # Hint: np.where(|r| <= self.delta, quadratic piece, linear piece), then sum and divide by N.
        raise NotImplementedError("HuberLoss.forward: not implemented yet")

    def backward(self) -> np.ndarray:
        """Returns dloss/dY_hat, (N, K): r where |r| <= delta, delta * sign(r) beyond, over N."""
        cache = self._cached()
        # Hint: np.clip(r, -delta, delta) is the derivative of both pieces at once.
        raise NotImplementedError("HuberLoss.backward: not implemented yet")


# ---------------------------------------------------------------------------------------------
# 분류 (classification): cross-entropy from logits, binary cross-entropy from logits
# ---------------------------------------------------------------------------------------------


class CrossEntropyLoss(Loss):
    """Cross-entropy (분류, classification) computed from logits, with optional label smoothing::

        log p[i, c]  = Z[i, c] - log sum_k exp(Z[i, k])      log-softmax, row by row
        q            = one_hot(Y)  or  Y                      targets as probabilities (N, C)
        q            = (1 - eps) * q + eps / C                label smoothing (eps = label_smoothing)
        loss         = -(1/N) * sum_i sum_c q[i, c] * log p[i, c]
        dloss/dZ     = (softmax(Z) - q) / N

    The note's CE takes probabilities y_hat; here y_hat = softmax(Z) is folded in, because
    log(softmax(Z)) computed in two steps fails for large logits: exp(1000) overflows, and a class far
    below the best one gets probability 0, whose log is -inf. The stable log-softmax subtracts each
    row's maximum m first: log p = (Z - m) - log(sum(exp(Z - m))). Adding a constant to a row changes
    nothing, which is the note's remark that only the relative logits matter.

    Args:
        label_smoothing: eps in [0, 1]; torch's definition: mix the targets with the uniform
            distribution over all C classes (the true class keeps 1 - eps + eps / C).

    Matches torch's ``CrossEntropyLoss(reduction="mean", label_smoothing=eps)``, for class labels and
    for probability targets.
    """

    cache: LogitCache | None = None

    def __init__(self, label_smoothing: float = 0.0):
        self.label_smoothing = float(label_smoothing)

    def forward(self, Z: np.ndarray, Y: np.ndarray) -> float:
        """Args:
            Z: (N, C) logits, one row of class scores per sample.
            Y: either (N,) integer class labels in 0..C-1, or (N, C) probability targets (one-hot
                rows, or soft labels; each row sums to 1).

        Returns the loss as a Python float.
        """
        # Hint: subtract each row's max before np.exp; turn labels into one-hot rows with np.eye(C)[Y].
        raise NotImplementedError("CrossEntropyLoss.forward: not implemented yet")

    def backward(self) -> np.ndarray:
        """Returns dloss/dZ, (N, C): (softmax(Z) - q) / N with the same (smoothed) targets q as forward."""
        cache = self._cached()
        # Hint: one line from the cache; do not forget the 1/N of the mean.
        raise NotImplementedError("CrossEntropyLoss.backward: not implemented yet")


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy from logits (분류, two classes): z is the logit of class 1, y its target.
    Element by element, with sigma(z) = 1 / (1 + exp(-z))::

        l(z, y)      = -y log sigma(z) - (1 - y) log(1 - sigma(z))
                     = max(z, 0) - z * y + log(1 + exp(-|z|))     the stable form: exp of a number <= 0
        loss         = (1/N) * sum_i sum_k l(Z[i, k], Y[i, k])    sum over outputs, mean over samples
        dloss/dZ     = (sigma(Z) - Y) / N

    For two classes K = 1 (one logit per sample); K > 1 treats K independent yes/no labels. Compute
    sigma(z) without exp of a large positive number too: with e = exp(-|z|), sigma(z) = 1 / (1 + e)
    for z >= 0 and e / (1 + e) for z < 0.

    torch's ``BCEWithLogitsLoss(reduction="mean")`` divides by N*K instead of N.
    """

    cache: LogitCache | None = None

    def forward(self, Z: np.ndarray, Y: np.ndarray) -> float:
        """Args: Z (N, K) logits; Y (N, K) targets in [0, 1] (labels 0/1, or probabilities).
        Returns the loss as a Python float."""
        # Hint: the stable form above (np.log1p helps), and sigma(Z) from e = exp(-|Z|) for the cache.
        raise NotImplementedError("BCEWithLogitsLoss.forward: not implemented yet")

    def backward(self) -> np.ndarray:
        """Returns dloss/dZ, (N, K): (sigma(Z) - Y) / N."""
        cache = self._cached()
        # Hint: the same one line as for CrossEntropyLoss.
        raise NotImplementedError("BCEWithLogitsLoss.backward: not implemented yet")


# ---------------------------------------------------------------------------------------------
# 확률 기반 (probabilistic): Gaussian negative log-likelihood
# ---------------------------------------------------------------------------------------------


class GaussianNLLLoss(Loss):
    """Gaussian negative log-likelihood (확률 기반): the model predicts a mean mu and, optionally, a
    variance var for every output. Element by element, with r = mu - Y::

        unit variance (var=None):  l = 0.5 * r**2                          (the note's MLE, negated)
        learned variance:          v = max(var, eps)                        clamped, as torch does
                                   l = 0.5 * (log v + r**2 / v)
        full=True adds the constant 0.5 * log(2 pi) to every element.

        loss         = (1/N) * sum_i sum_k l[i, k]                sum over outputs, mean over samples
        dloss/dmu    = r / v / N                                  (v = 1 for unit variance)
        dloss/dvar   = 0.5 * (1 / v - r**2 / v**2) / N

    The note's MLE is the log-likelihood (1/N) sum log N(y; y_hat, 1), to be maximised; its negative,
    with full=True, is MSE / 2 + (K/2) log(2 pi): maximising the likelihood with unit variance is
    minimising the MSE. With a learned variance, the model can say how uncertain it is.

    The clamp and its gradient, precisely (torch clamps a copy of var inside ``torch.no_grad()``):
    the forward uses v = max(var, eps), and dloss/dvar is the formula above evaluated at v
    *everywhere*. Where var < eps the forward is flat in var, yet the gradient is not 0: it is
    0.5 * (1/eps - r**2/eps**2) / N, passed straight through the clamp, exactly as torch's autograd.

    Args:
        eps: the smallest variance used; default 1e-6, as torch.
        full: add the constant 0.5 * log(2 pi) per element; default False, as torch.

    torch's ``GaussianNLLLoss(reduction="mean")`` divides by N*K instead of N (see the module docstring).
    """

    cache: GaussianCache | None = None

    def __init__(self, eps: float = 1e-6, full: bool = False):
        self.eps = float(eps)
        self.full = bool(full)

    def forward(self, mu: np.ndarray, Y: np.ndarray, var: np.ndarray | None = None) -> float:
        """Args:
            mu: (N, K) predicted means.
            Y: (N, K) targets.
            var: (N, K) predicted variances (>= 0), or None for unit variance.

        Returns the loss as a Python float.
        """
        # Hint: v = np.maximum(var, self.eps) (a new array: never clamp var itself); cache r and v.
        raise NotImplementedError("GaussianNLLLoss.forward: not implemented yet")

    def backward(self) -> np.ndarray | GaussianNLLGradients:
        """Returns dloss/dmu, (N, K), after ``forward(mu, Y)``; after ``forward(mu, Y, var)`` returns
        ``GaussianNLLGradients(mu=dloss/dmu, var=dloss/dvar)``, both (N, K)."""
        cache = self._cached()
        # Hint: the variance gradient uses the clamped v, also where var < eps (see the class docstring).
        raise NotImplementedError("GaussianNLLLoss.backward: not implemented yet")


# ---------------------------------------------------------------------------------------------
# Given helpers (not graded, but the exercises run them with your losses): data, two tiny
# training loops, and pictures of the note's remarks.
# ---------------------------------------------------------------------------------------------


@dataclass
class OutlierData:
    """Points near the line y = w x + b, some of them pushed far above it.

    Attributes:
        x, y: (n,) the points.  is_outlier: (n,) bool, True for the pushed points.
        w, b: the true line.
    """

    x: np.ndarray
    y: np.ndarray
    is_outlier: np.ndarray
    w: float
    b: float


def make_outlier_data(
    rng: np.random.Generator,
    n: int = 60,
    outlier_fraction: float = 0.15,
    w: float = 2.0,
    b: float = 0.5,
    noise: float = 0.1,
    push: float = 8.0,
) -> OutlierData:
    """x uniform on [-1, 1], y = w x + b + noise; a fraction of the points is pushed up by ``push``."""
    x = rng.uniform(-1.0, 1.0, n)
    y = w * x + b + noise * rng.standard_normal(n)
    is_outlier = np.zeros(n, dtype=bool)
    is_outlier[rng.choice(n, size=int(round(outlier_fraction * n)), replace=False)] = True
    return OutlierData(x, np.where(is_outlier, y + push, y), is_outlier, w, b)


@dataclass
class LineFit:
    """What :func:`fit_line` returns: the line y = w x + b and the loss before each step, (steps,)."""

    w: float
    b: float
    losses: np.ndarray


def fit_line(loss: Loss, x: np.ndarray, y: np.ndarray, lr: float = 0.1, steps: int = 300) -> LineFit:
    """Fits y = w x + b by plain gradient descent on ``loss`` (MSELoss, L1Loss, HuberLoss...),
    starting from w = b = 0. Each step calls ``loss.forward`` on (n, 1) columns, then
    ``loss.backward()``, and moves w and b against dloss/dw = sum(grad * x), dloss/db = sum(grad).
    """
    inputs, targets = x.reshape(-1, 1), y.reshape(-1, 1)
    w = b = 0.0
    history = np.empty(steps)
    for step in range(steps):
        history[step] = loss.forward(w * inputs + b, targets)
        grad = loss.backward()
        # The chain rule through Y_hat = w x + b: dY_hat/dw = x, dY_hat/db = 1.
        w, b = w - lr * float(np.sum(grad * inputs)), b - lr * float(np.sum(grad))
    return LineFit(w, b, history)


@dataclass
class HeteroscedasticData:
    """Points around the line y = w x + b whose noise grows with x: std(x) = exp((u x + v) / 2).

    Attributes:
        x, y: (n,) the points.  w, b: the true mean line.  u, v: the true log-variance line.
    """

    x: np.ndarray
    y: np.ndarray
    w: float
    b: float
    u: float
    v: float

    def std(self, x: np.ndarray) -> np.ndarray:
        """The true noise level (standard deviation) at x."""
        return np.exp(0.5 * (self.u * x + self.v))


def make_heteroscedastic_data(
    rng: np.random.Generator, n: int = 400, w: float = 1.5, b: float = -0.5, u: float = 1.6, v: float = -1.4
) -> HeteroscedasticData:
    """x uniform on [-1, 1]; y = w x + b + std(x) * standard normal noise, std(x) = exp((u x + v) / 2)."""
    x = rng.uniform(-1.0, 1.0, n)
    y = w * x + b + np.exp(0.5 * (u * x + v)) * rng.standard_normal(n)
    return HeteroscedasticData(x, y, w, b, u, v)


@dataclass
class VarianceFit:
    """What :func:`fit_heteroscedastic` returns: the mean line mu(x) = w x + b, the log-variance line
    log var(x) = u x + v, and the loss before each step, (steps,)."""

    w: float
    b: float
    u: float
    v: float
    losses: np.ndarray

    def std(self, x: np.ndarray) -> np.ndarray:
        """The learned noise level (standard deviation) at x."""
        return np.exp(0.5 * (self.u * x + self.v))


def fit_heteroscedastic(
    loss: GaussianNLLLoss, x: np.ndarray, y: np.ndarray, lr: float = 0.1, steps: int = 400
) -> VarianceFit:
    """Learns a mean and a noise level together by plain gradient descent on ``loss`` (a
    GaussianNLLLoss): mu = w x + b and var = exp(u x + v), from w = b = u = v = 0 (so var = 1 at the
    start). The variance is predicted through its log so that it stays positive; the chain rule then
    gives dloss/d(log var) = dloss/dvar * var.
    """
    inputs, targets = x.reshape(-1, 1), y.reshape(-1, 1)
    w = b = u = v = 0.0
    history = np.empty(steps)
    for step in range(steps):
        variance = np.exp(u * inputs + v)
        history[step] = loss.forward(w * inputs + b, targets, variance)
        grads = loss.backward()
        d_log_var = grads.var * variance
        w, b = w - lr * float(np.sum(grads.mu * inputs)), b - lr * float(np.sum(grads.mu))
        u, v = u - lr * float(np.sum(d_log_var * inputs)), v - lr * float(np.sum(d_log_var))
    return VarianceFit(w, b, u, v, history)


def plot_outlier_fits(data: OutlierData | None = None, lr: float = 0.1, steps: int = 300):
    """The note's outlier remark as a picture: the same line fitted with MSELoss (L2), L1Loss and
    HuberLoss by :func:`fit_line`, over the points, with the outliers marked. Returns the Figure.

    A loss that is not implemented yet is left out and named in the title.
    """
    from matplotlib.figure import Figure

    if data is None:
        data = make_outlier_data(np.random.default_rng(0))
    figure = Figure(figsize=(6, 4))  # no pyplot: nothing is shown twice or left open in a notebook
    ax = figure.subplots()
    inliers = ~data.is_outlier
    ax.scatter(data.x[inliers], data.y[inliers], s=14, color="0.4", label="data")
    ax.scatter(data.x[data.is_outlier], data.y[data.is_outlier], s=40, marker="x", color="red", label="outliers")
    grid = np.linspace(-1.0, 1.0, 2)
    ax.plot(grid, data.w * grid + data.b, "k--", label="true line")
    missing = []
    for name, loss in (("L2 (MSE)", MSELoss()), ("L1", L1Loss()), ("Huber", HuberLoss())):
        try:
            fit = fit_line(loss, data.x, data.y, lr=lr, steps=steps)
        except NotImplementedError:
            missing.append(name)
            continue
        ax.plot(grid, fit.w * grid + fit.b, label=f"{name} fit")
    title = "L1 is more robust to outliers than L2"
    if missing:
        title += f"\n(not implemented yet: {', '.join(missing)})"
    ax.set_title(title)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(fontsize="small")
    return figure


def plot_losses_of_residual(delta: float = 1.0, r_max: float = 3.0, points: int = 241):
    """Each regression loss of one residual r = y_hat - y (N = K = 1), and its derivative, for r in
    [-r_max, r_max]: the square grows fast for large r (outliers weigh a lot), |r| and Huber only
    linearly. Left: the loss; right: dloss/dy_hat from your backward. Returns the Figure.

    A loss that is not implemented yet is left out and named in the title.
    """
    from matplotlib.figure import Figure

    residuals = np.linspace(-r_max, r_max, points)
    target = np.zeros((1, 1))
    figure = Figure(figsize=(9, 3.5))
    left, right = figure.subplots(1, 2)
    missing = []
    for name, loss in (("MSE (L2)", MSELoss()), ("L1", L1Loss()), (f"Huber, delta={delta:g}", HuberLoss(delta))):
        try:
            values, slopes = np.empty(points), np.empty(points)
            for index, r in enumerate(residuals):
                values[index] = loss.forward(np.full((1, 1), r), target)
                slopes[index] = loss.backward()[0, 0]
        except NotImplementedError:
            missing.append(name)
            continue
        left.plot(residuals, values, label=name)
        right.plot(residuals, slopes, label=name)
    left.set_title("loss of one residual")
    right.set_title("its derivative (your backward)")
    for ax in (left, right):
        ax.set_xlabel("residual r = y_hat - y")
        ax.axhline(0.0, color="0.8", linewidth=0.8)
        if len(missing) < 3:  # a legend with no entries would only print a warning
            ax.legend(fontsize="small")
    if missing:
        figure.suptitle(f"not implemented yet: {', '.join(missing)}")
    figure.tight_layout()
    return figure
