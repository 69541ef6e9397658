"""Unit 2 - MLP layers (다층 퍼셉트론).

The lecture note's picture of a neural network (신경망): "a function approximator that stacks affine
transformations (아핀 변환) followed by nonlinear transformations (비선형 변환)". Here you build that
stack from layers: an affine layer ``Linear``, the activation functions (활성화 함수) ReLU, Sigmoid
and Tanh of the note plus LeakyReLU, GELU and Softmax, a ``Sequential`` container, the multi-layer
perceptron ``MLP`` itself, and the residual block ``x + f(x)`` of ResNet (2015). Each layer has a
forward pass and a backward pass (역전파, backpropagation), and the graded exercises use them to see
the note's three claims with your own code: one hidden layer approximates a smooth function, a stack
of linear layers without activations is one linear layer, and skip connections make depth trainable.

The layer contract (every layer in this file; the optimizer unit relies on it):

* Rows are samples. A layer maps ``X`` of shape ``(N, D_in)`` to ``Y`` of shape ``(N, D_out)``;
  everything is float64.
* ``forward(X) -> Y`` computes the output and keeps what the backward pass needs in a small
  dataclass (``self.cache``). Call it before ``backward``.
* ``backward(dY) -> dX`` takes ``dY = dL/dY`` (the gradient of some scalar loss L with respect to
  the layer's output, shape of Y) and returns ``dX = dL/dX`` (shape of X). A layer with parameters
  also stores their gradients (``Linear``: ``self.dW = dL/dW``, ``self.db = dL/db``).
* Layers do NOT average over the batch. If the loss is a mean over N samples, its 1/N is already
  inside ``dY``; so ``dW = X.T @ dY`` and ``db = dY.sum(axis=0)``, never divided by N again.
* ``parameters() -> list[np.ndarray]`` and ``gradients() -> list[np.ndarray]`` list the parameters
  and their gradients in the same fixed order (``Linear``: ``[W, b]`` and ``[dW, db]``; an
  activation: ``[]``; a container: its layers' lists, first layer first). ``parameters()`` returns
  the live arrays, not copies: an optimizer updates them in place (``p -= lr * g``) and the layer
  must see the change.
* Neither ``forward`` nor ``backward`` modifies the array it is given: the caller (and the layer
  before, during the backward pass) still needs it. The layer keeps a reference to ``X`` for the
  backward pass, so do not change ``X`` between ``forward`` and ``backward`` either.
* Randomness (the initial weights) comes only from the ``numpy.random.Generator`` passed in.

Two remarks on the lecture note:

* Universal approximation (Hornik, 선형 신경망을 넘어서): the theorem only says that a network with
  one hidden layer close to the target *exists*; it says nothing about finding it. The exercise
  shows that, for two smooth functions on [-pi, pi], plain gradient descent does find one.
* ResNet (2015): the note says deep networks used to overfit (training error down, test error up).
  The ResNet paper's point is a different one: deeper *plain* networks reached a *higher training*
  error than shallower ones (the "degradation" problem): extra depth made even the fit to the
  training data worse. Skip connections fixed that. The depth exercise shows exactly this: the
  plain network's training loss stalls while the residual one's falls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: GELU's tanh approximation: GELU(x) ~ 0.5 x (1 + tanh(GELU_SCALE * (x + GELU_CUBIC * x**3))).
GELU_SCALE = float(np.sqrt(2.0 / np.pi))
GELU_CUBIC = 0.044715


class Layer:
    """The contract every layer follows (see the module docstring).

    forward(X): (N, D_in) -> (N, D_out).      backward(dY): (N, D_out) -> (N, D_in).
    parameters(): the live parameter arrays.  gradients(): their gradients, in the same order.

    Layers without parameters (the activation functions) inherit the empty lists below.
    """

    def forward(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, dY: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def parameters(self) -> list[np.ndarray]:
        return []

    def gradients(self) -> list[np.ndarray]:
        return []


# ---------------------------------------------------------------------------------------------
# The affine layer (아핀 변환)
# ---------------------------------------------------------------------------------------------


@dataclass
class LinearCache:
    """What ``Linear.forward`` keeps for the backward pass.

    Attributes:
        X: (N, D_in) the input of the forward pass (a reference to the caller's array, not a copy).
    """

    X: np.ndarray


class Linear(Layer):
    """The affine layer ``Y = X @ W + b`` (the note's 아핀 변환; torch's ``nn.Linear``).

    Shapes: ``W`` is ``(D_in, D_out)`` and ``b`` is ``(D_out,)``, so rows of X are samples. (torch's
    ``nn.Linear`` stores the transpose, ``weight`` of shape ``(D_out, D_in)``, and computes
    ``X @ weight.T + bias``; the maps are the same.)

    Initialisation, from the ``rng`` passed in (``b`` always starts at zero):

    * ``init="he"`` (He / Kaiming normal, for ReLU networks): ``W ~ N(0, 2 / D_in)``, i.e. standard
      deviation ``sqrt(2 / D_in)`` (torch: ``kaiming_normal_(weight, nonlinearity="relu")``).
    * ``init="xavier"`` (Xavier / Glorot normal, for tanh and sigmoid networks):
      ``W ~ N(0, 2 / (D_in + D_out))``, standard deviation ``sqrt(2 / (D_in + D_out))`` (torch:
      ``xavier_normal_``; Glorot and Bengio's paper draws ``U(-a, a)`` with
      ``a = sqrt(6 / (D_in + D_out))``, which has the same variance).

    Both keep the size of the signal roughly constant from layer to layer, so that deep stacks
    neither blow up nor fade out at the start of training. (torch's own default for ``nn.Linear`` is
    a third rule, ``U(-1/sqrt(D_in), 1/sqrt(D_in))``.)

    Attributes:
        W: (D_in, D_out) weights.  b: (D_out,) bias.
        dW: (D_in, D_out) and db: (D_out,) gradients, set by ``backward``.
        cache: a :class:`LinearCache`, set by ``forward``.
    """

    W: np.ndarray
    b: np.ndarray

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator, init: str = "he"):
        """Creates the layer with initial weights drawn from ``rng`` (see the class docstring).

        Write this first: every check of Linear builds a layer (and then sets W and b itself, so
        that forward and backward are graded independently of the random draw).

        Raises:
            ValueError: ``init`` is neither ``"he"`` nor ``"xavier"``.
        """
        self.in_features = in_features
        self.out_features = out_features
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None
        self.cache: LinearCache | None = None
        # Hint: pick the standard deviation from `init`, then W = rng.normal(0.0, std, size=(D_in, D_out)).
        raise NotImplementedError("Linear.__init__: not implemented yet")

    @classmethod
    def from_parameters(cls, W: np.ndarray, b: np.ndarray) -> "Linear":
        """A layer holding copies of the given ``W`` (D_in, D_out) and ``b`` (D_out,)."""
        W = np.array(W, dtype=np.float64)
        layer = cls(W.shape[0], W.shape[1], np.random.default_rng(0))
        layer.W = W
        layer.b = np.array(b, dtype=np.float64)
        return layer

    def forward(self, X: np.ndarray) -> np.ndarray:
        """``Y = X @ W + b``.

        Args:
            X: (N, D_in) inputs, one sample per row.

        Returns:
            (N, D_out) outputs.
        """
        # Hint: keep X in a LinearCache for the backward pass; one matrix product and a broadcast add.
        raise NotImplementedError("Linear.forward: not implemented yet")

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """Gradients of ``Y = X @ W + b`` by the chain rule, with ``dY = dL/dY``:

            dL/dW = X.T @ dY           (D_in, D_out)   stored in self.dW
            dL/db = dY summed over N   (D_out,)        stored in self.db
            dL/dX = dY @ W.T           (N, D_in)       returned

        No division by N: the loss's averaging is already inside dY.

        Args:
            dY: (N, D_out) gradient of the loss with respect to this layer's output.

        Returns:
            (N, D_in) gradient with respect to the input X.
        """
        # Hint: match the shapes: dW must be (D_in, D_out), the bias was added to every row.
        raise NotImplementedError("Linear.backward: not implemented yet")

    def parameters(self) -> list[np.ndarray]:
        """``[W, b]``: the layer's own arrays (not copies), so in-place updates reach the layer."""
        # Hint: return the attributes themselves, in the order W, b.
        raise NotImplementedError("Linear.parameters: not implemented yet")

    def gradients(self) -> list[np.ndarray]:
        """``[dW, db]`` from the last ``backward``, in the order of :meth:`parameters`."""
        # Hint: the same order as parameters().
        raise NotImplementedError("Linear.gradients: not implemented yet")


# ---------------------------------------------------------------------------------------------
# Activation functions (활성화 함수): elementwise, except Softmax, which works on each row
# ---------------------------------------------------------------------------------------------


@dataclass
class ReLUCache:
    """What ``ReLU.forward`` keeps. positive: (N, D) boolean mask, True where X > 0."""

    positive: np.ndarray


class ReLU(Layer):
    """Rectified linear unit: ``relu(x) = max(x, 0)``, elementwise.

    Derivative: 1 where x > 0 and 0 where x < 0. At x = 0 it has a kink; like torch, use 0 there.
    """

    def __init__(self):
        self.cache: ReLUCache | None = None

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (N, D) -> (N, D) ``max(X, 0)``; X itself stays unchanged."""
        # Hint: np.maximum (not np.max) compares elementwise and returns a new array.
        raise NotImplementedError("ReLU.forward: not implemented yet")

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """dY: (N, D) -> dX (N, D): ``dY`` where the input was positive, 0 elsewhere."""
        # Hint: multiply dY by the derivative; do not write into dY, the caller still owns it.
        raise NotImplementedError("ReLU.backward: not implemented yet")


@dataclass
class LeakyReLUCache:
    """What ``LeakyReLU.forward`` keeps. positive: (N, D) boolean mask, True where X > 0."""

    positive: np.ndarray


class LeakyReLU(Layer):
    """Leaky ReLU: ``x`` where x > 0, ``negative_slope * x`` elsewhere (torch's default slope 0.01).

    Derivative: 1 where x > 0, ``negative_slope`` where x < 0 (and, like torch, at x = 0). Unlike
    ReLU, a negative input still passes a small gradient, so a unit cannot "die".
    """

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope
        self.cache: LeakyReLUCache | None = None

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (N, D) -> (N, D)."""
        # Hint: np.where(condition, value_if_true, value_if_false) builds a new array.
        raise NotImplementedError("LeakyReLU.forward: not implemented yet")

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """dY: (N, D) -> dX (N, D)."""
        # Hint: the slope on the negative side is negative_slope, not 0.
        raise NotImplementedError("LeakyReLU.backward: not implemented yet")


@dataclass
class SigmoidCache:
    """What ``Sigmoid.forward`` keeps. Y: (N, D) the output sigma(X)."""

    Y: np.ndarray


class Sigmoid(Layer):
    """Logistic sigmoid: ``sigma(x) = 1 / (1 + exp(-x))``, elementwise, values in (0, 1).

    Derivative, written with the OUTPUT y = sigma(x): ``sigma'(x) = y * (1 - y)``.

    Stability: ``exp(-x)`` overflows for x below about -709 (numpy warns and returns inf). For
    x < 0 use the equal form ``exp(x) / (1 + exp(x))``, whose exp never overflows. Careful:
    ``np.where(x >= 0, a, b)`` computes both ``a`` and ``b`` on every element, so the overflow
    happens anyway; compute ``z = np.exp(-np.abs(x))`` once and build both branches from it. An exp
    that underflows to 0 (e.g. exp(-1000)) is harmless: the result is still right.
    """

    def __init__(self):
        self.cache: SigmoidCache | None = None

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (N, D) -> (N, D) sigma(X), with no overflow even at |x| = 1000."""
        # Hint: exp(-|x|) lies in (0, 1] and never overflows; both forms of sigma can be written with it.
        raise NotImplementedError("Sigmoid.forward: not implemented yet")

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """dY: (N, D) -> dX = dY * y * (1 - y), with y the output of the forward pass."""
        # Hint: use the cached output y, not the input x.
        raise NotImplementedError("Sigmoid.backward: not implemented yet")


@dataclass
class TanhCache:
    """What ``Tanh.forward`` keeps. Y: (N, D) the output tanh(X)."""

    Y: np.ndarray


class Tanh(Layer):
    """Hyperbolic tangent, elementwise, values in (-1, 1).

    Derivative, written with the OUTPUT y = tanh(x): ``tanh'(x) = 1 - y**2``.
    ``np.tanh`` is stable everywhere; writing it as (e^x - e^-x) / (e^x + e^-x) overflows to
    inf / inf = NaN at |x| = 1000.
    """

    def __init__(self):
        self.cache: TanhCache | None = None

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (N, D) -> (N, D) tanh(X)."""
        # Hint: np.tanh; keep the output for the backward pass.
        raise NotImplementedError("Tanh.forward: not implemented yet")

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """dY: (N, D) -> dX = dY * (1 - y**2)."""
        # Hint: square the cached output y.
        raise NotImplementedError("Tanh.backward: not implemented yet")


@dataclass
class GELUCache:
    """What ``GELU.forward`` keeps.

    Attributes:
        X: (N, D) the input.
        T: (N, D) ``tanh(GELU_SCALE * (X + GELU_CUBIC * X**3))``, reused by the derivative.
    """

    X: np.ndarray
    T: np.ndarray


class GELU(Layer):
    """Gaussian error linear unit, in its tanh approximation (torch's ``approximate="tanh"``):

        u(x)    = c * (x + a * x**3),        c = sqrt(2 / pi) = GELU_SCALE,  a = 0.044715 = GELU_CUBIC
        GELU(x) = 0.5 * x * (1 + tanh(u(x)))

    (The exact GELU is x * Phi(x) with Phi the standard normal CDF; the two differ by less than 5e-4.)
    Derivative, by the product rule and with t = tanh(u(x)):

        GELU'(x) = 0.5 * (1 + t)  +  0.5 * x * (1 - t**2) * c * (1 + 3 * a * x**2)
    """

    def __init__(self):
        self.cache: GELUCache | None = None

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (N, D) -> (N, D) GELU(X) (tanh approximation)."""
        # Hint: compute t = tanh(u(X)) once and keep it with X for the backward pass.
        raise NotImplementedError("GELU.forward: not implemented yet")

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """dY: (N, D) -> dX = dY * GELU'(x) (both terms of the product rule)."""
        # Hint: two terms: d(0.5 x)/dx * (1 + t), and 0.5 x * d(tanh(u))/dx (chain rule through u).
        raise NotImplementedError("GELU.backward: not implemented yet")


@dataclass
class SoftmaxCache:
    """What ``Softmax.forward`` keeps. Y: (N, D) the output probabilities."""

    Y: np.ndarray


class Softmax(Layer):
    """Softmax over each row (each sample's D scores become D probabilities that sum to 1):

        softmax(x)_j = exp(x_j) / sum_k exp(x_k)

    Stability: shifting a row by a constant does not change its softmax, so subtract each row's
    maximum first; then every exp is at most 1 and nothing overflows (without the shift,
    exp(1000) = inf and inf / inf = NaN).

    Backward, with y = softmax(x) of one row: the Jacobian is dy_j/dx_i = y_j (delta_ij - y_i), so

        dX = Y * (dY - sum(dY * Y, axis=1, keepdims=True))
    """

    def __init__(self):
        self.cache: SoftmaxCache | None = None

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (N, D) scores -> (N, D) probabilities, each row summing to 1."""
        # Hint: axis=1 and keepdims=True keep the row-wise max and sum broadcastable against X.
        raise NotImplementedError("Softmax.forward: not implemented yet")

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """dY: (N, D) -> dX (N, D), the full Jacobian of each row applied to dY (see above)."""
        # Hint: each output depends on every input of its row, so the diagonal y (1 - y) is not enough.
        raise NotImplementedError("Softmax.backward: not implemented yet")


# ---------------------------------------------------------------------------------------------
# Containers: Sequential, the MLP (다층 퍼셉트론) and the residual block
# ---------------------------------------------------------------------------------------------


class Sequential(Layer):
    """Layers applied one after another: ``Sequential(f1, f2, f3)(X) = f3(f2(f1(X)))``.

    The backward pass is the chain rule: the layers' backward passes in reverse order, each one's
    dX becoming the previous layer's dY. ``parameters()`` / ``gradients()`` concatenate the layers'
    lists, first layer first: ``[W1, b1, W2, b2, ...]`` and ``[dW1, db1, dW2, db2, ...]``.

    Attributes:
        layers: the layers, in the order the forward pass applies them.
    """

    def __init__(self, *layers: Layer):
        self.layers: list[Layer] = list(layers)

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (N, D_0) -> (N, D_L), through every layer in order."""
        # Hint: feed each layer's output to the next.
        raise NotImplementedError("Sequential.forward: not implemented yet")

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """dY: (N, D_L) -> dX (N, D_0), through every layer's backward in reverse order."""
        # Hint: the last layer's backward comes first (reversed(...)).
        raise NotImplementedError("Sequential.backward: not implemented yet")

    def parameters(self) -> list[np.ndarray]:
        """Every layer's parameters, first layer first: ``[W1, b1, W2, b2, ...]`` (live arrays)."""
        # Hint: one flat list, not a list of lists.
        raise NotImplementedError("Sequential.parameters: not implemented yet")

    def gradients(self) -> list[np.ndarray]:
        """Every layer's gradients, in the order of :meth:`parameters`."""
        # Hint: the same loop as parameters().
        raise NotImplementedError("Sequential.gradients: not implemented yet")


#: The activation functions an MLP can use between its affine layers, by name.
ACTIVATIONS: dict[str, type[Layer]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "gelu": GELU,
}


class MLP(Sequential):
    """The multi-layer perceptron (다층 퍼셉트론): affine layers with an activation between them.

    ``MLP([D_0, D_1, ..., D_L], "relu", rng)`` holds the layers

        Linear(D_0, D_1), ReLU(), Linear(D_1, D_2), ReLU(), ..., Linear(D_{L-1}, D_L)

    with no activation after the last Linear (its outputs are the predictions, the note's logits).
    The Linear layers are created in order, each drawing its weights from ``rng`` with ``init``.

    Args:
        sizes: ``[D_0, ..., D_L]``, at least two sizes (two sizes give a single Linear layer).
        activation: a key of :data:`ACTIVATIONS` (``"relu"``, ``"leaky_relu"``, ``"sigmoid"``,
            ``"tanh"`` or ``"gelu"``).
        rng: the generator every Linear layer draws its initial weights from.
        init: ``"he"`` or ``"xavier"``, passed to every Linear layer.
    """

    def __init__(self, sizes: Sequence[int], activation: str, rng: np.random.Generator, init: str = "he"):
        if len(sizes) < 2:
            raise ValueError(f"an MLP needs at least an input and an output size, got sizes={list(sizes)}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        self.sizes = tuple(sizes)
        self.activation = activation
        layers: list[Layer] = []
        # Hint: one Linear per pair of consecutive sizes, ACTIVATIONS[activation]() between them.
        raise NotImplementedError("MLP.__init__: not implemented yet")
        super().__init__(*layers)


class Residual(Layer):
    """The residual block of ResNet (2015): ``Residual(f)(X) = X + f(X)``.

    ``f`` is any layer (often a small Sequential) that keeps the shape, (N, D) -> (N, D). The skip
    path copies X forward and copies dY backward, so by the chain rule

        dX = dY + f.backward(dY)

    Even when f's own gradient fades away, dY still reaches the layers below through the "+ dY":
    this is why deep stacks of residual blocks train where plain deep stacks stall.
    ``parameters()`` / ``gradients()`` are those of f.

    Attributes:
        inner: the layer f.
    """

    def __init__(self, inner: Layer):
        self.inner = inner

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (N, D) -> (N, D) ``X + f(X)``.

        Raises:
            ValueError: f changed the shape (it must map (N, D) to (N, D)).
        """
        # Hint: one addition; a new array, so X stays unchanged.
        raise NotImplementedError("Residual.forward: not implemented yet")

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """dY: (N, D) -> dX (N, D): the skip path's dY plus the branch's gradient."""
        # Hint: two paths from X to the output, so two contributions to dX.
        raise NotImplementedError("Residual.backward: not implemented yet")

    def parameters(self) -> list[np.ndarray]:
        """The parameters of f (live arrays)."""
        # Hint: the skip path has no parameters.
        raise NotImplementedError("Residual.parameters: not implemented yet")

    def gradients(self) -> list[np.ndarray]:
        """The gradients of f, in the order of :meth:`parameters`."""
        # Hint: the same as parameters(), for the gradients.
        raise NotImplementedError("Residual.gradients: not implemented yet")


# ---------------------------------------------------------------------------------------------
# Exercise: why we need nonlinearity (비선형성 추가 이유)
# ---------------------------------------------------------------------------------------------


def collapse_linear_layers(model: Sequential) -> Linear:
    """A stack of linear layers without activations is one linear layer: build that layer.

    ``model`` holds only :class:`Linear` layers, ``Linear(D_0, D_1), ..., Linear(D_{L-1}, D_L)``.
    Return one ``Linear`` (use :meth:`Linear.from_parameters`) whose ``forward`` gives the same
    output as ``model.forward`` for every X, using

        (X @ W + b) @ W_l + b_l = X @ (W @ W_l) + (b @ W_l + b_l).

    With an activation between the layers this is impossible, which is why MLPs have them.

    Args:
        model: a Sequential of Linear layers (at least one).

    Returns:
        A new Linear layer with W of shape (D_0, D_L) and b of shape (D_L,); ``model`` is unchanged.

    Raises:
        TypeError: a layer of ``model`` is not a Linear layer (an activation cannot be folded in).
    """
    # Hint: fold the layers in one at a time, and check each one with isinstance(layer, Linear).
    raise NotImplementedError("collapse_linear_layers: not implemented yet")


# ---------------------------------------------------------------------------------------------
# Given helpers (not graded): data, the plain gradient descent of the exercises, deep networks,
# and pictures.
# ---------------------------------------------------------------------------------------------


def bumpy(x: np.ndarray) -> np.ndarray:
    """The exercise's second target on [-pi, pi]: ``sin(x) + 0.5 * sin(2 x)``, a lopsided wave."""
    return np.sin(x) + 0.5 * np.sin(2.0 * x)


#: The functions of the universal-approximation exercise, by name.
TARGETS = {"sin": np.sin, "bumpy": bumpy}


def make_curve_data(function, n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (n, 1): n evenly spaced points of [-pi, pi]; ``Y`` (n, 1): ``function(X)``."""
    X = np.linspace(-np.pi, np.pi, n).reshape(n, 1)
    return X, function(X)


def mse(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """The note's MSE, (1/N) sum_i sum_d (Y - Y_hat)**2 (the loss unit grades its own version)."""
    residual = Y_hat - Y
    return float(np.sum(residual * residual) / Y.shape[0])


def train_mse(model: Layer, X: np.ndarray, Y: np.ndarray, lr: float, steps: int) -> np.ndarray:
    """Plain full-batch gradient descent (경사 하강법) on the note's MSE; returns the loss history.

    Each step: record the loss, backpropagate ``dL/dY_hat = (2/N) (Y_hat - Y)``, then update every
    parameter in place, ``p -= lr * g``, for p, g in ``zip(model.parameters(), model.gradients())``.
    Stops early if the loss becomes inf or NaN (the history then ends with that value).

    Args:
        model: any layer, e.g. an MLP; its parameters are trained in place.
        X: (N, D_in) inputs.  Y: (N, D_out) targets.  lr: learning rate.  steps: number of steps.

    Returns:
        The loss before each step, shape (steps,) (shorter if training blew up).
    """
    losses = []
    for _ in range(steps):
        Y_hat = model.forward(X)
        loss = mse(Y_hat, Y)
        losses.append(loss)
        if not np.isfinite(loss):
            break
        model.backward(2.0 / X.shape[0] * (Y_hat - Y))
        for parameter, gradient in zip(model.parameters(), model.gradients()):
            parameter -= lr * gradient
    return np.array(losses)


def deep_mlp(
    in_features: int,
    width: int,
    depth: int,
    out_features: int,
    activation: str,
    rng: np.random.Generator,
    *,
    residual: bool,
    init: str = "he",
) -> Sequential:
    """A deep network of ``depth`` hidden blocks, plain or residual, otherwise identical.

    Plain:     Linear(in, width), then depth x [act, Linear(width, width)], then act, Linear(width, out)
    Residual:  Linear(in, width), then depth x Residual(Sequential(act, Linear(width, width))),
               then act, Linear(width, out)

    The two draw the same weights from the same ``rng`` in the same order; only the skip connections
    differ. Each residual block computes ``H + act(H) @ W + b`` (the pre-activation form of ResNet).
    With sigmoid, whose derivative is at most 1/4, the plain stack's gradient shrinks at every layer
    and its early layers barely learn; the residual stack's "+ dY" carries the gradient past them.
    The default He init (larger than Xavier's) lets the residual stack train from any seed; the
    plain sigmoid stack stalls all the same.
    """
    make_activation = ACTIVATIONS[activation]
    layers: list[Layer] = [Linear(in_features, width, rng, init)]
    for _ in range(depth):
        block = Sequential(make_activation(), Linear(width, width, rng, init))
        layers.append(Residual(block) if residual else block)
    layers += [make_activation(), Linear(width, out_features, rng, init)]
    return Sequential(*layers)


def _new_figure(width: float, height: float, columns: int = 1):
    from matplotlib.figure import Figure  # lazily: grading never needs matplotlib

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, [figure.add_subplot(1, columns, index + 1) for index in range(columns)]


def plot_universal_approximation(hidden: int = 32, lr: float = 0.05, steps: int = 3000, seed: int = 0):
    """Fits a one-hidden-layer tanh MLP to each function of :data:`TARGETS` with :func:`train_mse`
    and draws each fit beside its target. Returns the matplotlib Figure."""
    figure, axes = _new_figure(5.0 * len(TARGETS), 3.6, columns=len(TARGETS))
    for axis, (name, function) in zip(axes, TARGETS.items()):
        X, Y = make_curve_data(function, n=128)
        axis.plot(X[:, 0], Y[:, 0], color="black", linewidth=2.5, label=f"target {name}(x)")
        try:
            model = MLP([1, hidden, 1], "tanh", np.random.default_rng(seed), init="xavier")
            losses = train_mse(model, X, Y, lr, steps)
            axis.plot(X[:, 0], model.forward(X)[:, 0], color="tab:orange", label=f"MLP [1, {hidden}, 1], tanh")
            axis.set_title(f"{name}: MSE {losses[-1]:.2g} after {len(losses)} steps")
        except NotImplementedError:
            axis.set_title(f"{name}: not implemented yet (needs Linear, Tanh, Sequential and MLP)")
        axis.set_xlabel("x")
        axis.legend()
    figure.suptitle("One hidden layer approximates a smooth function (universal approximation)")
    return figure


def plot_activations(x_min: float = -4.0, x_max: float = 4.0):
    """Draws every activation of :data:`ACTIVATIONS` (top) and its derivative (bottom), computed with
    each layer's own forward and backward (backward of ones gives the derivative). Returns the Figure."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10.0, 6.0), layout="constrained")
    values, derivatives = figure.add_subplot(2, 1, 1), figure.add_subplot(2, 1, 2)
    X = np.linspace(x_min, x_max, 401).reshape(-1, 1)
    missing = []
    for name, make in ACTIVATIONS.items():
        layer = make()
        try:
            Y = layer.forward(X)
            dX = layer.backward(np.ones_like(Y))
        except NotImplementedError:
            missing.append(name)
            continue
        values.plot(X[:, 0], Y[:, 0], label=name)
        derivatives.plot(X[:, 0], dX[:, 0], label=f"{name}'")
    values.set_title("activation functions" + (f" (not implemented yet: {', '.join(missing)})" if missing else ""))
    derivatives.set_title("their derivatives, from backward(ones)")
    derivatives.set_xlabel("x")
    for axis in (values, derivatives):
        axis.axhline(0.0, color="gray", linewidth=0.5)
        if len(missing) < len(ACTIVATIONS):
            axis.legend(ncol=3, fontsize="small")
    return figure


def plot_deep_training(depth: int = 20, width: int = 16, lr: float = 0.05, steps: int = 400, seed: int = 0):
    """Trains a plain and a residual :func:`deep_mlp` (sigmoid, ``depth`` hidden blocks) on sin(x)
    with the same budget and draws both loss curves. Returns the Figure."""
    figure, (axis,) = _new_figure(6.0, 4.0)
    X, Y = make_curve_data(np.sin)
    for residual, label in ((False, "plain"), (True, "residual")):
        try:
            model = deep_mlp(1, width, depth, 1, "sigmoid", np.random.default_rng(seed), residual=residual)
            losses = train_mse(model, X, Y, lr, steps)
        except NotImplementedError:
            axis.set_title("not implemented yet (needs Linear, Sigmoid, Sequential and Residual)")
            return figure
        axis.plot(np.arange(len(losses)), losses, label=f"{label}, depth {depth}")
    axis.set_yscale("log")
    axis.set_xlabel("step")
    axis.set_ylabel("training loss (MSE)")
    axis.set_title("Skip connections make depth trainable (ResNet, 2015)")
    axis.legend()
    return figure
