"""Unit 4 - optimizers and learning-rate schedules (최적화 알고리즘).

The lecture note lists the optimizers every deep-learning practitioner meets: SGD, Momentum, NAG,
Adagrad, Adadelta, RMSprop, and (2014) Adam, "because it works" (Adam이 결과가 잘 나와서). Each one
here follows torch.optim's formulation exactly, so that torch is an exact oracle; where textbooks
or CS231n write the update differently, the docstring says so.

Conventions shared by every class in this file:

* ``params`` is a list of float64 numpy arrays (for example ``model.parameters()`` of Unit 2, the
  live arrays of a network). A parameter is identified by its position in that list.
* ``opt.step(grads)`` takes a list of gradients in the same order and with the same shapes, and
  updates every parameter **in place** (``p -= ...`` or ``p[...] = ...``): the arrays keep their
  identity, so the model sees the new values. ``grads`` are never modified.
* Each optimizer keeps its state **per parameter** in ``self.state``: a list with one small
  dataclass per parameter (``self.state[i]`` belongs to ``params[i]``), never shared.
* ``opt.lr`` is a plain attribute; a schedule (below) changes it between steps.
* ``t`` counts the steps taken so far, starting at 1 for the first step.
* Bad hyperparameters raise ``ValueError`` in the constructor with a message naming the argument.

Learning-rate schedules (학습률 스케줄) follow torch.optim.lr_scheduler: a schedule is built on an
optimizer, sets ``optimizer.lr`` for epoch 0 at once, and ``schedule.step()`` moves to the next
epoch and sets ``optimizer.lr`` again. The note's ResNet/CIFAR recipe (lr x 0.1 at 50% and 75% of
the epochs) is :func:`resnet_cifar_schedule`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


# ---------------------------------------------------------------------------------------------
# Per-parameter state (given): one of these per parameter, in self.state[i]
# ---------------------------------------------------------------------------------------------


@dataclass
class MomentumState:
    """State of :class:`Momentum` and :class:`NAG` for one parameter.

    momentum_buffer: the velocity b, shape of the parameter; None before the first step.
    """

    momentum_buffer: np.ndarray | None = None


@dataclass
class AdagradState:
    """State of :class:`Adagrad`: ``sum`` of squared gradients (shape of the parameter), step ``t``."""

    sum: np.ndarray
    step: int = 0


@dataclass
class AdadeltaState:
    """State of :class:`Adadelta`: running averages of g**2 (``square_avg``) and of the squared
    updates (``acc_delta``), both shaped like the parameter."""

    square_avg: np.ndarray
    acc_delta: np.ndarray


@dataclass
class RMSpropState:
    """State of :class:`RMSprop`: ``square_avg`` (v); ``grad_avg`` (the mean g, only when centered);
    ``momentum_buffer`` (b, only when momentum > 0). Arrays shaped like the parameter."""

    square_avg: np.ndarray
    grad_avg: np.ndarray | None = None
    momentum_buffer: np.ndarray | None = None


@dataclass
class AdamState:
    """State of :class:`Adam` and :class:`AdamW`: the step count ``step`` (t), the first and second
    moment estimates ``exp_avg`` (m) and ``exp_avg_sq`` (v), and ``max_exp_avg_sq`` (only with
    amsgrad). Arrays shaped like the parameter."""

    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray | None = None
    step: int = 0


# ---------------------------------------------------------------------------------------------
# The optimizers
# ---------------------------------------------------------------------------------------------


class Optimizer:
    """Base class (given): keeps the parameter list and the learning rate."""

    def __init__(self, params, lr: float):
        self.params: list[np.ndarray] = list(params)
        self.lr = float(lr)
        self.state: list = []

    def step(self, grads: list[np.ndarray]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent (확률적 경사 하강법) with L2 weight decay.

    For each parameter p with gradient g (lr = learning rate, lambda = ``weight_decay``)::

        g <- g + lambda * p            (only when weight_decay != 0)
        p <- p - lr * g

    Args:
        params: list of parameter arrays, updated in place.
        lr: learning rate, >= 0 (required).
        weight_decay: lambda >= 0 (default 0).

    Same as torch.optim.SGD with momentum=0. No state.
    """

    def __init__(self, params, lr: float, weight_decay: float = 0.0):
        super().__init__(params, lr)
        # Hint: raise ValueError for lr < 0 or weight_decay < 0, then keep weight_decay.
        raise NotImplementedError("SGD.__init__: not implemented yet")

    def step(self, grads: list[np.ndarray]) -> None:
        """One update of every parameter, in place; ``grads`` are left unchanged."""
        # Hint: build g + weight_decay * p as a new array, then p -= lr * g.
        raise NotImplementedError("SGD.step: not implemented yet")


