"""Property checks: facts about the student's code that need no reference values.

``run(impl, inputs)`` executes in the sandbox and returns raw facts (arrays, numbers, flags), for
example the input arrays as they are *after* the call. ``assess(facts, inputs)`` runs in the
trusted parent and decides, for example by comparing those arrays with the parent's own copies.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from ..checks import Check, Outputs, Verdict
from ..sandbox import Implementation
from .cases import Case, as_number_array, fresh_copy

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


class InputsUnchangedCheck(PropertyCheck):
    """``call(impl, inputs)`` must leave every array among ``inputs`` unchanged.

    The probe sends back the arrays as they are after the call; the parent compares them with its
    own copies (so a student cannot fake the comparison). ``function`` names the culprit.
    Array lists (e.g. a list of weight matrices) are checked element by element.
    """

    def __init__(self, id: str, *, call: Callable[[Implementation, Mapping[str, Any]], Any], function: str, **kwargs):
        self.function_name = function
        super().__init__(id, run=self._run(call), assess=self._assess, **kwargs)

    @staticmethod
    def _run(call):
        def run(impl, inputs):
            outputs = call(impl, inputs)
            # Leaving the inputs alone earns nothing when the result itself is unusable.
            if isinstance(outputs, Mapping):
                for name, value in outputs.items():
                    as_number_array(value, name)
            return dict(_arrays_of(inputs))

        return run

    def _assess(self, facts, inputs) -> Verdict:
        for key, original in _arrays_of(inputs):
            after = facts.get(key)
            if after is None or np.shape(after) != original.shape or not np.array_equal(after, original):
                name = key.split("[")[0]
                return Verdict(
                    False,
                    f"{self.function_name} changed its argument {name} in place",
                    f"build new arrays (e.g. W - lr * dW) instead of updating {name} with -=, += or "
                    "index assignment; the caller still needs the original values.",
                )
        return Verdict.ok()


def _arrays_of(inputs: Mapping[str, Any]):
    for name, value in inputs.items():
        if isinstance(value, np.ndarray):
            yield name, value
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                if isinstance(item, np.ndarray):
                    yield f"{name}[{index}]", item
