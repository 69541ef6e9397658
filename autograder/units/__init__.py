"""The course's units, in teaching order, and selection of checks by name.

A selector is a unit (``linear``), a part (``linear.predict``, or just ``predict`` when no other unit
has a part of that name) or a single check id (``linear.predict.values``).

A unit's public checks are declared in ``units/<unit>.py``, its hidden checks apart in
``units/hidden/<unit>.py`` (``CHECKS``), so that the student release can leave the hidden ones out
(docs/release.md). :func:`with_hidden_checks` puts them together: each part's public checks, then
its hidden ones. Where the hidden package is absent (a student release), units have public checks only.
Where it is present, its salt also gives every public reference check a twin on fresh inputs
(:mod:`autograder.evidence.fresh`).
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import replace

from ..checks import Check, Visibility
from ..evidence.fresh import give_fresh_inputs
from . import capstone, linear, losses, mlp, optimizers, techniques
from .unit import Unit

HIDDEN_PACKAGE = f"{__name__}.hidden"


def hidden_checks_of(unit: Unit) -> tuple[Check, ...]:
    """``CHECKS`` of the unit's hidden module; none when the module (or the whole package) is absent."""
    module_name = f"{HIDDEN_PACKAGE}.{unit.name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name in (HIDDEN_PACKAGE, module_name):
            return ()
        raise  # a hidden module that imports something missing is a bug, not a release
    return tuple(module.CHECKS)


def with_hidden_checks(unit: Unit) -> Unit:
    """``unit`` with its hidden checks, each part's right after that part's public checks."""
    hidden = hidden_checks_of(unit)
    if not hidden:
        return unit
    parts = list(dict.fromkeys([check.part for check in unit.checks] + [check.part for check in hidden]))
    ordered = [check for part in parts for group in (unit.checks, hidden) for check in group if check.part == part]
    return replace(unit, checks=tuple(ordered))


def fresh_input_salt() -> int | None:
    """The hidden package's salt for fresh inputs (:mod:`autograder.evidence.fresh`); None in a release."""
    try:
        hidden = importlib.import_module(HIDDEN_PACKAGE)
    except ModuleNotFoundError as error:
        if error.name == HIDDEN_PACKAGE:
            return None
        raise
    return getattr(hidden, "FRESH_INPUT_SALT", None)


UNITS: dict[str, Unit] = {
    unit.name: with_hidden_checks(unit)
    for unit in (linear.UNIT, mlp.UNIT, losses.UNIT, optimizers.UNIT, techniques.UNIT, capstone.UNIT)
}
if (_salt := fresh_input_salt()) is not None:
    give_fresh_inputs((check for unit in UNITS.values() for check in unit.checks), _salt)


class UnknownSelection(ValueError):
    """A selector that names no unit, part or check; the message suggests the closest names."""


def all_checks() -> list[Check]:
    return [check for unit in UNITS.values() for check in unit.checks]


def valid_selectors() -> list[str]:
    names: list[str] = []
    for unit in UNITS.values():
        names.append(unit.name)
        names.extend(unit.parts)
    return names


def select_checks(selectors: list[str] | None = None, *, visibility: Visibility | None = None) -> list[Check]:
    """The checks named by ``selectors`` (all when empty), in course order, optionally one visibility."""
    checks = all_checks()
    if selectors:
        chosen: set[str] = set()
        for selector in selectors:
            matched = _match(selector, checks) or _match(selector.lower(), checks)  # LINEAR.Predict too
            if not matched:
                raise UnknownSelection(_unknown(selector, checks))
            chosen.update(matched)
        checks = [check for check in checks if check.id in chosen]
    if visibility is not None:
        checks = [check for check in checks if check.visibility is visibility]
    return checks


def _match(selector: str, checks: list[Check]) -> set[str]:
    exact = {c.id for c in checks if selector in (c.unit, c.part, c.id)}
    if exact:
        return exact
    short = {c.id for c in checks if c.part.split(".", 1)[1] == selector}
    parts = {c.part for c in checks if c.id in short}
    return short if len(parts) == 1 else set()


def _unknown(selector: str, checks: list[Check]) -> str:
    """One line for a selector that names nothing: the closest names (a typo), never all 60."""
    names = valid_selectors()
    if selector.count(".") >= 2:  # looks like a check id
        names += [check.id for check in checks]
    # Short part names (``predict``) are valid too; a suggestion names the part in full.
    full_of = {name: name for name in names}
    for unit in UNITS.values():
        for part in unit.parts:
            full_of.setdefault(part.split(".", 1)[1], part)
    close = difflib.get_close_matches(selector.lower(), list(full_of), n=3, cutoff=0.6)
    # Only the names about as close as the best one: a typo has one answer, rarely two.
    ratio = {name: difflib.SequenceMatcher(None, selector.lower(), name).ratio() for name in close}
    close = [name for name in close if ratio[name] >= ratio[close[0]] - 0.05]
    suggestions = list(dict.fromkeys(full_of[name] for name in close))
    message = f"unknown unit or part {selector!r}"
    if suggestions:
        message += "; did you mean " + " or ".join(repr(name) for name in suggestions) + "?"
    else:
        message += f"; units: {', '.join(UNITS)}"
    return message + " (`autograder list` shows every part)"


def unit_of(check: Check) -> Unit:
    return UNITS[check.unit]
