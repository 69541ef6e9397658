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

    def probe(self, impl: Implementation) -> Outputs:
        outputs: dict[str, object] = {}
        for index, case in enumerate(self.cases):
            problem = self.build(impl, fresh_copy(case.inputs))
            for name, value in problem.params.items():
                analytic = as_number_array(problem.analytic[name], f"d{name}")
                if analytic.shape != value.shape:
                    raise ProbeError(
                        f"the gradient for {name} has shape {analytic.shape}, but {name} has shape {value.shape}"
                    )

                def along(x, name=name):
                    return _scalar(problem.forward({**problem.params, name: x}))

                evidence = probe_gradient(
                    along, value, analytic, seed=self._seed(index, name), n_directions=self.n_directions
                )
                prefix = f"{index}/{name}/"
                outputs.update({
                    prefix + "analytic": analytic.astype(np.float64),
                    prefix + "plus": evidence.forward_plus,
                    prefix + "minus": evidence.forward_minus,
                    prefix + "step": evidence.step,
                    prefix + "calls": evidence.n_forward_calls,
                    prefix + "localized_index": evidence.localized_index,
                    prefix + "localized_numeric": evidence.localized_numeric,
                })
        return outputs

    def judge(self, student: Outputs, reference: Outputs | None) -> Verdict:
        for key in [k for k in student if k.endswith("/analytic")]:
            index, name, _ = key.split("/")
            prefix = f"{index}/{name}/"
            try:
                evidence = GradientEvidence(
                    step=float(student[prefix + "step"]),
                    seed=self._seed(int(index), name),
                    forward_plus=np.asarray(student[prefix + "plus"], dtype=np.float64),
                    forward_minus=np.asarray(student[prefix + "minus"], dtype=np.float64),
                    n_forward_calls=int(student[prefix + "calls"]),
                    localized_index=int(student[prefix + "localized_index"]),
                    localized_numeric=float(student[prefix + "localized_numeric"]),
                )
            except (KeyError, TypeError, ValueError):
                return Verdict(False, "the gradient check's evidence is incomplete")
            analytic = np.asarray(student[key], dtype=np.float64)
            if evidence.forward_plus.shape != (self.n_directions,) or not np.isfinite(evidence.step):
                return Verdict(False, "the gradient check's evidence is malformed")
            report = assess_gradient(evidence, analytic, rtol=GRADIENT_RTOL)
            if report.passed:
                continue
            case = self.cases[int(index)]
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
            hint = _ratio_hint(name, report, case.batch_size)
            return Verdict(
                False,
                f"your gradient for {name} is not the derivative of your forward pass{where}",
                hint,
                tuple(details),
            )
        return Verdict.ok()


def _scalar(value) -> float:
    """The forward pass's value as a float, or a ProbeError that says what came back instead."""
    array = as_number_array(value, "the loss")
    if array.size != 1:
        raise ProbeError(f"the loss should be a single number, but it has shape {array.shape}")
    return float(array.reshape(()))


def _ratio_hint(name: str, report, batch_size: int | None) -> str | None:
    numeric, analytic = report.numeric, report.analytic
    if not np.all(np.isfinite(analytic)):
        return f"d{name} contains inf or NaN."
    if np.all(np.abs(numeric) > 1e-12):
        ratios = analytic / numeric
        if np.allclose(ratios, ratios[0], rtol=1e-4) and abs(ratios[0] - 1) > 1e-3:
            factor = ratios[0]
            if abs(factor + 1) < 1e-4:
                return f"d{name} has the opposite sign of the true derivative."
            if batch_size and batch_size > 1 and abs(factor - batch_size) < 1e-4 * batch_size:
                return f"d{name} is N={batch_size} times too large (N is the batch size): divide by N once."
            if batch_size and batch_size > 1 and abs(factor * batch_size - 1) < 1e-4:
                return f"d{name} is N={batch_size} times too small (N is the batch size): did you average twice?"
            return f"d{name} looks off by a constant factor of about {factor:.4g}."
    return None
