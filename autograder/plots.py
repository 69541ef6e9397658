"""Pictures for feedback: the curves a check kept (e.g. a training loss), one PNG per check."""

from __future__ import annotations

from pathlib import Path

from .results import Report


def write_curve_plots(report: Report, directory: Path) -> list[Path]:
    """Writes ``<check id>.png`` for every result that carries curves; returns the files written."""
    results = [result for result in report.results if result.curves]
    if not results:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        figure, axis = plt.subplots(figsize=(6, 4))
        for name, values in result.curves.items():
            axis.plot(range(len(values)), values, label=name)
        positive = all(v > 0 for values in result.curves.values() for v in values if v == v)
        if positive:
            axis.set_yscale("log")
        axis.set_xlabel("step")
        axis.set_title(f"{result.id}: {result.status.value}")
        axis.legend()
        path = directory / f"{result.id}.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written
