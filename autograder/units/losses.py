"""Unit 3 checks: losses (손실 함수), graded part by part.

Every loss part (``mse``, ``l1``, ``huber``, ``ce``, ``bce``, ``gaussian_nll``) has the same core,
ids ``losses.<part>.<aspect>``:

* ``forward`` / ``backward``: the loss and its gradient against the reference on seeded cases of
  several shapes (batch size 1, odd sizes, a large batch); ``hidden``: both on hidden inputs;
* ``finite_differences``: the backward against central differences of the student's own forward,
  on inputs built away from the kinks (L1 at r = 0, Huber at |r| = delta) and from the variance clamp;
* ``contract``: forward returns a Python float, and neither forward nor backward modifies an argument
  (nor, when called twice, its cache or the gradient it returned before).

Extra checks pin what is special to a loss, **one convention or edge case per check** so that
partial work earns partial credit and each mistake gets its own signal: the L1 subgradient at 0,
Huber's delta (forward and backward apart); cross-entropy's probability targets, label smoothing
(forward, backward, and of probability targets), huge logit gaps, the exact log of tiny
probabilities and the per-row max, each on integer labels unless the concept is the targets; BCE's
probability targets and extreme logits; the Gaussian NLL's unit variance, ``full``, the clamp of
the variance and torch's straight-through gradient there. Where the concept lives in the forward
pass, its check compares the forward only (``FORWARD``), so that a mistake of the plain backward
costs ``backward`` and not every convention. Three parts grade the lecture note's remarks with the
given helpers of the student's file: ``outliers`` (L1 vs L2 on data with outliers),
``relative_logits`` (CE sees only relative logits, and stays finite without warnings at gaps of
1e4) and ``gaussian_mle`` (unit variance gives MSE/2 plus a constant; a learned variance tracks the
noise).

Every input comes from an explicit seed: public seeds below 1000. The hidden checks (seeds from
9000) are declared apart, in the package of hidden checks, which the student release leaves out.
docs/unit-losses.md lists the checks, their points and what each hint detects.
"""

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..checks import Check, Verdict
from ..diagnosis import KnownMistake
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
)
from ..sandbox import ProbeError
from ..tolerance import DEFAULT, allclose, compare
from .unit import Unit

MODULE = "losses"


# ----------------------------------------------------------------------------- how a loss is called


@dataclass(frozen=True)
class LossSpec:
    """How the checks call one loss class of the student's file.

    prediction: the case key of the predicted input (``Y_hat``, ``Z`` or ``mu``); it is the first
        argument of ``forward`` and the parameter of the gradient check.
    options: constructor keywords a case may set (``delta``, ``label_smoothing``, ``eps``, ``full``).
    A case with a ``var`` array passes it as the third argument of ``forward``.
    """

    part: str
    class_name: str
    prediction: str
    options: tuple[str, ...] = ()


MSE = LossSpec("mse", "MSELoss", "Y_hat")
L1 = LossSpec("l1", "L1Loss", "Y_hat")
HUBER = LossSpec("huber", "HuberLoss", "Y_hat", ("delta",))
CE = LossSpec("ce", "CrossEntropyLoss", "Z", ("label_smoothing",))
BCE = LossSpec("bce", "BCEWithLogitsLoss", "Z")
GAUSSIAN = LossSpec("gaussian_nll", "GaussianNLLLoss", "mu", ("eps", "full"))


def _new_loss(impl, spec: LossSpec, x: Mapping[str, Any]):
    return impl.function(MODULE, spec.class_name)(**{name: x[name] for name in spec.options if name in x})


def _forward(loss, spec: LossSpec, x: Mapping[str, Any], prediction=None, var=None):
    """loss.forward(prediction, Y[, var]) with the case's arrays unless others are given."""
    prediction = x[spec.prediction] if prediction is None else prediction
    if "var" not in x:
        return loss.forward(prediction, x["Y"])
    return loss.forward(prediction, x["Y"], x["var"] if var is None else var)


def _gradients(spec: LossSpec, loss, x: Mapping[str, Any]) -> dict[str, Any]:
    """``{"backward()": grad}``, or for a learned variance ``backward().mu`` and ``backward().var``."""
    result = loss.backward()
    if "var" not in x:
        return {"backward()": result}
    if not (hasattr(result, "mu") and hasattr(result, "var")):
        raise ProbeError(
            f"{spec.class_name}.backward() should return GaussianNLLGradients(mu=..., var=...) after "
            f"forward(mu, Y, var); it returned a {type(result).__name__}"
        )
    return {"backward().mu": result.mu, "backward().var": result.var}


def _forward_call(spec: LossSpec):
    def call(impl, x):
        return {"forward()": _forward(_new_loss(impl, spec, x), spec, x)}

    return call


def _backward_call(spec: LossSpec):
    def call(impl, x):
        loss = _new_loss(impl, spec, x)
        _forward(loss, spec, x)
        return _gradients(spec, loss, x)

    return call


def _both_call(spec: LossSpec):
    def call(impl, x):
        loss = _new_loss(impl, spec, x)
        value = _forward(loss, spec, x)
        return {"forward()": value, **_gradients(spec, loss, x)}

    return call


#: What a check of a convention or an edge case compares when its concept lives in the forward pass:
#: the forward only, so that a mistake of the plain backward (graded by ``backward``) does not take
#: that concept's points too. Stability of the backward is held by the no-warnings checks, which
#: need finite gradients but compare no values.
FORWARD = ("forward()",)


def _outputs_call(spec: LossSpec, outputs: tuple[str, ...]):
    """Like :func:`_both_call`, keeping only ``outputs`` (e.g. ``backward().var``); all when empty."""
    both = _both_call(spec)

    def call(impl, x):
        result = both(impl, x)
        return {key: value for key, value in result.items() if not outputs or key in outputs}

    return call


def _gradient_problem(spec: LossSpec):
    """The student's forward as a function of the prediction (and of var), with their backward."""

    def build(impl, x) -> GradientProblem:
        loss = _new_loss(impl, spec, x)
        _forward(loss, spec, x)
        gradients = _gradients(spec, loss, x)
        evaluator = _new_loss(impl, spec, x)  # a second object: finite differences must not touch the first
        if "var" not in x:
            return GradientProblem(
                forward=lambda p: _forward(evaluator, spec, x, prediction=p[spec.prediction]),
                params={spec.prediction: x[spec.prediction]},
                analytic={spec.prediction: gradients["backward()"]},
            )
        return GradientProblem(
            forward=lambda p: _forward(evaluator, spec, x, prediction=p[spec.prediction], var=p["var"]),
            params={spec.prediction: x[spec.prediction], "var": x["var"]},
            analytic={spec.prediction: gradients["backward().mu"], "var": gradients["backward().var"]},
        )

    return build


