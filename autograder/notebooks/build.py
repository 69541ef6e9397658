"""Building a unit's notebooks from its module in ``solutions/`` and its lesson text.

A *lesson* (``lessons/<unit>.md``) is markdown that teaches the unit, interleaved with directives,
each alone on a line:

    @@ code NAME [NAME ...]   the module's chunks with these names (``header`` for the imports)
    @@ test PART              the test cell of PART (``linear.predict``)
    @@ figure                 the lines up to the next directive are a plain code cell that draws
                              the unit's figures inline (given helpers; not graded)

Every chunk of the module must be placed exactly once and in file order (the notebook's module
cells, joined, are the module) and every part of the unit gets exactly one test cell; a lesson that
breaks either rule is refused, so a lesson cannot silently go stale when ``solutions/`` changes. A
unit without a lesson gets a plain one: its module docstring, its chunks, and its tests at the end.

Two flavours come out of one build: the nbgrader *source* notebook (solution regions in place, for
``nbgrader generate_assignment``) and the *student* notebook (solution regions stubbed as in
``assignments/``). Test cells are the same in both: a part's hidden checks run under ``nbgrader
autograde`` only (see :func:`test_cell_source`), so no locked cell differs between the source and the
release and nbgrader's checksums stay quiet for honest students.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from ..checks import Visibility
from ..stubs import make_stub
from ..units import UNITS
from ..units.unit import Unit
from . import cells as nb
from .chunks import Chunk, split_module

LESSONS = Path(__file__).resolve().parent / "lessons"
DIRECTIVE = re.compile(r"^@@\s+(code|test|figure)\b(.*)$")
#: nbgrader's hidden-tests markers: no generated cell holds them (see test_cell_source).
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
#: The line of a test cell whose part has hidden checks (run under nbgrader autograde only).
AUTOGRADE_ALL_CHECKS = 'checks = "all"'

SETUP_SOURCE = (
    "# Given: lets the course's notebooks import one another by module name, as the .py files do\n"
    "# (e.g. `from mlp import Linear` in a later unit). Run this cell first.\n"
    "from autograder.notebooks.kernel import import_notebooks_as_modules\n"
    "\n"
    "import_notebooks_as_modules()"
)


class LessonError(ValueError):
    """A lesson that does not match its module or its unit's parts."""


@dataclass(frozen=True)
class Block:
    """One step of a lesson: ``kind`` is markdown, code, test or figure."""

    kind: str
    text: str
    line: int


def parse_lesson(text: str) -> list[Block]:
    blocks: list[Block] = []
    pending: list[str] = []
    pending_kind, pending_line = "markdown", 1

    def flush():
        body = "\n".join(pending).strip("\n")
        if body.strip():
            blocks.append(Block(pending_kind, body, pending_line))
        pending.clear()

    for number, line in enumerate(text.splitlines(), start=1):
        match = DIRECTIVE.match(line)
        if not match:
            pending.append(line)
            continue
        flush()
        kind, argument = match.group(1), match.group(2).strip()
        if kind == "figure":
            pending_kind, pending_line = "figure", number + 1
            continue
        if not argument:
            raise LessonError(f"line {number}: @@ {kind} needs a name")
        blocks.append(Block(kind, argument, number))
        pending_kind, pending_line = "markdown", number + 1
    flush()
    return blocks


def default_lesson(unit: Unit, chunks: list[Chunk], docstring: str) -> list[Block]:
    blocks = [Block("markdown", f"# {unit.title}\n\n{docstring}".strip(), 0)]
    blocks += [Block("code", chunk.name, 0) for chunk in chunks]
    blocks += [Block("test", part, 0) for part in unit.parts]
    return blocks


def lesson_blocks(unit: Unit, chunks: list[Chunk], docstring: str) -> list[Block]:
    path = LESSONS / f"{unit.name}.md"
    if not path.is_file():
        return default_lesson(unit, chunks, docstring)
    try:
        return parse_lesson(path.read_text(encoding="utf-8"))
    except LessonError as error:
        raise LessonError(f"{path.name} {error}") from None


def test_cell_source(part: str, points: float, has_hidden: bool) -> str:
    """The test cell of ``part``: the same text in the source, the release and the student notebook.

    A part with hidden checks runs them only under ``nbgrader autograde``, which sets
    ``NBGRADER_EXECUTION=autograde`` in the kernel's environment; a student's Jupyter and ``nbgrader
    validate`` run the public checks. The switch is in the cell's text, not in nbgrader's
    ``### BEGIN HIDDEN TESTS`` region, because that region makes every such cell differ between the
    source notebook (whose checksum the gradebook keeps) and the release (whose text the student
    hands in): nbgrader's autograde then warns "checksum has changed" for each of them for every
    student (nbgrader issue 1961), 39 false alarms per student that hide a real edit of a locked
    cell. With one text everywhere, an honest notebook gives no checksum warning at all.

    ``checks = "all"`` stands alone on its line, as ``trusted_autograde.test_cell_request`` reads
    it when autograde grades without a kernel. The hidden checks themselves are not in the notebook
    (they live in the course's grader), so the release reveals nothing by naming the switch.
    """
    lines = [
        f"# Tests of {part} ({points:g} points): the same checks as `autograder check {part}`.",
        "# They grade this notebook as last saved: save it (Ctrl+S) before running this cell.",
    ]
    if has_hidden:
        lines += [
            "import os",
            "",
            "from autograder.notebooks.grade_cell import grade_part",
            "",
            "# Here the public checks run; when your work is graded (nbgrader autograde), the hidden ones too.",
            AUTOGRADE_ALL_CHECKS,
            'if os.environ.get("NBGRADER_EXECUTION") != "autograde":',
            '    checks = "public"',
        ]
    else:
        lines += ["from autograder.notebooks.grade_cell import grade_part", "", 'checks = "public"']
    lines.append(f'grade_part("{part}", checks)')
    return "\n".join(lines)


