"""Gradient check: the student's backward against central differences of the student's forward."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from ..checks import Check, Outputs, Verdict, Visibility
from ..gradcheck import GradientEvidence, assess_gradient, probe_gradient
from ..sandbox import Implementation, ProbeError
from ..tolerance import GRADIENT_RTOL
from .cases import Case, as_number_array, fresh_copy


@dataclass
class GradientProblem:
    """A scalar function of named parameters, with the gradients the student's backward claims.

    forward(params) -> float, where params maps each name to an array of that parameter's shape.
    """

    forward: Callable[[Mapping[str, np.ndarray]], float]
    params: Mapping[str, np.ndarray]
    analytic: Mapping[str, Any]


Build = Callable[[Implementation, Mapping[str, Any]], GradientProblem]

#: Extra directions probed only when a gradient fails, so that a ratio is called constant on
#: 2 + 6 independent directions rather than 2 (12 more forward calls, on failure only).
CONFIRM_DIRECTIONS = 6
#: How many directions must agree before a hint names a factor.
MIN_RATIO_EVIDENCE = 6


class GradientCheck(Check):
    """For every case and every parameter: directional finite differences agree with the backward.

    Needs no reference: the student's backward is held to the student's own forward, so this check
    says "your backward is not the derivative of your forward", independently of the reference.
    """

    needs_reference = False

    def __init__(self, id: str, *, build: Build, cases: list[Case], n_directions: int = 2, **common):
        super().__init__(id, **common)
        self.build = build
        self.cases = cases
        self.n_directions = n_directions

    def _seed(self, index: int, name: str) -> int:
        # Directions must not share a seed with the inputs; derive one from the check id.
        return zlib.crc32(f"{self.id}/{index}/{name}".encode())

    def _confirm_seed(self, index: int, name: str) -> int:
        return zlib.crc32(f"{self.id}/{index}/{name}/confirm".encode())

    def probe(self, impl: Implementation) -> Outputs:
        outputs: dict[str, object] = {}
        for index, case in enumerate(self.cases):
            problem = self.build(impl, fresh_copy(case.inputs))
            outputs[f"{index}/params"] = ",".join(problem.params)
            for name, value in problem.params.items():
                raw = as_number_array(problem.analytic[name], f"d{name}")
                analytic = raw.astype(np.float64)
                if analytic.shape != value.shape:
                    raise ProbeError(
                        f"the gradient for {name} has shape {analytic.shape}, but {name} has shape {value.shape}"
                    )
                low_precision = [_is_low_precision(raw)]

                def along(x, name=name):
                    value = as_number_array(problem.forward({**problem.params, name: x}), "the loss")
                    low_precision[0] = low_precision[0] or _is_low_precision(value)
                    return _scalar(value)

                evidence = probe_gradient(
                    along, value, analytic, seed=self._seed(index, name), n_directions=self.n_directions
                )
                prefix = f"{index}/{name}/"
                outputs.update({
                    prefix + "analytic": analytic,
                    prefix + "plus": evidence.forward_plus,
                    prefix + "minus": evidence.forward_minus,
                    prefix + "step": evidence.step,
                    prefix + "calls": evidence.n_forward_calls,
                    prefix + "localized_index": evidence.localized_index,
                    prefix + "localized_numeric": evidence.localized_numeric,
                })
                if evidence.localized_index >= 0:
                    # It failed: a few more directions, so that the judge may call the backward
                    # "off by a constant factor" only when many independent directions agree.
                    confirm = probe_gradient(along, value, analytic, seed=self._confirm_seed(index, name),
                                             n_directions=CONFIRM_DIRECTIONS, localize_on_failure=False)
                    outputs[prefix + "confirm_plus"] = confirm.forward_plus
                    outputs[prefix + "confirm_minus"] = confirm.forward_minus
                outputs[prefix + "float32"] = bool(low_precision[0])
        return outputs

    def judge(self, student: Outputs, reference: Outputs | None) -> Verdict:
        # Fails closed: every case must list its parameters, and every parameter must come with its
        # complete evidence; no evidence at all is a failure, never a pass.
        for index, case in enumerate(self.cases):
            names = student.get(f"{index}/params")
            if not isinstance(names, str) or not names:
                return Verdict(False, "the gradient check's evidence is incomplete")
            for name in names.split(","):
                verdict = self._judge_one(student, index, name, case)
                if verdict is not None:
                    return verdict
        return Verdict.ok()

    def _judge_one(self, student: Outputs, index: int, name: str, case: Case) -> Verdict | None:
        """None when d``name`` of case ``index`` is the derivative of the forward; else the verdict."""
        prefix = f"{index}/{name}/"
        try:
            evidence = GradientEvidence(
                step=float(student[prefix + "step"]),
                seed=self._seed(index, name),
                forward_plus=np.asarray(student[prefix + "plus"], dtype=np.float64),
                forward_minus=np.asarray(student[prefix + "minus"], dtype=np.float64),
                n_forward_calls=int(student[prefix + "calls"]),
                localized_index=int(student[prefix + "localized_index"]),
                localized_numeric=float(student[prefix + "localized_numeric"]),
            )
            analytic = np.asarray(student[prefix + "analytic"], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            return Verdict(False, "the gradient check's evidence is incomplete")
        if (
            evidence.forward_plus.shape != (self.n_directions,)
            or evidence.forward_minus.shape != (self.n_directions,)
            or not np.isfinite(evidence.step)
            or evidence.step <= 0
            or analytic.size == 0
            or evidence.localized_index >= analytic.size
        ):
            return Verdict(False, "the gradient check's evidence is malformed")
        report = assess_gradient(evidence, analytic, rtol=GRADIENT_RTOL)
        if report.passed:
            return None
        where = f" for {case.label}" if self.visibility is Visibility.PUBLIC and case.label else ""
        details = [
            f"directional derivatives: finite differences {np.array2string(report.numeric, precision=6)}, "
            f"your backward {np.array2string(report.analytic, precision=6)}"
        ]
        if report.worst_index is not None:
            element = f"d{name}[{', '.join(map(str, report.worst_index))}]"
            details.append(
                f"worst element {element}: your backward gives {report.worst_analytic:.6g}, "
                f"finite differences of your forward give {report.worst_numeric:.6g}"
            )
        if student.get(prefix + "float32"):
            hint = (
                f"your forward pass or d{name} is float32: float32 rounds at about 1e-7 of the loss, which "
                "finite differences (a step of about 1e-5) magnify into errors near 1e-2; keep every "
                "computation in float64."
            )
        else:
            hint = _ratio_hint(name, *self._all_directions(student, prefix, evidence, report, analytic),
                               case.batch_size)
        return Verdict(
            False,
            f"your gradient for {name} is not the derivative of your forward pass{where}",
            hint,
            tuple(details),
            generic_hint=True,
        )

    def _all_directions(self, student, prefix, evidence, report, analytic) -> tuple[np.ndarray, np.ndarray]:
        """(numeric, analytic) directional derivatives over the checked directions and, when sent,
        the confirmation directions (all of them, or none: a partial set proves nothing)."""
        numeric, projected = report.numeric, report.analytic
        try:
            plus = np.asarray(student[prefix + "confirm_plus"], dtype=np.float64)
            minus = np.asarray(student[prefix + "confirm_minus"], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            return numeric, projected
        if plus.shape != (CONFIRM_DIRECTIONS,) or minus.shape != plus.shape:
            return numeric, projected
        index, name = prefix.split("/")[:2]
        confirm = assess_gradient(
            GradientEvidence(evidence.step, self._confirm_seed(int(index), name), plus, minus, 0), analytic
        )
        return np.concatenate([numeric, confirm.numeric]), np.concatenate([projected, confirm.analytic])


def _is_low_precision(array: np.ndarray) -> bool:
    return bool(np.issubdtype(array.dtype, np.floating) and array.dtype.itemsize < 8)


def _scalar(value) -> float:
    """The forward pass's value as a float, or a ProbeError that says what came back instead."""
    array = as_number_array(value, "the loss")
    if array.size != 1:
        raise ProbeError(f"the loss should be a single number, but it has shape {array.shape}")
    return float(array.reshape(()))