class LossContractCheck(PropertyCheck):
    """forward returns a Python float, and neither forward nor backward modifies its arguments.

    The second half is an :class:`InputsUnchangedCheck` run through its public probe and judge, so
    the comparison of the arrays after the call stays the engine's.
    """

    #: Prefix of the facts of the ``also`` case (input names never start with it).
    ALSO = "also/"

    def __init__(self, id: str, *, spec: LossSpec, case: Case, also: Case | None = None, **common):
        """``also``: a second case whose arrays must stay unchanged too, for a mutation only some
        options reach (cross-entropy smoothing probability targets in place: ``Y *= 1 - eps`` is a
        no-op without smoothing, and integer labels are never touched). It runs only when the code
        handles that case at all: an exception there is the concept of another check (the options'
        own checks), so it costs nothing here, and the ``case`` alone decides."""
        self.spec = spec
        hint = ("build new arrays (e.g. r = Y_hat - Y, or v = np.maximum(var, eps)) instead of updating "
                "{name} with -=, += or index assignment; the caller still needs its values.")
        function = f"{spec.class_name}.forward or backward"
        self.unchanged = InputsUnchangedCheck(
            id, call=_both_call(spec), function=function, case=case, description="", points=0, hint=hint,
        )
        self.also = None if also is None else InputsUnchangedCheck(
            id, call=_both_call(spec), function=function + f" (with {also.label})", case=also, description="",
            points=0, hint=hint,
        )
        super().__init__(id, run=self._run, assess=self._assess, case=case, **common)

    def _run(self, impl, x):
        value = _forward(_new_loss(impl, self.spec, x), self.spec, x)
        shape = f" of shape {np.shape(value)}" if isinstance(value, np.ndarray) else ""
        facts = {"is_float": isinstance(value, float), "returned": f"a {type(value).__name__}{shape}"}
        also = {**self._backward_twice(impl, x)}
        if self.also is not None:
            try:
                also = {self.ALSO + key: array for key, array in self.also.probe(impl).items()}
            except Exception:  # noqa: BLE001 - that option's own checks report it (see __init__)
                also = {}
        return {**self.unchanged.probe(impl), **facts, **also}  # input names never clash with these keys

    #: Prefix of the facts of :meth:`_backward_twice`.
    TWICE = "twice/"

    def _backward_twice(self, impl, x) -> dict[str, Any]:
        """backward() called twice after one forward: the first gradient right after the call and
        again after the second call, and the second gradient. A backward that scales the cached
        residual in place and returns it (``cache.residual *= 2 / N``) passes every value check, yet
        a second call (or the caller's first gradient) is wrong. A second call that raises (a cache
        freed after use, as torch frees its graph) is a design choice: nothing is sent, nothing lost."""
        loss = _new_loss(impl, self.spec, x)
        _forward(loss, self.spec, x)
        first = _gradients(self.spec, loss, x)
        copies = {key: np.array(value, dtype=np.float64) for key, value in first.items()}
        try:
            second = _gradients(self.spec, loss, x)
            facts = {key: np.array(value, dtype=np.float64) for key, value in second.items()}
        except Exception:  # noqa: BLE001 - see the docstring
            return {}
        return {
            **{f"{self.TWICE}first/{key}": value for key, value in copies.items()},
            **{f"{self.TWICE}first later/{key}": np.array(first[key], dtype=np.float64) for key in first},
            **{f"{self.TWICE}second/{key}": value for key, value in facts.items()},
        }

    def _assess_twice(self, facts) -> Verdict:
        firsts = {key[len(self.TWICE + "first/"):]: value for key, value in facts.items()
                  if key.startswith(self.TWICE + "first/")}
        name = self.spec.class_name
        for output, first in firsts.items():
            for message, other in (
                (f"{name}.backward, called a second time after one forward, returned a different {output}",
                 facts.get(f"{self.TWICE}second/{output}")),
                (f"{name}.backward, called a second time after one forward, changed the {output} array its "
                 "first call returned", facts.get(f"{self.TWICE}first later/{output}")),
            ):
                if other is None or np.shape(other) != np.shape(first) or not np.array_equal(other, first,
                                                                                            equal_nan=True):
                    return Verdict(
                        False,
                        message,
                        "backward only reads self.cache: build the gradient as a new array (e.g. 2.0 * r / N) "
                        "instead of updating the cached arrays in place (r *= ..., then return r); the cache "
                        "and the gradient you returned before are then changed behind the caller's back.",
                    )
        return Verdict.ok()

    def _assess(self, facts, inputs) -> Verdict:
        if facts.get("is_float") is not True:
            return Verdict(
                False,
                f"{self.spec.class_name}.forward returned {facts.get('returned', 'something else')}, "
                "not a Python float",
                "end forward with `return float(...)`: the loss is one plain number (np.float64 is fine "
                "too), not an array, so that it can be printed, compared and kept in a list of losses.",
            )
        verdict = self.unchanged.judge(facts, None)
        also = {key[len(self.ALSO):]: value for key, value in facts.items() if key.startswith(self.ALSO)}
        if verdict.passed and self.also is not None and also:
            verdict = self.also.judge(also, None)
        return self._assess_twice(facts) if verdict.passed else verdict


@dataclass(frozen=True)
class MoreCases:
    """An extra reference check of a loss part (``losses.<part>.<aspect>``) on cases that pin one
    feature (one convention or one edge case: one check, one concept, so that each gets its own
    points and its own signal). It compares forward and backward (or only ``outputs``), with
    ``mistakes`` (tried first) and then the part's known mistakes."""

    aspect: str
    description: str
    points: float
    cases: list[Case]
    outputs: tuple[str, ...] = ()
    mistakes: tuple[KnownMistake, ...] = ()


def _loss_checks(
    spec: LossSpec,
    *,
    title: str,
    public: list[Case],
    gradient_cases: list[Case],
    mistakes: tuple[KnownMistake, ...],
    more_cases: tuple[MoreCases, ...] = (),
    extra: tuple[Check, ...] = (),
    unchanged_case: Case | None = None,
    also_unchanged: Case | None = None,
    gradient_of: str | None = None,
) -> tuple[Check, ...]:
    """The checks every loss part has (see the module docstring); ``more_cases`` and ``extra``
    checks come after backward."""
    prefix = f"losses.{spec.part}"
    name = spec.class_name
    return (
        ReferenceCheck(
            f"{prefix}.forward", description=f"{name}.forward: {title}", points=2,
            call=_forward_call(spec), cases=public, known_mistakes=mistakes,
        ),
        ReferenceCheck(
            f"{prefix}.backward", description=f"{name}.backward: the gradient w.r.t. {gradient_of or spec.prediction}",
            points=2, call=_backward_call(spec), cases=public, known_mistakes=mistakes,
        ),
        *(
            ReferenceCheck(
                f"{prefix}.{more.aspect}", description=more.description, points=more.points,
                call=_outputs_call(spec, more.outputs), cases=more.cases, known_mistakes=more.mistakes + mistakes,
            )
            for more in more_cases
        ),
        *extra,
        GradientCheck(
            f"{prefix}.finite_differences",
            description=f"{name}.backward is the derivative of {name}.forward (finite differences)",
            points=1, build=_gradient_problem(spec), cases=gradient_cases, requires=(f"{prefix}.forward",),
        ),
        LossContractCheck(
            f"{prefix}.contract",
            description=f"{name}.forward returns a Python float; forward and backward leave their arguments "
                        "(and backward its cache) unchanged",
            points=1, spec=spec, case=unchanged_case or public[0], also=also_unchanged,
        ),
    )


# ----------------------------------------------------------------------------- inputs


def _shape_label(n: int, d: int, letter: str = "D", **options) -> str:
    extras = "".join(
        f", {key}={value:g}" if isinstance(value, float) else f", {key}={value}"
        for key, value in options.items()
        if value is not None
    )
    return f"N={n}, {letter}={d}{extras}"


def _residuals(rng: np.random.Generator, shape, *, scale: float, avoid: tuple[float, ...] = ()) -> np.ndarray:
    """Residuals r = Y_hat - Y. With ``avoid`` (kinks such as 0 or delta), |r| stays at least 5% of
    the kink (and 0.05) away from each, so finite differences never step across a kink."""
    r = scale * rng.standard_normal(shape)
    if not avoid:
        return r
    size = np.abs(r)
    for kink in avoid:
        gap = max(0.05, 0.05 * kink)
        size = np.where(np.abs(size - kink) < gap, kink + gap + np.abs(size - kink), size)
    return np.where(r < 0, -size, size)


@case_builder
def _regression_case(seed: int, n: int, d: int, *, delta=None, scale=1.0, avoid=()) -> Case:
    rng = case_rng(seed)
    Y = rng.standard_normal((n, d))
    inputs = {"Y_hat": Y + _residuals(rng, (n, d), scale=scale, avoid=avoid), "Y": Y}
    if delta is not None:
        inputs["delta"] = delta
    return Case(_shape_label(n, d, delta=delta), inputs, batch_size=n)


@case_builder
def _tied_case(seed: int, n: int, d: int) -> Case:
    """About a third of the predictions equal their target exactly (residual 0)."""
    rng = case_rng(seed)
    Y = rng.standard_normal((n, d))
    Y_hat = Y + rng.standard_normal((n, d))
    ties = rng.random((n, d)) < 0.35
    ties.flat[0] = True
    Y_hat[ties] = Y[ties]
    return Case(f"N={n}, D={d}, some Y_hat equal to Y", {"Y_hat": Y_hat, "Y": Y}, batch_size=n)


