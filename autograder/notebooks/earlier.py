"""Earlier units for a unit handed in as an assignment of its own (a weekly nbgrader course).

``autograder nbgrader init --per-unit`` makes one nbgrader assignment per unit, named
``NN-<unit>`` (``01-linear`` ... ``06-capstone``), each holding only that unit's notebook. A later
unit's module imports earlier ones (``techniques.py``: ``from mlp import Layer``; ``capstone.py``:
losses, mlp, optimizers, techniques), which then are not in the folder being graded: they are the
same student's earlier assignments. This module says where those are; it is used by the code that
turns a submission folder into modules (:mod:`autograder.submission`, so every front end that grades
a folder gets it) and by the notebook kernel's import hook (:mod:`autograder.notebooks.kernel`), so
a student's own test cells and cells behave the same way.

Where the earlier assignments are looked for, for a folder named ``NN-<unit>``:

* in an nbgrader course (the folder is ``<course>/submitted|autograded/<student>/NN-<unit>``): the
  same student's ``submitted/<student>/<earlier>/`` first, then ``autograded/<student>/<earlier>/``.
  Submitted first because it exists as soon as the student handed the unit in, whether or not the
  instructor has autograded it yet, so a unit's score never depends on the order in which the
  assignments were autograded; it is also what ``grade-batch`` reads, so both give the same score.
  (The module cells are the same either way: nbgrader's autograde only restores locked cells, which
  the grader restores from ``solutions/`` too, and adds test cells.) ``autograded/`` alone serves a
  course whose submissions were cleared after grading.
* anywhere else (a student's folders as nbgrader fetched them, ``<home>/<course>/NN-<unit>/``): the
  sibling folders ``../<earlier>/``.

Only folders with the course's per-unit names are read: a folder named otherwise (a whole-course
assignment, a batch's student folder) is graded exactly as before, with nothing borrowed. And only
the assignment's own unit is graded there: the earlier units are graded in their own assignments.

An earlier unit that cannot be found becomes a module that raises ImportError with a message that
names the unit and where it was looked for: the unit's checks then fail as they would in a
whole-course folder without that module (``grade-batch`` of the same student gives the same score),
but with a message that says what to hand in instead of ``No module named 'losses'``.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path

#: nbgrader's course folders that hold one folder per student, in the order they are searched.
NBGRADER_STUDENT_FOLDERS = ("submitted", "autograded")


def assignment_names() -> dict[str, str]:
    """Unit name -> its per-unit assignment name: ``{"linear": "01-linear", ...}``, in course order."""
    from ..units import UNITS

    return {unit: f"{index:02d}-{unit}" for index, unit in enumerate(UNITS, start=1)}


def unit_of_assignment(folder: Path) -> str | None:
    """The unit whose per-unit assignment ``folder`` is (by its name), or None."""
    for unit, name in assignment_names().items():
        if folder.name == name:
            return unit
    return None


def unit_of_module(module: str) -> str | None:
    from ..units import UNITS

    return next((unit.name for unit in UNITS.values() if unit.module == module), None)


def _in_batch_staging(folder: Path) -> bool:
    """``grade-batch`` stages each student's copy as ``<out>/.staging/files/<student>``: such a folder
    is one student's whole merged work, and its siblings are other students."""
    return folder.parent.name in ("files", "modules") and folder.parent.parent.name == ".staging"


def imported_course_modules(source: str) -> list[str]:
    """The course modules that ``source`` imports (at the top or inside a function), in course order.

    A module that does not parse (a student's syntax error) is read line by line instead, so its
    earlier units are still found and the syntax error is what gets reported."""
    from ..units import UNITS

    modules = [unit.module for unit in UNITS.values()]
    found: set[str] = set()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        pattern = re.compile(r"^\s*(?:from\s+(\w+)\s+import|import\s+(\w+))", re.MULTILINE)
        found = {match[1] or match[2] for match in pattern.finditer(source)}
    else:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    return [module for module in modules if module in found]


@dataclass(frozen=True)
class EarlierUnit:
    """Where an earlier unit's module was found (``notebook``), or None with the places looked at."""

    module: str
    unit: str
    assignment: str
    notebook: Path | None
    #: "your submission of 03-losses", "your autograded 03-losses", "your folder ../03-losses"
    source: str
    looked_in: tuple[str, ...]
    #: found (or looked for) in an nbgrader course's submitted/autograded folders, not a student's own
    in_course: bool = True

    def missing_message(self, needed_by: str, *, working: bool = False) -> str:
        """Why ``needed_by`` cannot import this unit, and what to do: hand the unit in (grading), or
        (``working``: a student's kernel) fetch it beside this assignment."""
        from ..units import UNITS

        index = list(UNITS).index(self.unit) + 1
        found = (f"{needed_by} imports {self.module} (Unit {index}, {self.unit}), and no {self.assignment} "
                 f"assignment of yours was found (looked in {', '.join(self.looked_in)})")
        if working or not self.in_course:
            return (f"{found}: fetch {self.assignment} into a folder beside this one and work through it "
                    "first (save its notebook), then run this notebook's cells again")
        return f"not handed in: {found}: hand in {self.assignment}, then this assignment can be graded again"

    def used_note(self) -> str:
        return f"{self.module} from {self.source}"


def search_roots(folder: Path) -> list[tuple[Path, str, str]]:
    """(folder of the student's assignments, how to name a find there (a format string taking the
    assignment's name), how to show the folder) in search order, for the per-unit assignment
    ``folder``; empty when ``folder`` is not one."""
    folder = Path(folder).resolve()
    if unit_of_assignment(folder) is None or _in_batch_staging(folder):
        return []
    student = folder.parent
    if student.parent.name in NBGRADER_STUDENT_FOLDERS:
        course = student.parent.parent
        kinds = {"submitted": "your submission of {}", "autograded": "your autograded {}"}
        return [(course / kind / student.name, kinds[kind], f"{kind}/{student.name}/")
                for kind in NBGRADER_STUDENT_FOLDERS]
    return [(student, "your folder ../{}", "../")]


def find_earlier_unit(module: str, folder: Path) -> EarlierUnit | None:
    """The notebook of ``module`` among the earlier assignments of the per-unit assignment ``folder``
    (``notebook`` None when it is in none of them); None when ``folder`` is no per-unit assignment."""
    from .kernel import notebook_for

    roots = search_roots(folder)
    unit = unit_of_module(module)
    if not roots or unit is None:
        return None
    assignment = assignment_names()[unit]
    looked = []
    for root, how, shown in roots:
        candidate = root / assignment
        looked.append(f"{shown}{assignment}/")
        if candidate.resolve() == Path(folder).resolve() or not candidate.is_dir():
            continue
        notebook = notebook_for(module, candidate)
        # Found even when it is no regular file (a link, a FIFO): its reader refuses it by name
        # (materialize.add_earlier_units reads it like grade-batch does), instead of "not handed in".
        if notebook is not None and os.path.lexists(notebook):
            return EarlierUnit(module, unit, assignment, notebook,
                               f"{how.format(assignment)} ({notebook.name})", tuple(looked), shown != "../")
    return EarlierUnit(module, unit, assignment, None, "", tuple(looked), in_course=roots[0][2] != "../")