class Momentum(Optimizer):
    """SGD with momentum (모멘텀), torch's formulation.

    With mu = ``momentum``, tau = ``dampening``, lambda = ``weight_decay``::

        g <- g + lambda * p
        b <- g                              at t = 1 (the buffer starts at the first gradient)
        b <- mu * b + (1 - tau) * g         at t > 1
        p <- p - lr * b

    Args:
        params: list of parameter arrays, updated in place.
        lr: learning rate >= 0.  momentum: mu >= 0 (default 0.9).
        dampening: tau (default 0).  weight_decay: lambda >= 0 (default 0).

    Same as torch.optim.SGD(momentum=mu, dampening=tau, nesterov=False). Note: CS231n and
    Sutskever et al. write v <- mu * v - lr * g, p <- p + v, with lr *inside* the velocity; the two
    agree for a constant learning rate (v = -lr * b) but not once a schedule changes lr. With
    dampening, starting the buffer at 0 instead of at g also makes the first step (1 - tau) too short.
    """

    def __init__(self, params, lr: float, momentum: float = 0.9, dampening: float = 0.0,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        # Hint: validate lr, momentum and weight_decay (>= 0); one MomentumState per parameter.
        raise NotImplementedError("Momentum.__init__: not implemented yet")

    def step(self, grads: list[np.ndarray]) -> None:
        """One update of every parameter, in place; ``grads`` are left unchanged."""
        # Hint: the first step copies g into the buffer (np.array(g)); later steps use mu and tau.
        raise NotImplementedError("Momentum.step: not implemented yet")


class NAG(Optimizer):
    """Nesterov accelerated gradient (NAG), torch's formulation.

    With mu = ``momentum``, lambda = ``weight_decay``::

        g <- g + lambda * p
        b <- g at t = 1,   b <- mu * b + g at t > 1
        p <- p - lr * (g + mu * b)          (the Nesterov "look-ahead")

    Args:
        params: list of parameter arrays, updated in place.
        lr: learning rate >= 0.  momentum: mu > 0 (default 0.9; Nesterov needs momentum).
        weight_decay: lambda >= 0 (default 0).

    Same as torch.optim.SGD(momentum=mu, nesterov=True). Note: CS231n writes
    v <- mu * v - lr * g, p <- p - mu * v_prev + (1 + mu) * v; for a constant learning rate it takes
    the same steps. Plain momentum steps with b alone; NAG adds the gradient once more.
    """

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
        super().__init__(params, lr)
        # Hint: Nesterov with momentum <= 0 is a ValueError; one MomentumState per parameter.
        raise NotImplementedError("NAG.__init__: not implemented yet")

    def step(self, grads: list[np.ndarray]) -> None:
        """One update of every parameter, in place; ``grads`` are left unchanged."""
        # Hint: update the buffer exactly as Momentum does, then step along g + mu * b.
        raise NotImplementedError("NAG.step: not implemented yet")


class Adagrad(Optimizer):
    """Adagrad: per-coordinate steps shrink with the sum of past squared gradients.

    With lambda = ``weight_decay``, eta_t = lr / (1 + (t - 1) * ``lr_decay``)::

        g <- g + lambda * p
        s <- s + g**2                       (s starts at 0)
        p <- p - eta_t * g / (sqrt(s) + eps)    (eps outside the square root)

    Args:
        params: list of parameter arrays.  lr: >= 0 (default 1e-2).  lr_decay: >= 0 (default 0).
        weight_decay: >= 0 (default 0).  eps: >= 0 (default 1e-10).

    Same as torch.optim.Adagrad (initial_accumulator_value=0). CS231n and the Goodfellow book
    also add eps outside the root; TensorFlow starts s at 0.1 instead of 0.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 eps: float = 1e-10):
        super().__init__(params, lr)
        # Hint: validate lr, lr_decay, weight_decay and eps (>= 0); AdagradState(sum=zeros) each.
        raise NotImplementedError("Adagrad.__init__: not implemented yet")

    def step(self, grads: list[np.ndarray]) -> None:
        """One update of every parameter, in place; ``grads`` are left unchanged."""
        # Hint: count the step first (t = 1 on the first call); eps goes after the square root.
        raise NotImplementedError("Adagrad.step: not implemented yet")


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012): a unit-correct step from two running averages.

    With rho = ``rho``, lambda = ``weight_decay``::

        g     <- g + lambda * p
        v     <- rho * v + (1 - rho) * g**2
        delta <- sqrt(u + eps) / sqrt(v + eps) * g      (eps inside both square roots)
        u     <- rho * u + (1 - rho) * delta**2
        p     <- p - lr * delta

    Args:
        params: list of parameter arrays.  lr: >= 0 (default 1.0: the paper has no learning rate).
        rho: in [0, 1] (default 0.9).  eps: >= 0 (default 1e-6).  weight_decay: >= 0 (default 0).

    Same as torch.optim.Adadelta and the paper. v and u start at 0.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        # Hint: rho must lie in [0, 1]; AdadeltaState with two zero arrays per parameter.
        raise NotImplementedError("Adadelta.__init__: not implemented yet")

    def step(self, grads: list[np.ndarray]) -> None:
        """One update of every parameter, in place; ``grads`` are left unchanged."""
        # Hint: update v, compute delta, update u with delta (before lr), then p -= lr * delta.
        raise NotImplementedError("Adadelta.step: not implemented yet")


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), torch's formulation, optionally centered and with momentum.

    With alpha = ``alpha``, mu = ``momentum``, lambda = ``weight_decay``::

        g <- g + lambda * p
        v <- alpha * v + (1 - alpha) * g**2
        centered:   m <- alpha * m + (1 - alpha) * g,   d <- sqrt(v - m**2) + eps
        otherwise:  d <- sqrt(v) + eps                  (eps outside the square root)
        momentum:   b <- mu * b + g / d,  p <- p - lr * b     (b starts at 0)
        otherwise:  p <- p - lr * g / d

    Args:
        params: list of parameter arrays.  lr: >= 0 (default 1e-2).  alpha: in [0, 1) (default 0.99).
        eps: >= 0 (default 1e-8).  weight_decay: >= 0 (default 0).  momentum: >= 0 (default 0).
        centered: divide by the estimated standard deviation instead of the RMS (default False).

    Same as torch.optim.RMSprop. Note: Keras/TensorFlow default to rho = 0.9 and TensorFlow adds eps
    inside the square root; CS231n uses decay_rate = 0.99 with eps outside, as here.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, lr)
        # Hint: alpha must lie in [0, 1); allocate grad_avg / momentum_buffer only when used.
        raise NotImplementedError("RMSprop.__init__: not implemented yet")

    def step(self, grads: list[np.ndarray]) -> None:
        """One update of every parameter, in place; ``grads`` are left unchanged."""
        # Hint: eps is added after the square root; the centered form subtracts m**2 inside it.
        raise NotImplementedError("RMSprop.step: not implemented yet")


def _check_adam_hyperparameters(lr: float, betas, eps: float, weight_decay: float) -> None:
    """Shared validation of Adam and AdamW (graded through both constructors)."""
    # Hint: lr, eps, weight_decay >= 0, and each beta in [0, 1); name the argument in the message.
    raise NotImplementedError("_check_adam_hyperparameters: not implemented yet")


class Adam(Optimizer):
    """Adam (Kingma & Ba 2014) with bias correction, optionally AMSGrad.

    With (beta1, beta2) = ``betas``, lambda = ``weight_decay`` (L2, added to the gradient)::

        t <- t + 1                                   (t = 1 at the first step)
        g <- g + lambda * p
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g**2
        m_hat <- m / (1 - beta1**t),   v_hat <- v / (1 - beta2**t)
        amsgrad: v_max <- max(v_max, v), and v_hat uses v_max
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)    (eps outside the square root)

    Args:
        params: list of parameter arrays.  lr: >= 0 (default 1e-3).  betas: each in [0, 1)
        (default (0.9, 0.999)).  eps: >= 0 (default 1e-8).  weight_decay: >= 0 (default 0).
        amsgrad: keep the running maximum of v (default False).

    Same as torch.optim.Adam and the paper's Algorithm 1. Note: TensorFlow/Keras apply eps to
    sqrt(v) *before* bias correction ("epsilon hat"), which differs for small t; CS231n writes the
    same formula as here.
    """

    decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, lr)
        # Hint: call _check_adam_hyperparameters, then one AdamState per parameter (zeros, step 0).
        raise NotImplementedError("Adam.__init__: not implemented yet")

    def step(self, grads: list[np.ndarray]) -> None:
        """One update of every parameter, in place; ``grads`` are left unchanged.

        AdamW reuses this method: when ``self.decoupled_weight_decay`` is True, first
        p *= 1 - lr * weight_decay, and do not add weight_decay * p to the gradient.
        """
        # Hint: t += 1 before the bias corrections (1 - beta**t is 0 at t = 0); AdamW decays p first.
        raise NotImplementedError("Adam.step: not implemented yet")


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with *decoupled* weight decay.

    Before the Adam step (which then sees the plain gradient, no lambda * p added)::

        p <- p * (1 - lr * lambda)        (lambda = ``weight_decay``, default 1e-2)

    followed by Adam's update above. Args as :class:`Adam`, except ``weight_decay`` defaults to 1e-2.
    Same as torch.optim.AdamW. Adam's L2 term is divided by sqrt(v_hat) like the gradient;
    the decoupled decay is not, which is the point of AdamW.
    """

    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


