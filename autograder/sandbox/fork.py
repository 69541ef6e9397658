"""Runs untrusted code in a forked child process and brings back raw numbers only.

Forking after the heavy imports (numpy, the grader) costs a few milliseconds, against ~90 ms to
start a fresh Python with numpy. The child:

* moves to its own process group (so a timeout kills everything it started),
* applies resource limits (address space, CPU time, size of files it writes),
* sends its stdout/stderr to a pipe that the parent drains, keeping a capped prefix,
* runs the task, classifies any exception into a student-facing message,
* writes one :mod:`~autograder.sandbox.wire` frame to a pipe and leaves with ``os._exit``.

The parent enforces a wall-clock timeout, decodes the frame (never unpickles) and turns every way a
child can end (killed by a signal, ``os._exit``, garbage on the pipe) into a :class:`ChildOutcome`.
"""

from __future__ import annotations

import enum
import faulthandler
import math
import os
import resource
import select
import signal
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from . import bans as bans_module, wire
from .bans import Bans, ForbiddenCall, ForbiddenImport
from .hiding import _libc, hide_folders
from .loader import SubmissionImportError, describe_exception, short_traceback, student_location


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
    unhidden_reason: str | None = None


_STATUS_KEY = "__status__"
_MESSAGE_KEY = "__message__"
_OUTPUT_PREFIX = "out:"
_UNHIDDEN_KEY = "__unhidden__"