@case_builder
def _classification_case(
    seed: int, n: int, c: int, *, targets: str = "labels", label_smoothing=None, scale: float = 2.0
) -> Case:
    """targets: ``labels`` (N,) integers, ``one_hot`` (N, C) rows, ``soft`` (N, C) probability rows."""
    rng = case_rng(seed)
    Z = scale * rng.standard_normal((n, c))
    labels = rng.integers(0, c, n)
    Y = {"labels": labels, "one_hot": np.eye(c)[labels], "soft": rng.dirichlet(np.ones(c), n)}[targets]
    inputs = {"Z": Z, "Y": Y}
    if label_smoothing is not None:
        inputs["label_smoothing"] = label_smoothing
    label = ("" if scale == 2.0 else f"logits of scale {scale:g}, ") + _shape_label(n, c, "C", label_smoothing=label_smoothing)
    return Case(label + ("" if targets == "labels" else f", {targets.replace('_', '-')} targets"), inputs, n)


@case_builder
def _large_gap_case(seed: int, n: int, c: int, gap: float) -> Case:
    """Integer labels; logits of +gap, 0 and -gap, so that gaps of ``gap`` and ``2 * gap`` meet in a
    row: np.exp(gap) overflows without the max shift, and a class far below the best gets
    probability 0. Every row holds +gap in some class other than its label (so a batch's maximum is
    every row's maximum), and the true class sits within 3 of the top (its probability is not
    tiny: that is ``_far_below_case``'s concept). Z (N, C), Y (N,)."""
    rng = case_rng(seed)
    labels = rng.integers(0, c, n)
    Z = gap * rng.choice([0.0, -1.0], (n, c))
    top = (labels + rng.integers(1, c, n)) % c  # a class other than the label
    Z[np.arange(n), top] = gap
    Z[np.arange(n), labels] = gap - rng.uniform(0.0, 3.0, n)
    return Case(f"logit gaps of {gap:g} and {2 * gap:g}, true class near the top, {_shape_label(n, c, 'C')}",
                {"Z": Z, "Y": labels}, n)


@case_builder
def _far_below_case(seed: int, n: int, c: int, gap: float = 1000.0) -> Case:
    """Integer labels whose logit is ``gap`` below the others of its row (ordinary logits): its
    probability underflows to 0, while its log is about -gap. Z (N, C), Y (N,)."""
    rng = case_rng(seed)
    labels = rng.integers(0, c, n)
    Z = rng.standard_normal((n, c))
    Z[np.arange(n), labels] -= gap
    return Case(f"true class {gap:g} below the others, {_shape_label(n, c, 'C')}", {"Z": Z, "Y": labels}, n)


#: Row levels of :func:`_row_levels_case`: high enough apart (800) that exp(level - batch max)
#: underflows to 0 for the lowest rows, and low enough (700 + 3 + log C < 709.78) that even exp(Z)
#: without any shift stays finite: only a batch-wide max (not a per-row one) fails there.
ROW_LEVELS = (-100.0, 700.0)


@case_builder
def _row_levels_case(seed: int, n: int, c: int) -> Case:
    """Integer labels; each row is ordinary logits (|z| <= 3) plus its own level in ROW_LEVELS
    (the first row at the top level, the second at the bottom one). Z (N, C), Y (N,)."""
    rng = case_rng(seed)
    low, high = ROW_LEVELS
    levels = rng.uniform(low, high, n)
    levels[:2] = high, low
    Z = np.clip(rng.standard_normal((n, c)), -3.0, 3.0) + levels[:, None]
    labels = rng.integers(0, c, n)
    return Case(f"rows of logits at levels from {low:g} to {high:g}, {_shape_label(n, c, 'C')}",
                {"Z": Z, "Y": labels}, n)


@case_builder
def _binary_case(seed: int, n: int, d: int, *, soft: bool = False, size: float | None = None) -> Case:
    rng = case_rng(seed)
    Z = 2.0 * rng.standard_normal((n, d)) if size is None else size * rng.choice([-1.0, 1.0], (n, d))
    Y = rng.random((n, d)) if soft else (rng.random((n, d)) < 0.5).astype(np.float64)
    label = ("" if size is None else f"logits of +-{size:g}, ") + _shape_label(n, d)
    return Case(label + (", probability targets" if soft else ""), {"Z": Z, "Y": Y}, n)


@case_builder
def _gaussian_case(
    seed: int, n: int, d: int, *, learned: bool = True, full=None, eps=None, var_range=(0.2, 3.0), below_eps=False
) -> Case:
    rng = case_rng(seed)
    mu = rng.standard_normal((n, d))
    inputs: dict[str, Any] = {"mu": mu, "Y": mu + 1.5 * rng.standard_normal((n, d))}
    if learned:
        var = rng.uniform(*var_range, (n, d))
        if below_eps:  # entries the clamp replaces: exactly 0, and positive but below eps
            floor = 1e-6 if eps is None else eps
            var.flat[::3] = 0.0
            var.flat[1::5] = floor * rng.uniform(1e-3, 0.9, var.flat[1::5].shape)
        inputs["var"] = var
    if full is not None:
        inputs["full"] = full
    if eps is not None:
        inputs["eps"] = eps
    label = _shape_label(n, d, full=full, eps=eps) + (", learned var" if learned else ", unit variance")
    return Case(label + (", some var below eps" if below_eps else ""), inputs, n)


# ----------------------------------------------------------------------------- known mistakes


def _features(inputs, key: str) -> int:
    return int(np.shape(inputs[key])[1])


def _per_element_mean(spec: LossSpec, output: str) -> KnownMistake:
    """torch's reduction="mean": divided by N*K (K outputs per sample) rather than N."""
    what = "np.mean averages over every element" if output == "forward()" else "this is the gradient of a mean over every element"
    return KnownMistake(
        output,
        f"{output} is divided by N*K: {what}, as torch's {spec.class_name}(reduction=\"mean\") does; the "
        "note's loss sums over the K outputs and divides by the N samples only, and so does its gradient.",
        lambda inputs, expected: expected / _features(inputs, spec.prediction),
    )


def _mean_mistakes(spec: LossSpec) -> tuple[KnownMistake, ...]:
    return (_per_element_mean(spec, "forward()"), _per_element_mean(spec, "backward()"))


def _residual(inputs) -> np.ndarray:
    return inputs["Y_hat"] - inputs["Y"]


MSE_MISTAKES = _mean_mistakes(MSE) + (
    KnownMistake(
        "forward()",
        "this is the mean absolute error (L1): MSELoss squares the residuals.",
        lambda inputs, expected: np.abs(_residual(inputs)).sum() / len(inputs["Y"]),
    ),
)


def _nonzero_at_ties(received, expected, inputs) -> bool:
    ties = inputs["Y_hat"] == inputs["Y"]
    if np.shape(received) != expected.shape or not ties.any():
        return False
    received = np.asarray(received, dtype=np.float64)
    others_match = allclose(received[~ties], expected[~ties], DEFAULT) if (~ties).any() else True
    return bool(others_match and not np.all(received[ties] == 0))


L1_MISTAKES = _mean_mistakes(L1) + (
    KnownMistake(
        "backward()",
        "backward() is not 0 where Y_hat == Y: |r| has no derivative at r = 0 and this course (like "
        "np.sign and torch) uses the subgradient 0 there; a test such as r >= 0 gives 1 at r = 0.",
        explains=_nonzero_at_ties,
    ),
)


def _huber_pieces(inputs, *, delta=None, linear_offset=True, half=True) -> np.ndarray:
    r = _residual(inputs)
    delta = inputs.get("delta", 1.0) if delta is None else delta
    size = np.abs(r)
    quadratic = (0.5 if half else 1.0) * r * r
    linear = delta * (size - 0.5 * delta) if linear_offset else delta * size
    return np.where(size <= delta, quadratic, linear)


def _huber_forward(**variant):
    return lambda inputs, expected: _huber_pieces(inputs, **variant).sum() / len(inputs["Y"])


