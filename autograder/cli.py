"""The ``autograder`` command: a thin layer over :mod:`autograder.api`, one function per command.

    autograder check [PART ...] [--submission DIR] [--plots DIR]   students: a readable table
    autograder grade --submission DIR [--unit UNIT ...] [--json]   machines: Gradescope-shaped JSON
    autograder grade-batch ROOT --out DIR [--jobs N | --scheduler ADDR] [--unit U] [--redo] [--student S]
    autograder gradescope-bundle OUT.zip [--unit U] [--solutions PATH] [--hidden-visibility V]
                                                                    a Gradescope autograder zip
    autograder stubs [--check] [--force]                            regenerate assignments/
    autograder nbgrader init COURSE_DIR [--db URL] [--unit U] [--per-unit]
                                                                    an nbgrader course from solutions/
    autograder list                                                 units, parts and checks
    autograder release OUT_DIR [--force] [--unit U]                 the student release (docs/release.md)
    autograder fixtures OUT_FILE                                    the public checks' reference outputs

Mistakes in the command line (a missing folder, an unknown part) print one line on stderr and exit
with status 2. Whatever the graded code does, grading completes and exits 0. Ctrl-C during
grade-batch keeps the finished rows and exits 130; the same command resumes.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from . import api
from .batch import BatchError, BatchInterrupted, Lateness, describe_summary, grade_batch, parse_time
from .executors import DaskExecutor, ExecutorError, LocalExecutor
from .gradescope import DEFAULT_HIDDEN_VISIBILITY, VISIBILITIES, BundleError, write_bundle
from .grading import GradingOptions
from .paths import assignments_dir, find_assignments, solutions_dir
from .plots import write_curve_plots
from .render import render_report, use_colour
from .sandbox import Limits
from .notebooks.build import LessonError
from .stubs import EditedAssignments, StubError, stale_assignments, write_assignments
from .released import ManifestError, released_units
from .units import UNITS, UnknownSelection, select_checks

USAGE_ERROR = 2
#: Ctrl-C during grade-batch (128 + SIGINT, as a shell reports it)
INTERRUPTED = 130


class UsageError(Exception):
    """A mistake in how the command was called; reported in one line with exit status 2."""


def cmd_check(args: argparse.Namespace) -> int:
    if args.submission:
        submission = Path(args.submission)
        if not submission.is_dir():
            raise UsageError(f"submission folder {submission} does not exist")
    else:
        # The course's assignments/, found from here or any folder above (e.g. run inside assignments/).
        submission = find_assignments(Path.cwd())
        if submission is None:
            raise UsageError(
                f"no assignments/ folder in {Path.cwd()} or any folder above it "
                "(run this in the course folder, or pass --submission DIR)"
            )
        if submission != Path.cwd().resolve() / "assignments":
            print(f"grading {submission}")
    report = api.grade(submission, parts=_released_parts(args.parts), options=_options(args))
    render_report(report, colour=use_colour(sys.stdout) if args.color == "auto" else args.color == "always")
    if args.plots:
        for path in write_curve_plots(report, Path(args.plots)):
            print(f"plot written: {path}")
    return 0


def _released_parts(parts: list[str]) -> list[str]:
    """What ``check`` grades in a weekly release (``autograder/released_units.json``,
    :mod:`autograder.released`): without PART, the units the release holds, said in one line; a
    PART of a unit it does not hold is a usage error (its fixtures are not there, and its files
    come with a later release). Elsewhere (the repository, a full release): ``parts`` as given."""
    try:
        units = released_units()
    except ManifestError as error:
        raise UsageError(str(error)) from None
    if units is None or set(UNITS) <= set(units):
        return list(parts)
    if not parts:
        print(f"this release holds units: {', '.join(units)}")
        return list(units)
    asked = {check.unit for check in select_checks(list(parts))}
    outside = [unit for unit in UNITS if unit in asked and unit not in units]
    if outside:
        raise UsageError(f"{', '.join(outside)}: not in this release, which holds units: {', '.join(units)} "
                         "(a later release of the course brings the others)")
    return list(parts)


def cmd_grade(args: argparse.Namespace) -> int:
    report = api.grade(Path(args.submission), parts=args.unit or (), options=_options(args))
    if args.json:
        json.dump(report.to_gradescope(hidden_visibility=args.hidden_visibility), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        render_report(report, colour=use_colour(sys.stdout))
    return 0


def _lateness(args: argparse.Namespace) -> Lateness:
    """--due-date and --late-penalty, checked (UsageError saying what is wrong)."""
    due = None
    if args.due_date is not None:
        try:
            due = parse_time(args.due_date)
        except ValueError:
            raise UsageError(f"--due-date {args.due_date!r} is not a date and time (e.g. 2026-12-01T23:59:00+09:00)") from None
    penalty = args.late_penalty or 0.0
    if not 0.0 <= penalty <= 1.0:
        raise UsageError("--late-penalty is a fraction of the max score per day late, between 0 and 1 (e.g. 0.1)")
    if penalty and due is None:
        raise UsageError("--late-penalty needs --due-date")
    return Lateness(due, penalty)


def cmd_grade_batch(args: argparse.Namespace) -> int:
    if args.scheduler and args.jobs is not None:
        raise UsageError("--jobs sizes the local pool; with --scheduler the cluster's workers run the students")
    if args.scheduler:
        executor = DaskExecutor(args.scheduler)
    else:
        jobs = 2 if args.jobs is None else args.jobs
        if jobs < 1:
            raise UsageError("--jobs must be at least 1")
        executor = LocalExecutor(jobs)
    try:
        summary = grade_batch(
            Path(args.root), Path(args.out), reference=api.default_reference(), executor=executor,
            parts=args.unit or (), redo=args.redo, students=args.student or (), options=_options(args),
            lateness=_lateness(args),
        )
    except ExecutorError as error:
        raise UsageError(f"{error} (results already in {args.out} are kept: the same command resumes)") from None
    except BatchInterrupted as interrupted:
        print(f"\nautograder: {interrupted}", file=sys.stderr)
        return INTERRUPTED
    print(describe_summary(summary, executor.workers))
    if args.scheduler:
        print(f"graded on {executor.describe()}")
    print(f"results in {args.out}: grades.csv, nbgrader_grades.csv, <student>.json, <student>.txt")
    return 0


def cmd_gradescope_bundle(args: argparse.Namespace) -> int:
    try:
        path = write_bundle(Path(args.out), solutions=Path(args.solutions) if args.solutions else None,
                            hidden_visibility=args.hidden_visibility, units=args.unit or ())
    except BundleError as error:
        raise UsageError(str(error)) from None
    print(f"wrote {path}: upload it as the assignment's autograder (setup.sh, run_autograder, source/)")
    print(f"  grades {', '.join(dict.fromkeys(args.unit)) if args.unit else 'every unit'}; "
          f"hidden checks' results shown to students: {args.hidden_visibility}")
    return 0


def _options(args: argparse.Namespace) -> GradingOptions:
    """Grading options from the command line: ``--timeout`` is the per-check default."""
    if args.timeout is None:
        return GradingOptions()
    if args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    return GradingOptions(limits=replace(Limits(), timeout_s=args.timeout))


def cmd_stubs(args: argparse.Namespace) -> int:
    solutions, assignments = solutions_dir(), assignments_dir()
    if not solutions.is_dir():
        raise UsageError(f"{solutions} does not exist: `autograder stubs` regenerates assignments/ from the "
                         "reference solutions, in the course repository (a student release has none)")
    if args.check:
        stale = stale_assignments(solutions, assignments)
        if stale:
            print("assignments/ differs from the stubs generated from solutions/: " + ", ".join(stale), file=sys.stderr)
            print("if you changed solutions/, run `autograder stubs` to regenerate it (files someone edited "
                  "there are kept unless you pass --force, which backs them up first)", file=sys.stderr)
            return 1
        print("assignments/ is in sync with solutions/")
        return 0
    try:
        written = write_assignments(solutions, assignments, force=args.force)
    except EditedAssignments as refused:
        print(f"autograder: error: not regenerating {assignments}: {len(refused.edited)} file(s) there were "
              "changed since the stubs were last generated (someone's work?) and would be overwritten or "
              "removed:", file=sys.stderr)
        for path in refused.edited:
            print(f"  {path}", file=sys.stderr)
        print("nothing was written. Keep that work (copy it elsewhere), or pass --force to regenerate "
              "anyway: the files above are first copied into a backup folder beside assignments/", file=sys.stderr)
        return USAGE_ERROR
    changed = written.changed
    print(f"regenerated {len(changed)} file(s) in {assignments}" + (": " + ", ".join(changed) if changed else ""))
    if written.backed_up:
        print(f"backed up {len(written.backed_up)} edited file(s) into {written.backup} first: "
              + ", ".join(written.backed_up))
    return 0


def cmd_nbgrader_init(args: argparse.Namespace) -> int:
    from .notebooks.course import DEFAULT_ASSIGNMENT, CourseError, init_course
    from .notebooks.earlier import assignment_names

    if args.per_unit and args.assignment is not None:
        raise UsageError("--per-unit names one assignment per unit (01-linear ... 06-capstone): leave out --assignment")
    assignment = args.assignment or DEFAULT_ASSIGNMENT
    try:
        written = init_course(Path(args.course), course_id=args.course_id, assignment=assignment,
                              db_url=args.db, units=args.unit, force=args.force, per_unit=args.per_unit)
    except CourseError as error:
        raise UsageError(str(error)) from None
    print(f"wrote {len(written)} file(s) into {Path(args.course).resolve()}:")
    for path in written:
        print(f"  {path.relative_to(Path(args.course).resolve())}")
    if args.db and args.db.startswith("postgres") and not _postgres_driver_installed():
        print("warning: no PostgreSQL driver is installed here; nbgrader needs one to open the gradebook: "
              "pip install -e '.[postgres]' (psycopg) where nbgrader runs", file=sys.stderr)
    if args.per_unit:
        names = [name for unit, name in assignment_names().items() if not args.unit or unit in args.unit]
        print(f"one assignment per unit: {', '.join(names)}")
        print(f"next: cd {args.course} && nbgrader generate_assignment {names[0]}  (each week: the next one)")
    else:
        print(f"next: cd {args.course} && nbgrader generate_assignment {assignment}")
    return 0


def _postgres_driver_installed() -> bool:
    import importlib.util

    return any(importlib.util.find_spec(name) is not None for name in ("psycopg", "psycopg2"))


def cmd_release(args: argparse.Namespace) -> int:
    try:
        from .release import LeakError, ReleaseError, build_release
    except ModuleNotFoundError as error:
        if error.name != f"{__package__}.release":
            raise
        raise UsageError("this is a student release: releases are built in the course repository") from None
    from .fixtures import FixtureError

    try:
        summary = build_release(Path(args.out), force=args.force, units=args.unit or ())
    except (LeakError, FixtureError) as error:
        print(f"autograder: error: {error}", file=sys.stderr)
        return 1
    except ReleaseError as error:
        raise UsageError(str(error)) from None
    print(f"wrote the student release into {summary.folder}: {summary.files} files, "
          f"{summary.size_bytes / 1e6:.1f} MB")
    print(f"  {summary.public_checks} public checks, {summary.fixtures.checks} with public fixtures "
          f"({summary.fixtures.size_bytes / 1e3:.0f} kB); {summary.notebooks} notebooks; "
          "no solutions, no hidden checks (scanned)")
    print(f"try it: cd {summary.folder} && python -m autograder check")
    return 0


def cmd_fixtures(args: argparse.Namespace) -> int:
    from .fixtures import PACKAGE_FIXTURES, FixtureError, write_fixtures
    from .grading import SolutionsReference
    from .units import all_checks

    out, solutions = Path(args.out).resolve(), solutions_dir()
    if out == PACKAGE_FIXTURES:
        raise UsageError(f"{out} would make this grader a student release; write the fixtures elsewhere")
    if not solutions.is_dir():
        raise UsageError(f"the reference folder {solutions} does not exist: fixtures are made from solutions/")
    try:
        summary = write_fixtures(out, all_checks(), SolutionsReference(solutions))
    except FixtureError as error:
        print(f"autograder: error: {error}", file=sys.stderr)
        return 1
    print(f"wrote the reference outputs of {summary.checks} public checks to {summary.path} "
          f"({summary.size_bytes / 1e3:.0f} kB)")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    for unit in UNITS.values():
        print(f"{unit.name}: {unit.title} ({unit.module}.py)")
        for check in unit.checks:
            print(f"  {check.id:<40} {check.points:>4g} pt  {check.visibility.value:<7} {check.description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description="Grades the deep-learning course's units.")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="grade your work and explain what is wrong")
    check.add_argument("parts", nargs="*", metavar="PART", help="units or parts to check (default: all)")
    check.add_argument("--submission", metavar="DIR", help="folder to grade (default: the course's assignments/, found from here or a folder above)")
    check.add_argument("--plots", metavar="DIR", help="write loss-curve plots of the checks to DIR")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    check.set_defaults(handler=cmd_check)

    grade = commands.add_parser("grade", help="grade a submission folder for machines")
    grade.add_argument("--submission", metavar="DIR", required=True)
    grade.add_argument("--unit", action="append", metavar="UNIT", help="limit to a unit or part (repeatable)")
    grade.add_argument("--json", action="store_true", help="print one Gradescope-shaped JSON document")
    grade.add_argument("--hidden-visibility", choices=VISIBILITIES, default=DEFAULT_HIDDEN_VISIBILITY,
                       help="Gradescope visibility of the hidden checks in --json (default %(default)s)")
    grade.set_defaults(handler=cmd_grade)

    batch = commands.add_parser("grade-batch", help="grade every student folder under ROOT")
    batch.add_argument("root", metavar="ROOT", help="one folder per student, or an nbgrader course folder")
    batch.add_argument("--out", metavar="DIR", required=True, help="where results go")
    batch.add_argument("--jobs", type=int, help="worker processes on this machine (default 2)")
    batch.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="grade on a Dask cluster instead: its scheduler's address (tcp://host:8786) or scheduler "
             "file; every worker needs this package, same version, on Linux (docs/scale-out.md)",
    )
    batch.add_argument("--unit", action="append", metavar="UNIT", help="limit to a unit or part (repeatable)")
    batch.add_argument("--redo", action="store_true",
                       help="grade again students whose results are up to date (changed submissions and "
                            "rows of another grader version are graded again anyway)")
    batch.add_argument("--student", action="append", metavar="NAME",
                       help="grade only this student (folder name; repeatable); the other rows are kept")
    batch.add_argument("--due-date", metavar="ISO8601",
                       help="the due date (2026-12-01T23:59:00+09:00; no zone means UTC): fills duedate in "
                            "nbgrader_grades.csv; submission times come from timestamp.txt")
    batch.add_argument("--late-penalty", type=float, metavar="PER_DAY",
                       help="fraction of the max score taken per started day late (0.1 = 10%%), score floored at 0")
    batch.set_defaults(handler=cmd_grade_batch)

    bundle = commands.add_parser("gradescope-bundle", help="write a Gradescope autograder zip")
    bundle.add_argument("out", metavar="OUT.zip")
    bundle.add_argument("--unit", action="append", metavar="UNIT", help="grade only this unit (repeatable)")
    bundle.add_argument("--solutions", metavar="PATH",
                        help="the reference solutions/ folder (default: solutions/ beside the installed grader)")
    bundle.add_argument("--hidden-visibility", choices=VISIBILITIES, default=DEFAULT_HIDDEN_VISIBILITY,
                        help="when students see the hidden checks' results on Gradescope (default %(default)s)")
    bundle.set_defaults(handler=cmd_gradescope_bundle)

    for command in (check, grade, batch):
        command.add_argument(
            "--timeout", type=float, metavar="SECONDS",
            help=f"wall-clock limit per check (default {Limits().timeout_s:g}; training checks set their own)",
        )

    stubs = commands.add_parser("stubs", help="regenerate assignments/ from solutions/")
    stubs.add_argument("--check", action="store_true", help="only report whether assignments/ is stale")
    stubs.add_argument("--force", action="store_true",
                       help="regenerate even over files someone edited (they are backed up first)")
    stubs.set_defaults(handler=cmd_stubs)

    nbgrader = commands.add_parser("nbgrader", help="nbgrader courses generated from solutions/")
    nbgrader_commands = nbgrader.add_subparsers(dest="nbgrader_command", required=True)
    init = nbgrader_commands.add_parser("init", help="write an nbgrader course folder (config + source notebooks)")
    init.add_argument("course", metavar="COURSE_DIR")
    init.add_argument("--course-id", default="deep-learning-basics", help="nbgrader course id")
    init.add_argument("--assignment", help="assignment name (folder under source/; default deep-learning-basics)")
    init.add_argument("--per-unit", action="store_true",
                      help="one assignment per unit (01-linear ... 06-capstone) for weekly releases; a later "
                           "unit is graded with the earlier units from the student's earlier assignments")
    init.add_argument("--db", metavar="URL", help="gradebook SQLAlchemy URL (default: SQLite in COURSE_DIR)")
    init.add_argument("--unit", action="append", metavar="UNIT", help="only these units (repeatable)")
    init.add_argument("--force", action="store_true", help="overwrite an existing course's config and notebooks")
    init.set_defaults(handler=cmd_nbgrader_init)

    release = commands.add_parser("release", help="write the student release (no solutions, no hidden checks)")
    release.add_argument("out", metavar="OUT_DIR", help="a new or empty folder")
    release.add_argument("--force", action="store_true",
                         help="replace the contents of a non-empty OUT_DIR (keeps .git)")
    release.add_argument("--unit", action="append", metavar="UNIT",
                         help="only this unit's files (repeatable; the units it imports come along)")
    release.set_defaults(handler=cmd_release)

    fixtures = commands.add_parser("fixtures", help="write the reference outputs of the public checks to a file")
    fixtures.add_argument("out", metavar="OUT_FILE")
    fixtures.set_defaults(handler=cmd_fixtures)

    listing = commands.add_parser("list", help="list units, parts and checks")
    listing.set_defaults(handler=cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (UsageError, UnknownSelection, api.SubmissionNotFound, StubError, BatchError, LessonError) as error:
        print(f"autograder: error: {error}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
