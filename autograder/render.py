"""The terminal report of ``autograder check`` and ``autograder grade``: one row per part, then the
failing checks with their message, hint and details, then the total."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from .results import CheckResult, Report, ResultStatus
from .units import UNITS

_COLOURS = {"green": "32", "red": "31", "yellow": "33", "dim": "2", "bold": "1"}


def use_colour(stream: TextIO) -> bool:
    """Colour on a terminal, unless NO_COLOR is set (https://no-color.org)."""
    return hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ


def _paint(text: str, colour: str, enabled: bool) -> str:
    return f"\033[{_COLOURS[colour]}m{text}\033[0m" if enabled else text


def _points(value: float) -> str:
    return f"{value:g}"


def part_status(results: list[CheckResult]) -> tuple[str, str]:
    """(text, colour) summarising a part's checks."""
    if all(r.passed for r in results):
        return "passed", "green"
    if all(r.status is ResultStatus.NOT_IMPLEMENTED for r in results):
        return "not implemented yet", "yellow"
    failed = sum(not r.passed for r in results)
    return f"{failed} of {len(results)} checks failed", "red"


def render_report(report: Report, *, colour: bool = False, stream: TextIO | None = None) -> None:
    """Writes the per-part table, the feedback of failing checks and the total to ``stream``
    (default: the current ``sys.stdout``)."""
    stream = stream or sys.stdout
    by_unit: dict[str, dict[str, list[CheckResult]]] = {}
    for result in report.results:
        by_unit.setdefault(result.unit, {}).setdefault(result.part, []).append(result)
    width = max((len(part) for parts in by_unit.values() for part in parts), default=10) + 2
    for unit_name, parts in by_unit.items():
        title = UNITS[unit_name].title if unit_name in UNITS else unit_name
        stream.write(_paint(title, "bold", colour) + "\n")
        # A module that does not import stops many checks: its error once, here; each check below
        # then only says what blocks it.
        import_failures = dict.fromkeys(
            r.message for rs in parts.values() for r in rs if r.blocked_by and not r.message.startswith("blocked by ")
        )
        for message in import_failures:
            first, *rest = message.splitlines() or [""]
            stream.write(f"  {_paint('✗', 'red', colour)} {_paint(first, 'red', colour)}\n")
            for line in rest:
                stream.write(f"      {line}\n")
        for part, results in parts.items():
            earned = sum(r.score for r in results)
            total = sum(r.max_score for r in results)
            text, tone = part_status(results)
            mark = {"green": "✓", "red": "✗", "yellow": "·"}[tone]
            score = f"{_points(earned)}/{_points(total)}"
            stream.write(f"  {_paint(mark, tone, colour)} {part:<{width}}{score:>8}   {_paint(text, tone, colour)}\n")
            if tone == "red":
                for result in results:
                    if not result.passed:
                        _render_failure(result, colour, stream)
        stream.write("\n")
    total = f"Total: {_points(report.score)}/{_points(report.max_score)} points"
    stream.write(_paint(total, "bold", colour) + "\n")
    for note in report.notes:
        stream.write(_paint(f"note: {note}", "yellow", colour) + "\n")


def _render_failure(result: CheckResult, colour: bool, stream: TextIO) -> None:
    if result.blocked_by:  # the import failure itself is shown once, under the unit's title
        stream.write(f"      {_paint('✗', 'red', colour)} {result.id}: blocked by {result.blocked_by}\n")
        return
    label = result.message if result.status is ResultStatus.NOT_IMPLEMENTED else result.description
    stream.write(f"      {_paint('✗', 'red', colour)} {result.id}: {label}\n")
    if result.status is ResultStatus.NOT_IMPLEMENTED:
        return
    for line in result.feedback_lines():
        for piece in line.splitlines():
            stream.write(f"          {piece}\n")
