"""Typed grading results, and their Gradescope-shaped JSON form.

Every front end consumes these: the terminal table, ``grade --json``, and later the batch grader
and notebook cells. Hidden checks are redacted here, in one place: their output carries the
message and hint but never the details (inputs, expected values, worst elements).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Mapping

from .checks import Visibility, part_of, unit_of


class ResultStatus(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_IMPLEMENTED = "not implemented"
    ERROR = "error"  # the code raised, crashed, timed out or could not be imported


@dataclass(frozen=True)
class CheckResult:
    """One check's result. ``score`` is ``max_score`` when passed and 0 otherwise."""

    id: str
    description: str
    status: ResultStatus
    score: float
    max_score: float
    visibility: Visibility
    message: str = ""
    hint: str | None = None
    details: tuple[str, ...] = ()
    captured_output: str = ""
    curves: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    seconds: float = 0.0
    #: parts this check builds on that fail their own checks (see Check.depends_on, Check.requires);
    #: the hint then says to fix the first of them first, and what is wrong with it
    failing_dependencies: tuple[str, ...] = ()
    #: the message as a hidden check may show it (no exception text); empty: ``message`` is safe
    summary: str = ""
    #: the file whose import failure stopped this check, shortly: ``losses.py (syntax error, line 12)``.
    #: The first such check of a unit keeps the full message; the others say "blocked by ..." only.
    blocked_by: str = ""
    #: the hint is a generic diagnosis of the numbers (see Verdict.generic_hint)
    generic_hint: bool = False

    @property
    def unit(self) -> str:
        return unit_of(self.id)

    @property
    def part(self) -> str:
        return part_of(self.id)

    @property
    def passed(self) -> bool:
        return self.status is ResultStatus.PASSED

    def feedback_lines(self) -> list[str]:
        """What a student is shown about this result (redacted for hidden checks)."""
        if self.passed:
            return []
        hidden = self.visibility is Visibility.HIDDEN
        message = redact(self.summary or self.message) if hidden else self.message
        lines = [message] if message else []
        if hidden and self.summary:
            lines.append("(the details of a hidden check are not shown; the public checks of this part show them)")
        if self.hint:
            lines.append(f"hint: {redact(self.hint) if hidden else self.hint}")
        if self.visibility is Visibility.PUBLIC:
            lines.extend(self.details)
            if self.captured_output.strip():
                lines.append("your code printed:")
                lines.extend("  " + line for line in self.captured_output.rstrip().splitlines()[:20])
        return lines


@dataclass(frozen=True)
class Report:
    """All results of grading one submission."""

    submission: str
    results: tuple[CheckResult, ...]
    #: things the grader could not guarantee for this run (e.g. a protection the OS refused)
    notes: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return sum(result.score for result in self.results)

    @property
    def max_score(self) -> float:
        return sum(result.max_score for result in self.results)

    def to_gradescope(self, hidden_visibility: str = "after_due_date") -> dict:
        """The Gradescope ``results.json`` shape: score, max_score and one entry per check.

        Public checks are ``visible``; hidden checks get ``hidden_visibility`` (one of Gradescope's
        ``visible``, ``after_due_date``, ``after_published``, ``hidden``)."""
        document = {
            "score": _round(self.score),
            "max_score": _round(self.max_score),
            "tests": [
                {
                    "name": result.id,
                    "score": _round(result.score),
                    "max_score": _round(result.max_score),
                    "status": "passed" if result.passed else "failed",
                    "output": "\n".join([result.description, *result.feedback_lines()]),
                    "visibility": "visible" if result.visibility is Visibility.PUBLIC else hidden_visibility,
                }
                for result in self.results
            ],
        }
        if self.notes:
            document["output"] = "\n".join(self.notes)
        return document


_SHAPE = re.compile(r"\(\d+(?:, ?\d+)*,?\)")
_BATCH = re.compile(r"\bN=\d+")


def redact(text: str) -> str:
    """``text`` without the shapes and batch sizes of a hidden check's inputs."""
    return _BATCH.sub("N", _SHAPE.sub("(...)", text))


def _round(value: float) -> float | int:
    rounded = round(value, 6)
    return int(rounded) if rounded == int(rounded) else rounded


def format_points(value: float) -> str:
    """Points as text for tables: ``3``, ``2.5``; the same value always gives the same text."""
    return str(_round(value))
