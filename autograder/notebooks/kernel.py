"""Inside a notebook's kernel: import the course's other notebooks by module name.

A later unit's module says ``from mlp import Linear``, exactly as the ``.py`` files do. In a folder of
notebooks there is no ``mlp.py``, so :func:`import_notebooks_as_modules` adds a finder that turns
``02_mlp.ipynb`` (as last saved) into the module ``mlp``: its module cells, joined. The finder comes
after Python's own, so a real ``mlp.py`` beside the notebooks still wins.

In a weekly course (one assignment per unit, ``05-techniques/``), ``mlp`` is not beside the notebook:
it is found in the student's earlier assignment (``../02-mlp/02_mlp.ipynb``; under nbgrader, the
student's ``submitted/`` or ``autograded/`` folder), exactly where the grader finds it
(:mod:`autograder.notebooks.earlier`). One found nowhere fails to import with a message saying
which assignment to do or fetch first, not Python's bare ``No module named 'mlp'``.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

from .cells import load_notebook, module_source


def notebook_for(module: str, folder: Path) -> Path | None:
    """``NN_<module>.ipynb`` (or ``<module>.ipynb``) in ``folder``, the first by name."""
    found = sorted(folder.glob(f"[0-9][0-9]_{module}.ipynb")) + sorted(folder.glob(f"{module}.ipynb"))
    return found[0] if found else None


class _NotebookLoader(importlib.abc.Loader):
    def __init__(self, path: Path):
        self.path = path

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        document = load_notebook(self.path)
        source = module_source(document, module.__name__, self.path.name)
        exec(compile(source, str(self.path), "exec"), module.__dict__)


class _MissingLoader(importlib.abc.Loader):
    """An earlier unit found nowhere: importing it raises ModuleNotFoundError saying why."""

    def __init__(self, message: str):
        self.message = message

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        raise ModuleNotFoundError(self.message, name=module.__name__)


class NotebookFinder(importlib.abc.MetaPathFinder):
    """Finds the course modules (and only those) as notebooks in ``folder``."""

    def __init__(self, folder: Path, modules: set[str]):
        self.folder = folder
        self.modules = modules

    def find_spec(self, fullname, path=None, target=None):
        if path is not None or fullname not in self.modules:
            return None
        notebook = notebook_for(fullname, self.folder)
        if notebook is None:
            from .earlier import find_earlier_unit

            earlier = find_earlier_unit(fullname, self.folder)
            if earlier is None:  # not a per-unit assignment: Python's own "No module named ..."
                return None
            if earlier.notebook is None:
                message = earlier.missing_message(f"the notebook in {self.folder.name}/", working=True)
                return importlib.util.spec_from_loader(fullname, _MissingLoader(message))
            notebook = earlier.notebook
        return importlib.util.spec_from_loader(fullname, _NotebookLoader(notebook), origin=str(notebook))


def import_notebooks_as_modules(folder: Path | None = None) -> None:
    """Makes ``import <course module>`` load the sibling notebook; calling it twice is harmless."""
    from ..units import UNITS

    folder = Path(folder or Path.cwd()).resolve()
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, NotebookFinder)]
    sys.meta_path.append(NotebookFinder(folder, {unit.module for unit in UNITS.values()}))
