"""Unit 4 checks: optimizers and learning-rate schedules (최적화 알고리즘), graded part by part.

Every optimizer part (``sgd``, ``momentum``, ``nag``, ``adagrad``, ``adadelta``, ``rmsprop``,
``adam``, ``adamw``) has the same checks, ids ``optimizers.<part>.<aspect>``:

* ``trajectory``: the student's optimizer and the reference run side by side for 200 steps on three
  seeded problems (an ill-conditioned quadratic, the Rosenbrock function, a small softmax regression
  with parameters W (4, 3) and b (3,)); the probe returns the parameter trajectory (201, n_params)
  and the verdict compares it step by step. On a mismatch the feedback names the first diverging
  step, how far that step moved compared with the reference, the first state variable that drifted,
  and a hint when the numbers are exactly those of a classic mistake (simulated here, in the
  trusted parent, by :func:`simulate`);
* ``<option>`` (one check per option: ``weight_decay``, ``dampening``, ``lr_decay``, ``eps`` with a large
  eps so that its place shows, ``centered``, ``momentum``, ``amsgrad``, ``betas``, ...): the same with that
  one argument set and every other at its default, 100 steps; ``lr_schedule`` (Momentum, NAG) sets
  ``optimizer.lr`` before every step, the only way to see that lr stays outside the buffer;
* ``hidden`` and ``hidden_<option>``: the same concepts on hidden problems and values;
* ``in_place``, ``grads_untouched``, ``state_per_parameter``: parameters updated in place (array
  identity kept), gradients untouched, one state object per parameter and a parameter's updates
  independent of the other parameters, each with the defaults (a plain optimizer must pass them);
* ``validation``: bad hyperparameters raise ValueError, good ones do not;
* ``convergence``: the optimizer reaches the minimiser of a convex quadratic within a stated budget.

The ``schedules`` part checks StepLR, MultiStepLR, the ResNet/CIFAR preset, LinearWarmup and
CosineAnnealingLR epoch by epoch, and that a schedule drives an optimizer's ``lr``.

Tolerance: trajectories are compared under ``ITERATIVE`` (rtol 1e-5): 200 steps compound rounding,
and the reference itself differs from torch.optim by ~1e-15 on these problems (tests prove it); each
problem and learning rate was chosen so that the runs are not chaotic (a 1e-12 change of the start
moves no trajectory by more than 1e-10; tests/test_unit_optimizers.py keeps it so). Every classic mistake is off by far more than 1e-5.
Public seeds are below 1000. The hidden checks (seeds from 9000, and their own hyperparameters) are
declared apart, in the package of hidden checks, which the student release leaves out.
docs/unit-optimizers.md lists checks and hints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..checks import Check, Outputs, Verdict, Visibility
from ..diagnosis import InstructorAnswer, KnownMistake
from ..evidence import (
    Case,
    ConvergenceCheck,
    PropertyCheck,
    ReferenceCheck,
    as_number_array,
    case_builder,
    case_rng,
    redrawing,
)
from ..tolerance import DEFAULT, ITERATIVE, compare, element_bounds
from .unit import Unit

MODULE = "optimizers"
TRAJECTORY_STEPS = 200
OPTION_STEPS = 100
STATE_SNAPSHOTS = 3


# ----------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """A seeded differentiable problem. ``start``: the initial parameter arrays; ``kind`` selects the
    function: ``quadratic`` 0.5 x^T A x - c^T x, ``rosenbrock``, or ``softmax`` regression on (X, Y)."""

    label: str
    kind: str
    start: tuple[np.ndarray, ...]
    A: np.ndarray | None = None
    c: np.ndarray | None = None
    X: np.ndarray | None = None
    Y: np.ndarray | None = None

    def loss_and_gradients(self, params: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        if self.kind == "quadratic":
            (x,) = params
            Ax = self.A @ x
            return float(0.5 * x @ Ax - self.c @ x), [Ax - self.c]
        if self.kind == "rosenbrock":
            (xy,) = params
            x, y = xy
            value = (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2
            return float(value), [np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])]
        W, b = params
        Z = self.X @ W + b
        Z = Z - Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        N = self.X.shape[0]
        value = -float(np.sum(self.Y * np.log(P))) / N
        dZ = (P - self.Y) / N
        return value, [self.X.T @ dZ, dZ.sum(axis=0)]

    def optimum(self) -> np.ndarray:
        """The minimiser of a quadratic, solved by the trusted grader."""
        return np.linalg.solve(self.A, self.c)


@case_builder
def quadratic(seed: int, condition: float, dim: int = 2) -> Problem:
    """0.5 x^T A x - c^T x with A = Q diag(1 .. condition) Q^T (a rotated narrow valley)."""
    rng = case_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    A = Q @ np.diag(np.geomspace(1.0, condition, dim)) @ Q.T
    return Problem(f"quadratic (condition {condition:g}, seed {seed})", "quadratic",
                   (rng.uniform(-3.0, 3.0, dim),), A=A, c=rng.standard_normal(dim))


@case_builder
def rosenbrock(seed: int | None) -> Problem:
    if seed is None and not redrawing():  # the classic start; fresh inputs (evidence/fresh.py) draw one
        start = np.array([-1.2, 1.0])
    else:
        start = case_rng(0 if seed is None else seed).uniform([-1.5, 0.5], [-0.8, 1.5])
    return Problem("Rosenbrock from (%.3g, %.3g)" % tuple(start), "rosenbrock", (start,))


@case_builder
def softmax_regression(seed: int, n: int = 32, d: int = 4, k: int = 3) -> Problem:
    rng = case_rng(seed)
    X = rng.standard_normal((n, d))
    labels = np.argmax(X @ rng.standard_normal((d, k)) + 0.5 * rng.standard_normal((n, k)), axis=1)
    return Problem(f"softmax regression W ({d}, {k}), b ({k},), seed {seed}", "softmax",
                   (0.5 * rng.standard_normal((d, k)), 0.1 * rng.standard_normal(k)), X=X, Y=np.eye(k)[labels])


# ----------------------------------------------------------------------------- the optimizers graded


@dataclass(frozen=True)
class Option:
    """One option or convention of an optimizer, graded alone by ``optimizers.<part>.<aspect>`` (and
    ``optimizers.<part>.hidden_<aspect>``): ``options`` sets that one argument (every other argument
    keeps its default), so a mistake in another option never costs this check's points.

    ``schedule``: the learning rate changes between steps (``optimizer.lr`` is set before each step,
    as a schedule does), the only way to see *where* lr enters a momentum buffer."""

    aspect: str
    options: Mapping[str, Any]
    what: str
    schedule: bool = False


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer part: the class name, torch's defaults, the learning rate per problem kind
    (chosen so the 200-step runs stay smooth), its options (one check each), and its mistakes."""

    part: str
    class_name: str
    defaults: Mapping[str, Any]
    lr: Mapping[str, float]
    options: tuple[Option, ...]
    invalid: tuple[tuple[Mapping[str, Any], str], ...]
    convergence_options: Mapping[str, Any]
    convergence_steps: int
    mistakes: tuple[str, ...]
    #: how close (max norm) the budget must bring the parameters to the minimiser
    convergence_distance: float = 1e-6