def run_isolated(
    task: Callable[[], Mapping[str, object]],
    *,
    limits: Limits,
    student_folder: Path | None = None,
    confinement: Confinement = Confinement(),
) -> ChildOutcome:
    """Runs ``task()`` in a forked child and returns how it went.

    ``task`` returns a flat mapping of plain values / numeric arrays (see :mod:`wire`).
    ``student_folder`` lets error messages point at the student's file and line.
    ``confinement`` (for student code) forbids modules and functions and hides folders.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    if confinement.hidden_folders:
        _libc()  # load it here, once, rather than in every child
    read_end, write_end = os.pipe()
    output_read, output_write = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: never returns
        os.close(read_end)
        os.close(output_read)
        _child_main(task, write_end, output_write, limits, student_folder, confinement)
    os.close(write_end)
    os.close(output_write)
    output = _CappedOutput(limits.output_bytes)
    frame, timed_out = b"", False
    try:
        frame, timed_out = _read_with_deadline(read_end, output_read, output, started + limits.timeout_s)
    finally:
        os.close(read_end)
        wait_status = _reap(pid, grace_s=0.0 if timed_out else 1.0)
        output.drain(output_read)
        os.close(output_read)
    seconds = time.perf_counter() - started
    captured = output.text()
    if student_folder is not None:
        # Warnings name files by absolute path; relative paths read better and do not depend on
        # where the submission was unpacked (batch, Gradescope and `grade` then agree exactly).
        captured = captured.replace(str(Path(student_folder).resolve()) + os.sep, "")
    if timed_out:
        return ChildOutcome(
            Status.TIMEOUT,
            f"timed out after {limits.timeout_s:g} s (an infinite loop, or far too much work?)",
            captured_output=captured,
            seconds=seconds,
        )
    if not frame:
        return ChildOutcome(
            Status.CRASHED, _describe_death(wait_status), captured_output=captured, seconds=seconds
        )
    try:
        message = wire.decode(frame)
    except wire.WireError as error:
        return ChildOutcome(
            Status.PROTOCOL_ERROR,
            f"the process sent back an unreadable result ({error})",
            captured_output=captured,
            seconds=seconds,
        )
    try:
        status = Status(message.get(_STATUS_KEY))
    except ValueError:
        return ChildOutcome(Status.PROTOCOL_ERROR, "the process sent back a forged result", seconds=seconds)
    outputs = {
        key[len(_OUTPUT_PREFIX) :]: value
        for key, value in message.items()
        if key.startswith(_OUTPUT_PREFIX)
    }
    unhidden = message.get(_UNHIDDEN_KEY)
    return ChildOutcome(
        status,
        str(message.get(_MESSAGE_KEY) or ""),
        outputs,
        captured,
        seconds,
        unhidden_reason=str(unhidden) if unhidden else None,
    )


def _child_main(task, write_end: int, output_fd: int, limits: Limits, folder: Path | None, confinement: Confinement):
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # A crash report from an inherited faulthandler (pytest, IPython) would bypass the capture.
        faulthandler.disable()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # input() gets EOF at once instead of waiting for a terminal
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        _close_inherited_files(keep=write_end)
        # The parent's sys.std* may be pytest's capture objects or a Jupyter kernel's socket
        # streams; the child's prints must go to the pipe above and nowhere else.
        sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
        _reset_warnings()
        unhidden = hide_folders(confinement.hidden_folders)
        _apply_limits(limits)
        try:
            if confinement.bans is not None:
                bans_module.install(confinement.bans)
            outputs = task()
            message = {_OUTPUT_PREFIX + key: value for key, value in outputs.items()}
            message[_STATUS_KEY] = Status.OK.value
            message[_UNHIDDEN_KEY] = unhidden
            try:
                frame = wire.encode(message)
            except TypeError as error:
                raise ProbeError(
                    "the result cannot be graded: " + str(error).replace(_OUTPUT_PREFIX, "")
                ) from None
        except BaseException as error:  # everything the student can raise becomes a message
            status, text = classify_exception(error, folder)
            frame = wire.encode({_STATUS_KEY: status.value, _MESSAGE_KEY: text, _UNHIDDEN_KEY: unhidden})
        _flush_quietly()
        view = memoryview(frame)
        while view:
            written = os.write(write_end, view)
            view = view[written:]
    except BaseException:
        pass
    finally:
        os._exit(0)


def classify_exception(error: BaseException, folder: Path | None) -> tuple[Status, str]:
    """Maps an exception raised by student code to a status and a short message."""
    if isinstance(error, NotImplementedError):
        return Status.NOT_IMPLEMENTED, "not implemented yet"
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


def _close_inherited_files(keep: int) -> None:
    """Closes every descriptor but stdin/stdout/stderr and the result pipe: the student's code gets
    no handle on the parent's files, sockets or other children's pipes."""
    highest = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    os.closerange(3, keep)
    os.closerange(keep + 1, highest if highest != resource.RLIM_INFINITY else 65536)


def _apply_limits(limits: Limits) -> None:
    if limits.memory_bytes is not None:
        current = _mapped_bytes()
        cap = current + limits.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    cpu_seconds = math.ceil(limits.timeout_s) + 1
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


class _CappedOutput:
    """Keeps the first ``limit`` bytes the child prints and counts the rest, which is discarded."""

    def __init__(self, limit: int):
        self.limit = limit
        self.kept = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]

    def drain(self, fd: int) -> None:
        """Reads what is left without blocking (the child and its group are dead by now)."""
        os.set_blocking(fd, False)
        try:
            while chunk := os.read(fd, 1 << 16):
                self.add(chunk)
        except (BlockingIOError, OSError):
            pass

    def text(self) -> str:
        text = self.kept.decode("utf-8", errors="replace")
        if self.total > self.limit:
            text += f"\n... (output truncated: {self.total} bytes in all)"
        return text


def _read_with_deadline(
    result_fd: int, output_fd: int, output: _CappedOutput, deadline: float
) -> tuple[bytes, bool]:
    """Reads the result frame until EOF, draining the child's output meanwhile so a print flood
    can never block it. Returns (frame, timed_out)."""
    chunks, size = [], 0
    watched = [result_fd, output_fd]
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return b"", True
        ready, _, _ = select.select(watched, [], [], remaining)
        if not ready:
            return b"", True
        if output_fd in ready:
            chunk = os.read(output_fd, 1 << 16)
            if chunk:
                output.add(chunk)
            else:
                watched.remove(output_fd)
        if result_fd in ready:
            chunk = os.read(result_fd, 1 << 20)
            if not chunk:
                return b"".join(chunks), False
            size += len(chunk)
            if size > wire.MAX_MESSAGE_BYTES:
                return b"", False
            chunks.append(chunk)


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
