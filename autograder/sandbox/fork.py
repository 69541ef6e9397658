"""Runs untrusted code in forked child processes and brings back raw numbers only.

Forking after the heavy imports (numpy, the grader) costs a few milliseconds, against ~90 ms to
start a fresh Python with numpy. A child:

* moves to its own process group (so a timeout kills everything it started),
* gets stdin from /dev/null, its stdout/stderr into a pipe the parent drains, no other inherited file,
* hides folders and installs bans (:class:`Confinement`), then applies resource limits,
* runs its tasks one after another, classifying any exception into a student-facing message, and
  after each task flushes its output and writes one :mod:`~autograder.sandbox.wire` frame (with an
  8-byte length) to the result pipe; it leaves with ``os._exit``.

:func:`run_tasks` runs a list of tasks (a unit's checks) in as few children as possible: the
student's module is imported once per child instead of once per check, which is most of a check's
cost. Each task has its own time budget (:mod:`~autograder.sandbox.clock`: computing time, not
wall time, so a busy machine does not change a verdict); a task that hangs, kills its child (a signal,
``os._exit``) or sends garbage gets that outcome, and the tasks after it continue in a new child,
so a crash or a timeout still costs exactly one check. :func:`run_isolated` is one task.

The parent decodes frames (never unpickles) and turns every way a child can end into a
:class:`ChildOutcome`. The two run in lockstep: after each frame the child waits for the parent's
acknowledgement on a third pipe. When a task's frame arrives, everything that task printed is
already in the output pipe (the child flushed it first), so the parent reads the pipe dry, gives
that output to the task, and only then lets the child go on: each check shows what it printed, and
nothing printed can shift another check's share.
"""

from __future__ import annotations

import enum
import faulthandler
import math
import os
import resource
import select
import signal
import struct
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from . import bans as bans_module
from . import cgroups, confine
from . import wire
from .bans import Bans, ForbiddenCall, ForbiddenImport
from .clock import TaskClock
from .hiding import _libc, hide_folders
from .loader import (
    SubmissionImportError,
    describe_exception,
    short_traceback,
    student_location,
)


class ProbeError(Exception):
    """The student's code broke the contract the probe expects (e.g. returned a string)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed run. ``None`` switches a limit off."""

    # Every ordinary check of the reference runs in well under 50 ms here, so 2 s is a margin of
    # 40x and more; training checks set their own longer limit. A hanging submission pays this
    # once per check, so it is kept short (see docs/isolation.md).
    timeout_s: float = 2.0
    memory_bytes: int | None = 2 * 1024**3  # on top of what the process already maps
    output_bytes: int = 8 * 1024  # captured stdout/stderr shown back
    file_size_bytes: int | None = 16 * 1024**2  # largest file the child may write (RLIMIT_FSIZE)


class Status(str, enum.Enum):
    OK = "ok"
    NOT_IMPLEMENTED = "not_implemented"
    IMPORT_ERROR = "import_error"
    EXCEPTION = "exception"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    PROTOCOL_ERROR = "protocol_error"
    FORBIDDEN = "forbidden"
    #: not run: a measured function is so slow that the check would surely run out of time
    TOO_SLOW = "too_slow"


@dataclass(frozen=True)
class Confinement:
    """What a student's child may not use or see (resource limits aside).

    bans: forbidden modules and functions.
    hidden_folders: folders replaced by an empty one inside the child (the reference solutions).
    """

    bans: Bans | None = None
    hidden_folders: tuple[Path, ...] = ()


@dataclass(frozen=True)
class ChildOutcome:
    """How a sandboxed run ended. ``outputs`` holds the task's raw values when status is OK.

    ``unhidden_reason`` says why the folders to hide could not be hidden (None: hidden, or none asked).
    """

    status: Status
    message: str = ""
    outputs: Mapping[str, object] = field(default_factory=dict)
    captured_output: str = ""
    seconds: float = 0.0
    #: CPU seconds the task used (None where the platform cannot tell): what its budget counts
    cpu_seconds: float | None = None
    unhidden_reason: str | None = None
    #: the message without anything the code's inputs could have put in it (an exception's text,
    #: a traceback): what a hidden check may show. Empty means: the message itself is safe.
    summary: str = ""


