"""Realistic buggy variants of the reference solutions, one list per unit.

Each :class:`Mutation` is a textual edit of a reference file (``find`` must occur exactly once, so
the corpus fails loudly instead of silently testing nothing when the solution changes) and the
checks it must fail, each with a fragment of the hint or message the student must see.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping


@dataclass(frozen=True)
class Mutation:
    name: str
    module: str
    find: str
    replace: str
    #: check id -> a fragment of its feedback (message or hint) that must appear, lower-cased match
    must_fail: Mapping[str, str] = field(default_factory=dict)

    def apply(self, solutions: Path, target: Path) -> Path:
        """Copies ``solutions`` to ``target`` with this mutation applied; returns ``target``."""
        shutil.copytree(solutions, target, ignore=shutil.ignore_patterns("__pycache__"))
        path = target / f"{self.module}.py"
        source = path.read_text()
        count = source.count(self.find)
        if count != 1:
            raise AssertionError(f"mutation {self.name!r}: the text to replace occurs {count} times")
        path.write_text(source.replace(self.find, self.replace))
        return target
