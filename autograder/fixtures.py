"""Public fixtures: the reference's outputs on the public checks, for a grader without ``solutions/``.

A student release carries no reference solutions, so its grader takes the expected values of its
reference comparisons from a fixture file instead: exactly the numbers the reference solutions
produce on the public checks, computed once by the instructor (``autograder fixtures OUT``, and
by ``autograder release``). Checks that need no reference (gradient checks, properties,
convergence) judge from the student's own numbers and need no fixture at all.

The file is a gzip-compressed frame of the grader's pickle-free wire format
(:mod:`autograder.sandbox.wire`): numbers and numeric arrays under ``<check id>|<output key>``,
and one JSON header entry (``fixtures``) with the format version and, per check, a fingerprint of
its definition (:func:`check_fingerprint`). Reading it runs no code. A check whose fingerprint
differs from the one recorded, or that the file does not know, is not judged against stale
numbers: it gets a grader error that says so and how to rebuild.

The file also holds the **wrong answers** of the public checks' instructor-only known mistakes
(:class:`~autograder.diagnosis.InstructorAnswer`, e.g. Unit 4's simulated optimizer mistakes), under
``<check id>|mistake/<case index>/<mistake key>``: the release leaves out the instructor code that
computes them, and its diagnosis reads them here (:func:`precomputed_wrong_answer`) so that every
hint is the same as in the repository. A wrong answer bitwise equal to the reference's output is
stored as the string ``"expected"``; one whose computation failed is not stored (it explains nothing,
in the repository as here).

The values are public: they are what the public checks' feedback shows anyway (expected values,
worst elements), and the wrong answers are those of named mistakes on public inputs, so a student
may read the file. Hidden checks never have fixtures, and neither do the fresh inputs on which the
repository also grades public checks (:mod:`autograder.evidence.fresh`): the file holds the public
cases' outputs only, and a check's fingerprint ignores its fresh twin.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import inspect
import json
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .checks import Check, Outputs, Visibility
from .diagnosis import SAME_AS_EXPECTED, InstructorAnswer, KnownMistake
from .evidence import fresh
from .sandbox import wire

FORMAT = 2  # 2: with the wrong answers of instructor-only known mistakes
#: Where a student release keeps its fixtures: inside the grader package. A package that carries
#: this file is a student release, and grades against it (see :func:`autograder.api.default_reference`).
PACKAGE_FIXTURES = Path(__file__).resolve().with_name("public_fixtures.agw.gz")
HEADER_KEY = "fixtures"
#: The output-key prefix under which a check's precomputed wrong answers are filed.
MISTAKE_PREFIX = "mistake/"
REBUILD = "rebuild the release (`autograder release OUT_DIR` in the course repository)"

#: Attributes of a check that only judge (or describe) and do not change what its probe returns:
#: changing them leaves the fixtures valid.
_JUDGE_ONLY = frozenset(
    {"description", "points", "visibility", "timeout_s", "depends_on", "forbidden_calls", "known_mistakes",
     "tolerance"}
)

#: Attributes a check has only where the hidden package is (its twin on fresh inputs,
#: :mod:`autograder.evidence.fresh`): a release's checks lack them, and fixtures never hold their outputs.
_NOT_PUBLIC = frozenset({fresh.TWIN})


class FixtureError(ValueError):
    """Fixtures that cannot be written (the reference failed) or read (missing, corrupt, foreign)."""


# ----------------------------------------------------------------------------- fingerprints


def check_fingerprint(check: Check) -> str:
    """A digest of what determines the outputs of ``check``'s probe.

    It covers the check's class, id and every attribute its probe may use: case labels and inputs
    (arrays by dtype, shape and bytes), settings, and the functions it calls (by name, source
    text and closure values, so two activations built by one factory differ). Attributes that only
    judge (points, tolerance, known mistakes, description...) are left out: changing them keeps
    the fixtures valid. It is the same on every Python version that reads the same source.
    """
    digest = hashlib.sha256(f"{FORMAT}|{type(check).__module__}.{type(check).__qualname__}|{check.id}".encode())
    attributes = {name: value for name, value in vars(check).items()
                  if name not in _JUDGE_ONLY and name not in _NOT_PUBLIC and name != "id"}
    _feed(digest, attributes, set())
    return digest.hexdigest()


_SOURCES: dict[types.CodeType, str] = {}


def _source(function: types.FunctionType) -> str:
    code = function.__code__
    if code not in _SOURCES:
        try:
            _SOURCES[code] = inspect.getsource(function)
        except (OSError, TypeError):  # no source file: the name must do
            _SOURCES[code] = ""
    return _SOURCES[code]


def _feed(digest, value: Any, active: set[int]) -> None:
    """Feeds a canonical, type-tagged encoding of ``value`` into ``digest``."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
        return
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.ascontiguousarray(value)
        digest.update(f"array:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.tobytes() if array.dtype != object else repr(array.tolist()).encode())
        return
    if id(value) in active:  # a cycle (a function that refers to itself)
        digest.update(b"cycle;")
        return
    active.add(id(value))
    try:
        if isinstance(value, Mapping):
            digest.update(f"map:{len(value)};".encode())
            for key in sorted(value, key=repr):
                _feed(digest, key, active)
                _feed(digest, value[key], active)
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
            digest.update(f"{type(value).__name__}:{len(items)};".encode())
            for item in items:
                _feed(digest, item, active)
        elif isinstance(value, types.FunctionType):
            digest.update(f"function:{value.__module__}.{value.__qualname__};".encode())
            digest.update(_source(value).encode())
            _feed(digest, value.__defaults__, active)
            _feed(digest, value.__kwdefaults__, active)
            for cell in value.__closure__ or ():
                try:
                    _feed(digest, cell.cell_contents, active)
                except ValueError:  # an empty cell
                    digest.update(b"empty;")
        elif isinstance(value, types.MethodType):
            _feed(digest, value.__func__, active)
        elif isinstance(value, (types.BuiltinFunctionType, type, types.ModuleType)):
            name = getattr(value, "__qualname__", value.__name__)
            digest.update(f"named:{getattr(value, '__module__', '')}.{name};".encode())
        elif dataclasses.is_dataclass(value):
            digest.update(f"dataclass:{type(value).__qualname__};".encode())
            for field in dataclasses.fields(value):
                digest.update(field.name.encode())
                _feed(digest, getattr(value, field.name), active)
        elif hasattr(value, "__dict__"):
            digest.update(f"object:{type(value).__module__}.{type(value).__qualname__};".encode())
            _feed(digest, dict(vars(value)), active)
        else:
            digest.update(f"opaque:{type(value).__qualname__};".encode())
    finally:
        active.discard(id(value))


# ----------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class FixtureSummary:
    """What :func:`write_fixtures` wrote: the file, how many checks, and its size in bytes."""

    path: Path
    checks: int
    size_bytes: int


def public_reference_checks(checks: Iterable[Check]) -> list[Check]:
    """The checks fixtures are for: public checks that compare with the reference."""
    return [check for check in checks if check.visibility is Visibility.PUBLIC and check.needs_reference]


def write_fixtures(path: Path, checks: Sequence[Check], reference) -> FixtureSummary:
    """Computes ``reference`` (a :class:`~autograder.grading.ReferenceProvider`, normally
    ``solutions/``) on the public reference checks among ``checks`` and writes them to ``path``.

    Raises FixtureError, and writes nothing, when the reference fails on any of them: a release
    must not ship a check that could never pass.
    """
    selected = public_reference_checks(checks)
    outputs = reference.outputs(selected)
    failures = [f"{check.id}: {outputs[check.id]}" for check in selected if isinstance(outputs[check.id], str)]
    if failures:
        raise FixtureError("the reference failed on " + "; ".join(failures))
    message: dict[str, object] = {
        HEADER_KEY: json.dumps(
            {"format": FORMAT, "fingerprints": {check.id: check_fingerprint(check) for check in selected}},
            sort_keys=True,
        )
    }
    for check in selected:
        # Only the public cases' outputs: the fresh inputs' must stay out of the release (evidence/fresh.py).
        for key, value in fresh.public_part(outputs[check.id]).items():
            message[f"{check.id}|{key}"] = value
        for key, value in wrong_answers(check, outputs[check.id]).items():
            message[f"{check.id}|{MISTAKE_PREFIX}{key}"] = value
    data = gzip.compress(wire.encode(message), compresslevel=9, mtime=0)  # mtime 0: same bytes every build
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return FixtureSummary(path, len(selected), len(data))


def instructor_mistakes(check: Check) -> list[KnownMistake]:
    """The known mistakes of ``check`` whose wrong answers come from the instructor-only package."""
    mistakes = [m for m in getattr(check, "known_mistakes", ()) if isinstance(m.wrong_answer, InstructorAnswer)]
    keys = [m.key for m in mistakes]
    if "" in keys or len(set(keys)) != len(keys):
        raise FixtureError(f"{check.id}: instructor-only known mistakes need distinct, non-empty keys: {keys}")
    return mistakes


def wrong_answers(check: Check, reference: Outputs) -> dict[str, object]:
    """``<case index>/<mistake key>`` to the wrong answer of each instructor-only known mistake of
    ``check`` on each of its cases, computed here (where the instructor package exists) with the
    reference's output as ``expected``: what a release's diagnosis uses in place of the computation."""
    answers: dict[str, object] = {}
    mistakes = instructor_mistakes(check)
    cases = (getattr(check, "cases", None) or ()) if mistakes else ()
    for index, case in enumerate(cases):
        for mistake in mistakes:
            expected = reference.get(f"{index}/{mistake.output}")
            if expected is None:
                continue
            expected = np.asarray(expected, dtype=np.float64)
            try:
                wrong = np.asarray(mistake.wrong_answer(case.inputs, expected), dtype=np.float64)
            except (ValueError, IndexError, TypeError):  # explains nothing in the repository either
                continue
            same = wrong.shape == expected.shape and np.array_equal(wrong, expected, equal_nan=True)
            answers[f"{index}/{mistake.key}"] = SAME_AS_EXPECTED if same else wrong
    return answers


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Fixtures:
    """A fixture file, read: per check id its fingerprint and its outputs."""

    fingerprints: Mapping[str, str]
    outputs: Mapping[str, Outputs]
    #: per check id: ``<case index>/<mistake key>`` to a precomputed wrong answer (see the module docstring)
    wrong_answers: Mapping[str, Mapping[str, object]] = dataclasses.field(default_factory=dict)


def read_fixtures(path: Path) -> Fixtures:
    """Reads a file made by :func:`write_fixtures`; raises FixtureError for anything else."""
    path = Path(path)
    try:
        frame = gzip.decompress(path.read_bytes())
        message = wire.decode(frame)
        header = json.loads(message.pop(HEADER_KEY))
    except FileNotFoundError:
        raise FixtureError(f"the public fixtures {path} do not exist") from None
    except (OSError, EOFError, wire.WireError, TypeError, ValueError) as error:
        raise FixtureError(f"the public fixtures {path} cannot be read ({error})") from None
    if not (isinstance(header, dict) and header.get("format") == FORMAT
            and isinstance(header.get("fingerprints"), dict)):
        raise FixtureError(f"the public fixtures {path} are not in format {FORMAT} of this grader")
    outputs: dict[str, dict[str, object]] = {check_id: {} for check_id in header["fingerprints"]}
    wrong: dict[str, dict[str, object]] = {}
    for key, value in message.items():
        check_id, _, output = key.partition("|")
        if check_id not in outputs:
            raise FixtureError(f"the public fixtures {path} hold values of an unlisted check {check_id!r}")
        if output.startswith(MISTAKE_PREFIX):
            wrong.setdefault(check_id, {})[output[len(MISTAKE_PREFIX):]] = value
        else:
            outputs[check_id][output] = value
    return Fixtures(header["fingerprints"], outputs, wrong)


_PACKAGE_FIXTURES_READ: list[Fixtures | None] = []


def precomputed_wrong_answer(check_id: str, index: int, key: str) -> object | None:
    """The wrong answer of mistake ``key`` on case ``index`` of ``check_id`` as precomputed in the
    package's fixtures (a release's ``public_fixtures.agw.gz``, read once), ``"expected"`` for the
    reference's own output, or None: no fixtures, or none for that mistake (it then explains nothing).
    The check's own fixtures were checked against its fingerprint before it could be judged."""
    if not _PACKAGE_FIXTURES_READ:
        try:
            _PACKAGE_FIXTURES_READ.append(read_fixtures(PACKAGE_FIXTURES))
        except FixtureError:
            _PACKAGE_FIXTURES_READ.append(None)
    fixtures = _PACKAGE_FIXTURES_READ[0]
    if fixtures is None:
        return None
    return fixtures.wrong_answers.get(check_id, {}).get(f"{index}/{key}")


class FixtureReference:
    """Reference outputs from a fixture file (a student release's ``public_fixtures.agw.gz``).

    Serves public reference checks whose fingerprint matches the file's; any other check gets an
    error message (the grading run goes on; that check reports a grader error).
    """

    def __init__(self, path: Path = PACKAGE_FIXTURES, fingerprint: Callable[[Check], str] = check_fingerprint):
        self.path = Path(path)
        self._fingerprint = fingerprint
        self._fixtures: Fixtures | None = None
        self._problem: str | None = None

    def folders_to_hide(self) -> tuple[Path, ...]:
        # The values are public (see the module docstring); nothing to hide from student code.
        return ()

    def outputs(self, checks: Sequence[Check]) -> Mapping[str, Outputs | str]:
        fixtures = self._load()
        if fixtures is None:
            return {check.id: f"{self._problem}; {REBUILD}" for check in checks}
        from . import grading

        grading._holds_reference_values = True  # as with solutions/: later gradings fork from a clean process
        return {check.id: self._serve(check, fixtures) for check in checks}

    def _serve(self, check: Check, fixtures: Fixtures) -> Outputs | str:
        if check.visibility is not Visibility.PUBLIC:
            return "hidden checks have no public fixtures: grade them with the reference solutions"
        recorded = fixtures.fingerprints.get(check.id)
        if recorded is None:
            return f"the public fixtures have no values for this check (a grader newer than its fixtures?); {REBUILD}"
        if recorded != self._fingerprint(check):
            return (f"the public fixtures were made for another version of this check (stale fixtures); {REBUILD}")
        return fixtures.outputs[check.id]

    def _load(self) -> Fixtures | None:
        if self._fixtures is None and self._problem is None:
            try:
                self._fixtures = read_fixtures(self.path)
            except FixtureError as error:
                self._problem = str(error)
        return self._fixtures