# ---------------------------------------------------------------------------------------------
# Learning-rate schedules (학습률 스케줄)
# ---------------------------------------------------------------------------------------------


class LRSchedule:
    """Base class (given): drives ``optimizer.lr``, like torch.optim.lr_scheduler.

    ``base_lr`` is the optimizer's lr when the schedule is built. Building the schedule sets
    ``optimizer.lr = lr_at(0)``; each ``step()`` moves to the next epoch e and sets
    ``optimizer.lr = lr_at(e)``. Subclasses implement :meth:`lr_at` in closed form.
    """

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.epoch = 0
        self.optimizer.lr = self.lr_at(0)

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)


class StepLR(LRSchedule):
    """lr(e) = base_lr * gamma ** floor(e / step_size). Same as torch's StepLR (gamma default 0.1)."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        self.step_size = int(step_size)
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        # Hint: integer division counts how many step_size boundaries have passed.
        raise NotImplementedError("StepLR.lr_at: not implemented yet")


class MultiStepLR(LRSchedule):
    """lr(e) = base_lr * gamma ** (number of milestones <= e). Same as torch's MultiStepLR."""

    def __init__(self, optimizer, milestones, gamma: float = 0.1):
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        # Hint: count the milestones already reached (a milestone m applies from epoch m on).
        raise NotImplementedError("MultiStepLR.lr_at: not implemented yet")


