"""Fresh inputs: a public reference check is also graded on inputs the student release does not hold.

A student release judges its public reference checks against ``public_fixtures.agw.gz``, the
reference's outputs on the public inputs, which students can read. Code that returns those stored
outputs (keyed by the bytes or the shape of its inputs) passes those checks without computing
anything. So wherever the grader has the real reference (``solutions/``: the instructor's grading,
and ``autograder check`` in the course repository), each such check runs its probe twice, on its
public cases and on **fresh cases**, and passes only if it passes on both. Same check, same id,
same points: a replay simply earns nothing there.

Where the fresh inputs come from: every public case is built by a :func:`~.cases.case_builder`
drawing from :func:`~.cases.case_rng`; a fresh case is the same builder call redrawn with a
**salt** mixed into its seed (:func:`~.cases.redrawn`). The salt is a constant of the hidden-check
package (``autograder/units/hidden``: ``FRESH_INPUT_SALT``), which the release leaves out, like
the hidden checks' seeds. Hence:

* reproducible: a fixed salt gives the same inputs bit for bit, on every machine and every
  regrade (nothing depends on time, load or process);
* absent from the release: without the salt the fresh inputs cannot be drawn (a 64-bit secret;
  knowing the builders does not help), and the release's fixtures never hold their outputs
  (:mod:`autograder.fixtures` drops them, and its fingerprints ignore them);
* the same kind of input: same shapes, same distributions, same deliberate edge cases (ties,
  zeros, values near 1e160), because the same builder draws them; inputs a builder takes as given
  (a fixed schedule, a fixed starting point) stay as they are.

The fresh cases are probed in the same child as the public ones (the outputs carry the prefix
``fresh:``) and judged by a copy of the check whose cases are the fresh ones, so every kind of
reference check (plain, trajectories) is judged by its own rules. A grader without the salt (a
release) or a reference without fresh outputs (fixtures) judges the public cases only.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Iterable

from ..checks import Check, Outputs, Verdict, Visibility
from ..sandbox import Implementation
from .cases import Case, redrawn

#: Output keys of the fresh cases: ``fresh:<case index>/<output>``.
PREFIX = "fresh:"
#: The attribute holding a check's twin on fresh inputs (left out of fixture fingerprints).
TWIN = "fresh_twin"

MESSAGE = ("your code gives the expected answers on the published inputs but not on other inputs of the same shape: "
           "does it return stored answers or depend on the exact test inputs?")


def give_fresh_inputs(checks: Iterable[Check], salt: int) -> int:
    """Gives each public reference check with cases a twin on its cases redrawn with ``salt``; the
    number of checks given one. A case shared by several checks is redrawn once."""
    redrawn_cases: dict[int, Case] = {}
    given = 0
    for check in checks:
        cases = getattr(check, "cases", None)
        if not (check.needs_reference and check.visibility is Visibility.PUBLIC and cases):
            continue
        fresh = [redrawn_cases.setdefault(id(case), _relabelled(redrawn(case, salt))) for case in cases]
        twin = copy.copy(check)
        twin.cases = fresh
        setattr(check, TWIN, twin)
        given += 1
    return given


def _relabelled(case):
    """A redrawn case's label says so: the label is the public case's, and any number in it (a
    learning rate, a min_delta) may have been redrawn too; shapes are kept."""
    if isinstance(case, Case):
        return dataclasses.replace(case, label=f"{case.label} (values redrawn)")
    return case


def twin_of(check: Check) -> Check | None:
    """The check on fresh inputs, or None (a release, a hidden check, a check without reference)."""
    return getattr(check, TWIN, None)


def probe(check: Check, impl: Implementation) -> Outputs:
    """The check's probe on its public cases, then on its fresh ones (keys prefixed ``fresh:``)."""
    outputs = dict(check.probe(impl))
    twin = twin_of(check)
    if twin is not None:
        outputs.update({PREFIX + key: value for key, value in twin.probe(impl).items()})
    return outputs


def public_part(outputs: Outputs | None) -> Outputs | None:
    """The outputs of the public cases only (what fixtures hold, and what the public judge sees)."""
    if outputs is None:
        return None
    return {key: value for key, value in outputs.items() if not key.startswith(PREFIX)}


def fresh_part(outputs: Outputs) -> dict[str, object]:
    return {key[len(PREFIX):]: value for key, value in outputs.items() if key.startswith(PREFIX)}


def judge(check: Check, student: Outputs, reference: Outputs | None) -> Verdict:
    """The public verdict; when it passes and the reference holds fresh outputs (``solutions/``,
    not fixtures), the fresh cases must pass too. A failure only there says so plainly, with the
    fresh case's worst element, and keeps a hint only when it names a mistake of the check's own
    (a generic diagnosis of replayed numbers would blame a formula that is right)."""
    verdict = check.judge(public_part(student), public_part(reference))
    twin = twin_of(check)
    fresh_reference = fresh_part(reference) if reference else {}
    if not verdict.passed or twin is None or not fresh_reference:
        return verdict
    fresh = twin.judge(fresh_part(student), fresh_reference)
    if fresh.passed:
        return verdict
    if fresh.message.startswith("grader error"):
        return fresh
    hint = None if fresh.generic_hint else fresh.hint
    # The twin's message names the case by its label: the public case's, marked "(values redrawn)".
    return Verdict(False, MESSAGE, hint, (f"on other inputs of that kind: {fresh.message}", *fresh.details),
                   curves=verdict.curves)