HUBER_MISTAKES = _mean_mistakes(HUBER) + (
    KnownMistake(
        "forward()",
        "the linear piece must be delta * (|r| - delta / 2): without the - delta / 2 it does not meet "
        "the quadratic piece 0.5 * r**2 at |r| = delta.",
        _huber_forward(linear_offset=False),
    ),
    KnownMistake(
        "forward()",
        "the quadratic piece is 0.5 * r**2 (with the 0.5): then it meets the linear piece "
        "delta * (|r| - delta / 2) at |r| = delta, with the same slope.",
        _huber_forward(half=False),
    ),
    KnownMistake(
        "forward()",
        "the loss does not follow delta: use self.delta (1.0 is only the default; HuberLoss(delta=0.5) "
        "must switch from quadratic to linear at |r| = 0.5).",
        _huber_forward(delta=1.0),
    ),
    KnownMistake(
        "backward()",
        "backward() is r / N everywhere, the gradient of 0.5 * r**2: beyond |r| > delta the loss is "
        "linear and its slope stays at delta * sign(r); np.clip(r, -delta, delta) / N gives both pieces.",
        lambda inputs, expected: _residual(inputs) / len(inputs["Y"]),
    ),
    KnownMistake(
        "backward()",
        "the gradient does not follow delta: clip r to [-self.delta, self.delta], not to [-1, 1].",
        lambda inputs, expected: np.clip(_residual(inputs), -1.0, 1.0) / len(inputs["Y"]),
    ),
    KnownMistake(
        "backward()",
        "backward() is 0 where |r| > delta: there the loss is linear, delta * (|r| - delta / 2), and its "
        "slope is delta * sign(r), not 0; np.clip(r, -delta, delta) / N gives both pieces.",
        lambda inputs, expected: np.where(np.abs(_residual(inputs)) <= inputs.get("delta", 1.0), expected, 0.0),
    ),
    # torch's SmoothL1Loss(beta) is HuberLoss(delta=beta) / beta; with delta = 0.5 the generic
    # diagnosis would call it "twice too large".
    *(
        KnownMistake(
            output,
            f"{output} is divided by delta: that is torch's SmoothL1Loss(beta = delta), 0.5 * r**2 / delta "
            "inside, |r| - delta / 2 beyond; HuberLoss is delta times it: 0.5 * r**2 inside, "
            "delta * (|r| - delta / 2) beyond.",
            lambda inputs, expected: expected / inputs.get("delta", 1.0),
        )
        for output in ("forward()", "backward()")
    ),
)


def _log_softmax(Z: np.ndarray) -> np.ndarray:
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _as_probabilities(inputs) -> np.ndarray:
    Y, C = np.asarray(inputs["Y"]), inputs["Z"].shape[1]
    return np.eye(C)[Y] if Y.ndim == 1 else Y


def _smoothed(inputs, convention: str = "torch") -> np.ndarray:
    q, C = _as_probabilities(inputs), inputs["Z"].shape[1]
    eps = inputs.get("label_smoothing", 0.0)
    return {
        "torch": (1.0 - eps) * q + eps / C,
        "other classes": (1.0 - eps) * q + eps / (C - 1) * (1.0 - q),
        "not rescaled": q + eps / C,
        "ignored": q,
        "argmax": (1.0 - eps) * np.eye(C)[np.argmax(q, axis=1)] + eps / C,
    }[convention]


def _ce_output(output: str, convention: str = "torch", *, forward_without_normaliser=False):
    """The CE value or gradient a student gets with the targets of ``convention``."""

    def wrong(inputs, expected):
        Z, q = inputs["Z"], _smoothed(inputs, convention)
        if output == "backward()":
            return (np.exp(_log_softmax(Z)) - q) / len(Z)
        log_p = Z if forward_without_normaliser else _log_softmax(Z)
        return -np.sum(q * log_p) / len(Z)

    return wrong


CE_MISTAKES = (
    KnownMistake(
        "forward()",
        "the log-sum-exp normaliser is missing: the note's CE takes log-probabilities, and "
        "log softmax(Z) = Z - log(sum(exp(Z))) row by row, not Z itself.",
        _ce_output("forward()", forward_without_normaliser=True),
    ),
    *(
        KnownMistake(
            output,
            f"{output} is divided by N*C: np.mean(q * log_p) averages over the classes too; the sum over "
            "the C classes is part of the cross-entropy, and only the N samples are averaged: "
            "-(1/N) * sum_i sum_c q[i, c] * log p[i, c].",
            lambda inputs, expected: expected / inputs["Z"].shape[1],
        )
        for output in ("forward()", "backward()")
    ),
)

TARGET_MISTAKES = CE_MISTAKES + tuple(
    KnownMistake(
        output,
        "probability targets were reduced to their most likely class (argmax), which is right for "
        "one-hot rows only: use the whole row, loss = -(1/N) sum_i sum_c q[i, c] log p[i, c], "
        "and (p - q) / N in backward.",
        _ce_output(output, "argmax"),
    )
    for output in ("forward()", "backward()")
)

SMOOTHING_MISTAKES = (
    *(
        KnownMistake(
            output,
            "label smoothing here is torch's: q = (1 - eps) * y + eps / C, a mix with the uniform "
            "distribution over all C classes (the true class keeps 1 - eps + eps / C); spreading eps "
            "over the C - 1 other classes only is a different convention.",
            _ce_output(output, "other classes"),
        )
        for output in ("forward()", "backward()")
    ),
    *(
        KnownMistake(
            output,
            "scale the targets by (1 - eps) before adding eps / C: q = (1 - eps) * y + eps / C, so "
            "that every row of q still sums to 1.",
            _ce_output(output, "not rescaled"),
        )
        for output in ("forward()", "backward()")
    ),
    KnownMistake(
        "forward()",
        "label_smoothing has no effect on the loss: build q = (1 - eps) * y + eps / C with "
        "eps = self.label_smoothing, and use q in forward (and keep it for backward).",
        _ce_output("forward()", "ignored"),
    ),
    KnownMistake(
        "backward()",
        "backward() uses the targets without label smoothing: the gradient is (softmax(Z) - q) / N "
        "with the same smoothed q as forward (keep q in the cache).",
        _ce_output("backward()", "ignored"),
    ),
) + TARGET_MISTAKES


def _not_finite(received, expected, inputs) -> bool:
    return not np.all(np.isfinite(np.asarray(received, dtype=np.float64)))


STABLE_SOFTMAX_HINT = (
    "compute the log-softmax stably: subtract each row's maximum m before np.exp (exp(1000) is inf), "
    "and take log p = (Z - m) - log(sum(exp(Z - m))) rather than np.log(softmax(Z)) (a class far "
    "below the best one has probability 0, and log(0) = -inf)."
)
STABLE_BCE_HINT = (
    "use the stable form max(z, 0) - z * y + log1p(exp(-|z|)) for the loss, and with e = exp(-|z|) "
    "sigmoid(z) = 1 / (1 + e) for z >= 0, e / (1 + e) for z < 0: neither takes exp of a large positive "
    "number nor log(0), whereas -y log(sigmoid(z)) - (1 - y) log(1 - sigmoid(z)) hits log(0) when "
    "sigmoid(z) rounds to 0 or 1, and 1 / (1 + exp(-z)) overflows for z = -1e4."
)

EXTREME_CE_MISTAKES = tuple(
    KnownMistake(output, f"{output} is inf or NaN for large logit gaps: {STABLE_SOFTMAX_HINT}", explains=_not_finite)
    for output in ("forward()", "backward()")
)
EXTREME_BCE_MISTAKES = tuple(
    KnownMistake(output, f"{output} is inf or NaN for large logits: {STABLE_BCE_HINT}", explains=_not_finite)
    for output in ("forward()", "backward()")
)
#: The small numbers students add inside the log (or clip the probabilities at) "to avoid log(0)".
LOG_EPSILONS = (1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15, 1e-16)


def _log_of_padded_softmax(received, expected, inputs) -> bool:
    """Whether the CE value is -(1/N) sum q log(softmax(Z) + eps), or with softmax clipped at eps
    from below, for one of LOG_EPSILONS: right for moderate logits, off where a probability is tiny."""
    Z, q = inputs["Z"], _smoothed(inputs)
    p = np.exp(_log_softmax(Z))
    for eps in LOG_EPSILONS:
        for padded in (p + eps, np.maximum(p, eps)):
            if allclose(received, -np.sum(q * np.log(padded)) / len(Z), DEFAULT):
                return True
    return False


