"""Pictures for feedback: what the checks of a part kept, one labelled PNG per part.

A check keeps numbers for pictures in ``Verdict.curves`` (name -> tuple of floats). Two kinds:

* a **series** (a loss per step, a score per candidate): drawn against its index, one panel per
  check, with axis labels chosen from the series' name (:data:`SERIES_AXES`, else "step" / "loss"),
  on a log scale when its positive values span two decades or more;
* a **line picture** (the lesson's data-and-fitted-lines figure), from curves named
  ``data x`` / ``data y`` (the points), ``data outlier`` (1.0 marks a point as an outlier) and
  ``line <label>`` (``(w, b)`` of the line ``y = w x + b``). A line picture shows the check's
  inputs, so it is drawn only for public checks; a hidden check keeps its secrets (only its own
  series, i.e. the student's own training curve, is drawn).

A series kept twice (under two names, or by two checks of one part) is drawn once, labelled with
every name. :func:`part_figures` returns the matplotlib Figures (tests inspect them);
:func:`write_curve_plots` saves them as ``<part>.png``.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from .checks import Visibility
from .results import CheckResult, Report

#: Axis labels (x, y) of series whose index is not a step or whose values are not a loss.
SERIES_AXES = {
    "train_loss": ("epoch", "loss"),
    "val_loss": ("epoch", "loss"),
    "mean validation MSE per candidate": ("candidate (in the order given)", "mean validation MSE"),
    "means": ("candidate (in the order given)", "mean validation MSE"),
    "bo_best_so_far": ("trial", "best validation loss so far"),
}
#: Curve names that belong to a line picture rather than to a series.
DATA_X, DATA_Y, DATA_OUTLIER, LINE_PREFIX = "data x", "data y", "data outlier", "line "
#: A log scale when the positive values span at least this factor (two decades).
LOG_SPAN = 100.0


@dataclass
class _Series:
    values: tuple[float, ...]
    names: list[str] = field(default_factory=list)


@dataclass
class _Panel:
    result: CheckResult
    series: list[_Series] = field(default_factory=list)


def _is_picture_key(name: str) -> bool:
    return name in (DATA_X, DATA_Y, DATA_OUTLIER) or name.startswith(LINE_PREFIX)


def _title(result: CheckResult, width: int) -> str:
    text = f"{result.id} ({result.status.value})"
    if result.description:
        text += ": " + result.description
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False))


def _finite(values) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _draw_series(axis, panel: _Panel) -> None:
    """One check's series on one axis (the panel's title names the check)."""
    x_label, y_label = "step", "loss"
    for series in panel.series:
        key = series.names[0].split(": ")[-1]
        x_label, y_label = SERIES_AXES.get(key, (x_label, y_label))
        values = [v if math.isfinite(v) else math.nan for v in series.values]
        # a series several checks kept names each check; otherwise the title already names it
        shared = len({name.split(": ")[0] for name in series.names}) > 1
        label = " = ".join(series.names if shared else dict.fromkeys(n.split(": ")[-1] for n in series.names))
        label = label.replace("losses", "training loss") if label == "losses" else label
        bad = next((i for i, v in enumerate(series.values) if not math.isfinite(v)), None)
        if bad is not None:  # matplotlib leaves a gap: say so, the gap is the finding
            label += f" (not finite from index {bad})"
        marker = "o" if len(values) <= 20 else None  # a handful of candidates or trials: show each one
        axis.plot(range(len(values)), values, marker=marker, label=label)
    finite = [v for series in panel.series for v in _finite(series.values)]
    if finite and min(finite) > 0 and max(finite) / min(finite) >= LOG_SPAN:
        axis.set_yscale("log")
        y_label += " (log scale)"
    axis.set_xlabel(x_label)
    axis.set_ylabel(y_label)
    axis.set_title(_title(panel.result, 60), fontsize="small")
    axis.legend(fontsize="small")
    axis.grid(alpha=0.3)


def _draw_line_picture(axis, results: list[CheckResult]) -> None:
    """The lesson's figure: the points (outliers as red crosses), the true line and each fitted line."""
    source = next(result for result in results if DATA_X in result.curves and DATA_Y in result.curves)
    xs, ys = source.curves[DATA_X], source.curves[DATA_Y]
    outlier = source.curves.get(DATA_OUTLIER, (0.0,) * len(xs))
    inliers = [(x, y) for x, y, o in zip(xs, ys, outlier) if not o]
    outliers = [(x, y) for x, y, o in zip(xs, ys, outlier) if o]
    if inliers:
        axis.scatter(*zip(*inliers), s=14, color="tab:blue", alpha=0.7, label="data")
    if outliers:
        axis.scatter(*zip(*outliers), s=30, color="tab:red", marker="x", label="outliers")
    grid = [min(xs), max(xs)]
    seen = set()
    for result in results:
        for name, values in result.curves.items():
            if not name.startswith(LINE_PREFIX) or name in seen or len(values) != 2:
                continue
            seen.add(name)
            w, b = values
            if not (math.isfinite(w) and math.isfinite(b)):
                continue
            # the lines a fit is measured against: thin, dark and on top, so a fit right on them shows both
            target = "true" in name or "least squares" in name
            style = (dict(color="black" if "true" in name else "dimgray", linestyle="--" if "true" in name else ":",
                          linewidth=1.5, zorder=4) if target else dict(linewidth=3.0, alpha=0.8, zorder=3))
            axis.plot(grid, [w * x + b for x in grid], label=f"{name[len(LINE_PREFIX):]}: y = {w:.3g} x + {b:.3g}",
                      **style)
    # The view is the data's: a fit that ran away (w = 1e22) leaves the picture, its label says where
    low, high = min(ys), max(ys)
    axis.set_ylim(low - 0.15 * (high - low) - 1e-9, high + 0.15 * (high - low) + 1e-9)
    axis.set_xlabel("x")
    axis.set_ylabel("y")
    axis.set_title("the data and the fitted lines", fontsize="small")
    axis.legend(fontsize="small", loc="upper left")
    axis.grid(alpha=0.3)


