"""A control group per student child: the memory and the process count of its whole tree, bounded.

``RLIMIT_AS`` bounds each process and ``RLIMIT_NPROC`` (confine.py) the number of processes, but
together they still allow 32 processes of 2 GiB each. A cgroup bounds the sum: every process the
child starts is in it, and so is what they write to their private tmpfs folders. When the tree
goes over the limit the kernel's OOM killer ends a process of that tree only, never the grader.

Where the grader runs as root and the cgroup file system is writable (cgroup v1's ``memory`` and
``pids`` hierarchies, or v2's unified one with those controllers enabled for the grader's own
cgroup), the child, still root, creates ``autograder-<pid>`` under the grader's own cgroup in each
hierarchy, sets the limits and moves itself in before any student code runs. The parent removes the
groups once the child is reaped (anything left in them is killed first). Elsewhere nothing happens
and the per-process limits remain: :func:`enter` says why in one short reason, which the report's
notes carry.

Cost: a few mkdir/write/rmdir calls on a virtual file system, well under a millisecond per child.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
#: Room for what a child maps before the student's code runs, its private tmpfs folders and the
#: page cache it causes, above the per-process ``Limits.memory_bytes``.
MEMORY_SLACK_BYTES = 512 * 1024**2
_PREFIX = "autograder-"
#: How :func:`enter`'s reasons start, so that the report's note tells them from hiding problems.
NOTE_PREFIX = "cgroup: "


def _own_groups() -> list[tuple[str, Path]]:
    """(kind, folder) of the grader's own cgroup per hierarchy that can hold a child's limits:
    ``v1-memory``, ``v1-pids`` or ``v2``."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        if controllers == "" and (ROOT / "cgroup.controllers").is_file():
            found.append(("v2", ROOT / relative))
        for name in controllers.split(","):
            if name in ("memory", "pids") and (ROOT / name).is_dir():
                found.append((f"v1-{name}", ROOT / name / relative))
    return found


#: Computed once in the parent (inherited by every child): a child must not read its own
#: ``/proc/self/cgroup`` after moving, and the parent must find the same folders to remove.
_GROUPS: list[tuple[str, Path]] | None = None


def prepare() -> None:
    """Reads the grader's own cgroups (once per process, before the first fork)."""
    global _GROUPS
    if _GROUPS is None:
        _GROUPS = _own_groups() if os.geteuid() == 0 else []
        _sweep_stale_groups()


def _sweep_stale_groups() -> None:
    """Removes empty groups whose child is gone: a grader killed outright (SIGKILL, a lost
    machine) could not remove them itself. A group still holding a process is left alone."""
    for _, parent in _GROUPS or ():
        try:
            folders = [folder for folder in parent.iterdir() if folder.name.startswith(_PREFIX)]
        except OSError:
            continue
        for folder in folders:
            pid = folder.name[len(_PREFIX):]
            if pid.isdigit() and not Path("/proc", pid).exists():
                try:
                    folder.rmdir()
                except OSError:
                    pass


def _settings(kind: str, memory_bytes: int | None, max_processes: int) -> list[tuple[str, str]]:
    memory = None if memory_bytes is None else str(memory_bytes + MEMORY_SLACK_BYTES)
    if kind == "v1-memory":
        return [("memory.limit_in_bytes", memory)] if memory else []
    if kind == "v1-pids":
        return [("pids.max", str(max_processes))]
    return ([("memory.max", memory), ("memory.swap.max", "0")] if memory else []) + [("pids.max", str(max_processes))]


def enter(memory_bytes: int | None, max_processes: int) -> str | None:
    """In the child, as root: its own group in each hierarchy, limited, with the child in it.
    Returns None, or why its processes are bounded one by one only."""
    if not _GROUPS:
        return None if os.geteuid() != 0 else f"{NOTE_PREFIX}no cgroup hierarchy found"
    name = f"{_PREFIX}{os.getpid()}"
    for kind, parent in _GROUPS:
        folder = parent / name
        try:
            folder.mkdir()
            for setting, value in _settings(kind, memory_bytes, max_processes):
                try:
                    (folder / setting).write_text(value)
                except FileNotFoundError:
                    if setting != "memory.swap.max":  # absent where swap accounting is off
                        raise
            (folder / "cgroup.procs").write_text("0")  # "0": the writing process
        except OSError as error:
            return f"{NOTE_PREFIX}could not create one ({kind}: {error.strerror or error})"
    return None


def ran_out_of_memory(pid: int) -> bool:
    """Whether the OOM killer ended a process of child ``pid``'s group (read before :func:`remove`)."""
    for kind, parent in _GROUPS or ():
        folder = parent / f"{_PREFIX}{pid}"
        events = {"v1-memory": "memory.oom_control", "v2": "memory.events"}.get(kind)
        if events is None:
            continue
        try:
            for line in (folder / events).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            continue
    return False


def remove(pid: int) -> None:
    """In the parent, after reaping child ``pid``: kills whatever is left in its groups and removes
    them (a group can only be removed empty; dying processes leave it within milliseconds)."""
    for _, parent in _GROUPS or ():
        folder = parent / f"{_PREFIX}{pid}"
        if not folder.is_dir():
            continue
        deadline = time.monotonic() + 1.0
        while True:
            try:
                folder.rmdir()
                break
            except OSError:
                if time.monotonic() > deadline:
                    break  # left for the machine's owner; it holds no process that still runs
            try:
                for line in (folder / "cgroup.procs").read_text().split():
                    try:
                        os.kill(int(line), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
            except OSError:
                pass
            time.sleep(0.0005)  # the PID namespace's init is usually still dying: a few polls