_STATUS_KEY = "__status__"
_MESSAGE_KEY = "__message__"
_OUTPUT_PREFIX = "out:"
_UNHIDDEN_KEY = "__unhidden__"
_SUMMARY_KEY = "__summary__"
_LENGTH = struct.Struct("<Q")
_ENDINGS = {
    Status.CRASHED: "",  # replaced by what the wait status says
    Status.PROTOCOL_ERROR: "the process sent back a result that is far too large",
}


def _ending_message(ending: Status, clock: TaskClock) -> str:
    """What the student reads when a task ends without a result."""
    if ending is not Status.TIMEOUT:
        return _ENDINGS[ending]
    if clock.expired_by == "cpu":
        # Computing time, not wall time: the same code gets the same verdict however busy the machine.
        return (f"timed out after {clock.budget_s:g} s of computing time "
                "(an infinite loop, or far too much work?)")
    if clock.load_invariant:
        return (f"timed out after {clock.budget_s:g} s (no result while waiting or sleeping: "
                "an endless time.sleep, or a wait for another process?)")
    return f"timed out after {clock.budget_s:g} s (an infinite loop, or far too much work?)"


@dataclass(frozen=True)
class Task:
    """One unit of sandboxed work: ``run()`` returns a flat mapping of plain values / arrays."""

    key: str
    run: Callable[[], Mapping[str, object]]
    timeout_s: float


def run_isolated(
    task: Callable[[], Mapping[str, object]],
    *,
    limits: Limits,
    student_folder: Path | None = None,
    confinement: Confinement = Confinement(),
) -> ChildOutcome:
    """Runs ``task()`` in a forked child and returns how it went (see :func:`run_tasks`)."""
    only = Task("task", task, limits.timeout_s)
    return run_tasks([only], limits=limits, student_folder=student_folder, confinement=confinement)["task"]


def run_tasks(
    tasks: Sequence[Task],
    *,
    limits: Limits,
    student_folder: Path | None = None,
    confinement: Confinement = Confinement(),
) -> dict[str, ChildOutcome]:
    """Runs ``tasks`` in order, in one child while they behave; returns an outcome for every task.

    ``limits.timeout_s`` is ignored in favour of each task's own ``timeout_s``.
    ``student_folder`` lets error messages point at the student's file and line.
    ``confinement`` (for student code) forbids modules and functions and hides folders.
    """
    outcomes: dict[str, ChildOutcome] = {}
    remaining = list(tasks)
    while remaining:
        finished, failure = _run_in_one_child(remaining, limits, student_folder, confinement)
        outcomes.update(finished)
        if failure is None:
            break
        outcomes[remaining[len(finished)].key] = failure
        remaining = remaining[len(finished) + 1 :]
    return outcomes


def _run_in_one_child(tasks, limits, student_folder, confinement):
    """Returns (outcomes of the tasks that finished, the outcome of the one that failed or None)."""
    sys.stdout.flush()
    sys.stderr.flush()
    if confinement.hidden_folders:
        _libc()  # load it here, once, rather than in every child
    _numeric_threadpools()  # likewise
    confine.refuse_inspection()  # the process that forks student code is not theirs to inspect
    cgroups.prepare()
    read_end, write_end = os.pipe()
    output_read, output_write = os.pipe()
    go_on_read, go_on_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        for fd in (read_end, output_read, go_on_write):
            os.close(fd)
        _child_main(tasks, (write_end, go_on_read), output_write, limits, student_folder, confinement)
    for fd in (write_end, output_write, go_on_read):
        os.close(fd)
    stream = _ChildStream(read_end, output_read, go_on_write, limits.output_bytes)
    finished: dict[str, ChildOutcome] = {}
    failure: tuple[Status, str] | None = None
    started = time.perf_counter()
    try:
        for index, task in enumerate(tasks):
            started = time.perf_counter()
            clock = TaskClock(pid, task.timeout_s)
            frame, ending = stream.next_frame(clock)
            if frame is None:
                failure = (ending, _ending_message(ending, clock))
                break
            outcome = _decode(frame, stream.end_task(student_folder), time.perf_counter() - started,
                              clock.cpu_used())
            stream.let_child_go_on()
            if outcome is None:
                failure = (Status.PROTOCOL_ERROR, "the process sent back an unreadable or forged result")
                break
            finished[task.key] = outcome
        timed_out = failure is not None and failure[0] is Status.TIMEOUT
        wait_status = _reap(pid, grace_s=0.0 if timed_out else 1.0)
        out_of_memory = cgroups.ran_out_of_memory(pid)
        # What the failing task printed (the child and its group are dead: nothing blocks).
        captured = stream.end_task(student_folder) if failure is not None else ""
    finally:
        if failure is None and "wait_status" not in locals():  # interrupted (Ctrl-C): leave no child
            _reap(pid, grace_s=0.0)
        cgroups.remove(pid)
        stream.close()
    if failure is None:
        return finished, None
    status, message = failure
    if status is Status.CRASHED:
        message = _describe_death(wait_status)
        if out_of_memory:
            message = ("ran out of memory: the code's processes together used more than the memory limit "
                       f"({_gib(limits.memory_bytes)} GiB) and the largest was killed")
    return finished, ChildOutcome(status, message, captured_output=captured, seconds=time.perf_counter() - started)


