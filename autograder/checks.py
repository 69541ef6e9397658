"""What a check is, and what it concludes.

A check has an id ``unit.part.aspect`` (e.g. ``linear.gradients.values``), points, a visibility and
a body split in two halves, so that untrusted code never decides its own verdict:

* :meth:`Check.probe` runs *inside the sandboxed child*. It calls the code under test (the student's,
  or the reference, through the same :class:`~autograder.sandbox.Implementation` interface) and
  returns raw numbers: a flat mapping of names to floats / numeric arrays.
* :meth:`Check.judge` runs *in the trusted parent*. It receives the student's raw numbers and, for
  checks that need it, the reference's raw numbers for the same probe, and returns a :class:`Verdict`.

Checks are plain data the engine runs, so the command line, the test-suite, notebook cells and the
batch grader all grade with the same code and give the same score.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Mapping

from .sandbox import Implementation

Outputs = Mapping[str, object]


def unit_of(check_id: str) -> str:
    """``linear`` for ``linear.predict.values``."""
    return check_id.split(".")[0]


def part_of(check_id: str) -> str:
    """``linear.predict`` for ``linear.predict.values``: what students select."""
    return check_id.rsplit(".", 1)[0]


class Visibility(str, enum.Enum):
    """Public checks show their inputs and expected values; hidden ones only show hints."""

    PUBLIC = "public"
    HIDDEN = "hidden"


@dataclass(frozen=True)
class Verdict:
    """A check's conclusion.

    message: one line saying what is wrong (or that all is well).
    hint: the diagnosed cause, safe to show for hidden checks (no inputs, no expected values).
    details: expected vs received, worst element, relative error: shown for public checks only.
    curves: named series (e.g. a loss history) that a plot can show.
    generic_hint: the hint is the generic diagnosis of the numbers (a factor, a shape, some rows),
        not a mistake this check names: when a part this check builds on fails, that part is the
        likelier cause, and the generic hint is dropped for "fix <part> first".
    """

    passed: bool
    message: str = ""
    hint: str | None = None
    details: tuple[str, ...] = ()
    curves: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    generic_hint: bool = False

    @classmethod
    def ok(cls, message: str = "", curves: Mapping[str, tuple[float, ...]] | None = None) -> "Verdict":
        return cls(True, message, curves=curves or {})


class Check(ABC):
    """Base class of every check; see the module docstring for the probe/judge split.

    Subclasses set ``needs_reference`` to False when the verdict follows from the student's own
    numbers (gradient checks, properties, convergence to a closed-form optimum).
    """

    needs_reference: bool = True

    def __init__(
        self,
        id: str,
        *,
        description: str,
        points: float,
        visibility: Visibility = Visibility.PUBLIC,
        timeout_s: float | None = None,
        depends_on: tuple[str, ...] = (),
        requires: tuple[str, ...] = (),
        forbidden_calls: tuple[str, ...] = (),
    ):
        if id.count(".") != 2:
            raise ValueError(f"check id {id!r} must look like unit.part.aspect")
        self.id = id
        self.description = description
        self.points = float(points)
        self.visibility = visibility
        self.timeout_s = timeout_s
        #: parts (``unit.part``) whose student code this check also runs; when one of them fails,
        #: the feedback says to fix that first.
        self.depends_on = depends_on
        #: check ids (``unit.part.aspect``) or parts (``unit.part``: all of its checks) that must pass
        #: for this check to score at all: a gradient check of a forward that returns 0 with a
        #: backward of 0 proves nothing. When one of them fails (and was graded in the same run),
        #: this check, if it passed, fails "blocked: fix <part> first" with 0 points
        #: (grading._note_failing_dependencies). They count as dependencies for the hint too.
        self.requires = requires
        #: dotted functions the student's code may not call in this check (e.g. numpy.linalg.lstsq)
        self.forbidden_calls = forbidden_calls

    @property
    def unit(self) -> str:
        return unit_of(self.id)

    @property
    def part(self) -> str:
        return part_of(self.id)

    @abstractmethod
    def probe(self, impl: Implementation) -> Outputs:
        """Runs the code under test; returns raw numbers. Runs inside the sandbox."""

    @abstractmethod
    def judge(self, student: Outputs, reference: Outputs | None) -> Verdict:
        """Decides from raw numbers. Runs in the trusted parent."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, points={self.points:g})"