def resnet_cifar_schedule(optimizer, epochs: int) -> MultiStepLR:
    """The note's ResNet/CIFAR-10 recipe: lr x 0.1 at 50% and at 75% of the epochs."""
    # Hint: one MultiStepLR; the milestones are int(0.5 * epochs) and int(0.75 * epochs).
    raise NotImplementedError("resnet_cifar_schedule: not implemented yet")


class LinearWarmup(LRSchedule):
    """Linear warm-up: lr(e) = base_lr * (f + (1 - f) * min(e, warmup_epochs) / warmup_epochs).

    f = ``start_factor`` (default 1/3), so lr climbs from f * base_lr to base_lr in warmup_epochs
    and stays there. Same as torch's LinearLR(start_factor=f, end_factor=1, total_iters=warmup_epochs).
    """

    def __init__(self, optimizer, warmup_epochs: int, start_factor: float = 1.0 / 3.0):
        self.warmup_epochs = int(warmup_epochs)
        self.start_factor = float(start_factor)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        # Hint: clamp the epoch at warmup_epochs, then interpolate the factor linearly.
        raise NotImplementedError("LinearWarmup.lr_at: not implemented yet")


class CosineAnnealingLR(LRSchedule):
    """Cosine decay: lr(e) = eta_min + (base_lr - eta_min) * (1 + cos(pi * e / T_max)) / 2.

    From base_lr at e = 0 to ``eta_min`` (default 0) at e = T_max. Same as torch's
    CosineAnnealingLR for 0 <= e <= T_max (torch computes it recursively; the values agree).
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0):
        self.T_max = int(T_max)
        self.eta_min = float(eta_min)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        # Hint: math.cos of pi * epoch / T_max; at epoch 0 the factor is 1, at T_max it is 0.
        raise NotImplementedError("CosineAnnealingLR.lr_at: not implemented yet")


# ---------------------------------------------------------------------------------------------
# Given helpers (not graded): test problems, a training loop, and pictures.
# ---------------------------------------------------------------------------------------------


def rosenbrock(xy: np.ndarray) -> tuple[float, np.ndarray]:
    """f(x, y) = (1 - x)**2 + 100 (y - x**2)**2 and its gradient; minimum 0 at (1, 1)."""
    x, y = xy
    value = (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2
    gradient = np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])
    return float(value), gradient


def narrow_valley(xy: np.ndarray, condition: float = 50.0) -> tuple[float, np.ndarray]:
    """f(x, y) = (x**2 + condition * y**2) / 2 and its gradient: a narrow valley along x, minimum at 0."""
    scales = np.array([1.0, condition])
    return float(0.5 * np.sum(scales * xy * xy)), scales * xy


#: The optimizers the pictures compare, each with a learning rate that suits the two valleys.
PICTURE_OPTIMIZERS = {
    "SGD": lambda params: SGD(params, lr=1e-3),
    "Momentum": lambda params: Momentum(params, lr=1e-3, momentum=0.9),
    "NAG": lambda params: NAG(params, lr=1e-3, momentum=0.9),
    "Adagrad": lambda params: Adagrad(params, lr=0.5),
    "Adadelta": lambda params: Adadelta(params, lr=10.0),
    "RMSprop": lambda params: RMSprop(params, lr=1e-2),
    "Adam": lambda params: Adam(params, lr=5e-2),
    "AdamW": lambda params: AdamW(params, lr=5e-2, weight_decay=1e-2),
}

#: Where the pictures start: the classic Rosenbrock start and a point up the valley's steep wall.
STARTS = {"rosenbrock": (-1.2, 1.0), "narrow_valley": (-4.0, 0.5)}


def run_optimizer(make_optimizer, loss_and_gradient, start, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Runs ``make_optimizer([xy])`` from ``start`` for ``steps`` steps on a 2-d function.

    Returns ``(path, losses)``: the (steps + 1, 2) points visited and the (steps + 1,) losses there.
    """
    xy = np.array(start, dtype=np.float64)
    optimizer = make_optimizer([xy])
    path, losses = [xy.copy()], [loss_and_gradient(xy)[0]]
    for _ in range(steps):
        optimizer.step([loss_and_gradient(xy)[1]])
        path.append(xy.copy())
        losses.append(loss_and_gradient(xy)[0])
    return np.array(path), np.array(losses)