def _decode(frame: bytes, captured: str, seconds: float, cpu_seconds: float | None) -> ChildOutcome | None:
    try:
        message = wire.decode(frame)
        status = Status(message.get(_STATUS_KEY))
    except (wire.WireError, ValueError):
        return None
    outputs = {
        key[len(_OUTPUT_PREFIX) :]: value for key, value in message.items() if key.startswith(_OUTPUT_PREFIX)
    }
    unhidden = message.get(_UNHIDDEN_KEY)
    return ChildOutcome(
        status,
        str(message.get(_MESSAGE_KEY) or ""),
        outputs,
        captured,
        seconds,
        cpu_seconds=cpu_seconds,
        unhidden_reason=str(unhidden) if unhidden else None,
        summary=str(message.get(_SUMMARY_KEY) or ""),
    )


class _TaskOutput:
    """What one task printed: the first ``limit`` bytes kept, the rest only counted."""

    def __init__(self, limit: int):
        self.limit = limit
        self.kept = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept += data[:room]

    def text(self) -> str:
        text = self.kept.decode("utf-8", errors="replace")
        if self.total > self.limit:
            text += f"\n... (output truncated: {self.total} bytes in all)"
        return text


class _ChildStream:
    """The parent's side of a child's two pipes: length-prefixed result frames, and the output of
    the task running now. The output is drained all the time, so a print flood never blocks the
    child."""

    def __init__(self, result_fd: int, output_fd: int, go_on_fd: int, output_limit: int):
        self.result_fd, self.output_fd, self.go_on_fd = result_fd, output_fd, go_on_fd
        self.output_open = True
        self.result_buffer = bytearray()
        self.output_limit = output_limit
        self.current = _TaskOutput(output_limit)

    def next_frame(self, clock: TaskClock) -> tuple[bytes | None, Status]:
        """The next frame, or (None, TIMEOUT / CRASHED) when the task's budget (``clock``) is used up
        or the child ends."""
        next_poll = time.perf_counter() + clock.next_poll_in()
        while True:
            frame = self._take_frame()
            if frame is not None:
                return frame, Status.OK
            if len(self.result_buffer) > wire.MAX_MESSAGE_BYTES:
                return None, Status.PROTOCOL_ERROR
            if time.perf_counter() >= next_poll:
                if clock.expired():
                    return None, Status.TIMEOUT
                next_poll = time.perf_counter() + clock.next_poll_in()
            watched = [self.result_fd] + ([self.output_fd] if self.output_open else [])
            ready, _, _ = select.select(watched, [], [], max(0.0, next_poll - time.perf_counter()))
            if not ready:
                continue
            if self.output_fd in ready:
                self._read_output()
            if self.result_fd in ready:
                chunk = os.read(self.result_fd, 1 << 20)
                if not chunk:
                    frame = self._take_frame()
                    return (frame, Status.OK) if frame is not None else (None, Status.CRASHED)
                self.result_buffer += chunk

    def _take_frame(self) -> bytes | None:
        if len(self.result_buffer) < _LENGTH.size:
            return None
        (length,) = _LENGTH.unpack_from(self.result_buffer)
        end = _LENGTH.size + length
        if len(self.result_buffer) < end:
            return None
        frame = bytes(self.result_buffer[_LENGTH.size : end])
        del self.result_buffer[:end]
        return frame

    def _read_output(self) -> bool:
        """Reads one chunk into the current task's output; False when nothing was there."""
        try:
            chunk = os.read(self.output_fd, 1 << 16)
        except BlockingIOError:
            return False
        except OSError:
            chunk = b""
        if not chunk:
            self.output_open = False
            return False
        self.current.add(chunk)
        return True

    def end_task(self, student_folder: Path | None) -> str:
        """What the task that just ended printed: the pipe is read dry first (without blocking)."""
        if self.output_open:
            os.set_blocking(self.output_fd, False)
            while self._read_output():
                pass
            os.set_blocking(self.output_fd, True)
        text, self.current = self.current.text(), _TaskOutput(self.output_limit)
        if student_folder is not None:
            # Warnings name files by absolute path; relative paths read better and do not depend on
            # where the submission was unpacked (batch, Gradescope and `grade` then agree exactly).
            text = text.replace(str(Path(student_folder).resolve()) + os.sep, "")
        return text

    def let_child_go_on(self) -> None:
        try:
            os.write(self.go_on_fd, b".")
        except OSError:  # the child is gone; the next read says how
            pass

    def close(self) -> None:
        for fd in (self.result_fd, self.output_fd, self.go_on_fd):
            os.close(fd)


