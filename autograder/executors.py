"""Where a batch's probes run: a local pool of clean processes, or the workers of a Dask cluster.

A batch splits grading as every front end does (:mod:`autograder.grading`): *probing* (phase 1: the
student's code in sandboxed children, raw numbers back) and *judging* (phases 2 and 3: reference
outputs and verdicts). Only probing is farmed out; this process, the driver, computes the
reference and judges. An executor takes probe jobs (:class:`ProbeJob`) and hands back, per job,
the raw outcomes :func:`autograder.zygote.probe_in_worker` returns, through one small interface::

    with executor.session() as session:
        futures = [session.submit(job) for job in jobs]
        for future in session.as_completed(futures):
            outcomes, seconds = future.result()   # raises WorkerLost, SubmissionNotSent

:class:`LocalExecutor` is the forkserver pool of :mod:`autograder.zygote`. :class:`DaskExecutor`
sends jobs to an existing ``dask.distributed`` cluster (``pip install 'dl-course-autograder[dask]'``;
dask is imported only when it is used). On each Dask worker the probe runs exactly as it does
locally, in a clean process:

* the Dask worker process receives the student's files (read here, so workers need no shared
  file system), writes them to a temporary folder, and passes the job to a *prober*;
* a prober is a fresh Python started by the worker for the purpose: it imports the grader and
  nothing else (no dask, no reference, never any expected value), gets a minimal environment
  (no credentials a worker's environment may hold) and forks one sandboxed child per unit, as a
  local pool worker does. Students' code never runs in, nor is forked from, the Dask worker
  process itself, whose memory holds the cluster's connections and other tasks' data.

Failures: the death of the process that grades a job (a pool worker, a Dask worker, a prober) is
:class:`WorkerLost` for that job, which the batch runs again, and turns into the student's row
when it happens again with the student graded alone (:func:`autograder.batch.grade_batch`); a
scheduler that cannot be reached, workers without the package, with a different version of it or
not on Linux are an :class:`ExecutorError` before any student is sent. See docs/scale-out.md.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from . import __version__
from .grading import GradingOptions
from .paths import solutions_dir
from .sandbox import ChildOutcome
from .zygote import clean_pool, probe_in_worker

#: What a probe sends back: each check's outcome, and the seconds the probing took.
ProbeResult = tuple[dict[str, ChildOutcome], float]

#: A student's folder larger than this is not sent to a Dask worker (the student gets a row).
MAX_SUBMISSION_BYTES = 64 * 1024**2


@dataclass(frozen=True)
class ProbeJob:
    """Phase 1 for one student: everything a worker needs, and nothing of the reference.

    folder: the student's submission folder on this machine.
    check_ids: the checks to probe (found again by id on the worker).
    hidden: folders the student's code must not see (the reference solutions).
    name: a label for logs and a cluster's dashboard (the student's id).
    """

    folder: Path
    check_ids: tuple[str, ...]
    options: GradingOptions
    hidden: tuple[Path, ...]
    name: str = ""


class WorkerLost(Exception):
    """The process grading this job died (killed by the OS, or by the code it graded); the job can
    run again."""


class SubmissionNotSent(Exception):
    """The executor cannot take this submission; the message says why, for the student's row."""


class ExecutorError(RuntimeError):
    """The executor cannot grade at all (dask missing, scheduler unreachable, unfit workers)."""


class ProbeFuture(Protocol):
    def result(self) -> ProbeResult:
        """The job's outcomes; raises WorkerLost, SubmissionNotSent, or what the probe raised."""


class Session(ABC):
    """Jobs submitted together: a fresh local pool, or one connection to a Dask scheduler."""

    @abstractmethod
    def submit(self, job: ProbeJob) -> ProbeFuture: ...

    @abstractmethod
    def as_completed(self, futures: Iterable[ProbeFuture]) -> Iterator[ProbeFuture]:
        """``futures`` in the order they finish (done or failed)."""


class Executor(ABC):
    """Runs probe jobs somewhere clean; see the module docstring."""

    @property
    @abstractmethod
    def workers(self) -> int:
        """How many jobs run at once (known once a session has started, for a cluster)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the jobs run, in words."""

    @abstractmethod
    def session(self) -> AbstractContextManager[Session]:
        """A context in which jobs are submitted; leaving it releases the workers (or the connection)."""


def _failed(error: BaseException) -> concurrent.futures.Future:
    future: concurrent.futures.Future = concurrent.futures.Future()
    future.set_exception(error)
    return future


