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
from .cases import Case, as_number_array, call_recording_warnings, fresh_copy

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
        # Fails closed: facts that are not there prove nothing (each ``assess`` must also treat a
        # missing fact as a failure, e.g. ``facts.get(key)`` compared, never defaulted to a pass).
        if not student:
            return Verdict(False, "the check received no facts from your code")
        return self.assess(student, self.case.inputs)


class InputsUnchangedCheck(PropertyCheck):
    """``call(impl, inputs)`` must leave every array among ``inputs`` unchanged.

    The probe sends back the arrays as they are after the call; the parent compares them with its
    own copies (so a student cannot fake the comparison). ``function`` names the culprit.
    Array lists (e.g. a list of weight matrices) are checked element by element.
    """

    #: What to do instead, with ``{name}`` for the argument; a unit may give its own.
    DEFAULT_HINT = (
        "build new arrays (e.g. W - lr * dW) instead of updating {name} with -=, += or index "
        "assignment; the caller still needs the original values."
    )

    def __init__(self, id: str, *, call: Callable[[Implementation, Mapping[str, Any]], Any], function: str,
                 hint: str = DEFAULT_HINT, **kwargs):
        self.function_name = function
        self.hint = hint
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
                    False, f"{self.function_name} changed its argument {name} in place", self.hint.format(name=name)
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


#: numpy's warning text -> what happened, most specific first (shown as the start of the hint).
WARNING_CAUSES = (
    ("overflow encountered in exp", "np.exp overflowed (exp of a number above ~709 is inf)"),
    ("overflow", "a number overflowed float64's range"),
    ("divide by zero encountered in log", "np.log was given 0"),
    ("divide by zero", "a division by zero"),
    ("invalid value", "an inf - inf, 0 * inf or inf / inf made a NaN"),
)


class NoWarningsCheck(PropertyCheck):
    """``call(impl, inputs)`` on extreme inputs must return finite numbers and raise no numpy
    warning (overflow, invalid value, division by zero; underflow to 0 is fine and not recorded).

    A warning is more than noise: the value it warns about often becomes inf or NaN, and nbgrader
    scores a notebook cell 0 when anything reaches stderr. ``subject`` names what was called
    ("Sigmoid.forward / backward at +-1000"); ``advice`` says how to compute it stably.
    """

    def __init__(self, id: str, *, call: Callable[[Implementation, Mapping[str, Any]], Mapping[str, Any]],
                 subject: str, advice: str, **kwargs):
        self.subject, self.advice = subject, advice
        super().__init__(id, run=self._run(call), assess=self._assess, **kwargs)

    @staticmethod
    def _run(call):
        def run(impl, inputs):
            results, caught = call_recording_warnings(lambda: call(impl, inputs))
            facts = {f"result/{name}": as_number_array(value, name) for name, value in results.items()}
            facts["warnings"] = "\n".join(caught)[:2000]
            return facts

        return run

    def _assess(self, facts, inputs) -> Verdict:
        # (call_recording_warnings leaves underflow out; filtered again for facts recorded otherwise)
        results = [value for key, value in facts.items() if key.startswith("result/")]
        if "warnings" not in facts or not results:
            return Verdict(False, f"{self.subject}: the check received no result from your code")
        raised = [line for line in str(facts.get("warnings") or "").splitlines()
                  if line.strip() and "underflow" not in line]
        finite = all(np.all(np.isfinite(np.asarray(value, dtype=np.float64)))
                     for value in results)
        if finite and not raised:
            return Verdict.ok()
        what = "returned inf or NaN" if not finite else "raised a numpy warning"
        cause = next((cause for fragment, cause in WARNING_CAUSES if fragment in " ".join(raised)),
                     "a number ran out of float64's range")
        return Verdict(
            False,
            f"{self.subject} {what}" + (f": {raised[0]}" if raised else ""),
            f"{cause}: {self.advice}",
            tuple(f"warning: {line}" for line in raised[:3]),
        )