LOG_EPS_HINT = (
    "log(softmax + eps) (or a softmax clipped at eps) is off for very confident predictions: where a "
    "class has probability 1e-20 the log should be about -46, not log(eps). Use the log-softmax "
    "log p = (Z - m) - log(sum(exp(Z - m))) with m each row's max: it is exact and needs no eps."
)
LOG_EPS_MISTAKES = (KnownMistake("forward()", LOG_EPS_HINT, explains=_log_of_padded_softmax),)

#: Tried first by ``losses.ce.label_smoothing_targets``: there the cases are probability targets.
SMOOTHING_TARGETS_MISTAKES = (
    KnownMistake(
        "forward()",
        "label_smoothing has no effect with probability targets: smooth (N, C) targets exactly as the "
        "one-hot rows of labels, q = (1 - eps) * q + eps / C, after turning labels into rows and "
        "before the loss (and keep that q for backward).",
        _ce_output("forward()", "ignored"),
    ),
)

#: Tried first by ``losses.ce.row_max``, whose rows sit at levels 800 apart: there exp(Z) without a
#: shift stays finite, so a result that is not finite comes from a shift by one max of the batch.
ROW_MAX_MISTAKES = tuple(
    KnownMistake(
        output,
        f"{output} is inf or NaN when the rows' logits sit at very different levels: subtract the max of "
        "each row, not of the whole batch (Z.max(axis=1, keepdims=True), not Z.max()); a row far below "
        "the batch's maximum gets exp(...) = 0 for every class, and log(0) or 0 / 0 follow.",
        explains=_not_finite,
    )
    for output in ("forward()", "backward()")
)

BCE_MISTAKES = _mean_mistakes(BCE)
# One list per loss for all its reference checks: a mistake that does not apply to a case (label
# smoothing without smoothing, argmax of one-hot rows) gives the expected answer, so it never
# matches a mismatch there.
ALL_CE_MISTAKES = SMOOTHING_MISTAKES + LOG_EPS_MISTAKES + EXTREME_CE_MISTAKES
ALL_BCE_MISTAKES = BCE_MISTAKES + EXTREME_BCE_MISTAKES


def _clamped_var(inputs) -> np.ndarray:
    return np.maximum(inputs["var"], inputs.get("eps", 1e-6))


def _gaussian_terms(inputs, *, clamp_log=True, per_sample_constant=False):
    mu, Y = inputs["mu"], inputs["Y"]
    r2 = (mu - Y) ** 2
    if "var" in inputs:
        v = _clamped_var(inputs)
        with np.errstate(divide="ignore"):
            pieces = 0.5 * (np.log(v if clamp_log else inputs["var"]) + r2 / v)
    else:
        pieces = 0.5 * r2
    total = pieces.sum()
    if inputs.get("full", False):
        total += 0.5 * math.log(2 * math.pi) * (len(Y) if per_sample_constant else Y.size)
    return total / len(Y)


def _gaussian_with_eps_added(output: str):
    """What ``output`` is with v = var + eps in place of max(var, eps) (learned-variance cases only)."""

    def wrong(inputs, expected):
        if "var" not in inputs:
            return None
        r, v = inputs["mu"] - inputs["Y"], inputs["var"] + inputs.get("eps", 1e-6)
        if output == "backward().mu":
            return r / v / len(r)
        if output == "backward().var":
            return 0.5 * (1.0 / v - r**2 / v**2) / len(r)
        total = (0.5 * (np.log(v) + r**2 / v)).sum()
        if inputs.get("full", False):
            total += 0.5 * math.log(2 * math.pi) * r.size
        return total / len(r)

    return wrong


def _below_eps(inputs) -> np.ndarray:
    return np.asarray(inputs.get("var", 1.0)) < inputs.get("eps", 1e-6)


CLAMP_HINT = (
    "clamp the variance before taking its log and before dividing by it: v = np.maximum(var, eps) "
    "(a new array), then use v everywhere, in forward and in backward."
)

GAUSSIAN_MISTAKES = (
    *_mean_mistakes(GAUSSIAN),
    KnownMistake(
        "forward()",
        "with full=True the constant 0.5 * log(2 pi) belongs to every element: summed over the D "
        "outputs and averaged over the N samples it adds (D / 2) * log(2 pi), not 0.5 * log(2 pi).",
        lambda inputs, expected: _gaussian_terms(inputs, per_sample_constant=True),
    ),
    KnownMistake(
        "forward()",
        f"the loss is not finite where var is 0 or below eps: {CLAMP_HINT}",
        explains=lambda received, expected, inputs: _not_finite(received, expected, inputs) and _below_eps(inputs).any(),
    ),
    KnownMistake(
        "forward()",
        f"log(var) uses the unclamped var: {CLAMP_HINT}",
        lambda inputs, expected: _gaussian_terms(inputs, clamp_log=False),
    ),
    # Before the generic diagnosis, which would call a relative error of about eps "float32 rounding".
    *(
        KnownMistake(
            output,
            f"eps is added to the variance (var + eps) instead of clamping it: {CLAMP_HINT}",
            _gaussian_with_eps_added(output),
        )
        for output in ("forward()", "backward().mu", "backward().var")
    ),
    KnownMistake(
        "backward().mu",
        f"backward().mu is not finite where var is 0 or below eps: {CLAMP_HINT}",
        explains=lambda received, expected, inputs: _not_finite(received, expected, inputs) and _below_eps(inputs).any(),
    ),
    KnownMistake(
        "backward().var",
        "backward().var is 0 where var < eps, but the clamp passes the gradient through (as torch "
        "does: it clamps a copy of var without autograd): there, too, dvar = 0.5 * (1/v - r**2/v**2) / N "
        "with v = eps.",
        lambda inputs, expected: np.where(_below_eps(inputs), 0.0, expected),
    ),
    KnownMistake(
        "backward().var",
        "the derivative of r**2 / var with respect to var is -r**2 / var**2 (var squared): "
        "dvar = 0.5 * (1/v - r**2/v**2) / N.",
        lambda inputs, expected: 0.5
        * (1 / _clamped_var(inputs) - (inputs["mu"] - inputs["Y"]) ** 2 / _clamped_var(inputs))
        / len(inputs["Y"]),
    ),
)


# ----------------------------------------------------------------------------- warnings at extreme inputs


def _no_warnings_check(id: str, spec: LossSpec, class_name: str, advice: str, case: Case, **common) -> NoWarningsCheck:
    def call(impl, x):
        loss = _new_loss(impl, spec, x)
        value = _forward(loss, spec, x)
        return {"forward()": value, "backward()": loss.backward()}

    size = f"{np.max(np.abs(case.inputs[spec.prediction])):g}"
    return NoWarningsCheck(
        id, call=call, subject=f"{class_name} for logits of size up to {size}", advice=advice, case=case, **common
    )


# ----------------------------------------------------------------------------- exercise: relative logits


def _run_shifted(impl, x):
    first = _both_call(CE)(impl, x)
    shifted = _both_call(CE)(impl, {**x, "Z": x["Z"] + x["shift"][:, None]})
    return {"loss": first["forward()"], "shifted loss": shifted["forward()"],
            "grad": first["backward()"], "shifted grad": shifted["backward()"]}


def _assess_shift_invariance(facts, inputs) -> Verdict:
    loss, shifted = (np.asarray(facts[key], dtype=np.float64) for key in ("loss", "shifted loss"))
    if compare(shifted, loss).matches and compare(facts["shifted grad"], facts["grad"]).matches:
        return Verdict.ok()
    moved = float(shifted - loss) if loss.shape == shifted.shape == () else float("nan")
    if np.isfinite(moved) and abs(moved + float(np.mean(inputs["shift"]))) <= 1e-9 * (1 + abs(moved)):
        hint = ("the loss moved by exactly minus the average shift: the log-sum-exp normaliser is missing; "
                "log softmax(Z) = Z - log(sum(exp(Z))) does not change when a row's logits all move together.")
    elif compare(shifted, loss).matches:
        hint = ("the loss is unchanged but the gradient moved: softmax(Z + c) = softmax(Z), so (softmax(Z) - q) / N "
                "must not change either.")
    else:
        hint = ("log softmax(Z + c) = log softmax(Z) for any constant c added to a whole row: compute the loss "
                "from the log-softmax of each row, with nothing that depends on the logits' absolute level.")
    return Verdict(
        False,
        "adding a constant to every logit of a row changed the result",
        hint,
        (f"loss {float(loss):.10g} before the shift, {float(shifted):.10g} after",),
    )


