"""Hiding folders (the reference solutions) from a student's child process.

In the child, before any student code runs: enter a new mount namespace (as root directly, else
through a new user namespace where the kernel allows unprivileged ones), make mounts private so
nothing leaks back to the host, and mount an empty read-only tmpfs over each hidden folder. The
child then sees an empty folder where the solutions are; the rest of the machine is unchanged.
About 1 ms per child here. Where the operating system refuses, the reason is returned so that the
report can say the protection was not available (grading itself goes on).
"""

from __future__ import annotations

import ctypes
import functools
import os
from pathlib import Path

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REC, _MS_PRIVATE = 1 << 14, 1 << 18


@functools.lru_cache(maxsize=1)
def _libc():
    # Loaded once in the parent; forked children inherit the handle instead of loading it again.
    return ctypes.CDLL(None, use_errno=True)


def _error(call: str) -> str:
    return f"{call}: {os.strerror(ctypes.get_errno())}"


def _enter_mount_namespace(libc) -> str | None:
    if libc.unshare(_CLONE_NEWNS) == 0:
        return None
    first = _error("unshare(CLONE_NEWNS)")
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS) != 0:
        return f"{first}; {_error('unshare(CLONE_NEWUSER)')}"
    try:
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    except OSError as error:
        return f"user namespace mapping: {error}"
    return None


#: In a child: None once it has a private mount namespace, else why it could not get one.
_PRIVATE_MOUNTS: list[str | None] = []


def enter_private_mounts() -> str | None:
    """Gives this process (a child) its own mount namespace with private mounts, once.

    Returns None, or why the operating system refused. Mounts made afterwards are seen by this
    process and its descendants only, and vanish with them.
    """
    if not _PRIVATE_MOUNTS:
        try:
            libc = _libc()
            problem = _enter_mount_namespace(libc)
            if problem is None and libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
                problem = _error("mount --make-rprivate /")
        except (OSError, AttributeError) as error:
            problem = f"mount namespaces unavailable: {error}"
        _PRIVATE_MOUNTS.append(problem)
    return _PRIVATE_MOUNTS[0]


def hide_folders(folders: tuple[Path, ...]) -> str | None:
    """Mounts an empty read-only tmpfs over each folder; returns None, or why it could not."""
    if not folders:
        return None
    try:
        libc = _libc()
        problem = enter_private_mounts()
        if problem:
            return problem
        for folder in folders:
            target = os.fsencode(str(folder))
            flags = _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
            if libc.mount(b"tmpfs", target, b"tmpfs", flags, b"size=4k,mode=555") != 0:
                return _error(f"mount tmpfs over {folder}")
    except (OSError, AttributeError) as error:
        return f"mount namespaces unavailable: {error}"
    return None