def _child_main(tasks, pipes: tuple[int, int], output_fd: int, limits: Limits, folder: Path | None, confinement: Confinement):
    write_end, go_on = pipes
    try:
        _become_confined_child(output_fd, keep=(write_end, go_on))
        student = _is_students_child(confinement)
        hidden = confinement.hidden_folders + (confine.trusted_folders(folder) if student else ())
        unhidden = hide_folders(hidden)
        problems = [unhidden]
        if student:
            problems += _confine_before_limits(folder, limits)
        _apply_limits(limits, cpu_seconds=sum(task.timeout_s for task in tasks))
        setup_error = None
        try:
            if confinement.bans is not None:
                bans_module.install(confinement.bans)
            if student:
                problems += _confine_after_bans()
        except Exception as error:  # our bug, not the student's: every task says so
            setup_error = f"the grader could not set up the sandbox: {error}"
        unhidden = "; ".join(dict.fromkeys(p for p in problems if p)) or None
        for task in tasks:
            if setup_error:
                message = {_STATUS_KEY: Status.EXCEPTION.value, _MESSAGE_KEY: setup_error}
            else:
                message = _run_task(task, folder)
            message[_UNHIDDEN_KEY] = unhidden
            frame = wire.encode(message)
            _flush_quietly()  # the task's output reaches the pipe before its frame does
            _write_all(write_end, _LENGTH.pack(len(frame)) + frame)
            if not os.read(go_on, 1):  # the parent has read this task's output, or is gone
                break
    except BaseException:
        pass
    finally:
        os._exit(0)


def _is_students_child(confinement: Confinement) -> bool:
    """A child with bans or hidden folders runs a student's code; the reference's child has neither."""
    return confinement.bans is not None or bool(confinement.hidden_folders)


#: What a grader that does not run as root cannot promise (said once in the report's notes).
NOT_ROOT = ("the grader does not run as root, so the submission's code runs as the grader's own user: "
            "it can read and write whatever that user can, the solutions and the grader's own files included")