_NEGATIVE_LR = ({"lr": -0.01}, "a negative learning rate")
_NEGATIVE_DECAY = ({"weight_decay": -0.1}, "a negative weight_decay")


def _decay(value: float = 0.1) -> Option:
    return Option("weight_decay", {"weight_decay": value}, f"weight_decay={value} (L2 term added to the gradient)")


def _eps(value: float) -> Option:
    return Option("eps", {"eps": value}, f"a large eps={value}, so that its place (outside the square root) shows")


_SCHEDULE = Option("lr_schedule", {}, "a learning rate changed before every step (a schedule): torch keeps lr "
                                      "outside the momentum buffer", schedule=True)

SPECS = (
    OptimizerSpec("sgd", "SGD", {"weight_decay": 0.0},
                  {"quadratic": 0.05, "rosenbrock": 5e-4, "softmax": 0.5},
                  (_decay(),),
                  (_NEGATIVE_LR, _NEGATIVE_DECAY), {"lr": 0.1}, 300, ("lr_twice", "no_weight_decay")),
    OptimizerSpec("momentum", "Momentum", {"momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
                  {"quadratic": 0.01, "rosenbrock": 2e-4, "softmax": 0.1},
                  (Option("momentum", {"momentum": 0.6}, "momentum=0.6 (not the default)"),
                   Option("dampening", {"dampening": 0.5}, "dampening=0.5"), _decay(), _SCHEDULE),
                  (_NEGATIVE_LR, ({"momentum": -0.5}, "a negative momentum"), _NEGATIVE_DECAY), {"lr": 0.05}, 300,
                  ("lr_twice", "buffer_zero", "no_weight_decay", "no_dampening", "step_before_buffer",
                   "textbook_momentum")),
    OptimizerSpec("nag", "NAG", {"momentum": 0.9, "weight_decay": 0.0},
                  {"quadratic": 0.01, "rosenbrock": 2e-4, "softmax": 0.1},
                  (Option("momentum", {"momentum": 0.6}, "momentum=0.6 (not the default)"), _decay(), _SCHEDULE),
                  (_NEGATIVE_LR, ({"momentum": 0.0}, "Nesterov with momentum=0"), _NEGATIVE_DECAY), {"lr": 0.05}, 300,
                  ("lr_twice", "nesterov_as_momentum", "no_weight_decay", "step_before_buffer", "textbook_momentum")),
    OptimizerSpec("adagrad", "Adagrad", {"lr_decay": 0.0, "weight_decay": 0.0, "eps": 1e-10},
                  {"quadratic": 0.3, "rosenbrock": 0.1, "softmax": 0.3},
                  (Option("lr_decay", {"lr_decay": 0.05}, "lr_decay=0.05"), _eps(0.5), _decay()),
                  (_NEGATIVE_LR, ({"eps": -1e-10}, "a negative eps"), ({"lr_decay": -0.1}, "a negative lr_decay")),
                  {"lr": 1.0}, 300, ("lr_twice", "eps_inside", "no_sqrt", "lr_decay_t", "no_weight_decay")),
    OptimizerSpec("adadelta", "Adadelta", {"rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
                  {"quadratic": 1.0, "rosenbrock": 1.0, "softmax": 1.0},
                  (Option("lr", {"lr": 0.5}, "lr=0.5 (the paper has no learning rate; torch's default is 1.0)"),
                   Option("rho", {"rho": 0.8}, "rho=0.8 (not the default)"), _eps(1e-3), _decay()),
                  (_NEGATIVE_LR, ({"rho": 1.5}, "rho outside [0, 1]"), _NEGATIVE_DECAY), {"lr": 1.0}, 800,
                  ("lr_twice", "adadelta_eps_outside", "no_weight_decay"), 5e-2),
    OptimizerSpec("rmsprop", "RMSprop", {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": False},
                  {"quadratic": 0.01, "rosenbrock": 1e-2, "softmax": 0.01},
                  (Option("alpha", {"alpha": 0.9, "lr": 0.002}, "alpha=0.9 (not the default; a smaller lr keeps the run "
                                                                     "smooth)"), _eps(0.5),
                   Option("momentum", {"momentum": 0.5}, "momentum=0.5 (a buffer of g / d)"),
                   Option("centered", {"centered": True}, "centered=True"), _decay()),
                  (_NEGATIVE_LR, ({"alpha": 1.0}, "alpha outside [0, 1)"), ({"momentum": -0.9}, "a negative momentum")),
                  {"lr": 0.01}, 500,
                  ("lr_twice", "eps_inside", "no_sqrt", "keras_alpha", "centered_ignored", "momentum_ignored",
                   "no_weight_decay"), 1e-2),
    OptimizerSpec("adam", "Adam", {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
                  {"quadratic": 0.05, "rosenbrock": 2e-2, "softmax": 0.05},
                  (Option("betas", {"betas": (0.8, 0.99)}, "betas=(0.8, 0.99) (not the default)"), _eps(0.5),
                   Option("amsgrad", {"amsgrad": True}, "amsgrad=True"), _decay()),
                  (_NEGATIVE_LR, ({"betas": (1.0, 0.999)}, "beta1 = 1, outside [0, 1)"),
                   ({"betas": (0.9, -0.1)}, "beta2 < 0, outside [0, 1)"), ({"eps": -1e-8}, "a negative eps")),
                  {"lr": 0.05}, 500,
                  ("lr_twice", "no_bias_correction", "eps_inside", "no_sqrt", "eps_before_correction",
                   "amsgrad_ignored", "no_weight_decay")),
    OptimizerSpec("adamw", "AdamW", {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False},
                  {"quadratic": 0.05, "rosenbrock": 2e-2, "softmax": 0.05},
                  (Option("betas", {"betas": (0.8, 0.99)}, "betas=(0.8, 0.99) (not the default)"), _eps(0.5),
                   Option("amsgrad", {"amsgrad": True}, "amsgrad=True"),
                   Option("weight_decay", {"weight_decay": 0.5}, "weight_decay=0.5 (decoupled)")),
                  (_NEGATIVE_LR, ({"betas": (0.9, 1.0)}, "beta2 = 1, outside [0, 1)"), _NEGATIVE_DECAY),
                  {"lr": 0.05, "weight_decay": 0.0}, 500,
                  ("lr_twice", "no_bias_correction", "eps_inside", "no_sqrt", "amsgrad_ignored", "adamw_l2",
                   "adamw_decay_without_lr")),
)
SPEC_BY_PART = {spec.part: spec for spec in SPECS}


#: The classic mistakes, each recognised by simulating it exactly (hints never quote inputs).
MISTAKE_HINTS = {
    "lr_twice": "the learning rate is applied twice (the step uses lr**2): multiply by lr exactly once.",
    "no_weight_decay": "weight_decay is ignored: add weight_decay * p to the gradient before the update.",
    "buffer_zero": "your first momentum buffer is (1 - dampening) * g, which is what a buffer that starts at "
                   "zero gives (or dampening applied at t = 1); torch starts it at the first gradient itself "
                   "(b = g at t = 1, no dampening), so with dampening your first step is too short.",
    "no_dampening": "dampening is ignored: after the first step, b <- momentum * b + (1 - dampening) * g.",
    "nesterov_as_momentum": "this is plain momentum (p -= lr * b); Nesterov steps along the look-ahead "
                            "g + momentum * b.",
    "eps_inside": "eps is inside the square root; torch adds it outside: sqrt(...) + eps.",
    "adadelta_eps_outside": "Adadelta adds eps inside both square roots: sqrt(u + eps) / sqrt(v + eps) * g; "
                            "with eps outside, u = 0 makes the first steps almost zero.",
    "lr_decay_t": "lr_decay uses t instead of t - 1: the first step must use the full lr, "
                  "lr / (1 + (t - 1) * lr_decay).",
    "keras_alpha": "the smoothing constant is 0.9 (Keras' rho); torch's RMSprop defaults to alpha = 0.99.",
    "centered_ignored": "centered=True is ignored: keep the running mean m of g and divide by "
                        "sqrt(v - m**2) + eps.",
    "no_bias_correction": "bias correction missing: divide m by (1 - beta1**t) and v by (1 - beta2**t) "
                          "(t = 1 at the first step); without it the first steps have the wrong size.",
    "eps_before_correction": "eps is added before the bias correction of v (TensorFlow's \"epsilon hat\"); "
                             "torch divides v by (1 - beta2**t) first: sqrt(v_hat) + eps.",
    "momentum_ignored": "momentum is ignored: with momentum > 0, keep a buffer b <- momentum * b + g / d "
                        "(b starts at 0) and step p <- p - lr * b.",
    "amsgrad_ignored": "amsgrad=True is ignored: keep v_max = max(v_max, v) and use it in place of v.",
    "adamw_l2": "the weight decay is added to the gradient (Adam's L2 penalty); AdamW decouples it: "
                "p <- p * (1 - lr * weight_decay) before the Adam step, with the plain gradient.",
    "adamw_decay_without_lr": "the decoupled decay forgets the learning rate: p <- p * (1 - lr * weight_decay).",
    "step_before_buffer": "the step uses last step's momentum buffer: update the buffer first "
                          "(b <- momentum * b + g), then step with the new b; as written, the first step "
                          "does not move at all.",
    "textbook_momentum": "lr is inside the momentum buffer (v <- momentum * v + lr * g, the CS231n / Sutskever "
                         "form): that equals torch's steps only while lr is constant; once a schedule changes "
                         "lr they differ. Keep lr outside the buffer: b <- momentum * b + g, then p <- p - lr * b.",
    "no_sqrt": "the denominator has no square root: divide by sqrt(v) + eps, where v accumulates g**2 "
               "(Adagrad's sum, the running average of RMSprop and Adam), not by v + eps.",
}

BIAS_T0_HINT = (
    "step 1 already gives inf or NaN: the bias correction divides by 1 - beta**t, which is 0 at t = 0; "
    "count the step (t += 1) before using it, so t = 1 at the first step."
)
NOT_MOVED_HINT = (
    "the parameters never changed: update each array in place (p -= ..., or p[...] = ...); "
    "`p = p - ...` or `self.params[i] = ...` makes a new array the caller never sees."
)


def _mistakes_for(spec: OptimizerSpec) -> tuple[KnownMistake, ...]:
    """The classic mistakes of ``spec``'s part, keyed by their name. Their wrong answers come from the
    instructor-only simulator (``units/instructor/optimizers.py``), or in a student release from the
    public fixtures, where ``autograder release`` precomputed them for every public case."""
    return tuple(
        KnownMistake("trajectory", MISTAKE_HINTS[m],
                     InstructorAnswer("optimizers", "trajectory_with_mistake", (spec.part, m)), key=m)
        for m in spec.mistakes
    )


# ----------------------------------------------------------------------------- trajectories (probe side)


def _new_optimizer(impl, spec: OptimizerSpec, params, options):
    return impl.function(MODULE, spec.class_name)(params, **options)


def _state_fields(state) -> dict[str, np.ndarray]:
    """The numeric fields of one per-parameter state object (a dataclass of the given file)."""
    fields = {}
    for name, value in getattr(state, "__dict__", {}).items():
        if isinstance(value, (bool, np.bool_)) or value is None:
            continue
        if isinstance(value, (int, float, np.integer, np.floating)) or (
            isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number)
        ):
            # a copy: an in-place update (state.sum += g * g) must not rewrite the earlier snapshots
            fields[name] = np.array(value, dtype=np.float64).ravel()
    return fields


def _trajectory_call(spec: OptimizerSpec):
    def call(impl, x):
        problem: Problem = x["problem"]
        params = [np.array(a, dtype=np.float64) for a in problem.start]
        optimizer = _new_optimizer(impl, spec, params, x["options"])
        rows = [np.concatenate([p.ravel() for p in params])]
        snapshots: dict[str, list[np.ndarray]] = {}
        lrs = x.get("lrs")  # a schedule: the lr of every step, set the way a schedule sets it
        with np.errstate(all="ignore"):
            for step in range(x["steps"]):
                _, grads = problem.loss_and_gradients(params)
                if lrs is not None:
                    optimizer.lr = float(lrs[step])
                optimizer.step(grads)
                rows.append(np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in params]))
                state = getattr(optimizer, "state", None)
                if step < STATE_SNAPSHOTS and isinstance(state, (list, tuple)) and state:
                    for name, value in _state_fields(state[0]).items():
                        snapshots.setdefault(name, []).append(value)
        outputs = {"trajectory": np.array(rows)}
        for name, values in snapshots.items():
            if len(values) == STATE_SNAPSHOTS and len({v.shape for v in values}) == 1:
                outputs[f"state.{name}"] = np.array(values)
        return outputs

    return call


class TrajectoryCheck(ReferenceCheck):
    """The trajectory of every case must match the reference's step by step under ``ITERATIVE``.

    Only ``trajectory`` decides; the ``state.*`` snapshots (the first parameter's state after steps
    1..3) only say which state variable drifted first.
    """

    def __init__(self, id: str, *, spec: OptimizerSpec, cases: list[Case], **common):
        super().__init__(id, call=_trajectory_call(spec), cases=cases, known_mistakes=_mistakes_for(spec),
                         tolerance=ITERATIVE, **common)
        self.spec = spec

    def judge(self, student: Outputs, reference: Outputs | None) -> Verdict:
        assert reference is not None
        for index, case in enumerate(self.cases):
            key = f"{index}/trajectory"
            received = student.get(key)
            if received is None:
                return Verdict(False, "the trajectory was not recorded")
            comparison = compare(received, reference[key], ITERATIVE)
            if not comparison.matches:
                return self._explain(index, case, np.asarray(received, dtype=np.float64),
                                     np.asarray(reference[key], dtype=np.float64), student, reference)
        return Verdict.ok()

    def _explain(self, index, case: Case, received, expected, student, reference) -> Verdict:
        public = self.visibility is Visibility.PUBLIC
        where = f" ({case.label})" if public else ""
        if received.shape != expected.shape:
            return Verdict(False, f"the trajectory has shape {received.shape}, expected {expected.shape}{where}",
                           "step must keep every parameter's shape.")
        bad = ~np.isfinite(received) | (np.abs(received - expected) > element_bounds(expected, ITERATIVE))
        first = int(np.argmax(bad.any(axis=1)))
        message = f"the parameters differ from the reference from step {first} on{where}"
        hint = self._hint(index, case, received, expected, first)
        details = []
        if public:
            moved = np.linalg.norm(received[first] - received[first - 1]) if first else 0.0
            wanted = np.linalg.norm(expected[first] - expected[first - 1]) if first else 0.0
            if first and wanted > 0 and moved == 0:
                details.append(f"step {first} did not move the parameters at all (the reference's step did)")
            elif first and wanted > 0 and np.isfinite(moved):
                details.append(f"step {first} moved {moved / wanted:.3g} times as far as the reference's step")
            column = int(np.argmax(bad[first]))
            details.append(f"at step {first}, entry {column} of the flattened parameters: expected {expected[first, column]:.6g}, "
                           f"got {received[first, column]:.6g}")
            drift = self._state_drift(index, first, student, reference)
            details.extend([drift] if drift else [])
        return Verdict(False, message, hint, tuple(details))

    def _hint(self, index: int, case: Case, received, expected, first: int) -> str | None:
        if np.all(received == received[0]):
            return NOT_MOVED_HINT
        if self.spec.part in ("adam", "adamw") and not np.all(np.isfinite(received[1])):
            return BIAS_T0_HINT
        for mistake in self.known_mistakes:
            try:
                wrong = mistake.wrong(case.inputs, expected, site=(self.id, index))
            except (ValueError, IndexError, TypeError):
                continue
            if wrong is not None and same_run(received, np.asarray(wrong, dtype=np.float64), first):
                return mistake.hint
        if not np.all(np.isfinite(received)):
            return "the parameters became inf or NaN: look for a division by zero or a square root of a negative number."
        return None

    @staticmethod
    def _state_drift(index: int, first: int, student, reference) -> str | None:
        """Which state variable of the first parameter drifted by step ``first`` (the first step whose
        parameters differ); later drifts only echo the different parameters, so they are not named."""
        if not 1 <= first <= STATE_SNAPSHOTS:
            return None
        prefix = f"{index}/state."
        names = [key[len(prefix):] for key in reference if key.startswith(prefix)]
        for step in range(first):
            for name in names:
                got = student.get(prefix + name)
                want = np.asarray(reference[prefix + name])
                if got is None or np.shape(got) != want.shape:
                    continue
                if not compare(np.asarray(got)[step], want[step], ITERATIVE).matches:
                    return f"the first state variable to drift: state.{name}, after step {step + 1}"
        return (f"the state (first parameter) still agrees after step {first}: the update formula "
                "itself differs, not the running averages")


def same_run(received: np.ndarray, wrong: np.ndarray, first: int) -> bool:
    """Whether the trajectory ``received`` is the simulated mistake's ``wrong`` (both (steps + 1,
    n_params)): equal under ``ITERATIVE`` on every step where both are finite, which must include the
    first step ``first`` that differs from the reference. A mistake that blows up (a missing square
    root) is recognised too: the two runs must turn inf/NaN at about the same step (rounding may
    move the overflow by a step or two), and agree before."""
    if wrong.shape != received.shape or received.ndim != 2:
        return False
    ends = []
    for run in (received, wrong):
        bad = ~np.isfinite(run).all(axis=1)
        ends.append(int(np.argmax(bad)) if bad.any() else len(run))
    end = min(ends)
    if abs(ends[0] - ends[1]) > 2 or end <= first:
        return False
    return compare(received[:end], wrong[:end], ITERATIVE).matches


@case_builder
def _trajectory_case(spec: OptimizerSpec, problem: Problem, options: Mapping[str, Any], steps: int,
                     lr_factors: np.ndarray | None = None, schedule_label: str = "") -> Case:
    """A trajectory case; with ``lr_factors`` (steps,), ``optimizer.lr`` is set to lr * lr_factors[t]
    before step t + 1, as a schedule would."""
    options = {"lr": spec.lr[problem.kind], **options}
    shown = ", ".join(f"{k}={v}" for k, v in options.items())
    inputs = {"problem": problem, "options": options, "steps": steps}
    if lr_factors is not None:
        inputs["lrs"] = options["lr"] * np.asarray(lr_factors, dtype=np.float64)
    return Case(f"{problem.label}, {spec.class_name}({shown}){schedule_label}, {steps} steps", inputs)


def public_lr_factors(steps: int) -> np.ndarray:
    """The public schedule: a 5-step linear warmup, then lr x 0.5 every 20 steps."""
    t = np.arange(steps)
    return np.minimum(1.0, (t + 1) / 5.0) * 0.5 ** (t // 20)


PUBLIC_SCHEDULE_LABEL = ", lr warmed up over 5 steps then halved every 20 steps"


def option_cases(spec: OptimizerSpec, option: Option, problems, steps: int, lr_factors, schedule_label: str):
    """The cases of one option's check: ``option.options`` on each problem (a schedule if it needs one)."""
    return [_trajectory_case(spec, problem, option.options, steps,
                             lr_factors(steps) if option.schedule else None,
                             schedule_label if option.schedule else "")
            for problem in problems]


def _public_problems() -> list[Problem]:
    return [quadratic(400, 25.0), rosenbrock(None), softmax_regression(401)]


# ----------------------------------------------------------------------------- contract (properties)


def _contract_case(spec: OptimizerSpec) -> Case:
    """Three steps on parameters of shapes (3, 2), (2,), (2,) with the optimizer's defaults (lr 0.1):
    the contract must hold for a plain optimizer, whatever its options do. The gradients check adds
    weight_decay=0.1 (where a `g += weight_decay * p` would show) when the constructor accepts it."""
    rng = np.random.default_rng(500)
    shapes = [(3, 2), (2,), (2,)]  # two parameters of one shape: shared state shows up between them
    options = {"lr": 0.1}
    return Case(
        f"{spec.class_name}(lr=0.1), parameters of shapes {shapes}",
        {"start": [rng.standard_normal(s) for s in shapes],
         "grads": [[rng.standard_normal(s) for s in shapes] for _ in range(3)],
         "options": options},
    )


def _run_in_place(spec: OptimizerSpec):
    def run(impl, x):
        # Only the two parameters of one shape: shared state (the state check's concern) cannot crash here.
        params = [p.copy() for p in x["start"][1:]]
        originals = list(params)
        optimizer = _new_optimizer(impl, spec, params, x["options"])
        with np.errstate(all="ignore"):
            for grads in x["grads"]:
                optimizer.step([g.copy() for g in grads[1:]])
        facts: dict[str, Any] = {"same_arrays": all(a is b for a, b in zip(params, originals))}
        for i, p in enumerate(originals):  # the caller's arrays: what a model would see
            facts[f"param/{i}"] = as_number_array(p, f"parameter {i}")
        return facts

    return run


def _assess_in_place(spec: OptimizerSpec):
    def assess(facts, inputs) -> Verdict:
        starts = inputs["start"][1:]
        moved = [facts.get(f"param/{i}") for i in range(len(starts))]
        if not facts.get("same_arrays") or any(p is None or np.array_equal(p, start)
                                                for p, start in zip(moved, starts)):
            return Verdict(False, f"{spec.class_name}.step did not update every parameter array in place",
                           NOT_MOVED_HINT)
        return Verdict.ok()

    return assess


def _run_grads_untouched(spec: OptimizerSpec):
    def run(impl, x):
        facts: dict[str, Any] = {"configs": 0}
        configs = [dict(x["options"]), {**x["options"], "weight_decay": 0.1}]
        for c, options in enumerate(configs):
            params = [p.copy() for p in x["start"]]
            try:
                optimizer = _new_optimizer(impl, spec, params, options)
            except TypeError:
                if c == 0:
                    raise
                break  # weight_decay not accepted: graded by the weight_decay check, not here
            with np.errstate(all="ignore"):
                for step, grads in enumerate(x["grads"]):
                    optimizer.step(grads)
                    for i, g in enumerate(grads):
                        facts[f"grads_after/{c}/{step}/{i}"] = g
            facts["configs"] = c + 1
        return facts

    return run


def _assess_grads_untouched(spec: OptimizerSpec):
    def assess(facts, inputs) -> Verdict:
        configs = int(facts.get("configs", 0))
        if configs < 1:
            return Verdict(False, "the gradients probe did not finish")
        for c in range(configs):
            for step, grads in enumerate(inputs["grads"]):
                for i, g in enumerate(grads):
                    after = facts.get(f"grads_after/{c}/{step}/{i}")
                    if after is None or not np.array_equal(after, g):
                        return Verdict(False, f"{spec.class_name}.step changed the gradient array grads[{i}]",
                                       "never modify grads: build a new array (g = g + weight_decay * p) "
                                       "instead of g += ... ; the caller may still need the gradients.")
        return Verdict.ok()

    return assess


def _run_state(spec: OptimizerSpec):
    def run(impl, x):
        params = [p.copy() for p in x["start"]]
        optimizer = _new_optimizer(impl, spec, params, x["options"])
        facts: dict[str, Any] = {}
        # The state's structure first: shared state often makes step itself crash on mixed shapes.
        state = getattr(optimizer, "state", None)
        if isinstance(state, (list, tuple)):
            facts["state_count"] = len(state)
            facts["distinct_states"] = len({id(s) for s in state})
            arrays = [id(v) for s in state for v in getattr(s, "__dict__", {}).values() if isinstance(v, np.ndarray)]
            facts["shared_arrays"] = len(arrays) - len(set(arrays))
            if facts["distinct_states"] != len(state) or facts["shared_arrays"]:
                return facts
        with np.errstate(all="ignore"):
            for grads in x["grads"]:
                optimizer.step([g.copy() for g in grads])
            alone = [x["start"][2].copy()]
            lone = _new_optimizer(impl, spec, alone, x["options"])
            for grads in x["grads"]:
                lone.step([grads[2].copy()])
        facts["param/2"] = as_number_array(params[2], "parameter 2")
        facts["alone"] = as_number_array(alone[0], "parameter")
        return facts

    return run


def _assess_state(spec: OptimizerSpec):
    name = spec.class_name

    def assess(facts, inputs) -> Verdict:
        count, distinct = facts.get("state_count"), facts.get("distinct_states")
        stateless_ok = spec.part == "sgd" and count == 0  # plain SGD needs no state
        if count is not None and not stateless_ok and (count != len(inputs["start"]) or distinct != count or facts.get("shared_arrays")):
            return Verdict(False, f"{name}.state does not hold one separate state per parameter",
                           "state is shared between parameters: build one new state object (with its own "
                           "arrays) per parameter, e.g. [AdamState(...) for p in params], not [state] * n.")
        if not _allclose(facts.get("param/2"), facts.get("alone")):
            return Verdict(False, f"{name}: a parameter's updates depend on the other parameters",
                           "state is shared between parameters (or kept at class or module level): each "
                           "parameter's update may use only its own gradient and its own state.")
        return Verdict.ok()

    return assess


def _allclose(received, expected) -> bool:
    return received is not None and expected is not None and compare(received, expected, DEFAULT).matches


# ----------------------------------------------------------------------------- validation


def _validation_case(spec: OptimizerSpec) -> Case:
    return Case(spec.class_name, {"invalid": [dict(kw) for kw, _ in spec.invalid], "valid": {"lr": 0.01}})


def _run_validation(spec: OptimizerSpec):
    def run(impl, x):
        cls = impl.function(MODULE, spec.class_name)
        codes = []
        for options in [x["valid"], *x["invalid"]]:
            try:
                cls([np.zeros(2)], **{"lr": 0.01, **options})
                codes.append(0)
            except ValueError:
                codes.append(1)
            except NotImplementedError:
                raise
            except Exception:
                codes.append(2)
        return {"codes": np.array(codes)}

    return run


def _assess_validation(spec: OptimizerSpec):
    def assess(facts, inputs) -> Verdict:
        codes = [int(c) for c in np.asarray(facts.get("codes", ())).ravel()]
        if len(codes) != 1 + len(spec.invalid):
            return Verdict(False, "the validation probe did not finish")
        if codes[0] != 0:
            return Verdict(False, f"{spec.class_name}({inputs['valid']}) was refused, but these are valid "
                                  "hyperparameters", "raise ValueError only for values outside their range.")
        for code, (options, what) in zip(codes[1:], spec.invalid):
            if code != 1:
                got = "was accepted" if code == 0 else "raised something other than ValueError"
                return Verdict(False, f"{spec.class_name}({', '.join(f'{k}={v}' for k, v in options.items())}) {got}",
                               f"{what} must raise ValueError in __init__, with a message naming the argument.")
        return Verdict.ok()

    return assess


# ----------------------------------------------------------------------------- convergence


#: A convex problem with a known minimiser. Most optimizers must get within 1e-6 of it; RMSprop and
#: Adadelta with a constant lr keep taking steps of about lr-size around it (their denominators shrink
#: with the gradient), so their budgets ask for 1e-2 and 5e-2. AdamW runs with weight_decay=0 here:
#: the decoupled decay moves its fixed point away from the minimiser (the trajectories test the decay).
CONVERGENCE_PROBLEM = quadratic(600, 10.0, dim=3)


def _convergence_case(spec: OptimizerSpec) -> Case:
    shown = ", ".join(f"{k}={v}" for k, v in spec.convergence_options.items())
    return Case(f"3-d quadratic (condition 10), {spec.class_name}({shown}), {spec.convergence_steps} steps",
                {"problem": CONVERGENCE_PROBLEM, "options": dict(spec.convergence_options),
                 "steps": spec.convergence_steps, "distance": spec.convergence_distance})


def _run_convergence(spec: OptimizerSpec):
    def run(impl, x):
        problem: Problem = x["problem"]
        params = [np.array(a, dtype=np.float64) for a in problem.start]
        optimizer = _new_optimizer(impl, spec, params, x["options"])
        losses = []
        with np.errstate(all="ignore"):
            for _ in range(x["steps"]):
                loss, grads = problem.loss_and_gradients(params)
                losses.append(loss)
                optimizer.step(grads)
        return {"losses": np.array(losses), "x": as_number_array(params[0], "parameter")}

    return run


def _assess_convergence(spec: OptimizerSpec):
    def assess(facts, inputs) -> Verdict:
        optimum = inputs["problem"].optimum()
        x = np.asarray(facts.get("x"), dtype=np.float64)
        if x.shape != optimum.shape or not np.all(np.isfinite(x)):
            return Verdict(False, "the parameters became inf or NaN",
                           "look for a division by zero or a square root of a negative number.")
        distance = float(np.max(np.abs(x - optimum)))
        if distance <= inputs["distance"]:
            return Verdict.ok()
        hint = _convergence_hint(np.asarray(facts.get("losses", ()), dtype=np.float64))
        return Verdict(False, f"after {inputs['steps']} steps the parameters are {distance:.3g} from the minimum "
                              f"(at most {inputs['distance']:g} is expected)", hint)

    return assess


def _convergence_hint(losses: np.ndarray) -> str | None:
    """What the loss curve (the loss before each step) shows, and nothing it does not: a wrong sign
    makes every early step go uphill on a convex quadratic, so only a curve that rises from the very
    first steps is blamed on the sign; a curve that rises later (steps that grow too long, a stale
    momentum buffer, a missing square root) is sent to the trajectory checks, which name the step."""
    if losses.size < 3 or not np.all(np.isfinite(losses)):
        return None
    if np.allclose(losses, losses[0]):
        return "the loss never changes: are the parameters updated in place?"
    if losses[-1] > losses[0]:
        if losses[1] > losses[0] and losses[2] > losses[1]:
            return "the loss grows from the very first step: check the sign of the update."
        return ("the loss grows, but not from the first step, so the sign of the update looks right: the steps "
                "become too long later on; the trajectory checks of this optimizer name the first step that differs.")
    return ("the loss goes down, but too slowly: compare your update with the formula in the docstring; the "
            "trajectory checks of this optimizer name the first step that differs.")


# ----------------------------------------------------------------------------- schedules


class _LearningRateHolder:
    """What a schedule drives: anything with an ``lr`` attribute (an optimizer)."""

    def __init__(self, lr: float):
        self.lr = lr


@case_builder
def _schedule_case(label: str, make: str, kwargs: Mapping[str, Any], base_lr: float, epochs: int) -> Case:
    if redrawing():  # all settings: fresh inputs (evidence/fresh.py) draw another base learning rate
        base_lr = float(base_lr * case_rng(epochs).uniform(0.3, 3.0))
    return Case(label, {"make": make, "kwargs": dict(kwargs), "base_lr": base_lr, "epochs": epochs})


def _call_schedule(impl, x):
    holder = _LearningRateHolder(x["base_lr"])
    schedule = impl.function(MODULE, x["make"])(holder, **x["kwargs"])
    values = [holder.lr]
    for _ in range(x["epochs"]):
        schedule.step()
        values.append(holder.lr)
    return {"lr": as_number_array(np.array(values, dtype=np.float64), "lr")}


SCHEDULE_MISTAKES = (
    KnownMistake(
        "lr", "the schedule is one epoch off: a boundary at epoch m applies from epoch m on "
              "(lr_at(m) already has the new value; lr_at(0) is the start).",
        explains=lambda received, expected, inputs: received.shape == expected.shape and (
            np.allclose(received[1:], expected[:-1], rtol=1e-9) or np.allclose(received[:-1], expected[1:], rtol=1e-9)),
    ),
    KnownMistake(
        "lr", "the schedule never changes the learning rate: step() must set optimizer.lr = lr_at(epoch).",
        explains=lambda received, expected, inputs: received.size > 1 and np.all(received == received[0]),
    ),
)


def _run_schedule_drives(impl, x):
    params = [np.zeros(2)]
    optimizer = impl.function(MODULE, "SGD")(params, lr=x["base_lr"])
    schedule = impl.function(MODULE, "StepLR")(optimizer, step_size=2, gamma=0.5)
    positions = [params[0].copy()]
    for _ in range(x["epochs"]):
        optimizer.step([np.ones(2)])
        schedule.step()
        positions.append(params[0].copy())
    return {"positions": np.array(positions), "lr": float(optimizer.lr)}


def _assess_schedule_drives(facts, inputs) -> Verdict:
    base, epochs = inputs["base_lr"], inputs["epochs"]
    lrs = [base * 0.5 ** (e // 2) for e in range(epochs)]
    expected = -np.concatenate([[0.0], np.cumsum(lrs)])[:, None] * np.ones(2)
    if not compare(facts.get("positions"), expected).matches:
        return Verdict(False, "StepLR did not drive SGD: the steps did not use the scheduled learning rates",
                       "a schedule sets optimizer.lr; the optimizer must read self.lr at every step.")
    return Verdict.ok()


# ----------------------------------------------------------------------------- the unit


def dependencies(spec: OptimizerSpec) -> tuple[str, ...]:
    """Parts whose code the checks of ``spec`` also run: AdamW is built on the student's Adam."""
    return ("optimizers.adam",) if spec.part == "adamw" else ()


OPTION_PROBLEMS = (quadratic(402, 25.0), softmax_regression(403))


def _optimizer_checks(spec: OptimizerSpec) -> tuple[Check, ...]:
    """One check per concept: the plain algorithm with its defaults (``trajectory``), each option
    alone (``<aspect>``), and each part of the contract, so a correct plain optimizer that ignores
    every option earns every check but the options'."""
    prefix = f"optimizers.{spec.part}"
    name = spec.class_name
    depends = dependencies(spec)
    public = [_trajectory_case(spec, problem, {}, TRAJECTORY_STEPS) for problem in _public_problems()]
    options = [
        TrajectoryCheck(f"{prefix}.{option.aspect}", spec=spec, points=1, depends_on=depends,
                        cases=option_cases(spec, option, OPTION_PROBLEMS, OPTION_STEPS, public_lr_factors,
                                           PUBLIC_SCHEDULE_LABEL),
                        description=f"{name} with {option.what}: {len(OPTION_PROBLEMS)} trajectories of "
                                    f"{OPTION_STEPS} steps")
        for option in spec.options
    ]
    case = _contract_case(spec)
    return (
        TrajectoryCheck(f"{prefix}.trajectory", spec=spec, cases=public, points=3, depends_on=depends,
                        description=f"{name} with its defaults: 200 steps side by side with the reference on "
                                    "a quadratic, Rosenbrock and a softmax regression"),
        *options,
        PropertyCheck(f"{prefix}.in_place", run=_run_in_place(spec), assess=_assess_in_place(spec),
                      case=case, points=1, depends_on=depends,
                      description=f"{name}.step updates the caller's parameter arrays in place"),
        PropertyCheck(f"{prefix}.grads_untouched", run=_run_grads_untouched(spec),
                      assess=_assess_grads_untouched(spec), case=case, points=1, depends_on=depends,
                      description=f"{name}.step leaves the gradient arrays unchanged"),
        PropertyCheck(f"{prefix}.state_per_parameter", run=_run_state(spec), assess=_assess_state(spec),
                      case=case, points=1, depends_on=depends,
                      description=f"{name} keeps one state per parameter; a parameter's updates use only its own"),
        PropertyCheck(f"{prefix}.validation", run=_run_validation(spec), assess=_assess_validation(spec),
                      case=_validation_case(spec), points=1, depends_on=depends,
                      description=f"{name} raises ValueError for bad hyperparameters"),
        ConvergenceCheck(f"{prefix}.convergence", run=_run_convergence(spec), assess=_assess_convergence(spec),
                         case=_convergence_case(spec), points=1, depends_on=depends, timeout_s=10.0,
                         description=f"{name} reaches the minimum of a convex quadratic within "
                                     f"{spec.convergence_steps} steps (to {spec.convergence_distance:g})"),
    )


SCHEDULE_CHECKS = (
    ReferenceCheck("optimizers.schedules.step_lr", description="StepLR: lr x gamma every step_size epochs",
                   points=1, call=_call_schedule, known_mistakes=SCHEDULE_MISTAKES,
                   cases=[_schedule_case("StepLR(step_size=3, gamma=0.5), base lr 0.1", "StepLR",
                                         {"step_size": 3, "gamma": 0.5}, 0.1, 12),
                          _schedule_case("StepLR(step_size=30), base lr 1.0", "StepLR", {"step_size": 30}, 1.0, 100)]),
    ReferenceCheck("optimizers.schedules.multistep_lr", description="MultiStepLR: lr x gamma at each milestone",
                   points=1, call=_call_schedule, known_mistakes=SCHEDULE_MISTAKES,
                   cases=[_schedule_case("MultiStepLR(milestones=[2, 5, 9], gamma=0.3), base lr 0.5", "MultiStepLR",
                                         {"milestones": [2, 5, 9], "gamma": 0.3}, 0.5, 12)]),
    ReferenceCheck("optimizers.schedules.resnet_recipe",
                   description="resnet_cifar_schedule: the note's lr x 0.1 at 50% and 75% of the epochs",
                   points=1, call=_call_schedule, known_mistakes=SCHEDULE_MISTAKES,
                   cases=[_schedule_case("resnet_cifar_schedule(epochs=100), base lr 0.1", "resnet_cifar_schedule",
                                         {"epochs": 100}, 0.1, 100),
                          _schedule_case("resnet_cifar_schedule(epochs=10), base lr 0.1", "resnet_cifar_schedule",
                                         {"epochs": 10}, 0.1, 10)]),
    ReferenceCheck("optimizers.schedules.warmup", description="LinearWarmup: linear from start_factor * lr to lr",
                   points=1, call=_call_schedule, known_mistakes=SCHEDULE_MISTAKES,
                   cases=[_schedule_case("LinearWarmup(warmup_epochs=5, start_factor=0.1), base lr 0.2", "LinearWarmup",
                                         {"warmup_epochs": 5, "start_factor": 0.1}, 0.2, 10),
                          _schedule_case("LinearWarmup(warmup_epochs=4), base lr 1.0", "LinearWarmup",
                                         {"warmup_epochs": 4}, 1.0, 8)]),
    ReferenceCheck("optimizers.schedules.cosine", description="CosineAnnealingLR: half a cosine from lr to eta_min",
                   points=1, call=_call_schedule, known_mistakes=SCHEDULE_MISTAKES,
                   cases=[_schedule_case("CosineAnnealingLR(T_max=10, eta_min=0.01), base lr 0.1", "CosineAnnealingLR",
                                         {"T_max": 10, "eta_min": 0.01}, 0.1, 10),
                          _schedule_case("CosineAnnealingLR(T_max=50), base lr 1.0", "CosineAnnealingLR",
                                         {"T_max": 50}, 1.0, 50)]),
    PropertyCheck("optimizers.schedules.drives_optimizer", description="StepLR sets SGD's lr, and SGD's steps use it",
                  points=1, run=_run_schedule_drives, assess=_assess_schedule_drives,
                  case=Case("SGD(lr=0.1) with StepLR(step_size=2, gamma=0.5), 6 epochs", {"base_lr": 0.1, "epochs": 6}),
                  depends_on=("optimizers.sgd",)),
)


UNIT = Unit(
    name="optimizers",
    title="Unit 4: optimizers (최적화 알고리즘)",
    module=MODULE,
    checks=tuple(check for spec in SPECS for check in _optimizer_checks(spec)) + SCHEDULE_CHECKS,
)
