"""What a notebook's test cell calls: grade one part of the saved notebooks, print why, return points.

The test cell's last value is the score nbgrader records (partial credit). Grading runs in a fresh
``python -I`` process, not in the notebook's kernel: the kernel has run the student's cells, so it may
hold a monkeypatched numpy or a replaced grader, and a verdict must never be decided there. ``-I``
also keeps the notebook's folder off ``sys.path``, so a stray ``numpy.py`` beside the notebooks cannot
shadow the real one. The child grades exactly as ``autograder grade`` does (the same checks, the
same isolation per check), on the module cells of the notebooks as saved on disk, which is also what
nbgrader's autograde and the batch grader see.

Nothing is written to stderr unless grading itself fails (nbgrader scores any stderr output as 0).

The parts that have hidden checks set ``checks = "all"`` in their test cells when nbgrader autograde
runs them (``NBGRADER_EXECUTION=autograde``; see build.test_cell_source). Graded that way by a grader without the hidden checks (only
the student release installed, whose package has none), the cell would quietly score the public
checks alone, so a perfect notebook would lose the hidden checks' points. It refuses instead
(:class:`HiddenChecksMissing`: the cell errors, nbgrader records the failure) and says to install
the course repository's grader.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

#: Generous: a part's checks have their own timeouts; this only guards against a stuck grader.
GRADING_TIMEOUT_S = 600


class GradingFailed(RuntimeError):
    """The grader itself failed (not the student's code); the test cell then errors and scores 0."""


class HiddenChecksMissing(GradingFailed):
    """The notebook expects hidden checks (``checks = "all"``) that this grader does not have."""


#: The child's exit status when the hidden checks the cell expects are missing.
HIDDEN_MISSING_STATUS = 3


def missing_hidden_checks_message(part: str) -> str | None:
    """Why ``part``'s hidden checks cannot run here, or None when this grader has them."""
    from ..checks import Visibility
    from ..units import select_checks

    if select_checks([part], visibility=Visibility.HIDDEN):
        return None
    return (f"this notebook expects hidden tests for {part}, but the installed grader has no hidden checks "
            "for it (is only the student release installed?). Grading now would score the public checks "
            "alone and silently take the hidden checks' points from every student. Instructor: install "
            "the course repository's grader (pip install -e <course repository>) in the environment "
            "nbgrader autograde runs in, then autograde again.")


def grade_part(part: str, checks: str = "public", folder: str | Path | None = None) -> float:
    """Grades ``part`` of the notebooks in ``folder`` (default: the kernel's working directory).

    ``checks`` is ``"public"`` (what students see in their copy) or ``"all"`` (public and hidden,
    as the instructor's autograde runs them). Prints the feedback; returns the points earned.
    """
    if checks not in ("public", "all"):
        raise ValueError('checks must be "public" or "all"')
    folder = Path(folder or Path.cwd()).resolve()
    for warning in unsaved_cells(folder, part):
        print(warning)
    with tempfile.TemporaryDirectory(prefix="autograder-cell-") as scratch:
        result_file = Path(scratch) / "result.json"
        command = [sys.executable, "-I", "-m", "autograder.notebooks.grade_cell",
                   str(folder), part, checks, str(result_file)]
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=GRADING_TIMEOUT_S,
                                       stdin=subprocess.DEVNULL, cwd=scratch)
        except subprocess.TimeoutExpired:
            raise GradingFailed(f"grading {part} took more than {GRADING_TIMEOUT_S} s") from None
        if completed.returncode == HIDDEN_MISSING_STATUS:
            raise HiddenChecksMissing(completed.stderr.strip())
        if completed.returncode != 0 or not result_file.is_file():
            raise GradingFailed(f"grading {part} failed:\n{completed.stderr.strip() or completed.stdout.strip()}")
        result = json.loads(result_file.read_text(encoding="utf-8"))
    print(completed.stdout.rstrip())
    return result["score"]


def unsaved_cells(folder: Path, part: str) -> list[str]:
    """Notes for answer cells whose last run in this kernel differs from the saved notebook.

    The test cell grades the file, so a cell edited and run but not saved would be graded in its old
    form. The kernel's input history (IPython's ``In``) tells: for each answer cell of the part's
    unit, the last input that defined the same name is compared with the saved source. Outside
    IPython, or under nbgrader (which runs the saved file itself), there is nothing to compare.
    """
    import os

    from ..units import UNITS
    from .cells import NotebookProblem, load_notebook, module_cells, source_text
    from .kernel import notebook_for

    if os.environ.get("NBGRADER_EXECUTION"):
        return []
    try:
        history = get_ipython().user_ns.get("In", [])  # type: ignore[name-defined]  # noqa: F821
    except NameError:
        return []
    module = UNITS[part.split(".", 1)[0]].module if part.split(".", 1)[0] in UNITS else None
    notebook = notebook_for(module, folder) if module else None
    if notebook is None:
        return []
    try:
        cells = module_cells(load_notebook(notebook), module)
    except NotebookProblem:
        return []
    notes = []
    for _, cell, tag in cells:
        if not (cell.get("metadata") or {}).get("nbgrader", {}).get("solution"):
            continue
        name = tag.get("chunk", "")
        openings = (f"def {name}(", f"class {name}(", f"class {name}:")
        runs = [text for text in history if isinstance(text, str) and any(
            line.startswith(openings) for line in text.splitlines())]
        if runs and runs[-1].strip() != source_text(cell).strip():
            notes.append(f"note: the cell defining {name} was changed and run but not saved; "
                         "the grader reads the saved notebook: save (Ctrl+S) and run this cell again")
    return notes


def _grade_in_child(folder: Path, part: str, checks: str, result_file: Path) -> None:
    from .. import api
    from ..checks import Visibility
    from ..render import render_report
    from ..results import format_points
    from ..units import select_checks

    visibility = Visibility.PUBLIC if checks == "public" else None
    if visibility is None:
        missing = missing_hidden_checks_message(part)
        if missing:
            print(missing, file=sys.stderr)
            sys.exit(HIDDEN_MISSING_STATUS)
    report = api.grade(folder, parts=[part], visibility=visibility)
    render_report(report, colour=False, stream=sys.stdout)
    if visibility is Visibility.PUBLIC:
        hidden = sum(check.points for check in select_checks([part], visibility=Visibility.HIDDEN))
        if hidden:
            print(f"(+ {format_points(hidden)} points of hidden tests, run when your work is graded)")
    result_file.write_text(json.dumps({"score": report.score, "max_score": report.max_score}), encoding="utf-8")


if __name__ == "__main__":
    _grade_in_child(Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4]))
