"""Cutting a course module into the pieces a notebook shows one cell each.

A module of ``solutions/`` becomes a sequence of *chunks*: the header (module docstring, imports,
constants before the first definition) and then one chunk per top-level ``def`` or ``class``, with
the comment lines and decorators right above it. Statements between two definitions stay with the
definition before them, and the comments between two statements open the chunk below. Joined in order, the chunks are the module again (up to blank lines), which
is what lets a notebook be graded as a module: its chunk cells, concatenated, *are* the file.

A chunk holding a solution region (``### BEGIN SOLUTION``) is an answer cell; every other chunk is
given code, shown read-only.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..stubs import BEGIN

HEADER = "header"


@dataclass(frozen=True)
class Chunk:
    """``name``: the definition it holds (``predict``) or ``header``; ``source`` without trailing blanks."""

    name: str
    source: str

    @property
    def is_answer(self) -> bool:
        return any(line.strip() == BEGIN for line in self.source.splitlines())


def split_module(source: str, module: str = "<module>") -> list[Chunk]:
    """The chunks of ``source`` in file order; every line of the file lands in exactly one chunk."""
    lines = source.splitlines()
    tree = ast.parse(source, filename=module)
    starts: list[tuple[int, str]] = []
    previous_end = 0  # 0-based index of the line after the previous top-level statement
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = previous_end
            # Indented lines after a statement's last line are its own trailing comments (such as
            # "### END SOLUTION"); the column-0 comments and decorators that follow introduce the next.
            while first < node.lineno - 1 and (not lines[first].strip() or lines[first][0].isspace()):
                first += 1
            starts.append((first, node.name))
        previous_end = node.end_lineno
    names = [name for _, name in starts]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{module}: top-level names defined twice: {', '.join(duplicates)}")
    boundaries = [(0, HEADER), *starts] if not starts or starts[0][0] > 0 else starts
    chunks = []
    for index, (start, name) in enumerate(boundaries):
        end = boundaries[index + 1][0] if index + 1 < len(boundaries) else len(lines)
        text = "\n".join(lines[start:end]).strip("\n")
        if text.strip():
            chunks.append(Chunk(name, text))
    return chunks


def join_chunks(sources: list[str]) -> str:
    """The module text of chunk sources in order (two blank lines between, as PEP 8 puts them)."""
    return "\n\n\n".join(source.strip("\n") for source in sources) + "\n"