# ----------------------------------------------------------------------------- exercise: outliers


def _outlier_case(seed: int, n: int = 60, fraction: float = 0.15, push: float = 8.0) -> Case:
    rng = np.random.default_rng(seed)
    w, b = 2.0, 0.5
    x = rng.uniform(-1.0, 1.0, n)
    y = w * x + b + 0.1 * rng.standard_normal(n)
    pushed = rng.choice(n, size=int(round(fraction * n)), replace=False)
    y[pushed] += push
    return Case(f"{n} points on y = {w:g} x + {b:g}, {len(pushed)} pushed up by {push:g}",
                {"x": x, "y": y, "w": w, "b": b, "lr": 0.1, "steps": 300}, n)


#: How far a fitted line may be from another, measured as max over x in [-1, 1] of the vertical gap.
L1_MARGIN = 0.25  # the L1 fit stays this close to the true line (the reference: 0.03)
L2_PULL = 0.75  # the least-squares line is at least this far from it (here: 2.35)
L2_CONVERGED = 0.01  # the MSE fit lands this close to the least-squares line


def _line_gap(w, b, w_other, b_other) -> float:
    return abs(w - w_other) + abs(b - b_other)


def _line_picture(inputs, **lines: tuple[float, float]) -> dict[str, tuple[float, ...]]:
    """The lesson's outlier figure as curves for ``--plots`` (autograder/plots.py): the points, which
    of them are outliers, the true line and the given lines ``label=(w, b)``. Public inputs only."""
    x, y = np.asarray(inputs["x"], dtype=np.float64), np.asarray(inputs["y"], dtype=np.float64)
    # The noise is 0.1 and the push 8, so a point more than 1 above the true line is a pushed one.
    outlier = np.abs(y - (inputs["w"] * x + inputs["b"])) > 1.0
    curves = {"data x": tuple(map(float, x)), "data y": tuple(map(float, y)),
              "data outlier": tuple(map(float, outlier)),
              "line true line": (float(inputs["w"]), float(inputs["b"]))}
    curves.update({f"line {label.replace('_', ' ')}": (float(w), float(b)) for label, (w, b) in lines.items()})
    return curves


def _run_fit_line(class_name: str):
    def run(impl, x):
        loss = impl.function(MODULE, class_name)()
        fit = impl.function(MODULE, "fit_line")(loss, x["x"], x["y"], lr=x["lr"], steps=x["steps"])
        return {name: as_number_array(getattr(fit, name, None), name) for name in ("w", "b", "losses")}

    return run


def _fit_summary(facts) -> tuple[float, float, np.ndarray] | None:
    try:
        w, b = float(facts["w"]), float(facts["b"])
    except (KeyError, TypeError, ValueError):
        return None
    losses = np.asarray(facts.get("losses", ()), dtype=np.float64).reshape(-1)
    return (w, b, losses) if np.isfinite(w) and np.isfinite(b) else None


def _not_finite_fit(name: str, picture: dict[str, tuple[float, ...]]) -> Verdict:
    return Verdict(False, f"the {name} fit did not give a finite line",
                   f"the training blew up: check the sign of {name}.backward (gradient descent moves against it).",
                   curves=picture)


def _assess_l1_close(facts, inputs) -> Verdict:
    summary = _fit_summary(facts)
    if summary is None:
        return _not_finite_fit("L1Loss", _line_picture(inputs))
    w, b, losses = summary
    picture = _line_picture(inputs, L1Loss_fit=(w, b))
    gap = _line_gap(w, b, inputs["w"], inputs["b"])
    if gap <= L1_MARGIN:
        return Verdict.ok(curves=picture)
    hint = ("the loss grows: check the sign of L1Loss.backward." if losses.size and losses[-1] > losses[0] else
            "with L1 every point pulls on the line with the same strength however far it is, so the "
            "outliers cannot drag it: L1Loss.backward should be sign(Y_hat - Y) / N.")
    return Verdict(
        False,
        f"the L1 fit is {gap:.3g} away from the true line (at most {L1_MARGIN:g} expected)",
        hint,
        (f"fitted y = {w:.4g} x + {b:.4g}; true line y = {inputs['w']:g} x + {inputs['b']:g}",
         "run `autograder check losses.outliers --plots DIR` to see the fitted lines and the loss curves"),
        picture,
    )


def _assess_l2_pulled(facts, inputs) -> Verdict:
    w_ls, b_ls = np.polyfit(inputs["x"], inputs["y"], 1)  # the least-squares line, in closed form
    summary = _fit_summary(facts)
    if summary is None:
        return _not_finite_fit("MSELoss", _line_picture(inputs, least_squares_line=(w_ls, b_ls)))
    w, b, losses = summary
    picture = _line_picture(inputs, least_squares_line=(w_ls, b_ls), MSELoss_fit=(w, b))
    gap_ls, gap_true = _line_gap(w, b, w_ls, b_ls), _line_gap(w, b, inputs["w"], inputs["b"])
    if gap_ls <= L2_CONVERGED and gap_true >= L2_PULL:
        return Verdict.ok(curves=picture)
    if losses.size and losses[-1] > losses[0]:
        hint = "the loss grows: check the sign of MSELoss.backward."
    elif gap_true < L2_PULL:
        hint = ("the MSE fit ignores the outliers, but squaring makes far points pull hardest: is "
                "MSELoss.backward 2 (Y_hat - Y) / N, proportional to the residual?")
    else:
        hint = "the MSE fit should reach the least-squares line: check MSELoss.backward = 2 (Y_hat - Y) / N."
    return Verdict(
        False,
        f"the MSE fit is {gap_ls:.3g} away from the least-squares line and {gap_true:.3g} from the true line "
        f"(expected within {L2_CONVERGED:g} of least squares, pulled at least {L2_PULL:g} from the true line)",
        hint,
        (f"fitted y = {w:.4g} x + {b:.4g}; least squares y = {w_ls:.4g} x + {b_ls:.4g}",),
        picture,
    )


# ----------------------------------------------------------------------------- exercise: Gaussian MLE


def _unit_variance_case(seed: int) -> Case:
    rng = np.random.default_rng(seed)
    shapes = [(5, 1), (4, 3), (7, 4)]
    mus = [rng.standard_normal(shape) for shape in shapes]
    Ys = [mu + rng.standard_normal(mu.shape) for mu in mus]
    return Case("shapes " + ", ".join(f"N={n}, D={d}" for n, d in shapes), {"mus": mus, "Ys": Ys})


def _run_unit_variance(impl, x):
    facts = {}
    for index, (mu, Y) in enumerate(zip(x["mus"], x["Ys"])):
        facts[f"{index}/mse"] = _forward(impl.function(MODULE, "MSELoss")(), MSE, {"Y_hat": mu, "Y": Y})
        for full in (False, True):
            loss = impl.function(MODULE, "GaussianNLLLoss")(full=full)
            facts[f"{index}/nll full={full}"] = loss.forward(mu, Y)
    return {key: as_number_array(value, key) for key, value in facts.items()}


def _assess_unit_variance(facts, inputs) -> Verdict:
    for index, mu in enumerate(inputs["mus"]):
        mse = float(facts[f"{index}/mse"])
        D = mu.shape[1]
        for full in (False, True):
            nll = np.asarray(facts[f"{index}/nll full={full}"], dtype=np.float64)
            constant = 0.5 * D * math.log(2 * math.pi) if full else 0.0
            if compare(nll, mse / 2 + constant).matches:
                continue
            if compare(nll, mse + constant).matches:
                hint = "each element's loss with unit variance is 0.5 * (y - mu)**2: half the squared error."
            elif full and compare(nll, mse / 2 + 0.5 * math.log(2 * math.pi)).matches:
                hint = ("the constant 0.5 * log(2 pi) belongs to every element: after the sum over K outputs "
                        "and the mean over samples it is (K / 2) * log(2 pi).")
            else:
                hint = ("with var=None, GaussianNLLLoss is 0.5 * (y - mu)**2 per element, reduced like the MSE "
                        "(sum over outputs, mean over samples): MSE / 2, plus (D/2) log(2 pi) with full=True.")
            return Verdict(
                False,
                f"with unit variance and full={full}, the NLL is not MSE / 2 + {constant:.6g} for D={D}",
                hint,
                (f"your NLL {float(nll):.10g}; your MSE / 2 + {constant:.6g} = {mse / 2 + constant:.10g}",),
            )
    return Verdict.ok()