def _confine_before_limits(folder: Path | None, limits: Limits) -> list[str | None]:
    """As root: a cgroup bounding the memory and processes of the child's whole tree (cgroups.py),
    the child's own view of the files (under its own user id, not yet taken); a PID namespace for
    everything it starts; the environment cut to an allow-list (confine.py)."""
    problems: list[str | None] = []
    scratch = None
    if confine.is_root():
        # + 2: the child itself and the PID namespace's init
        problems.append(cgroups.enter(limits.memory_bytes, confine.MAX_STUDENT_PROCESSES + 2))
        view_problem, scratch = confine.private_view(Path(folder).resolve() if folder is not None else None,
                                                     confine.student_id())
        problems.append(view_problem)
    else:
        view_problem = NOT_ROOT
        problems.append(NOT_ROOT)
    problems.append(confine.contain_descendants())
    confine.clean_environment(scratch)
    _PRIVILEGES_DROPPABLE[:] = [confine.is_root(), confine.is_root() and view_problem is None]
    return problems


#: In a student's child: [started as root, its private view was built]
_PRIVILEGES_DROPPABLE: list[bool] = []


def _confine_after_bans() -> list[str | None]:
    """Last, right before student code: another user (only if its view was built: otherwise it
    could not read the submission), no new privileges, seccomp, no debugger."""
    problems: list[str | None] = []
    root, view_built = _PRIVILEGES_DROPPABLE or [False, False]
    if view_built:
        problems.append(confine.drop_privileges(confine.student_id()))
    else:
        problems.append(confine.no_new_privileges())
    seccomp = confine.install_seccomp()
    confine.forbid_breakpoint()
    # seccomp is a second wall behind the user switch: only a grader without the first says it lacks it
    return problems if root or seccomp is None else problems + [seccomp]


def _run_task(task: Task, folder: Path | None) -> dict:
    try:
        outputs = task.run()
        message = {_OUTPUT_PREFIX + key: value for key, value in outputs.items()}
        message[_STATUS_KEY] = Status.OK.value
        try:
            wire.encode(message)
        except TypeError as error:
            raise ProbeError("the result cannot be graded: " + str(error).replace(_OUTPUT_PREFIX, "")) from None
        return message
    except BaseException as error:  # everything the student can raise becomes a message
        status, text = classify_exception(error, folder)
        return {_STATUS_KEY: status.value, _MESSAGE_KEY: text, _SUMMARY_KEY: summarize_exception(error, folder)}


_THREADPOOLS = None


def _numeric_threadpools():
    """numpy's BLAS thread pools, found once in the parent (about 1 ms), limited in each child."""
    global _THREADPOOLS
    if _THREADPOOLS is None:
        try:
            from threadpoolctl import ThreadpoolController

            _THREADPOOLS = ThreadpoolController()
        except Exception:  # not installed, or an unusual BLAS: children keep the default
            _THREADPOOLS = False
    return _THREADPOOLS


def _single_threaded_numerics() -> None:
    """One BLAS thread in the child. Several would spin and wait for cores, so the CPU time a
    check uses would grow with the machine's load; one thread makes it the same idle or busy
    (and the budget of :mod:`~autograder.sandbox.clock` fair)."""
    pools = _numeric_threadpools()
    if pools:
        try:
            pools.limit(limits=1)
        except Exception:
            pass


def _become_confined_child(output_fd: int, keep: tuple[int, ...]) -> None:
    os.setpgid(0, 0)
    _single_threaded_numerics()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # A crash report from an inherited faulthandler (pytest, IPython) would bypass the capture.
    faulthandler.disable()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # input() gets EOF at once instead of waiting for a terminal
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    _close_inherited_files(keep)
    # The parent's sys.std* may be pytest's capture objects or a Jupyter kernel's socket
    # streams; the child's prints must go to the pipe above and nowhere else.
    sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
    _reset_warnings()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def classify_exception(error: BaseException, folder: Path | None) -> tuple[Status, str]:
    """Maps an exception raised by student code to a status and a short message."""
    if isinstance(error, NotImplementedError):
        # The stubs raise NotImplementedError("Linear.__init__: not implemented yet"): name it.
        owner, _, rest = str(error).partition(": ")
        named = rest == "not implemented yet" and owner.replace(".", "").replace("_", "").isalnum()
        return Status.NOT_IMPLEMENTED, f"not implemented yet ({owner})" if named else "not implemented yet"
    if isinstance(error, (ForbiddenImport, ForbiddenCall)):
        where = student_location(error, folder) if folder is not None else None
        return Status.FORBIDDEN, (f"{where}: " if where else "") + str(error)
    if isinstance(error, SubmissionImportError):
        return Status.IMPORT_ERROR, str(error)
    if isinstance(error, ProbeError):
        return Status.EXCEPTION, str(error)
    if isinstance(error, MemoryError):
        return Status.EXCEPTION, "ran out of memory (MemoryError): the memory limit was reached"
    if folder is None:
        return Status.EXCEPTION, describe_exception(error)
    where = student_location(error, folder)
    text = describe_exception(error) + (f" at {where}" if where else "")
    trace = short_traceback(error, folder, with_exception=False)
    return Status.EXCEPTION, text + ("\n" + trace if trace else "")


