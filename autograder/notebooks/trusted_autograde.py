"""``nbgrader autograde`` that runs no student code outside the sandbox.

nbgrader's own autograde executes each submitted notebook in a Jupyter kernel that runs as the
instructor, unconfined, and takes each test cell's score from what that kernel printed. Student code
in an answer cell can therefore do anything the instructor can: overwrite the saved notebook that
the test cells grade (with the source notebook: full marks from nothing), rewrite another student's
submission before its turn, replace ``grade_part`` so the cell prints any score, or write into the
gradebook. No check inside the kernel can stop that, because the kernel itself is the attacker.

So the course's ``nbgrader_config.py`` replaces nbgrader's ``Execute`` preprocessor with
:class:`GradeInSandbox`. It runs inside nbgrader's own (trusted) process and starts no kernel. For
each notebook it reads the test cells, which nbgrader has already restored from the gradebook's
source (a student cannot change them), and grades their parts with :func:`autograder.api.grade`:
the same engine, checks, sandbox and containment as ``autograder grade``. The grading reads the
notebooks as nbgrader collected them, and nothing else ever runs student code in this process, so
nothing can have changed them. Each test cell gets the report of its part as output and the points
as its value. nbgrader's ``SaveAutoGrades`` then records the points exactly as before, and the
feedback shows the same text as the cell shows a student.

One grading call covers all the test cells of a notebook. So a gradient check is blocked by its
failing forward exactly as in ``autograder grade``, and the scores equal ``autograder grade``'s on
the same notebooks.

What changes for the instructor: autograde leaves students' own cells without outputs (nothing of
theirs is run), and it is faster (no kernel start-up, one grading per notebook instead of one
process per test cell). Test cells that are not this course's (no ``grade_part(...)`` call) cannot
be graded without a kernel: they get an error output and 0 points, loudly, never a silent pass.
An instructor who wants nbgrader's kernel execution back (for a course with other kinds of
tests) deletes the ``autograde_preprocessors`` line from ``nbgrader_config.py``; the test cells
then grade themselves in the kernel as they do for students, with the weaknesses above.
"""

from __future__ import annotations

import re
from pathlib import Path

from nbformat.notebooknode import NotebookNode, from_dict

from ..sandbox.confine import refuse_inspection

try:  # nbgrader is an optional dependency; this module is only loaded by nbgrader itself
    from nbgrader.preprocessors import NbGraderPreprocessor
except ImportError:  # pragma: no cover - the config is only ever read by nbgrader
    NbGraderPreprocessor = object  # type: ignore[assignment,misc]

#: ``grade_part("linear.predict", checks)`` in a generated test cell (see build.test_cell_source).
_GRADE_CALL = re.compile(r'^grade_part\("(?P<part>[A-Za-z0-9_.]+)", checks\)\s*$', re.MULTILINE)
#: A part with hidden checks has this line in its test cell (in a kernel it applies under nbgrader
#: autograde only; here it always does, since this preprocessor only runs under autograde).
_ALL_CHECKS = re.compile(r'^checks = "all"\s*$', re.MULTILINE)

#: nbgrader 0.9's default ``Autograde.autograde_preprocessors`` with ``Execute`` replaced.
AUTOGRADE_PREPROCESSORS = (
    "autograder.notebooks.trusted_autograde.GradeInSandbox",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
)


def autograde_config() -> str:
    """Lines of ``nbgrader_config.py`` that make ``nbgrader autograde`` grade in the sandbox."""
    listed = "".join(f"    {name!r},\n" for name in AUTOGRADE_PREPROCESSORS)
    return (
        "# autograde grades every test cell in the autograder's sandbox, from nbgrader's own process,\n"
        "# and runs no kernel: student code never runs unconfined as the instructor (see\n"
        "# autograder/notebooks/trusted_autograde.py). Delete this to get nbgrader's kernel execution back.\n"
        f"c.Autograde.autograde_preprocessors = [\n{listed}]\n"
    )


