"""A folder of handed-in notebooks turned into the folder of modules the engine grades.

Each course notebook found (``NN_<module>.ipynb``) becomes ``<module>.py``: its module cells, joined.
A notebook that cannot be read as the course's notebook (broken JSON, module cells deleted,
duplicated or reordered) becomes ``<module>.py.problem`` instead, a text file whose message the
loader reports for every check of that module: the student sees why, and the other notebooks are
graded as usual. The code graded is therefore exactly the code a ``.py`` submission would hold, with
the same isolation, so the same work gets the same score whichever way it is handed in.

Read-only (given) cells are taken from the course's own module when ``solutions/`` is at hand, as
nbgrader's autograde restores locked cells from its source notebook: a student who edits a given
helper gets the original back, and grade-batch and nbgrader agree on such a notebook too. Without
``solutions/`` (a student release) the cells are read as saved.
"""

from __future__ import annotations

import functools
from pathlib import Path

from .cells import NotebookProblem, load_notebook, module_cells, module_source
from .kernel import notebook_for

PROBLEM_SUFFIX = ".problem"


def course_notebooks_in(folder: Path) -> dict[str, Path]:
    """Module name -> the notebook that holds it, for the course notebooks in ``folder``."""
    from ..units import UNITS

    found = {}
    for unit in UNITS.values():
        notebook = notebook_for(unit.module, folder)
        if notebook is not None:
            found[unit.module] = notebook
    return found


def given_chunks(module: str) -> dict[str, str]:
    """Chunk name -> source of the read-only chunks of ``module`` in ``solutions/`` (none without it).

    A batch asks once per student and notebook; the module is parsed once per version of the file."""
    from ..paths import solutions_dir

    path = solutions_dir() / f"{module}.py"
    if not path.is_file():
        return {}
    return _given_chunks_of(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _given_chunks_of(path: Path, version: int) -> dict[str, str]:
    from .chunks import split_module

    return {chunk.name: chunk.source for chunk in split_module(path.read_text(encoding="utf-8"), path.name)
            if not chunk.is_answer}


def materialize_notebooks(folder: Path, into: Path) -> str:
    """Writes the modules of the notebooks in ``folder`` into ``into``; returns a note for the report."""
    into.mkdir(parents=True, exist_ok=True)
    notebooks = course_notebooks_in(folder)
    problems = []
    for module, notebook in notebooks.items():
        target = into / f"{module}.py"
        problem_file = into / f"{module}.py{PROBLEM_SUFFIX}"
        try:
            source = module_source(load_notebook(notebook), module, notebook.name, given_chunks(module))
            # A .problem left by an earlier run into the same folder would hide the fixed notebook.
            problem_file.unlink(missing_ok=True)
            target.write_text(source, encoding="utf-8")
        except NotebookProblem as problem:
            target.unlink(missing_ok=True)
            problem_file.write_text(str(problem), encoding="utf-8")
            problems.append(notebook.name)
    names = ", ".join(path.name for path in notebooks.values())
    note = f"graded the code cells of the notebooks {names}"
    if problems:
        note += f" ({', '.join(problems)} could not be read: see the checks of that unit)"
    return note


def fill_notebook(document: dict, module: str, source: str) -> dict:
    """``document`` (a course notebook) with its answer cells holding the chunks of ``source``.

    The inverse of :func:`materialize_notebooks` for answer cells: what a student's notebook looks
    like when they wrote ``source``. Given cells are left as they are. Used by tests and benchmarks
    to hand in the same code both ways.
    """
    from .chunks import split_module

    chunks = {chunk.name: chunk.source for chunk in split_module(source, f"{module}.py")}
    for _, cell, tag in module_cells(document, module):
        if (cell.get("metadata") or {}).get("nbgrader", {}).get("solution") and tag.get("chunk") in chunks:
            cell["source"] = chunks[tag["chunk"]].splitlines(keepends=True)
    return document
