"""Reference comparison: the student's outputs against the reference's on the same inputs."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from ..checks import Check, Outputs, Verdict, Visibility
from ..diagnosis import DiagnosisContext, KnownMistake, diagnose
from ..sandbox import Implementation
from ..tolerance import DEFAULT, Comparison, Tolerance, compare
from .cases import Case, as_number_array, fresh_copy

#: call(impl, inputs) -> {output name: value}; the same call runs on student and reference code.
Call = Callable[[Implementation, Mapping[str, Any]], Mapping[str, Any]]


class ReferenceCheck(Check):
    """Every case's outputs must match the reference's under ``tolerance``.

    On the first mismatch the verdict names the output, the worst element and its relative error
    (public checks), and a diagnosed hint: the check's ``known_mistakes`` first, then the generic
    diagnosis of :mod:`autograder.diagnosis`.
    """

    def __init__(
        self,
        id: str,
        *,
        call: Call,
        cases: list[Case],
        known_mistakes: tuple[KnownMistake, ...] = (),
        tolerance: Tolerance = DEFAULT,
        **common,
    ):
        super().__init__(id, **common)
        self.call = call
        self.cases = cases
        self.known_mistakes = known_mistakes
        self.tolerance = tolerance

    def probe(self, impl: Implementation) -> Outputs:
        outputs = {}
        for index, case in enumerate(self.cases):
            for name, value in self.call(impl, fresh_copy(case.inputs)).items():
                outputs[f"{index}/{name}"] = as_number_array(value, name)
        return outputs

    def judge(self, student: Outputs, reference: Outputs | None) -> Verdict:
        # Fails closed: no reference, or a reference without some case, is the grader's failure to
        # decide, which must never turn into points.
        if not reference or {key.split("/", 1)[0] for key in reference} != {str(i) for i in range(len(self.cases))}:
            return Verdict(False, "grader error: the reference outputs are missing or incomplete")
        for key, expected in reference.items():
            index, name = key.split("/", 1)
            case = self.cases[int(index)]
            received = student.get(key)
            if received is None:
                return Verdict(False, f"{name} was not returned")
            received = np.asarray(received)
            if not (np.issubdtype(received.dtype, np.number) or received.dtype == np.bool_):
                return Verdict(False, f"{name} should hold numbers, got {received.dtype} values")
            comparison = compare(received, expected, self.tolerance)
            if not comparison.matches:
                return self._mismatch(name, case, np.asarray(received), np.asarray(expected), comparison,
                                      site=(self.id, int(index)))
        return Verdict.ok()

    def _mismatch(self, name, case: Case, received, expected, comparison: Comparison,
                  site: tuple[str, int] | None = None) -> Verdict:
        public = self.visibility is Visibility.PUBLIC
        where = f" for {case.label}" if public and case.label else ""
        hint = diagnose(
            received,
            expected,
            DiagnosisContext(name, case.batch_size),
            inputs=case.inputs,
            known_mistakes=self.known_mistakes,
            tolerance=self.tolerance,
            site=site,  # (check id, case index): where a release finds an instructor answer precomputed
        )
        generic = hint is not None and hint not in {mistake.hint for mistake in self.known_mistakes}
        return Verdict(False, f"{name} does not match the reference{where}", hint, describe(name, comparison),
                       generic_hint=generic)


def describe(name: str, comparison: Comparison) -> tuple[str, ...]:
    """Human-readable lines for a failed comparison: shapes, or the worst element and counts."""
    if not comparison.shape_matches:
        return (f"expected shape {comparison.expected_shape}, got {comparison.received_shape}",)
    if comparison.n_total == 1 and comparison.expected_shape == ():
        return (
            f"expected {comparison.worst_expected:.6g}, got {comparison.worst_received:.6g} "
            f"(relative error {comparison.relative_error:.2g})",
        )
    index = ", ".join(str(i) for i in comparison.worst_index) if comparison.worst_index else ""
    element = f"{name}[{index}]" if index else name
    return (
        f"worst element {element}: expected {comparison.worst_expected:.6g}, "
        f"got {comparison.worst_received:.6g} (relative error {comparison.relative_error:.2g})",
        f"{comparison.n_mismatched} of {comparison.n_total} elements differ",
    )