def _ratio_hint(name: str, numeric: np.ndarray, analytic: np.ndarray, batch_size: int | None) -> str | None:
    """Names a constant factor between the backward and the true derivative, only when at least
    MIN_RATIO_EVIDENCE independent directions (each with a derivative clearly away from 0) agree on
    it to 1e-4; two directions agreeing is too weak to call a ratio constant. None otherwise."""
    if not np.all(np.isfinite(analytic)):
        return f"d{name} contains inf or NaN."
    if not np.all(np.isfinite(numeric)):
        return None  # the forward itself overflowed: nothing to say about the backward
    scale = float(np.max(np.abs(numeric))) if numeric.size else 0.0
    if numeric.size < MIN_RATIO_EVIDENCE or scale == 0.0 or not np.all(np.abs(numeric) > 1e-6 * scale):
        return None
    ratios = analytic / numeric
    factor = float(np.median(ratios))
    if not np.isfinite(factor) or not np.allclose(ratios, factor, rtol=1e-4, atol=0.0) or abs(factor - 1) <= 1e-3:
        return None
    if abs(factor + 1) < 1e-4:
        return f"d{name} has the opposite sign of the true derivative."
    if batch_size and batch_size > 1 and abs(factor - batch_size) < 1e-4 * batch_size:
        return f"d{name} is N={batch_size} times too large (N is the batch size): divide by N once."
    if batch_size and batch_size > 1 and abs(factor * batch_size - 1) < 1e-4:
        return f"d{name} is N={batch_size} times too small (N is the batch size): did you average twice?"
    if abs(factor) < 1e-6:
        return None
    return f"d{name} looks off by a constant factor of about {factor:.4g}."