def _new_figure(width: float, height: float, columns: int = 1):
    from matplotlib.figure import Figure  # lazily: grading never needs matplotlib

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, [figure.add_subplot(1, columns, index + 1) for index in range(columns)]


#: The minimum of each picture problem, marked with a star on the paths.
MINIMA = {"rosenbrock": (1.0, 1.0), "narrow_valley": (0.0, 0.0)}


def plot_paths(steps: int = 300, optimizers=None):
    """Small multiples: one panel per optimizer and problem (rows: the Rosenbrock function, then the
    narrow valley), each the optimizer's path over the problem's contours, from :data:`STARTS`
    (black dot) towards :data:`MINIMA` (star), titled with the optimizer and the loss it reached.
    Returns the matplotlib Figure."""
    from matplotlib.figure import Figure  # lazily: grading never needs matplotlib

    optimizers = PICTURE_OPTIMIZERS if optimizers is None else optimizers
    columns = min(len(optimizers), 4)
    rows = -(-len(optimizers) // columns)
    figure = Figure(figsize=(3.2 * columns, 2.9 * rows * 2 + 0.6), layout="constrained")
    problems = (("rosenbrock", rosenbrock, (-2.0, 2.0), (-1.0, 3.0)),
                ("narrow_valley", narrow_valley, (-5.0, 5.0), (-1.0, 1.0)))
    for subfigure, (name, function, xlim, ylim) in zip(figure.subfigures(2, 1), problems):
        X, Y = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))
        Z = np.vectorize(lambda x, y: function(np.array([x, y]))[0])(X, Y)
        levels = np.logspace(-2, np.log10(Z.max()), 20) if name == "rosenbrock" else 20
        axes = subfigure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
        missing = []
        for index, (axis, (label, make)) in enumerate(zip(axes, optimizers.items())):
            axis.contour(X, Y, Z, levels=levels, colors="lightgray", linewidths=0.6)
            try:
                path, losses = run_optimizer(make, function, STARTS[name], steps)
            except NotImplementedError:
                missing.append(label)
                axis.set_title(f"{label}: not implemented yet", fontsize="small")
            else:
                axis.plot(path[:, 0], path[:, 1], linewidth=1.2, color="tab:blue", label=label)
                axis.set_title(f"{label}: loss {losses[-1]:.2g}", fontsize="small")
            axis.plot(*STARTS[name], "ko", markersize=4)
            axis.plot(*MINIMA[name], marker="*", color="tab:red", markersize=11, linestyle="none")
            axis.set_xlim(*xlim)
            axis.set_ylim(*ylim)
            if index // columns == rows - 1:
                axis.set_xlabel("x")
            if index % columns == 0:
                axis.set_ylabel("y")
        for axis in axes[len(optimizers):]:
            axis.set_visible(False)
        title = f"{name.replace('_', ' ')}: {steps} steps from the black dot; the red star is the minimum"
        subfigure.suptitle(title + (f" (not implemented yet: {', '.join(missing)})" if missing else ""))
    return figure


