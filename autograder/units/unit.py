"""A unit of the course: one student module and the checks that grade it."""

from __future__ import annotations

from dataclasses import dataclass

from ..checks import Check


@dataclass(frozen=True)
class Unit:
    """name: the selector students type (``linear``); module: the file stem (``linear_model.py``)."""

    name: str
    title: str
    module: str
    checks: tuple[Check, ...]

    @property
    def parts(self) -> list[str]:
        """``unit.part`` names in the order the checks are listed."""
        return list(dict.fromkeys(check.part for check in self.checks))

    def __post_init__(self):
        ids = [check.id for check in self.checks]
        if len(ids) != len(set(ids)):
            raise ValueError(f"unit {self.name} has duplicate check ids")
        for check in self.checks:
            if check.unit != self.name:
                raise ValueError(f"check {check.id} does not belong to unit {self.name}")