def _heteroscedastic_case(seed: int, n: int = 400) -> Case:
    rng = np.random.default_rng(seed)
    w, b, u, v = 1.5, -0.5, 1.6, -1.4
    x = rng.uniform(-1.0, 1.0, n)
    y = w * x + b + np.exp(0.5 * (u * x + v)) * rng.standard_normal(n)
    return Case(f"{n} points, noise std growing from {math.exp(0.5 * (v - u)):.2f} to {math.exp(0.5 * (v + u)):.2f}",
                {"x": x, "y": y, "u": u, "v": v, "lr": 0.2, "steps": 300}, n)


#: The learned noise level (std) must be within this factor of the true one everywhere on [-1, 1].
STD_FACTOR = 1.25


def _run_fit_heteroscedastic(impl, x):
    loss = impl.function(MODULE, "GaussianNLLLoss")()
    fit = impl.function(MODULE, "fit_heteroscedastic")(loss, x["x"], x["y"], lr=x["lr"], steps=x["steps"])
    return {name: as_number_array(getattr(fit, name, None), name) for name in ("u", "v", "losses")}


def _assess_learned_variance(facts, inputs) -> Verdict:
    grid = np.linspace(-1.0, 1.0, 21)
    u, v = float(facts["u"]), float(facts["v"])
    losses = np.asarray(facts["losses"], dtype=np.float64).reshape(-1)
    if not (np.isfinite(u) and np.isfinite(v)) or not np.all(np.isfinite(losses)):
        return Verdict(False, "training the variance blew up (inf or NaN)",
                       "the variance ran away: check backward().var = 0.5 * (1/v - r**2/v**2) / N and "
                       "backward().mu = r / v / N of GaussianNLLLoss, signs included.")
    with np.errstate(over="ignore"):
        ratio = np.exp(0.5 * ((u - inputs["u"]) * grid + (v - inputs["v"])))
    worst = int(np.argmax(np.abs(np.log(ratio))))
    if abs(math.log(ratio[worst])) <= math.log(STD_FACTOR):
        return Verdict.ok()
    if losses[-1] > losses[0]:
        hint = "the loss grows: check the signs of backward().mu and backward().var."
    else:
        hint = ("the learned variance settles away from the noise level: the optimum of "
                "0.5 * (log v + r**2 / v) is v = r**2 on average, so check "
                "backward().var = 0.5 * (1/v - r**2/v**2) / N.")
    return Verdict(
        False,
        f"the learned noise level is off by a factor {ratio[worst]:.3g} at x = {grid[worst]:g} "
        f"(within {STD_FACTOR:g} expected everywhere on [-1, 1])",
        hint,
        (f"learned log var = {u:.4g} x + {v:.4g}; true log var = {inputs['u']:g} x + {inputs['v']:g}",),
    )


# ----------------------------------------------------------------------------- the cases


# The first case of a check is the one a consistent mistake is reported on: its N, D and 2 must
# differ, so that "N times", "divided by D" and "a factor 2" stay distinguishable.
REGRESSION_SHAPES = [(5, 3), (1, 4), (7, 1), (256, 10)]


def _regression_cases(first_seed: int, shapes, **kwargs) -> list[Case]:
    return [_regression_case(first_seed + i, n, d, **kwargs) for i, (n, d) in enumerate(shapes)]


MSE_PUBLIC = _regression_cases(100, REGRESSION_SHAPES)
L1_PUBLIC = _regression_cases(110, REGRESSION_SHAPES)
HUBER_PUBLIC = [  # the default delta = 1; other deltas are losses.huber.delta's concept
    _regression_case(120, 5, 3, scale=1.5),
    _regression_case(121, 1, 4, scale=1.5),
    _regression_case(124, 7, 1, scale=1.5),
    _regression_case(125, 256, 10, scale=2.5),
]
HUBER_DELTA = [_regression_case(122, 7, 3, delta=0.5, scale=1.5), _regression_case(123, 256, 10, delta=2.0, scale=2.5)]

# Cross-entropy: one concept per check, integer labels wherever the concept is not about targets.
CE_PUBLIC = [
    _classification_case(300, 5, 4),
    _classification_case(301, 1, 3),
    _classification_case(302, 7, 10),
    _classification_case(303, 256, 6),
]
CE_TARGETS = [
    _classification_case(310, 5, 4, targets="one_hot"),
    _classification_case(311, 6, 3, targets="soft"),
    _classification_case(312, 1, 5, targets="soft"),
]
CE_SMOOTHING = [
    _classification_case(320, 5, 4, label_smoothing=0.1),
    _classification_case(322, 9, 7, label_smoothing=0.5),
    _classification_case(323, 1, 3, label_smoothing=0.25),
]
CE_SMOOTHING_TARGETS = [
    _classification_case(321, 6, 3, targets="soft", label_smoothing=0.25),
    _classification_case(324, 5, 4, targets="one_hot", label_smoothing=0.5),
]
CE_LARGE_LOGITS = [_large_gap_case(330, 5, 4, 1000.0), _large_gap_case(331, 6, 3, 1e4)]
#: Logit scale 10 and 20: there log(softmax + 1e-12) is 18% and 46% off (tests/test_unit_losses.py);
#: and a true class 1000 below the others, whose probability underflows to 0 while its log is about -1000.
CE_SMALL_PROBABILITIES = [
    _classification_case(341, 5, 4, scale=10.0),
    _classification_case(336, 7, 10, scale=20.0),
    _far_below_case(337, 4, 3),
]
CE_ROW_LEVELS = [_row_levels_case(340, 6, 4), _row_levels_case(342, 5, 3)]

BCE_PUBLIC = [_binary_case(400, 5, 1), _binary_case(401, 1, 1), _binary_case(402, 7, 3),
              _binary_case(403, 256, 1)]
BCE_TARGETS = [_binary_case(404, 6, 3, soft=True), _binary_case(405, 1, 1, soft=True)]
BCE_LARGE_LOGITS = [_binary_case(410, 6, 1, size=1000.0), _binary_case(411, 5, 2, size=1e4)]

GAUSSIAN_PUBLIC = [  # a learned variance, full=False
    _gaussian_case(501, 5, 3),
    _gaussian_case(505, 1, 4),
    _gaussian_case(504, 256, 2),
]
GAUSSIAN_UNIT_VARIANCE = [_gaussian_case(500, 5, 3, learned=False), _gaussian_case(506, 1, 4, learned=False)]
GAUSSIAN_FULL = [_gaussian_case(507, 4, 3, full=True), _gaussian_case(503, 1, 4, full=True)]
GAUSSIAN_CLAMP = [
    _gaussian_case(510, 6, 3, below_eps=True),
    _gaussian_case(511, 5, 2, eps=0.1, var_range=(0.05, 1.0), below_eps=True),
]