# ----------------------------------------------------------------------------- local


class LocalExecutor(Executor):
    """``jobs`` worker processes of a clean forkserver on this machine (:mod:`autograder.zygote`)."""

    def __init__(self, jobs: int = 2):
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.jobs = jobs

    @property
    def workers(self) -> int:
        return self.jobs

    def describe(self) -> str:
        return f"{self.jobs} local worker process(es)"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with clean_pool(self.jobs) as pool:
            yield _LocalSession(pool)


class _LocalFuture:
    def __init__(self, inner: concurrent.futures.Future):
        self.inner = inner

    def result(self) -> ProbeResult:
        try:
            return self.inner.result()
        except BrokenProcessPool as error:
            # A pool worker died: every job it had not finished is lost with it.
            raise WorkerLost("a local grading worker died") from error


class _LocalSession(Session):
    def __init__(self, pool: concurrent.futures.ProcessPoolExecutor):
        self.pool = pool

    def submit(self, job: ProbeJob) -> ProbeFuture:
        try:
            inner = self.pool.submit(probe_in_worker, str(job.folder), job.check_ids, job.options, job.hidden)
        except BrokenProcessPool as error:
            inner = _failed(error)
        return _LocalFuture(inner)

    def as_completed(self, futures: Iterable[ProbeFuture]) -> Iterator[ProbeFuture]:
        by_inner = {future.inner: future for future in futures}
        for inner in concurrent.futures.as_completed(by_inner):
            yield by_inner[inner]


# ----------------------------------------------------------------------------- dask: the driver


def _on_worker(function_name: str):
    """A callable for Dask that imports this module on the worker and calls ``function_name``.

    It is built in a local scope so that cloudpickle sends it by value: on a worker without the
    package the import then fails inside the task, and the error comes back. A function sent by
    reference would fail to deserialize there, which leaves its task waiting forever.
    """

    def call_on_worker(*args):
        import importlib

        return getattr(importlib.import_module("autograder.executors"), function_name)(*args)

    return call_on_worker


