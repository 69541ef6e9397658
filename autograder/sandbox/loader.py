"""Loading a submission's modules inside the sandboxed child, with messages a student can act on.

A submission is a folder shaped like ``assignments/``. Its modules are imported by file path, under
their plain names (so ``from linear_model import predict`` inside a submission works), only ever
inside a child process: the parent never imports student code.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType


class SubmissionImportError(Exception):
    """A submission module could not be imported: missing, a syntax error, or it raised."""


class Implementation:
    """The code under test: a folder of modules, imported lazily by name.

    Probes call ``impl.module("linear_model").predict(...)``; the same probe runs on the student's
    folder and on the reference folder.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder).resolve()
        self._modules: dict[str, ModuleType] = {}
        # A module of the same plain name left over in this process (another folder's ``mlp``, say)
        # would answer the submission's own ``from mlp import Layer``: forget every such module.
        for path in self.folder.glob("*.py"):
            loaded = sys.modules.get(path.stem)
            origin = getattr(loaded, "__file__", None)
            if loaded is not None and (origin is None or Path(origin).resolve().parent != self.folder):
                del sys.modules[path.stem]

    def module(self, name: str) -> ModuleType:
        if name not in self._modules:
            self._modules[name] = import_submission_module(self.folder, name)
        return self._modules[name]

    def function(self, module: str, name: str):
        """The callable ``module.name``, with a clear error when the student removed or renamed it."""
        value = getattr(self.module(module), name, None)
        if not callable(value):
            raise SubmissionImportError(
                f"{module}.py has no function or class named {name!r} (was it renamed or deleted?)"
            )
        return value


def import_submission_module(folder: Path, name: str) -> ModuleType:
    """Imports ``folder/name.py`` as module ``name``.

    Raises SubmissionImportError naming the file and line for a missing file, a syntax error, or an
    exception (including SystemExit) raised while the module body runs.
    """
    path = folder / f"{name}.py"
    problem = folder / f"{name}.py.problem"
    if problem.is_file():  # a handed-in notebook that could not become this module (notebooks/materialize.py)
        raise SubmissionImportError(problem.read_text(encoding="utf-8", errors="replace"))
    if not path.is_file():
        raise SubmissionImportError(f"{name}.py is missing from the submission")
    try:
        source = path.read_bytes()
    except OSError as error:
        raise SubmissionImportError(f"{path.name} cannot be read: {error.strerror}") from None
    if b"\0" in source:
        raise SubmissionImportError(f"{path.name} is not a Python text file (it contains binary data)")
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SubmissionImportError(
            f"{path.name} is not UTF-8 text (invalid byte at offset {error.start}): save it as UTF-8"
        ) from None
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    sys.dont_write_bytecode = True  # never leave __pycache__ in a student's folder
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        code = compile(text, str(path), "exec")
        exec(code, module.__dict__)
    except BaseException as error:  # SystemExit and KeyboardInterrupt included: a verdict, not an exit
        sys.modules.pop(name, None)
        if getattr(error, "is_forbidden_use", False):
            raise  # reported as "forbidden" with its own location, not as an import failure
        broken = _unparsable_file(error, folder)
        if broken is not None:
            # Name the file that does not parse: capstone.py importing a broken losses.py is
            # losses.py's syntax error (at losses.py's line), not capstone.py's.
            via = "" if broken == path.name else f" (imported by {path.name})"
            raise SubmissionImportError(
                f"{broken} line {error.lineno}: syntax error: {error.msg}{via}"
            ) from None
        where = student_location(error, folder)
        what = describe_exception(error)
        raise SubmissionImportError(f"{where or path.name}: {what} while importing {path.name}") from None
    return module


def _unparsable_file(error: BaseException, folder: Path) -> str | None:
    """The name of the submission file a SyntaxError is about, or None when ``error`` is not one
    (or is about code that is no file of the submission, e.g. a string given to ``eval``)."""
    if not isinstance(error, SyntaxError) or not error.filename:
        return None
    try:
        file = Path(error.filename).resolve()
    except (OSError, ValueError):
        return None
    return file.name if file.parent == Path(folder).resolve() else None


#: "losses.py line 12: syntax error: ...", "capstone.py is missing from the submission",
#: "losses.py line 3: raised ImportError: ... while importing capstone.py"
_IMPORT_FAILURE = re.compile(
    r"^(?P<file>[\w.-]+\.py)(?: line (?P<line>\d+))?(?::| is missing)"
    r"(?: (?P<syntax>syntax error)| (?:raised|called) (?P<raised>[\w.]+)| from the submission)"
)


@dataclass(frozen=True)
class ImportFailure:
    """Where a module failed to import, parsed from a :class:`SubmissionImportError`'s message.

    file: the submission file at fault (``losses.py``), line: its line (None when not known),
    what: a few words (``syntax error``, ``ImportError``, ``missing``).
    """

    file: str
    line: int | None
    what: str

    def short(self) -> str:
        """``losses.py (syntax error, line 12)``: what every other check of a unit is blocked by."""
        return f"{self.file} ({self.what}" + (f", line {self.line})" if self.line else ")")


def parse_import_failure(message: str) -> ImportFailure | None:
    """The file, line and kind of an import failure message of this module; None for any other
    message (a missing function, a notebook that could not be converted)."""
    match = _IMPORT_FAILURE.match(message)
    if match is None:
        return None
    what = "syntax error" if match["syntax"] else match["raised"] or "missing"
    if what != "sys.exit":
        what = what.rsplit(".", 1)[-1]  # the exception's class name without its module
    return ImportFailure(match["file"], int(match["line"]) if match["line"] else None, what)


def describe_exception(error: BaseException) -> str:
    """``"raised ValueError: message"``, with the special exits named plainly."""
    if isinstance(error, SystemExit):
        return f"called sys.exit({error.code!r})"
    if isinstance(error, KeyboardInterrupt):
        return "raised KeyboardInterrupt"
    if isinstance(error, RecursionError):
        return "recursed too deeply (RecursionError)"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = text[:300]
    return f"raised {type(error).__name__}" + (f": {text}" if text else "")


def student_frames(error: BaseException, folder: Path) -> list[traceback.FrameSummary]:
    """The traceback frames that lie inside the submission folder."""
    folder_text = str(Path(folder).resolve())
    return [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.startswith(folder_text)
    ]


def student_location(error: BaseException, folder: Path) -> str | None:
    """``"linear_model.py line 42"`` for the deepest student frame of ``error``, or None."""
    frames = student_frames(error, folder)
    if isinstance(error, SyntaxError) and error.lineno:
        return f"{Path(error.filename or '').name} line {error.lineno}"
    if not frames:
        return None
    return f"{Path(frames[-1].filename).name} line {frames[-1].lineno}"


def short_traceback(error: BaseException, folder: Path, limit: int = 3, *, with_exception: bool = True) -> str:
    """The last ``limit`` student frames (and the exception), like a trimmed Python traceback."""
    lines = []
    for frame in student_frames(error, folder)[-limit:]:
        lines.append(f'  {Path(frame.filename).name}, line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    if with_exception:
        lines.append(describe_exception(error).removeprefix("raised "))
    return "\n".join(lines)