def test_cell_request(cell: NotebookNode) -> tuple[str, bool] | None:
    """(part, with hidden checks) of one of this course's test cells; None for any other cell."""
    if cell.get("cell_type") != "code":
        return None
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    call = _GRADE_CALL.search(source)
    if call is None:
        return None
    return call["part"], bool(_ALL_CHECKS.search(source))


def _is_grade_cell(cell: NotebookNode) -> bool:
    grader = (cell.get("metadata") or {}).get("nbgrader") or {}
    return bool(grader.get("grade")) and not grader.get("solution")


class GradeInSandbox(NbGraderPreprocessor):
    """Fills every test cell with its part's report and points, graded in the sandbox."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        refuse_inspection()  # nbgrader's process holds the gradebook: no student process may inspect it
        folder = Path(resources["metadata"]["path"]).resolve()
        requests = {index: test_cell_request(cell) for index, cell in enumerate(nb.cells) if _is_grade_cell(cell)}
        graded = _grade(folder, [request for request in requests.values() if request])
        for index, request in requests.items():
            cell = nb.cells[index]
            if request is None:
                cell.outputs = [_error("NotAutograderTest", "this course's autograde runs no kernel, and this "
                                       "test cell has no grade_part(...) call it could grade in the sandbox")]
                self.log.error("%s: test cell %s is not an autograder test cell: 0 points",
                               folder, (cell.metadata.get("nbgrader") or {}).get("grade_id"))
                continue
            part, hidden = request
            cell.outputs = graded[(part, hidden)]
            cell.execution_count = index + 1
        return nb, resources


def _grade(folder: Path, requests: list[tuple[str, bool]]) -> dict[tuple[str, bool], list[NotebookNode]]:
    """The outputs of each (part, with hidden checks) test cell of one notebook.

    One :func:`api.grade` call for the notebook's parts, so that a check blocked by a failing part
    is blocked as in ``autograder grade``. A grader failure raises: nbgrader then reports the
    notebook as failed to autograde, rather than recording zeros that look like the student's.
    """
    import io

    from .. import api
    from ..checks import Visibility
    from ..render import render_report
    from ..results import Report, format_points
    from ..units import select_checks
    from .grade_cell import missing_hidden_checks_message

    outputs: dict[tuple[str, bool], list[NotebookNode]] = {}
    runnable = []
    for part, hidden in dict.fromkeys(requests):
        missing = missing_hidden_checks_message(part) if hidden else None
        if missing:
            outputs[(part, hidden)] = [_error("HiddenChecksMissing", missing)]
        else:
            runnable.append((part, hidden))
    if not runnable:
        return outputs
    with_hidden = any(hidden for _, hidden in runnable)
    report = api.grade(folder, parts=sorted({part for part, _ in runnable}),
                       visibility=None if with_hidden else Visibility.PUBLIC)
    for part, hidden in runnable:
        results = tuple(result for result in report.results if result.part == part
                        and (hidden or result.visibility is Visibility.PUBLIC))
        text = io.StringIO()
        render_report(Report(report.submission, results, report.notes), colour=False, stream=text)
        if not hidden:
            secret = sum(check.points for check in select_checks([part], visibility=Visibility.HIDDEN))
            if secret:
                text.write(f"(+ {format_points(secret)} points of hidden tests, run when your work is graded)\n")
        score = sum(result.score for result in results)
        outputs[(part, hidden)] = [
            from_dict({"output_type": "stream", "name": "stdout", "text": text.getvalue()}),
            from_dict({"output_type": "execute_result", "execution_count": None, "metadata": {},
                       "data": {"text/plain": repr(float(score))}}),
        ]
    return outputs


def _error(name: str, message: str) -> NotebookNode:
    return from_dict({"output_type": "error", "ename": name, "evalue": message, "traceback": [f"{name}: {message}"]})