def summarize_exception(error: BaseException, folder: Path | None) -> str:
    """The exception's type and the student's line, without its text (which may quote inputs)."""
    if isinstance(error, (NotImplementedError, SubmissionImportError, ForbiddenImport, ForbiddenCall)):
        return ""  # these messages say nothing about the inputs
    where = student_location(error, folder) if folder is not None else None
    kind = describe_exception(error).split(":", 1)[0]  # "raised ValueError", "called sys.exit(3)"
    if isinstance(error, ProbeError):
        kind = "returned a result that breaks the function's contract"
    return kind + (f" at {where}" if where else "")


def _reset_warnings() -> None:
    """Python's default warning behaviour, printed to the child's stderr.

    The parent may be recording warnings (pytest, a notebook), and a child inherits that: the
    student's warnings would then vanish in one front end and show in another.
    """
    warnings.resetwarnings()
    warnings.simplefilter("default")

    def show(message, category, filename, lineno, file=None, line=None):
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show


def _close_inherited_files(keep: tuple[int, ...]) -> None:
    """Closes every descriptor but stdin/stdout/stderr and the ones in ``keep`` (the child's pipes):
    the student's code gets no handle on the parent's files, sockets or other children's pipes."""
    highest = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    highest = highest if highest != resource.RLIM_INFINITY else 65536
    start = 3
    for fd in sorted(keep):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, highest)


def _apply_limits(limits: Limits, cpu_seconds: float) -> None:
    if limits.memory_bytes is not None:
        current = _mapped_bytes()
        cap = current + limits.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    cpu_seconds = math.ceil(cpu_seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    if limits.file_size_bytes is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the cap fail instead of killing
        resource.setrlimit(
            resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes)
        )


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _flush_quietly() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _reap(pid: int, grace_s: float) -> int:
    """Waits up to ``grace_s`` for the child to exit, then kills its whole process group.

    The group is killed in every case, so nothing the student's code started outlives the check.
    Returns the child's wait status.
    """
    deadline = time.perf_counter() + grace_s
    while True:
        finished, wait_status = os.waitpid(pid, os.WNOHANG)
        if finished or time.perf_counter() >= deadline:
            break
        time.sleep(0.0005)
    _kill_quietly(os.killpg, pid)  # grandchildren the student's code may have started
    if not finished:
        _kill_quietly(os.kill, pid)  # in case it died before it could call setpgid
        _, wait_status = os.waitpid(pid, 0)
    return wait_status


def _gib(size: int | None) -> str:
    return f"{(size or 0) / 1024**3:g}"


def _kill_quietly(kill, pid: int) -> None:
    try:
        kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _describe_death(wait_status: int) -> str:
    if os.WIFSIGNALED(wait_status):
        number = os.WTERMSIG(wait_status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        reasons = {
            "SIGSEGV": "a segmentation fault",
            "SIGXCPU": "the CPU time limit",
            "SIGKILL": "being killed (out of memory?)",
            "SIGABRT": "an abort",
            "SIGBUS": "a bus error",
            "SIGFPE": "a floating-point exception",
        }
        return f"the process died: {name} ({reasons.get(name, 'killed by a signal')})"
    if os.WIFEXITED(wait_status):
        return (
            f"the process exited with status {os.WEXITSTATUS(wait_status)} before reporting a result "
            "(did the code call os._exit or close its output?)"
        )
    return "the process ended without reporting a result"