def plot_loss_curves(problem: str = "rosenbrock", steps: int = 300, optimizers=None):
    """Loss against step for every optimizer on one problem (log scale). Returns the Figure."""
    optimizers = PICTURE_OPTIMIZERS if optimizers is None else optimizers
    function = {"rosenbrock": rosenbrock, "narrow_valley": narrow_valley}[problem]
    figure, (axis,) = _new_figure(6.5, 4.0)
    missing = []
    for label, make in optimizers.items():
        try:
            _, losses = run_optimizer(make, function, STARTS[problem], steps)
        except NotImplementedError:
            missing.append(label)
            continue
        axis.plot(np.arange(steps + 1), np.maximum(losses, 1e-300), label=label)
    axis.set_yscale("log")
    axis.set_xlabel("step")
    axis.set_ylabel("loss")
    title = f"{problem.replace('_', ' ')}: loss per step"
    axis.set_title(title + (f" (not implemented yet: {', '.join(missing)})" if missing else ""))
    if len(missing) < len(optimizers):
        axis.legend(fontsize="small", ncol=2)
    return figure


def schedule_curves(epochs: int = 100, base_lr: float = 0.1) -> dict[str, np.ndarray]:
    """lr per epoch (epochs + 1 values, epoch 0 first) of each schedule, driving a plain SGD."""
    makers = {
        "StepLR(step_size=30)": lambda opt: StepLR(opt, step_size=30),
        "ResNet/CIFAR (x0.1 at 50%, 75%)": lambda opt: resnet_cifar_schedule(opt, epochs),
        "LinearWarmup(10)": lambda opt: LinearWarmup(opt, warmup_epochs=10),
        f"CosineAnnealingLR({epochs})": lambda opt: CosineAnnealingLR(opt, T_max=epochs),
    }
    curves = {}
    for label, make in makers.items():
        optimizer = Optimizer([np.zeros(1)], base_lr)
        schedule = make(optimizer)
        values = [optimizer.lr]
        for _ in range(epochs):
            schedule.step()
            values.append(optimizer.lr)
        curves[label] = np.array(values)
    return curves


def plot_schedules(epochs: int = 100, base_lr: float = 0.1):
    """Draws the learning rate per epoch of every schedule. Returns the Figure."""
    figure, (axis,) = _new_figure(6.5, 4.0)
    try:
        curves = schedule_curves(epochs, base_lr)
    except NotImplementedError:
        axis.set_title("learning-rate schedules: not implemented yet")
        return figure
    for label, values in curves.items():
        axis.plot(np.arange(epochs + 1), values, label=label)
    axis.set_xlabel("epoch")
    axis.set_ylabel("learning rate")
    axis.set_title("learning-rate schedules")
    axis.legend(fontsize="small")
    return figure
