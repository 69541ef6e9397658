"""Unit 4's trusted simulator of torch.optim: every optimizer's update exactly as torch computes it,
or with one classic mistake. Instructor-only (a complete Unit 4 solution in other words): the
student release leaves this package out, and its grader reads the mistakes' trajectories on the
public cases from the public fixtures instead (docs/release.md).

It only explains mismatches (:data:`autograder.units.optimizers.MISTAKE_HINTS`); verdicts compare
with the reference. tests/test_unit_optimizers.py proves that ``simulate(..., mistake=None)``
equals the reference on every trajectory case.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..optimizers import SPEC_BY_PART, OptimizerSpec, Problem


def trajectory_with_mistake(part: str, mistake: str, inputs: Mapping[str, Any], expected) -> np.ndarray:
    """The wrong answer of the known mistake ``mistake`` of optimizer ``part`` on a trajectory case:
    what :class:`autograder.diagnosis.InstructorAnswer` ``("optimizers", "trajectory_with_mistake",
    (part, mistake))`` computes (``expected`` is not needed)."""
    return simulate(SPEC_BY_PART[part], inputs["options"], inputs["problem"], inputs["steps"], mistake,
                    inputs.get("lrs"))



def simulate(spec: OptimizerSpec, options: Mapping[str, Any], problem: Problem, steps: int,
             mistake: str | None = None, lrs=None) -> np.ndarray:
    """The trajectory (steps + 1, n_params) of ``spec``'s optimizer as torch.optim computes it, or
    with one classic ``mistake`` (a key of :data:`autograder.units.optimizers.MISTAKE_HINTS`). Runs in
    the trusted parent, only to explain a mismatch; the verdict itself compares with the reference
    (solutions/). The tests prove that ``simulate(..., mistake=None)`` equals the reference.
    ``lrs`` (steps,): the learning rate of each step, as a schedule sets it (default: constant)."""
    hp = SimpleNamespace(**{**spec.defaults, **options})
    if mistake == "keras_alpha" and "alpha" not in options:
        hp.alpha = 0.9
    params = [np.array(a, dtype=np.float64) for a in problem.start]
    states = [SimpleNamespace(t=0, buf=None, s=np.zeros_like(p), v=np.zeros_like(p), u=np.zeros_like(p),
                              m=np.zeros_like(p), vmax=np.zeros_like(p)) for p in params]
    rows = [np.concatenate([p.ravel() for p in params])]
    with np.errstate(all="ignore"):
        for step in range(steps):
            lr = hp.lr if lrs is None else float(lrs[step])
            lr = lr * lr if mistake == "lr_twice" else lr
            _, grads = problem.loss_and_gradients(params)
            for p, g, state in zip(params, grads, states):
                _simulated_update(spec.part, hp, lr, state, p, g, mistake)
            rows.append(np.concatenate([p.ravel() for p in params]))
    return np.array(rows)


def _simulated_update(part: str, hp, lr: float, s, p: np.ndarray, g: np.ndarray, mistake: str | None) -> None:
    s.t += 1
    decay = getattr(hp, "weight_decay", 0.0) if mistake != "no_weight_decay" else 0.0
    decoupled = part == "adamw" and mistake != "adamw_l2"
    if decay and not decoupled:
        g = g + decay * p
    if part == "sgd":
        p -= lr * g
    elif part in ("momentum", "nag"):
        dampening = getattr(hp, "dampening", 0.0) if mistake != "no_dampening" else 0.0
        nesterov = part == "nag" and mistake != "nesterov_as_momentum"
        # textbook_momentum: lr inside the velocity, w = mu w + lr g (w = lr b while lr is constant)
        scale = lr if mistake == "textbook_momentum" else 1.0
        previous = s.buf if s.buf is not None else np.zeros_like(p)
        if s.buf is None and mistake not in ("buffer_zero", "step_before_buffer"):
            s.buf = scale * g
        else:  # the buffer started at zero: b = mu * 0 + (1 - tau) g at t = 1
            s.buf = hp.momentum * previous + scale * ((1.0 - dampening) * g if part == "momentum" else g)
        if mistake == "step_before_buffer":  # the step taken with the buffer of the step before
            p -= lr * (g + hp.momentum * previous if nesterov else previous)
        elif mistake == "textbook_momentum":
            p -= lr * g + hp.momentum * s.buf if nesterov else s.buf
        else:
            p -= lr * (g + hp.momentum * s.buf if nesterov else s.buf)
    elif part == "adagrad":
        t = s.t if mistake == "lr_decay_t" else s.t - 1
        s.s = s.s + g * g
        root = (np.sqrt(s.s + hp.eps) if mistake == "eps_inside" else s.s + hp.eps if mistake == "no_sqrt"
                else np.sqrt(s.s) + hp.eps)
        p -= lr / (1.0 + t * hp.lr_decay) * g / root
    elif part == "adadelta":
        s.v = hp.rho * s.v + (1.0 - hp.rho) * g * g
        if mistake == "adadelta_eps_outside":
            delta = (np.sqrt(s.u) + hp.eps) / (np.sqrt(s.v) + hp.eps) * g
        else:
            delta = np.sqrt(s.u + hp.eps) / np.sqrt(s.v + hp.eps) * g
        s.u = hp.rho * s.u + (1.0 - hp.rho) * delta * delta
        p -= lr * delta
    elif part == "rmsprop":
        s.v = hp.alpha * s.v + (1.0 - hp.alpha) * g * g
        centered = hp.centered and mistake != "centered_ignored"
        if centered:
            s.m = hp.alpha * s.m + (1.0 - hp.alpha) * g
        mean_square = s.v - s.m * s.m if centered else s.v
        root = (np.sqrt(mean_square + hp.eps) if mistake == "eps_inside" else mean_square + hp.eps
                if mistake == "no_sqrt" else np.sqrt(mean_square) + hp.eps)
        if hp.momentum > 0.0 and mistake != "momentum_ignored":
            s.u = hp.momentum * s.u + g / root
            p -= lr * s.u
        else:
            p -= lr * g / root
    else:  # adam, adamw
        beta1, beta2 = hp.betas
        if decoupled:
            p *= 1.0 - (1.0 if mistake == "adamw_decay_without_lr" else lr) * decay
        s.m = beta1 * s.m + (1.0 - beta1) * g
        s.v = beta2 * s.v + (1.0 - beta2) * g * g
        second = s.v
        if hp.amsgrad and mistake != "amsgrad_ignored":
            s.vmax = np.maximum(s.vmax, s.v)
            second = s.vmax
        correction1, correction2 = (1.0, 1.0) if mistake == "no_bias_correction" else (1 - beta1**s.t, 1 - beta2**s.t)
        if mistake == "eps_inside":
            denominator = np.sqrt(second / correction2 + hp.eps)
        elif mistake == "no_sqrt":
            denominator = second / correction2 + hp.eps
        elif mistake == "eps_before_correction":
            denominator = (np.sqrt(second) + hp.eps) / math.sqrt(correction2)
        else:
            denominator = np.sqrt(second / correction2) + hp.eps
        p -= lr * (s.m / correction1) / denominator