class DaskExecutor(Executor):
    """Probes on the workers of a running ``dask.distributed`` cluster.

    scheduler: the scheduler's address (``tcp://host:8786``, ``tls://...``), or the path of the
        JSON file ``dask scheduler --scheduler-file FILE`` writes.
    connect_timeout_s: how long to try to reach the scheduler, and to wait for a first worker;
        None takes Dask's ``distributed.comm.timeouts.connect`` (30 s unless configured).
    """

    def __init__(self, scheduler: str, *, connect_timeout_s: float | None = None):
        self.scheduler = scheduler
        self.connect_timeout_s = connect_timeout_s
        self._threads = 0
        self._worker_count = 0

    @property
    def workers(self) -> int:
        return self._threads

    def describe(self) -> str:
        return (
            f"the Dask cluster at {self.scheduler} ({self._worker_count} worker(s), "
            f"{self._threads} thread(s))"
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        distributed = _import_distributed()
        client = self._connect(distributed)
        try:
            self._check_workers(client)
            yield _DaskSession(client, distributed)
        finally:
            client.close()

    def _address(self) -> str:
        file = Path(self.scheduler)
        if "://" not in self.scheduler and file.is_file():
            try:
                return json.loads(file.read_text(encoding="utf-8"))["address"]
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise ExecutorError(f"{file} is not a Dask scheduler file ({error})") from None
        return self.scheduler

    def _connect(self, distributed):
        import dask

        address = self._address()
        timeout = self.connect_timeout_s
        if timeout is None:
            timeout = dask.utils.parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"))
        try:
            client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except Exception as error:  # noqa: BLE001  (OSError: unreachable, ValueError: bad address, ...)
            raise ExecutorError(
                f"cannot reach the Dask scheduler at {address} ({error}): is it running, and is the "
                "address right?"
            ) from None
        try:
            client.wait_for_workers(1, timeout=timeout)
        except Exception:  # noqa: BLE001  (a timeout, or the scheduler went away meanwhile)
            client.close()
            raise ExecutorError(
                f"the Dask scheduler at {address} has no workers (waited {timeout:g} s): start some "
                f"with `dask worker {address}` (see docs/scale-out.md)"
            ) from None
        return client

    def _check_workers(self, client) -> None:
        """Every worker must import this package, in the same version, on Linux; else ExecutorError."""
        here = describe_this_worker()
        reports = client.run(_on_worker("describe_this_worker"), on_error="return")
        problems = []
        for address, report in sorted(reports.items()):
            if isinstance(report, BaseException):
                problems.append(f"{address} cannot import the autograder package ({type(report).__name__}: {report})")
            elif report["platform"] != "linux":
                problems.append(f"{address} runs on {report['platform']}: the sandbox needs Linux")
            elif report["fingerprint"] != here["fingerprint"]:
                problems.append(
                    f"{address} has autograder {report['version']} (sources {report['fingerprint'][:12]}) "
                    f"where this machine has {here['version']} (sources {here['fingerprint'][:12]})"
                )
        if problems:
            raise ExecutorError(
                "the Dask workers cannot grade: " + "; ".join(problems)
                + ". Install this very version of the package on every worker (see docs/scale-out.md)."
            )
        threads = client.nthreads()
        self._worker_count = len(threads)
        self._threads = sum(threads.values())


def _import_distributed():
    try:
        import distributed
        import distributed.scheduler  # (KilledWorker lives there)
    except ImportError as error:
        raise ExecutorError(
            f"grading on a Dask cluster needs dask.distributed ({error}): "
            "pip install 'dl-course-autograder[dask]'"
        ) from None
    return distributed


class _DaskFuture:
    def __init__(self, inner, distributed):
        self.inner = inner
        self.distributed = distributed

    def result(self) -> ProbeResult:
        if isinstance(self.inner, concurrent.futures.Future):
            return self.inner.result()  # failed before it was sent
        try:
            result = self.inner.result()
            self.inner.release()  # the driver has it: a worker lost later need not compute it again
            return result
        except self.distributed.scheduler.KilledWorker as error:
            raise WorkerLost(f"Dask workers died while grading this submission ({error})") from None
        except concurrent.futures.CancelledError as error:
            # The connection to the scheduler was lost; the next session reconnects (or says why not).
            raise WorkerLost(f"the Dask task was cancelled ({error})") from None
        except ImportError as error:
            raise ExecutorError(
                f"a Dask worker cannot import the autograder package ({error}): install this very "
                "version of the package on every worker (see docs/scale-out.md)"
            ) from None


class _DaskSession(Session):
    def __init__(self, client, distributed):
        self.client = client
        self.distributed = distributed
        self._remote_probe = _on_worker("probe_on_this_worker")

    def submit(self, job: ProbeJob) -> ProbeFuture:
        try:
            files = read_submission(job.folder)
        except SubmissionNotSent as error:
            return _DaskFuture(_failed(error), self.distributed)
        # Plain bytes in the task: a worker without the package can still deserialize it.
        payload = pickle.dumps((files, job.check_ids, job.options, tuple(str(p) for p in job.hidden)))
        key = f"autograder-probe-{job.name or job.folder.name}-{uuid.uuid4().hex[:12]}"
        return _DaskFuture(self.client.submit(self._remote_probe, payload, key=key, pure=False), self.distributed)

    def as_completed(self, futures: Iterable[ProbeFuture]) -> Iterator[ProbeFuture]:
        futures = list(futures)
        for future in futures:
            if isinstance(future.inner, concurrent.futures.Future):
                yield future
        remote = {future.inner.key: future for future in futures if not isinstance(future.inner, concurrent.futures.Future)}
        inners = [future.inner for future in remote.values()]
        for inner in self.distributed.as_completed(inners, loop=self.client.loop):
            yield remote[inner.key]


def read_submission(folder: Path, limit: int | None = None) -> dict[str, bytes]:
    """The files of ``folder`` (relative POSIX path -> bytes) to send to a worker.

    Hidden entries and ``__pycache__`` are left out, like everywhere else in the grader, and so are
    symbolic links (a link could point at anything on this machine). Raises SubmissionNotSent
    beyond ``limit`` bytes (default MAX_SUBMISSION_BYTES).
    """
    limit = MAX_SUBMISSION_BYTES if limit is None else limit
    files: dict[str, bytes] = {}
    total = 0
    for directory, subdirectories, names in os.walk(folder):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith((".", "__")))
        for name in sorted(names):
            path = Path(directory, name)
            if name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            total += path.stat().st_size
            if total > limit:
                raise SubmissionNotSent(
                    f"the submission is larger than {limit / 1024**2:g} MiB, too large to send to the "
                    "grading cluster; grade it alone with `autograder grade`"
                )
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


# ----------------------------------------------------------------------------- dask: the worker


