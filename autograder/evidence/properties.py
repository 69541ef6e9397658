"""Property checks: facts about the student's code that need no reference values.

``run(impl, inputs)`` executes in the sandbox and returns raw facts (arrays, numbers, flags), for
example the input arrays as they are *after* the call. ``assess(facts, inputs)`` runs in the
trusted parent and decides, for example by comparing those arrays with the parent's own copies.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ..checks import Check, Outputs, Verdict
from ..sandbox import Implementation
from .cases import Case, fresh_copy

Run = Callable[[Implementation, Mapping[str, Any]], Mapping[str, Any]]
Assess = Callable[[Outputs, Mapping[str, Any]], Verdict]


class PropertyCheck(Check):
    """A check whose verdict is ``assess(facts, case.inputs)`` for facts gathered by ``run``."""

    needs_reference = False

    def __init__(self, id: str, *, run: Run, assess: Assess, case: Case, **common):
        super().__init__(id, **common)
        self.run = run
        self.assess = assess
        self.case = case

    def probe(self, impl: Implementation) -> Outputs:
        return dict(self.run(impl, fresh_copy(self.case.inputs)))

    def judge(self, student: Outputs, reference: Outputs | None) -> Verdict:
        return self.assess(student, self.case.inputs)
