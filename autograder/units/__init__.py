"""The course's units, in teaching order, and selection of checks by name.

A selector is a unit (``linear``), a part (``linear.predict``, or just ``predict`` when no other unit
has a part of that name) or a single check id (``linear.predict.values``).
"""

from __future__ import annotations

from ..checks import Check, Visibility
from . import linear, losses, mlp, optimizers
from .unit import Unit

UNITS: dict[str, Unit] = {unit.name: unit for unit in (linear.UNIT, mlp.UNIT, losses.UNIT, optimizers.UNIT)}


class UnknownSelection(ValueError):
    """A selector that names no unit, part or check; the message lists the valid names."""


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
            matched = _match(selector, checks)
            if not matched:
                raise UnknownSelection(
                    f"unknown unit or part {selector!r}; valid names: {', '.join(valid_selectors())}"
                )
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


def unit_of(check: Check) -> Unit:
    return UNITS[check.unit]