def _source_fingerprint() -> str:
    """SHA-256 of this package's Python sources: workers must grade with the very same code."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def describe_this_worker() -> dict[str, str]:
    """What a driver checks of a worker before sending it students."""
    return {
        "version": __version__,
        "fingerprint": _source_fingerprint(),
        "platform": sys.platform,
    }


def probe_on_this_worker(payload: bytes) -> ProbeResult:
    """Runs on a Dask worker: writes the student's files to a temporary folder and has a prober
    probe them. Raises WorkerLost when the prober dies."""
    files, check_ids, options, hidden = pickle.loads(payload)
    with tempfile.TemporaryDirectory(
        prefix="autograder-submission-", dir=_scratch_root(), ignore_cleanup_errors=True
    ) as scratch:
        folder = Path(scratch) / "submission"
        for relative, content in files.items():
            path = folder / relative
            if path.resolve().is_relative_to(folder.resolve()):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        folder.mkdir(exist_ok=True)
        prober = _Prober.borrow()
        try:
            result = prober.probe(str(folder), tuple(check_ids), options, _hidden_here(hidden))
        except BaseException:
            prober.close()
            raise
        prober.give_back()
    return result


def _scratch_root() -> str | None:
    """The Dask worker's own directory (Dask removes those of dead workers, so a worker killed
    mid-task leaves nothing behind), or None for the system's temporary folder."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):  # not inside a Dask task
        return None


def _hidden_here(driver_hidden: tuple[str, ...]) -> tuple[Path, ...]:
    """The folders to hide on this worker: the driver's that exist here, and this worker's own
    reference folder (an editable install of the repository has one)."""
    candidates = {Path(folder) for folder in driver_hidden} | {solutions_dir()}
    return tuple(sorted(folder.resolve() for folder in candidates if folder.is_dir()))


#: Environment variables a prober keeps; everything else (credentials, tokens, Dask's TLS
#: settings) stays in the Dask worker, out of students' reach.
_KEPT_ENVIRONMENT = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
                     "LD_LIBRARY_PATH", "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONHASHSEED")
_KEPT_PREFIXES = ("LC_", "OPENBLAS_", "OMP_", "MKL_")
_PROBER_MAIN = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from autograder.executors import serve_probes; serve_probes()"
)


class _Prober:
    """A clean Python on a Dask worker that probes submissions one at a time (see the module
    docstring). Kept for the worker's lifetime; one per task running at once."""

    _idle: ClassVar[list[_Prober]] = []
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def borrow(cls) -> _Prober:
        with cls._lock:
            while cls._idle:
                prober = cls._idle.pop()
                if prober.process.poll() is None:
                    return prober
        return cls()

    def __init__(self):
        environment = {
            name: value for name, value in os.environ.items()
            if name in _KEPT_ENVIRONMENT or name.startswith(_KEPT_PREFIXES)
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", _PROBER_MAIN, json.dumps(sys.path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment, cwd="/",
            start_new_session=True,  # signals meant for the worker's terminal are not its business
        )

    def probe(self, *request) -> ProbeResult:
        try:
            pickle.dump(request, self.process.stdin)
            self.process.stdin.flush()
            status, value = pickle.load(self.process.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            self.process.kill()
            code = self.process.wait()
            raise WorkerLost(f"the process grading this submission died (exit status {code})") from None
        if status != "ok":
            raise RuntimeError(value)
        return value

    def give_back(self) -> None:
        with self._lock:
            self._idle.append(self)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()

    @classmethod
    def close_all(cls) -> None:
        with cls._lock:
            idle, cls._idle = cls._idle, []
        for prober in idle:
            prober.close()


atexit.register(_Prober.close_all)


def serve_probes() -> None:
    """The prober's main loop: a request (folder, check ids, options, hidden) on stdin, the reply on
    stdout, until stdin closes (the worker went away)."""
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    # Nothing else may write into the reply stream: stdout goes where stderr goes.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    os.close(devnull)
    while True:
        try:
            folder, check_ids, options, hidden = pickle.load(requests)
        except EOFError:
            return
        try:
            os.chdir(folder)  # the submission's code runs in its own folder
            reply = ("ok", probe_in_worker(folder, check_ids, options, hidden))
        except Exception as error:  # noqa: BLE001  (a grader bug: the driver makes it the student's row)
            reply = ("error", f"{type(error).__name__}: {error}")
        finally:
            os.chdir("/")
        try:
            pickle.dump(reply, replies)
            replies.flush()
        except OSError:  # the worker went away
            return