UNIT = Unit(
    name="losses",
    title="Unit 3: losses (손실 함수)",
    module=MODULE,
    checks=(
        *_loss_checks(
            MSE,
            title="the note's MSE (회귀), sum over outputs, mean over samples",
            public=MSE_PUBLIC,
            gradient_cases=[MSE_PUBLIC[0], _regression_case(130, 64, 8)],
            mistakes=MSE_MISTAKES,
        ),
        *_loss_checks(
            L1,
            title="mean absolute error, sum over outputs, mean over samples",
            public=L1_PUBLIC,
            gradient_cases=[_regression_case(131, 5, 3, avoid=(0.0,)), _regression_case(132, 64, 8, avoid=(0.0,))],
            mistakes=L1_MISTAKES,
            more_cases=(
                MoreCases("zero_residual", "L1Loss.backward uses the subgradient 0 where Y_hat == Y", 1,
                          [_tied_case(140, 5, 3), _tied_case(141, 40, 2)], outputs=("backward()",)),
            ),
        ),
        *_loss_checks(
            HUBER,
            title="Huber, quadratic within delta, linear beyond (the default delta = 1)",
            public=HUBER_PUBLIC,
            gradient_cases=[_regression_case(150, 5, 3, scale=1.5, avoid=(1.0,)),
                            _regression_case(151, 40, 4, scale=1.5, avoid=(1.0,))],
            mistakes=HUBER_MISTAKES,
            more_cases=(
                MoreCases("delta", "HuberLoss(delta).forward switches from quadratic to linear at |r| = delta "
                          "(0.5, 2)", 1, HUBER_DELTA, outputs=FORWARD),
                MoreCases("delta_backward", "HuberLoss(delta).backward clips the gradient at +-delta (0.5, 2)", 1,
                          HUBER_DELTA, outputs=("backward()",)),
            ),
        ),
        *_loss_checks(
            CE,
            title="cross-entropy (분류) from logits with integer class labels, mean over samples",
            public=CE_PUBLIC,
            gradient_cases=[CE_PUBLIC[0], _classification_case(160, 7, 3)],
            mistakes=ALL_CE_MISTAKES,
            # smoothing soft targets in place (Y *= 1 - eps) shows only with both options on
            also_unchanged=CE_SMOOTHING_TARGETS[0],
            more_cases=(
                MoreCases("targets", "CrossEntropyLoss.forward with probability targets: one-hot and soft rows", 2,
                          CE_TARGETS, outputs=FORWARD),
                MoreCases("label_smoothing",
                          "CrossEntropyLoss(label_smoothing=eps).forward with integer labels: torch's "
                          "q = (1 - eps) y + eps / C", 2, CE_SMOOTHING, outputs=FORWARD),
                MoreCases("label_smoothing_backward",
                          "CrossEntropyLoss(label_smoothing=eps).backward uses the same smoothed q: (softmax - q) / N",
                          1, CE_SMOOTHING, outputs=("backward()",)),
                MoreCases("label_smoothing_targets",
                          "CrossEntropyLoss(label_smoothing=eps).forward smooths probability targets too", 1,
                          CE_SMOOTHING_TARGETS, outputs=FORWARD, mistakes=SMOOTHING_TARGETS_MISTAKES),
                MoreCases("large_logits",
                          "CrossEntropyLoss.forward is finite and exact for logit gaps of 1000 to 2e4 (integer labels)",
                          1, CE_LARGE_LOGITS, outputs=FORWARD),
                MoreCases("small_probabilities",
                          "CrossEntropyLoss.forward takes the exact log of tiny probabilities (logits of scale 10 "
                          "and 20, a true class 1000 below; integer labels)", 1, CE_SMALL_PROBABILITIES,
                          outputs=FORWARD),
                MoreCases("row_max",
                          "CrossEntropyLoss.forward shifts each row by its own max (rows at levels from -100 to 700; "
                          "integer labels)", 1, CE_ROW_LEVELS, outputs=FORWARD, mistakes=ROW_MAX_MISTAKES),
            ),
        ),
        *_loss_checks(
            BCE,
            title="binary cross-entropy from logits (two classes), 0/1 labels, sum over outputs, mean over samples",
            public=BCE_PUBLIC,
            gradient_cases=[BCE_PUBLIC[0], _binary_case(170, 6, 3)],
            mistakes=ALL_BCE_MISTAKES,
            more_cases=(
                MoreCases("probability_targets", "BCEWithLogitsLoss.forward with probability targets in [0, 1]", 1,
                          BCE_TARGETS, outputs=FORWARD),
                MoreCases("large_logits", "BCEWithLogitsLoss.forward is finite and exact for logits of +-1000 and "
                          "+-1e4 (0/1 labels)", 1, BCE_LARGE_LOGITS, outputs=FORWARD),
            ),
            extra=(
                _no_warnings_check(
                    "losses.bce.no_overflow_warnings", BCE, "BCEWithLogitsLoss", STABLE_BCE_HINT, BCE_LARGE_LOGITS[1],
                    description="BCEWithLogitsLoss at logits of +-1e4: finite, and no overflow warnings",
                    points=1,
                ),
            ),
        ),
        *_loss_checks(
            GAUSSIAN,
            title="Gaussian NLL (확률 기반) with a learned variance, sum over outputs, mean over samples",
            public=GAUSSIAN_PUBLIC,
            gradient_cases=[_gaussian_case(181, 6, 3, var_range=(0.3, 2.0)),
                            _gaussian_case(182, 64, 4, var_range=(0.3, 2.0))],
            mistakes=GAUSSIAN_MISTAKES,
            unchanged_case=GAUSSIAN_CLAMP[0],
            gradient_of="mu and var",
            more_cases=(
                MoreCases("unit_variance", "GaussianNLLLoss with var=None: unit variance, 0.5 r**2 per element", 1,
                          GAUSSIAN_UNIT_VARIANCE),
                MoreCases("full", "GaussianNLLLoss(full=True).forward adds 0.5 log(2 pi) per element", 1, GAUSSIAN_FULL,
                          outputs=FORWARD),
                MoreCases("clamp", "GaussianNLLLoss.forward clamps var at eps (var = 0 and 0 < var < eps)", 1,
                          GAUSSIAN_CLAMP, outputs=FORWARD),
                MoreCases("clamp_gradient",
                          "GaussianNLLLoss.backward uses the clamped v, and passes the var gradient straight through "
                          "the clamp as torch", 1, GAUSSIAN_CLAMP, outputs=("backward().mu", "backward().var")),
            ),
        ),
        ConvergenceCheck(
            "losses.outliers.l1_stays_close",
            description=f"fit_line with L1Loss stays within {L1_MARGIN:g} of the true line despite outliers",
            points=2,
            run=_run_fit_line("L1Loss"),
            assess=_assess_l1_close,
            case=_outlier_case(600),
            timeout_s=10.0,
            depends_on=("losses.l1",),
        ),
        ConvergenceCheck(
            "losses.outliers.l2_pulled_away",
            description=f"fit_line with MSELoss reaches least squares, pulled at least {L2_PULL:g} away by the outliers",
            points=1,
            run=_run_fit_line("MSELoss"),
            assess=_assess_l2_pulled,
            case=_outlier_case(600),
            timeout_s=10.0,
            depends_on=("losses.mse",),
        ),
        PropertyCheck(
            "losses.relative_logits.shift_invariance",
            description="adding a constant to each row of logits changes neither the loss nor the gradient",
            points=1,
            run=_run_shifted,
            assess=_assess_shift_invariance,
            case=Case("N=6, C=5, row shifts in [-30, 30]", {
                **_classification_case(700, 6, 5).inputs,
                "shift": np.random.default_rng(701).uniform(-30.0, 30.0, 6),
            }, 6),
            depends_on=("losses.ce",),
        ),
        _no_warnings_check(
            "losses.relative_logits.no_overflow_warnings", CE, "CrossEntropyLoss", STABLE_SOFTMAX_HINT,
            _large_gap_case(710, 6, 4, 1e4),
            description="CrossEntropyLoss at logit gaps of 1e4 and 2e4: finite, and no overflow warnings",
            points=2,
            depends_on=("losses.ce",),
        ),
        PropertyCheck(
            "losses.gaussian_mle.unit_variance",
            description="with unit variance, GaussianNLLLoss = MSELoss / 2 (+ (D/2) log 2 pi with full=True)",
            points=1,
            run=_run_unit_variance,
            assess=_assess_unit_variance,
            case=_unit_variance_case(800),
            depends_on=("losses.mse", "losses.gaussian_nll"),
        ),
        ConvergenceCheck(
            "losses.gaussian_mle.learned_variance",
            description=f"fit_heteroscedastic learns the noise level within a factor {STD_FACTOR:g} on [-1, 1]",
            points=2,
            run=_run_fit_heteroscedastic,
            assess=_assess_learned_variance,
            case=_heteroscedastic_case(810),
            timeout_s=10.0,
            depends_on=("losses.gaussian_nll",),
        ),
    ),
)
