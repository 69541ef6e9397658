"""Convergence checks: a short seeded training run must reach a target within a step budget.

The probe runs the student's training loop and returns its final parameters and loss history; the
trusted parent compares them with a target it computes itself (for example the closed-form
least-squares solution) and keeps the loss curve so the feedback can plot it.
"""

from __future__ import annotations

import numpy as np

from ..checks import Outputs, Verdict
from .properties import PropertyCheck


class ConvergenceCheck(PropertyCheck):
    """A :class:`PropertyCheck` whose probe returns a training curve under the key ``curve_key``.

    The curve is attached to the verdict (passed or not), so a front end can draw it.
    """

    def __init__(self, id: str, *, curve_key: str = "losses", **kwargs):
        super().__init__(id, **kwargs)
        self.curve_key = curve_key

    def judge(self, student: Outputs, reference: Outputs | None) -> Verdict:
        verdict = super().judge(student, reference)
        curve = student.get(self.curve_key)
        if curve is None or np.ndim(curve) != 1:
            return verdict
        values = tuple(float(v) for v in np.asarray(curve, dtype=np.float64))
        return Verdict(
            verdict.passed,
            verdict.message,
            verdict.hint,
            verdict.details,
            {**verdict.curves, self.curve_key: values},
        )