def _panels(results: list[CheckResult]) -> list[_Panel]:
    """The series of a part's checks, each distinct series once, in the checks' order."""
    panels: list[_Panel] = []
    by_values: dict[tuple[float, ...], _Series] = {}
    for result in results:
        panel = _Panel(result)
        for name, values in result.curves.items():
            if _is_picture_key(name) or not values:
                continue
            label = f"{result.id.rsplit('.', 1)[-1]}: {name}"
            known = by_values.get(tuple(values))
            if known is not None:  # the same numbers kept twice: one line, both names
                known.names.append(label)
                continue
            series = _Series(tuple(values), [label])
            by_values[series.values] = series
            panel.series.append(series)
        if panel.series:
            panels.append(panel)
    return panels


def part_figures(report: Report) -> dict[str, "object"]:
    """One matplotlib Figure per part whose checks kept curves, keyed by the part (e.g. ``linear.fit``).

    Panels: the line picture first (public checks only), then one panel of series per check.
    """
    from matplotlib.figure import Figure  # lazily: grading never needs matplotlib

    parts: dict[str, list[CheckResult]] = {}
    for result in report.results:
        if result.curves:
            parts.setdefault(result.part, []).append(result)
    figures = {}
    for part, results in parts.items():
        pictured = [r for r in results if r.visibility is Visibility.PUBLIC
                    and DATA_X in r.curves and DATA_Y in r.curves]
        panels = _panels(results)
        count = len(panels) + (1 if pictured else 0)
        if count == 0:
            continue
        columns = min(count, 3)
        rows = -(-count // columns)
        figure = Figure(figsize=(5.5 * columns, 4.2 * rows + 0.4), layout="constrained")
        axes = [figure.add_subplot(rows, columns, index + 1) for index in range(count)]
        if pictured:
            _draw_line_picture(axes.pop(0), pictured)
        for axis, panel in zip(axes, panels):
            _draw_series(axis, panel)
        figure.suptitle(part, fontweight="bold")
        figures[part] = figure
    return figures


def write_curve_plots(report: Report, directory: Path) -> list[Path]:
    """Writes ``<part>.png`` for every part whose checks kept curves; returns the files written."""
    figures = part_figures(report)
    if not figures:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for part, figure in figures.items():
        path = directory / f"{part}.png"
        figure.savefig(path, dpi=100)
        written.append(path)
    return written
