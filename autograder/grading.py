"""The grading pipeline: submission -> isolated probes -> reference -> verdicts -> Report.

Phases, in this order on purpose:

1. every check's probe runs on the student's code, each in its own sandboxed child;
2. the reference's outputs are computed (only for checks whose student probe produced numbers),
   in a trusted child of its own, so the parent never imports reference modules and no student
   child is ever forked from a process that holds reference values;
3. the trusted parent judges each check from raw numbers.

Every public reference check is probed and judged on its fresh inputs too, where the grader has
them (``autograder.evidence.fresh``): with the reference solutions, replaying the release's
fixtures earns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Protocol, Sequence

from . import speed
from .checks import Check, Outputs, Verdict, Visibility
from .diagnosis import quietly
from .evidence import fresh
from .results import CheckResult, Report, ResultStatus, redact
from .sandbox import (
    Bans,
    ChildOutcome,
    Confinement,
    Implementation,
    Limits,
    Status,
    Task,
    run_isolated,
    run_tasks,
)
from .sandbox.loader import parse_import_failure

_STATUS_OF_OUTCOME = {
    Status.NOT_IMPLEMENTED: ResultStatus.NOT_IMPLEMENTED,
    Status.IMPORT_ERROR: ResultStatus.ERROR,
    Status.EXCEPTION: ResultStatus.ERROR,
    Status.TIMEOUT: ResultStatus.ERROR,
    Status.CRASHED: ResultStatus.ERROR,
    Status.PROTOCOL_ERROR: ResultStatus.ERROR,
    Status.FORBIDDEN: ResultStatus.ERROR,
    Status.TOO_SLOW: ResultStatus.ERROR,
}


class ReferenceProvider(Protocol):
    """Where the expected outputs come from (solutions/ here; fixtures or torch in a release)."""

    def outputs(self, checks: Sequence[Check]) -> Mapping[str, Outputs | str]:
        """Reference outputs per check id, or an error message for a check it could not compute."""

    def folders_to_hide(self) -> tuple[Path, ...]:
        """Folders student code must not see (the reference's own files)."""


#: Set once this process has held reference outputs; from then on, students' code is forked from a
#: clean process instead (see autograder.zygote).
_holds_reference_values = False


class SolutionsReference:
    """Runs the probes on a reference folder (``solutions/``) in one trusted child; caches results."""

    def __init__(self, folder: Path, limits: Limits = Limits(timeout_s=120.0, memory_bytes=None)):
        self.folder = Path(folder)
        self.limits = limits
        self._cache: dict[str, Outputs | str] = {}

    def folders_to_hide(self) -> tuple[Path, ...]:
        return (self.folder.resolve(),)

    def outputs(self, checks: Sequence[Check]) -> Mapping[str, Outputs | str]:
        missing = [check for check in checks if check.id not in self._cache]
        if missing:
            self._cache.update(self._compute(missing))
        return {check.id: self._cache[check.id] for check in checks}

    def _compute(self, checks: Sequence[Check]) -> dict[str, Outputs | str]:
        global _holds_reference_values
        _holds_reference_values = True

        def task():
            impl = Implementation(self.folder)
            flat: dict[str, object] = {}
            for index, check in enumerate(checks):
                try:
                    for key, value in fresh.probe(check, impl).items():
                        flat[f"{index}|{key}"] = value
                except BaseException as error:  # a broken reference must not stop the run
                    flat[f"{index}!"] = f"{type(error).__name__}: {error}"
            return flat

        outcome = run_isolated(task, limits=self.limits, student_folder=self.folder)
        if outcome.status is not Status.OK:
            message = f"the reference could not be computed: {outcome.message}"
            return {check.id: message for check in checks}
        results: dict[str, Outputs | str] = {}
        for index, check in enumerate(checks):
            failure = outcome.outputs.get(f"{index}!")
            if failure is not None:
                results[check.id] = f"the reference raised {failure}"
                continue
            prefix = f"{index}|"
            results[check.id] = {
                key[len(prefix) :]: value
                for key, value in outcome.outputs.items()
                if key.startswith(prefix)
            }
        return results


@dataclass(frozen=True)
class GradingOptions:
    """Settings of a grading run.

    limits: applied to each check's child; a check's own ``timeout_s`` (for training runs) takes
        precedence over ``limits.timeout_s``, unless ``timeout_override_s`` is set, which then
        applies to every check (handy for a quick pass over many broken submissions).
    """

    limits: Limits = Limits()
    timeout_override_s: float | None = None
    #: modules no submission may import; each check adds its own forbidden functions
    bans: Bans = Bans()

    def limits_for(self, check: Check) -> Limits:
        timeout = self.timeout_override_s or check.timeout_s
        return replace(self.limits, timeout_s=timeout) if timeout else self.limits


def grade_submission(
    submission: Path,
    checks: Sequence[Check],
    *,
    reference: ReferenceProvider,
    options: GradingOptions = GradingOptions(),
    also_hidden: tuple[Path, ...] = (),
) -> Report:
    """Grades the submission folder with ``checks``; never raises for anything the student did.

    ``also_hidden``: folders the student's code must not see besides the reference's, e.g. the
    nbgrader course the submission came from (:mod:`autograder.surroundings`).
    The student's code is forked from this process only while it has never held reference
    values; afterwards from a clean worker (:mod:`autograder.zygote`).
    """
    hidden = tuple(dict.fromkeys((*reference.folders_to_hide(), *also_hidden)))
    from . import zygote  # (imports the units, which import this module)

    if _holds_reference_values and zygote.registered(checks):
        outcomes = zygote.probe_cleanly(submission, checks, options=options, hidden_folders=hidden)
    else:
        outcomes = probe_submission(submission, checks, options=options, hidden_folders=hidden)
    return judge_submission(submission, checks, outcomes, reference=reference)


def probe_submission(
    submission: Path,
    checks: Sequence[Check],
    *,
    options: GradingOptions = GradingOptions(),
    hidden_folders: tuple[Path, ...] = (),
) -> dict[str, ChildOutcome]:
    """Phase 1: every check's probe on the student's code, in sandboxed children.

    The checks of one unit that share the same bans run one after another in one child (the
    student's module is imported once); a check that hangs or crashes costs only itself, the
    others continue in a fresh child (see :func:`autograder.sandbox.run_tasks`).
    Needs no reference, so a batch worker that never holds reference values can run it.
    """
    submission = Path(submission).resolve()
    # Grading the reference folder itself as a submission is a trusted use: nothing to hide then.
    hidden = tuple(
        folder
        for folder in hidden_folders
        if not (submission.is_relative_to(folder) or folder.is_relative_to(submission))
    )
    outcomes: dict[str, ChildOutcome] = _skip_what_is_too_slow(submission, checks, options, hidden)
    groups: dict[tuple, list[Check]] = {}
    for check in checks:
        if check.id not in outcomes:
            groups.setdefault((check.unit, check.forbidden_calls), []).append(check)
    for (_, forbidden_calls), members in groups.items():
        impl = Implementation(submission)  # imports lazily, inside the child, once per child
        tasks = [
            Task(check.id, _probe_task(check, impl), options.limits_for(check).timeout_s) for check in members
        ]
        confinement = Confinement(bans=options.bans.with_calls(forbidden_calls), hidden_folders=hidden)
        outcomes.update(
            run_tasks(tasks, limits=options.limits, student_folder=submission, confinement=confinement)
        )
    return {check.id: outcomes[check.id] for check in checks}


def _skip_what_is_too_slow(
    submission: Path, checks: Sequence[Check], options: GradingOptions, hidden: tuple[Path, ...]
) -> dict[str, ChildOutcome]:
    """Outcomes for the heavy checks that a measured slow function would run out of time
    (:mod:`autograder.speed`); the others are left to run."""
    probes = speed.probes_for(check.id for check in checks)
    if not probes:
        return {}
    confinement = Confinement(bans=options.bans, hidden_folders=hidden)
    costs = speed.measure_costs(submission, probes, limits=options.limits, confinement=confinement)
    skipped = {}
    for check in checks:
        message = speed.too_slow_message(check.id, options.limits_for(check).timeout_s, costs)
        if message is not None:
            skipped[check.id] = ChildOutcome(Status.TOO_SLOW, message)
    return skipped


def _probe_task(check: Check, impl: Implementation):
    # With its fresh inputs where the grader has them (evidence/fresh.py): the public ones alone
    # could be answered from the release's fixtures.
    return lambda: fresh.probe(check, impl)


def judge_submission(
    submission: Path,
    checks: Sequence[Check],
    outcomes: Mapping[str, ChildOutcome],
    *,
    reference: ReferenceProvider,
) -> Report:
    """Phases 2 and 3: reference outputs for the checks that produced numbers, then verdicts.

    After the verdicts, in this order: a module that failed to import is reported once per unit
    (the unit's other checks say "blocked by losses.py (syntax error, line 12)"); then a check
    whose ``requires`` fail scores 0 ("blocked: fix <part> first"), and a failing check whose
    ``depends_on`` parts fail gets the hint "fix <part> first: <what is wrong there>".
    """
    needing_reference = [
        check for check in checks if check.needs_reference and outcomes[check.id].status is Status.OK
    ]
    references = reference.outputs(needing_reference) if needing_reference else {}
    results = [_result(check, outcomes[check.id], references.get(check.id)) for check in checks]
    results = _report_import_failures_once(checks, outcomes, results)
    notes = _sandbox_notes(o.unhidden_reason for o in outcomes.values() if o.unhidden_reason)
    return Report(str(Path(submission).resolve()), tuple(_note_failing_dependencies(checks, results)), notes)


def _sandbox_notes(reasons) -> tuple[str, ...]:
    """One note per distinct thing the sandbox could not do here, as the children reported them
    (each child's reasons joined by "; "): folders it could not hide, and a cgroup it could not
    create (the memory of the code's processes is then limited one process at a time)."""
    from .sandbox.cgroups import NOTE_PREFIX

    hiding, limits = set(), set()
    for reason in reasons:
        parts = reason.split("; ")
        limits.update(part[len(NOTE_PREFIX):] for part in parts if part.startswith(NOTE_PREFIX))
        rest = "; ".join(part for part in parts if not part.startswith(NOTE_PREFIX))
        if rest:
            hiding.add(rest)
    return (
        *(f"the reference solutions could not be hidden from the submission's code here ({reason})"
          for reason in sorted(hiding)),
        *(f"the memory and processes of the submission's code are limited one process at a time here, "
          f"not as a whole (no cgroup: {reason})" for reason in sorted(limits)),
    )


def _report_import_failures_once(
    checks: Sequence[Check], outcomes: Mapping[str, ChildOutcome], results: list[CheckResult]
) -> list[CheckResult]:
    """Every check a module's import failure stopped gets ``blocked_by`` ("losses.py (syntax
    error, line 12)"); per unit, the first of them keeps the full message, the others' message is
    "blocked by losses.py (syntax error, line 12)" (one entry per check stays, e.g. in Gradescope)."""
    reported: set[tuple[str, str]] = set()
    marked = []
    for check, result in zip(checks, results):
        outcome = outcomes[check.id]
        failure = parse_import_failure(outcome.message) if outcome.status is Status.IMPORT_ERROR else None
        if failure is None:
            marked.append(result)
            continue
        blocked_by = failure.short()
        key = (check.unit, outcome.message)
        if key in reported:
            result = replace(result, message=f"blocked by {blocked_by}", summary="", hint=None)
        reported.add(key)
        marked.append(replace(result, blocked_by=blocked_by))
    return marked


def _note_failing_dependencies(checks: Sequence[Check], results: list[CheckResult]) -> list[CheckResult]:
    """Applies ``Check.requires`` and ``Check.depends_on``.

    A check that passes, but requires a check that fails, is blocked: 0 points, "blocked: fix
    <part> first". A check that fails while a part it requires or builds on fails keeps its own
    message (it is true), and its hint says "fix <part> first: <that part's problem>" (then its
    own hint, unless that was only a generic diagnosis). Only results graded in this run count: a
    part left out of the selection is not known to fail. A check stopped by an import failure, or
    not implemented yet, keeps its own message.
    """
    by_id = {result.id: result for result in results}
    by_part: dict[str, list[CheckResult]] = {}
    for result in results:
        by_part.setdefault(result.part, []).append(result)

    def first_failure(entry: str, own: CheckResult, other_parts_only: bool) -> CheckResult | None:
        group = [by_id[entry]] if entry in by_id else by_part.get(entry, [])
        return next(
            (r for r in group if not r.passed and r.id != own.id and not (other_parts_only and r.part == own.part)),
            None,
        )

    def named(cause: CheckResult, own: CheckResult) -> str:
        # "linear.predict" for another part; the check itself ("mlp.linear.forward") within a part
        return cause.id if cause.part == own.part else cause.part

    noted = []
    for check, result in zip(checks, results):
        if result.blocked_by or result.status is ResultStatus.NOT_IMPLEMENTED:
            noted.append(result)
            continue
        blockers = [f for f in (first_failure(e, result, False) for e in check.requires) if f is not None]
        causes = blockers + [
            f for f in (first_failure(part, result, True) for part in check.depends_on) if f is not None
        ]
        parts = tuple(dict.fromkeys(named(cause, result) for cause in causes))
        if blockers and result.passed:
            # Scoring it would pay for a backward checked against a wrong forward (0 and 0 agree).
            cause = named(blockers[0], result)
            result = replace(
                result, status=ResultStatus.FAILED, score=0.0, message=f"blocked: fix {cause} first",
                hint=f"{cause}: {_problem_of(blockers[0], result)}", details=(), summary="",
                failing_dependencies=parts,
            )
        elif causes and not result.passed:
            # The part it builds on is the likelier cause: say so first. A generic hint (a factor,
            # some rows) would blame this part for that part's mistake: dropped; a mistake this
            # check names itself stays, after.
            hint = f"fix {named(causes[0], result)} first: {_problem_of(causes[0], result)}"
            if result.hint and not result.generic_hint:
                hint += f" Then: {result.hint}"
            result = replace(result, hint=hint, failing_dependencies=parts)
        noted.append(result)
    return noted


def _problem_of(cause: CheckResult, shown_in: CheckResult) -> str:
    """What is wrong with ``cause``, as ``shown_in``'s feedback may say it: its hint (the diagnosed
    cause) or else its message; redacted when ``cause`` is a hidden check."""
    hidden = cause.visibility is Visibility.HIDDEN
    text = cause.hint or (cause.summary if hidden and cause.summary else cause.message)
    text = (text or "it fails its own checks").splitlines()[0]
    if cause.blocked_by:
        text = f"it is blocked by {cause.blocked_by}"
    return redact(text) if hidden else text


def _timeout_hint(check: Check, outcome: ChildOutcome) -> str | None:
    if outcome.status is Status.TIMEOUT and check.timeout_s is not None:
        # Checks with their own (longer) limit train or loop for many steps: slow code is likelier
        # than a hang there.
        return (
            "this check runs your code for many steps: Python loops over samples or elements can "
            "make it too slow; use whole-array numpy operations (X @ W, np.maximum, ...)."
        )
    return None


def _result(check: Check, outcome: ChildOutcome, reference: Outputs | str | None) -> CheckResult:
    base = dict(
        id=check.id,
        description=check.description,
        max_score=check.points,
        visibility=check.visibility,
        captured_output=outcome.captured_output,
        seconds=outcome.seconds,
    )
    if outcome.status is not Status.OK:
        return CheckResult(
            status=_STATUS_OF_OUTCOME[outcome.status], score=0.0, message=outcome.message,
            summary=outcome.summary, hint=_timeout_hint(check, outcome), **base,
        )
    if isinstance(reference, str):
        return CheckResult(status=ResultStatus.ERROR, score=0.0, message=f"grader error: {reference}", **base)
    try:
        with quietly():
            verdict = fresh.judge(check, outcome.outputs, reference)
    except Exception as error:  # malformed numbers from the student must not stop the run
        verdict = Verdict(False, f"the result could not be graded ({type(error).__name__}: {error})")
    return CheckResult(
        status=ResultStatus.PASSED if verdict.passed else ResultStatus.FAILED,
        score=check.points if verdict.passed else 0.0,
        message=verdict.message,
        hint=verdict.hint,
        details=verdict.details,
        curves=verdict.curves,
        generic_hint=verdict.generic_hint,
        **base,
    )
