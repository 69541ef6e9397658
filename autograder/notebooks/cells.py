"""The course's notebook format: the cells it writes and how a handed-in notebook is read back.

Every notebook is nbformat 4 JSON. Cells that belong to the module carry

    metadata.autograder = {"module": "linear_model", "chunk": "predict", "index": 3, "count": 9}

(index 0-based, count = number of module cells), and test cells carry
``metadata.autograder = {"test": "linear.predict"}``. The nbgrader metadata beside it (grade_id,
points, solution, locked) is nbgrader's own. Cells a student adds have no ``autograder`` metadata
and are ignored by grading, so scratch cells are harmless; deleted, duplicated or reordered module
cells are refused with a message that names the cell.

Only the standard library is used here: the grader reads notebooks without nbformat installed.
"""

from __future__ import annotations

import json
from pathlib import Path

from .chunks import join_chunks

NBFORMAT, NBFORMAT_MINOR = 4, 5
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


class NotebookProblem(ValueError):
    """A notebook that cannot be graded as it is; the message says what to do."""


def notebook_name(index: int, module: str) -> str:
    """``01_linear_model.ipynb``: the unit's place in the course, then its module."""
    return f"{index:02d}_{module}.ipynb"


def _cell_id(text: str) -> str:
    """A stable nbformat 4.5 cell id (letters, digits, - and _, at most 64)."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)
    return cleaned[:64]


def markdown_cell(text: str, cell_id: str) -> dict:
    return {"cell_type": "markdown", "id": _cell_id(cell_id), "metadata": {}, "source": text.splitlines(keepends=True)}


def code_cell(source: str, cell_id: str, metadata: dict) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": _cell_id(cell_id),
        "metadata": metadata,
        "outputs": [],
        "source": source.splitlines(keepends=True),  # Jupyter's on-disk form
    }


def nbgrader_metadata(grade_id: str, *, solution: bool = False, grade: bool = False,
                      locked: bool = False, points: float | None = None) -> dict:
    """nbgrader's cell metadata (schema 3)."""
    metadata = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        metadata["points"] = points
    return metadata


def notebook(cells: list[dict], title: str) -> dict:
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": KERNELSPEC,
            "language_info": {"name": "python"},
            "title": title,
        },
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
    }


def dumps(document: dict) -> str:
    """Deterministic JSON in nbformat's own style (indent 1, sorted keys, UTF-8 kept)."""
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------- reading back


def source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def load_notebook(path: Path) -> dict:
    """The notebook at ``path`` as JSON, or NotebookProblem saying why it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotebookProblem(f"{path.name} is not UTF-8 text: it is not a notebook file") from None
    except OSError as error:
        raise NotebookProblem(f"{path.name} cannot be read: {error.strerror}") from None
    try:
        document = json.loads(text)
    except RecursionError:  # ``[[[[...``: 200 kB of it is far below any size limit
        raise NotebookProblem(f"{path.name} is not a valid notebook (its JSON is nested too deeply to read): "
                              "it was damaged outside Jupyter; restore it from your last good copy") from None
    except json.JSONDecodeError as error:
        raise NotebookProblem(
            f"{path.name} is not a valid notebook (broken JSON at line {error.lineno}, column {error.colno}): "
            "it was damaged outside Jupyter; restore it from your last good copy"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotebookProblem(f"{path.name} is JSON but not a Jupyter notebook (no list of cells)")
    return document


def module_cells(document: dict, module: str) -> list[tuple[int, dict, dict]]:
    """(position, cell, its autograder metadata) of every cell of ``module``, in notebook order."""
    found = []
    for position, cell in enumerate(document["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        tag = (cell.get("metadata") or {}).get("autograder")
        if isinstance(tag, dict) and tag.get("module") == module:
            found.append((position, cell, tag))
    return found


def module_source(document: dict, module: str, name: str, given: dict[str, str] | None = None) -> str:
    """The module ``module`` as written in the notebook ``name``: its module cells, joined in order.

    ``given`` (chunk name -> source) restores the read-only cells, as nbgrader's autograde does for
    locked cells, so an edited given cell counts as the original. Raises NotebookProblem when module
    cells are missing, duplicated or out of order.
    """
    cells = module_cells(document, module)
    if not cells:
        raise NotebookProblem(
            f"{name} holds none of the {module} cells (were they deleted, or is this another notebook?)"
        )
    count = cells[0][2].get("count")
    indices = [tag.get("index") for _, _, tag in cells]
    chunk_names = {tag.get("index"): tag.get("chunk", "?") for _, _, tag in cells}
    duplicated = sorted({index for index in indices if indices.count(index) > 1 and isinstance(index, int)})
    if duplicated:
        raise NotebookProblem(
            f"{name}: the cell for {chunk_names[duplicated[0]]!r} appears {indices.count(duplicated[0])} times "
            "(a copied cell?); keep one copy of each given or answer cell"
        )
    if not isinstance(count, int) or any(not isinstance(index, int) for index in indices):
        raise NotebookProblem(f"{name}: the cells' autograder metadata was edited; restore the notebook")
    missing = sorted(set(range(count)) - set(indices))
    if missing:
        raise NotebookProblem(
            f"{name}: {len(missing)} of the notebook's {count} code cells of {module} were deleted "
            f"(the first missing is cell {missing[0] + 1} of {count}); restore them from the release "
            "(an empty answer cell is fine, a deleted one is not)"
        )
    if indices != sorted(indices):
        first = next(i for i in range(1, len(indices)) if indices[i] < indices[i - 1])
        raise NotebookProblem(
            f"{name}: code cells were reordered: the cell for {chunk_names[indices[first]]!r} now comes after "
            f"the cell for {chunk_names[indices[first - 1]]!r}; move it back (the cells form one module, in order)"
        )
    given = given or {}
    return join_chunks([given.get(tag.get("chunk"), source_text(cell)) for _, cell, tag in cells])
