"""A folder of handed-in notebooks turned into the folder of modules the engine grades.

Each course notebook found (``NN_<module>.ipynb``) becomes ``<module>.py``: its module cells, joined.
A notebook that cannot be read as the course's notebook (broken JSON, answer cells deleted,
duplicated or reordered) becomes ``<module>.py.problem`` instead, a text file whose short message the
loader reports for every check of that module; the full reason is said once, in the report's note,
not once per check. The other notebooks are graded as usual. The code graded is therefore exactly the code a ``.py`` submission would hold, with
the same isolation, so the same work gets the same score whichever way it is handed in.

Read-only (given) cells are taken from the course's own module when ``solutions/`` is at hand, as
nbgrader's autograde restores locked cells from its source notebook: a student who edits a given
helper gets the original back, and grade-batch and nbgrader agree on such a notebook too. Without
``solutions/`` (a student release) the cells are read as saved. A *deleted* given cell is put
back the same way (nbgrader restores missing locked cells too), with a note: a student who deletes
an unused helper loses nothing. A deleted answer cell cannot be restored: that notebook's problem.

A weekly course's assignment (``05-techniques/``: one unit's notebook) also gets the earlier units
its module imports, from the same student's earlier assignments (:func:`add_earlier_units`,
:mod:`.earlier`); one that cannot be found becomes a module whose import fails saying what to hand in.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
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
    return {name: source for name, source, is_answer in _course_chunks_of(path, version) if not is_answer}


def course_chunks(module: str) -> tuple[tuple[str, str, bool], ...]:
    """(chunk name, source, is answer) of every chunk of ``module`` in ``solutions/``, in file order
    (a notebook cell's ``index`` is its position here); empty without ``solutions/``."""
    from ..paths import solutions_dir

    path = solutions_dir() / f"{module}.py"
    if not path.is_file():
        return ()
    return _course_chunks_of(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _course_chunks_of(path: Path, version: int) -> tuple[tuple[str, str, bool], ...]:
    from .chunks import split_module

    return tuple((chunk.name, chunk.source, chunk.is_answer)
                 for chunk in split_module(path.read_text(encoding="utf-8"), path.name))


def restore_deleted_given_cells(document: dict, module: str) -> list[str]:
    """Puts back, in place, the given (read-only) cells of ``module`` deleted from ``document``;
    returns their chunk names. Deleted answer cells are left missing (module_source reports them).

    Cell ``index`` i of ``count`` is chunk i of the course's module. Nothing is restored when the
    notebook does not match the course's module (another count, or a present cell whose chunk name
    differs at its index: another version of the course), nor when its metadata is not plain ints:
    those stay module_source's problems, reported as they are.
    """
    chunks = course_chunks(module)
    cells = module_cells(document, module)
    if not chunks or not cells:
        return []
    count = cells[0][2].get("count")
    indices = [tag.get("index") for _, _, tag in cells]
    if count != len(chunks) or any(type(index) is not int or not 0 <= index < count for index in indices):
        return []
    if any(tag.get("chunk") != chunks[tag["index"]][0] for _, _, tag in cells):
        return []
    restored = []
    for index in sorted(set(range(count)) - set(indices)):
        name, source, is_answer = chunks[index]
        if is_answer:
            continue
        # Right after the last module cell that comes before it in the course (or before the first).
        present = module_cells(document, module)
        before = [position for position, _, tag in present if tag["index"] < index]
        at = before[-1] + 1 if before else present[0][0]
        document["cells"].insert(at, {
            "cell_type": "code", "execution_count": None, "outputs": [], "source": source,
            "metadata": {"autograder": {"module": module, "chunk": name, "index": index, "count": count},
                         "editable": False, "deletable": False},
        })
        restored.append(name)
    return restored


def materialize_notebook(module: str, notebook: Path, into: Path) -> list[str]:
    """Writes ``into/<module>.py`` from ``notebook``; returns the names of the given cells it put back.

    Raises NotebookProblem (after removing any ``<module>.py`` left there) when the notebook cannot
    be read as the course's notebook of ``module``."""
    target = into / f"{module}.py"
    try:
        document = load_notebook(notebook)
        restored = restore_deleted_given_cells(document, module)
        source = module_source(document, module, notebook.name, given_chunks(module))
    except NotebookProblem:
        target.unlink(missing_ok=True)
        raise
    # A .problem left by an earlier run into the same folder would hide the fixed notebook.
    (into / f"{module}.py{PROBLEM_SUFFIX}").unlink(missing_ok=True)
    target.write_text(source, encoding="utf-8")
    return restored


def _restoration_note(notebook: Path, restored: list[str]) -> str:
    return (f"{notebook.name}: the given (read-only) cell{'s' if len(restored) > 1 else ''} "
            f"{', '.join(map(repr, restored))} had been deleted and {'were' if len(restored) > 1 else 'was'} "
            "put back from the course, as nbgrader does")


def materialize_notebooks(folder: Path, into: Path, only: set[str] | None = None) -> str:
    """Writes the modules of the notebooks in ``folder`` into ``into``; returns a note for the report.

    ``only``: the modules to take (a weekly course's per-unit assignment: its own unit's); the
    other course notebooks there are left out, and the note says so."""
    into.mkdir(parents=True, exist_ok=True)
    notebooks = course_notebooks_in(folder)
    left_out = sorted(path.name for module, path in notebooks.items() if only is not None and module not in only)
    notebooks = {module: path for module, path in notebooks.items() if only is None or module in only}
    problems, restorations = [], []
    for module, notebook in notebooks.items():
        try:
            restored = materialize_notebook(module, notebook, into)
            if restored:
                restorations.append(_restoration_note(notebook, restored))
        except NotebookProblem as problem:
            # The reason once, in the note; every check of the unit only points to it (the same
            # long message seventeen times over buried the other units' results).
            (into / f"{module}.py{PROBLEM_SUFFIX}").write_text(
                f"{notebook.name} could not be read, so this check could not run: see the note at the "
                "top of the report for why and how to fix it", encoding="utf-8")
            problems.append(f"{notebook.name} could not be read: {problem}")
    names = ", ".join(path.name for path in notebooks.values())
    note = f"graded the code cells of the notebooks {names}"
    if restorations:
        note += " (" + "; ".join(restorations) + ")"
    if problems:
        note += ". " + ". ".join(problems)
    if left_out:
        note += (f"; not graded: {', '.join(left_out)} in {folder.name}/ (each unit is graded, and used "
                 "by later units, from its own assignment)")
    return note


@dataclass(frozen=True)
class EarlierUnitsNote:
    """What :func:`add_earlier_units` did: ``units`` graded in the folder (its own unit only)."""

    note: str
    units: tuple[str, ...]


def _raising_module(message: str) -> str:
    """A module that fails to import with ``message`` (one line: the loader reports "line 1")."""
    return f"raise ImportError({message!r})  # written by the grader: this unit was not found\n"


def _materialize_earlier(module: str, notebook: Path, into: Path) -> list[str]:
    """:func:`materialize_notebook` of an earlier assignment's notebook, read as ``grade-batch`` reads
    a student's files (:func:`autograder.submission.copy_notebook_safely`): the grader's own process
    reads it, so a link (to another student's notebook, or to /dev/zero), a FIFO, a device or a
    notebook over the size limit is refused (SubmissionRefused, naming it), never followed, waited on
    or read whole. The assignment folder is opened without following a link too: a folder
    ``02-mlp`` linked to another student's ``02-mlp`` is refused like a linked notebook."""
    import tempfile

    from ..submission import copy_notebook_safely

    with tempfile.TemporaryDirectory(prefix="earlier-") as scratch:
        copy = Path(scratch) / notebook.name
        copy_notebook_safely(notebook, f"{notebook.parent.name}/{notebook.name}", copy)
        return materialize_notebook(module, copy, into)


def add_earlier_units(folder: Path, into: Path) -> EarlierUnitsNote | None:
    """For a per-unit assignment ``folder`` (``05-techniques``, see :mod:`.earlier`) whose modules were
    written into ``into``: writes there too the modules of the earlier units they import, from the same
    student's earlier assignments. None (nothing done) for any other folder.

    A unit found nowhere, or whose notebook cannot be read, becomes a module that raises ImportError
    saying so: the checks fail as they would in a whole-course folder without it, with a message
    that says what to hand in. The modules the earlier units import come along too (capstone needs
    techniques, which needs mlp and optimizers)."""
    from ..submission import SubmissionRefused  # (submission imports this module)
    from ..units import UNITS
    from .earlier import find_earlier_unit, imported_course_modules, search_roots, unit_of_assignment

    own = unit_of_assignment(folder)
    if own is None or not search_roots(folder):
        return None

    def present(module: str) -> bool:
        return (into / f"{module}.py").is_file() or (into / f"{module}.py{PROBLEM_SUFFIX}").is_file()

    pending = [unit.module for unit in UNITS.values() if (into / f"{unit.module}.py").is_file()]
    used, missing, seen = [], [], set(pending)
    while pending:
        importer = pending.pop(0)
        try:
            source = (into / f"{importer}.py").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for module in imported_course_modules(source):
            if module in seen or present(module):
                continue
            seen.add(module)
            earlier = find_earlier_unit(module, folder)
            if earlier is None:
                continue
            if earlier.notebook is None:
                message = earlier.missing_message(importer)
                (into / f"{module}.py").write_text(_raising_module(message), encoding="utf-8")
                missing.append(message)
                continue
            try:
                restored = _materialize_earlier(module, earlier.notebook, into)
            except (NotebookProblem, SubmissionRefused) as problem:
                message = f"{earlier.source} could not be read: {problem}"
                (into / f"{module}.py").write_text(_raising_module(message), encoding="utf-8")
                missing.append(message)
                continue
            restoration = f", {_restoration_note(earlier.notebook, restored)}" if restored else ""
            used.append(earlier.used_note() + restoration)
            pending.append(module)
    note = f"{folder.name} grades {own} only"
    if used or missing:
        note += " (the earlier units it imports are graded in their own assignments)"
    if used:
        note += "; earlier units used: " + "; ".join(used)
    if missing:
        note += ". " + ". ".join(message[0].upper() + message[1:] for message in missing)
    return EarlierUnitsNote(note, (own,))


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
