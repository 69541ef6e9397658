"""Clean processes to fork students' code from, once this process has held reference values.

A student's child is a fork of the process that starts it, memory included. The grading pipeline
makes sure that process never holds expected values (the student probes run before the reference
is computed), but a long-lived process that grades again and again (the batch grader, the test
suite, notebook cells) keeps reference outputs in memory after its first grading.

So such processes probe through workers of a **forkserver**: a fresh Python started for the
purpose (it imports the grader and the units, nothing else), from which the workers fork. A worker
runs phase 1 (:func:`autograder.grading.probe_submission`) and sends back raw outcomes; the caller
judges. The batch grader runs its pool on this; :func:`probe_cleanly` keeps one worker for
in-process grading.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .checks import Check
from .grading import GradingOptions, probe_submission
from .sandbox import ChildOutcome
from .units import all_checks, select_checks

_WORKER_CHECKS: dict[tuple[str, ...], list[Check]] = {}
_SHARED_POOL: ProcessPoolExecutor | None = None


def probe_in_worker(
    folder: str, check_ids: tuple[str, ...], options: GradingOptions, hidden: tuple[Path, ...]
) -> tuple[dict[str, ChildOutcome], float]:
    """Runs in a pool worker: phase 1 for one submission. Returns the outcomes and the time taken.

    Checks are found again by id (they hold functions, which do not travel between processes).
    """
    started = time.perf_counter()
    if check_ids not in _WORKER_CHECKS:
        wanted = set(check_ids)
        _WORKER_CHECKS[check_ids] = [check for check in select_checks() if check.id in wanted]
    checks = _WORKER_CHECKS[check_ids]
    outcomes = probe_submission(Path(folder), checks, options=options, hidden_folders=hidden)
    return outcomes, time.perf_counter() - started


def clean_pool(jobs: int) -> ProcessPoolExecutor:
    """A pool whose workers fork from a forkserver that never held reference values."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["autograder.zygote"])
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context)


def registered(checks) -> bool:
    """True when every check can be found again by id in a worker (ad-hoc checks cannot)."""
    known = {check.id: check for check in all_checks()}
    return all(known.get(check.id) is check for check in checks)


def probe_cleanly(
    submission: Path, checks, *, options: GradingOptions, hidden_folders: tuple[Path, ...]
) -> dict[str, ChildOutcome]:
    """Phase 1 in the shared clean worker (started on first use, kept for the process)."""
    global _SHARED_POOL
    if _SHARED_POOL is None:
        _SHARED_POOL = clean_pool(1)
    ids = tuple(check.id for check in checks)
    outcomes, _ = _SHARED_POOL.submit(
        probe_in_worker, str(Path(submission).resolve()), ids, options, hidden_folders
    ).result()
    return outcomes