def _module_cell(unit: Unit, chunk: Chunk, index: int, count: int, *, student: bool) -> dict:
    grade_id = f"{unit.module}-{chunk.name}"
    tag = {"chunk": chunk.name, "count": count, "index": index, "module": unit.module}
    if chunk.is_answer:
        source = make_stub(chunk.source + "\n", Path(f"{unit.module}.py")).rstrip("\n") if student else chunk.source
        grader = nb.nbgrader_metadata(grade_id, solution=True)
    else:
        source = chunk.source
        grader = nb.nbgrader_metadata(grade_id, locked=True)
    return nb.code_cell(source, grade_id, {"autograder": tag, "nbgrader": grader})


def build_notebook(unit: Unit, index: int, module_source: str, *, student: bool) -> dict:
    """The notebook of ``unit`` (``index``: its place in the course), source or student flavour."""
    chunks = split_module(module_source, f"{unit.module}.py")
    docstring = ast.get_docstring(ast.parse(module_source)) or ""
    blocks = lesson_blocks(unit, chunks, docstring)
    by_name = {chunk.name: (position, chunk) for position, chunk in enumerate(chunks)}
    points = {part: 0.0 for part in unit.parts}
    hidden = {part: False for part in unit.parts}
    for check in unit.checks:
        points[check.part] += check.points
        hidden[check.part] |= check.visibility is Visibility.HIDDEN

    cells = [nb.code_cell(SETUP_SOURCE, f"setup-{unit.module}",
                          {"nbgrader": nb.nbgrader_metadata(f"setup-{unit.module}", locked=True)})]
    placed: list[int] = []
    tested: list[str] = []
    for number, block in enumerate(blocks):
        where = f"lessons/{unit.name}.md line {block.line}"
        if block.kind == "markdown":
            cells.append(nb.markdown_cell(block.text, f"{unit.module}-md-{number}"))
        elif block.kind == "figure":
            cells.append(nb.code_cell(block.text, f"{unit.module}-figure-{number}", {"autograder": {"figure": True}}))
        elif block.kind == "code":
            for name in block.text.split():
                if name not in by_name:
                    raise LessonError(f"{where}: {unit.module}.py has no top-level {name!r} "
                                      f"(its chunks: {', '.join(by_name)})")
                position, chunk = by_name[name]
                if placed and position <= placed[-1]:
                    raise LessonError(f"{where}: {name!r} is placed twice or out of file order")
                placed.append(position)
                cells.append(_module_cell(unit, chunk, len(placed) - 1, len(chunks), student=student))
        elif block.kind == "test":
            part = block.text
            if part not in points or part in tested:
                raise LessonError(f"{where}: {part!r} is not an untested part of {unit.name} "
                                  f"(its parts: {', '.join(unit.parts)})")
            tested.append(part)
            grade_id = "test-" + part.replace(".", "-")  # nbgrader allows letters, digits, _ and -
            metadata = {"autograder": {"test": part},
                        "nbgrader": nb.nbgrader_metadata(grade_id, grade=True, locked=True, points=points[part])}
            cells.append(nb.code_cell(test_cell_source(part, points[part], hidden[part]),
                                      grade_id, metadata))
    unplaced = [chunk.name for position, chunk in enumerate(chunks) if position not in placed]
    if unplaced:
        raise LessonError(f"lessons/{unit.name}.md does not place the chunks {', '.join(unplaced)} of {unit.module}.py")
    untested = [part for part in unit.parts if part not in tested]
    if untested:
        raise LessonError(f"lessons/{unit.name}.md has no test cell for {', '.join(untested)}")
    # Module cells were numbered as placed; every chunk is placed once, so index == chunk position.
    return nb.notebook(cells, unit.title)


def course_notebooks(solutions: Path, *, student: bool, units: list[str] | None = None) -> dict[str, str]:
    """File name -> notebook JSON for every unit (or those named), from the modules in ``solutions``."""
    built = {}
    for index, unit in enumerate(UNITS.values(), start=1):
        if units and unit.name not in units:
            continue
        source = (solutions / f"{unit.module}.py").read_text(encoding="utf-8")
        built[nb.notebook_name(index, unit.module)] = nb.dumps(build_notebook(unit, index, source, student=student))
    return built
