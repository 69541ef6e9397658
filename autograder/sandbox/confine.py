"""Confinement of a student's child process beyond hidden folders and import bans.

Called in a student's forked child (never in the parent, never in the trusted reference child),
after its folders are hidden and before any student code runs. In order:

1. :func:`private_view` (root only, in the child's private mount namespace): the submission is
   copied into a fresh tmpfs mounted at its own path, owned by the child's user (the student's code
   reads and writes its copy; the original folder is untouched). The tmpfs covers the submission's
   parent folder (other students' folders next to it vanish) or, higher up, an ancestor that other
   users may not enter (``/tmp/pytest-of-root``; ``/root`` holding the Python installation); in it
   only what the child needs (the submission, Python, the packages) is bound back.
   A private tmpfs at ``/dev/shm`` becomes its ``HOME`` and ``TMPDIR``. Everything vanishes with
   the child's processes.
2. :func:`contain_descendants`: a new PID namespace for whatever the child starts, whose init is a
   tiny process that dies with the child (``PR_SET_PDEATHSIG``); when a namespace's init dies the
   kernel kills every process in it, so a double-forked ``setsid`` daemon cannot outlive a check.
3. :func:`clean_environment`: ``os.environ`` reduced to a fixed allow-list (no token of the grader's
   reaches the student's code), and the process's original environment block zeroed.
4. :func:`drop_privileges` (root only): a user and group of its own (``STUDENT_ID_BASE`` + pid,
   unique among living processes, so two students' children cannot signal each other), no
   supplementary groups, ``PR_SET_NO_NEW_PRIVS``. From here the kernel refuses ``umount``,
   ``/proc/<parent>/root|fd|mem`` and writes to the package, site-packages and other folders.
5. :func:`install_seccomp` (if ``pyseccomp`` and libseccomp are installed): mount, umount2,
   unshare, setns, ptrace, process_vm_readv/writev, pivot_root, the new mount API and ``clone``
   with namespace flags fail with EPERM, whoever the process is.
6. :func:`forbid_breakpoint`: ``breakpoint()`` raises a clear error instead of waiting for a
   debugger that reads an empty stdin.

Each step returns None, or a short reason why it could not protect here; the reasons reach the
report as a note (see docs/isolation.md).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import resource
import signal
import stat
import sys
from pathlib import Path

from .hiding import _error, _libc, enter_private_mounts

#: A child's user and group id is this plus its pid: unused by any account, unique among
#: living processes.
STUDENT_ID_BASE = 1_000_000_000
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38
_CLONE_NEWPID = 0x20000000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC = 2, 4, 1 << 12, 1 << 14
_SCRATCH = "/dev/shm"
#: The largest submission copied into the child's view (a course submission is a few files).
MAX_SUBMISSION_BYTES = 64 * 1024**2
BREAKPOINT_MESSAGE = "remove breakpoint(): the grader runs without a debugger"
#: Folders every user may write: each gets a private tmpfs in a student's child.
SHARED_WRITABLE_FOLDERS = (Path("/tmp"), Path("/var/tmp"), Path("/run/lock"))
#: Processes and threads a student's user may have at once (``RLIMIT_NPROC``; the user is the
#: child's own, so this bounds exactly the check's process tree). A fork bomb stops here.
MAX_STUDENT_PROCESSES = 32
#: Variables the student's code keeps (copied from the grader when set); everything else goes.
KEPT_VARIABLES = ("LANG", "LANGUAGE", "PYTHONHASHSEED", "TZ")


def is_root() -> bool:
    return os.geteuid() == 0


def student_id() -> int:
    return STUDENT_ID_BASE + os.getpid()


# ---------------------------------------------------------------------------------------------
# 1. the child's view of the file system


def trusted_folders(submission: Path | None) -> tuple[Path, ...]:
    """Grader files no student may read: the hidden checks (their inputs and seeds), the
    instructor-only wrong-answer simulators and, in a repository checkout, its history and tests
    (which quote the solutions). Folders holding the submission are left out."""
    package = Path(__file__).resolve().parents[1]
    candidates = [package / "units" / "hidden", package / "units" / "instructor"]
    repository = package.parent
    if (repository / "pyproject.toml").is_file() and (repository / "solutions").is_dir():
        candidates += [repository / ".git", repository / "tests"]
    found = []
    for folder in candidates:
        if not folder.is_dir():
            continue
        if submission is not None and (submission.is_relative_to(folder) or folder.is_relative_to(submission)):
            continue
        found.append(folder)
    return tuple(found)


def _closed_ancestor(path: Path) -> Path | None:
    """The topmost ancestor of ``path`` (not ``/``) that other users may not enter, if any."""
    for ancestor in reversed(path.parents):
        if ancestor != Path("/") and not os.stat(ancestor).st_mode & stat.S_IXOTH:
            return ancestor
    return None


def _submission_cover(submission: Path, needed: list[Path]) -> Path | None:
    """Where the tmpfs holding the submission's copy goes: over the topmost ancestor other users
    may not enter, else over its parent folder (other students' folders next to it vanish), unless
    that parent is ``/`` or lies inside a folder the child needs (then over the submission only)."""
    closed = _closed_ancestor(submission)
    if closed is not None:
        return closed
    parent = submission.parent
    if parent == Path("/") or any(parent.is_relative_to(path) for path in needed):
        return None
    return parent


def _cover_shared_folders(covers: dict[Path, list[Path]], needed: list[Path]) -> set[Path]:
    """Adds a cover over each folder every user may write (``/tmp``, ``/var/tmp``, ``/run/lock``) to
    ``covers`` (cover -> what is bound back or placed inside it); returns those covers.

    Otherwise the child could leave files there for a later child, read what another process left,
    or fill the machine's disk. Each becomes a private tmpfs (sticky, writable by all, 128 MiB) that
    vanishes with the child. A cover already planned inside one of them (the submission's parent,
    ``/tmp/pytest-of-root``) is folded into it, since the new tmpfs hides everything below anyway.
    """
    shared: set[Path] = set()
    for folder in SHARED_WRITABLE_FOLDERS:
        if not folder.is_dir() or folder.is_symlink() or any(folder.is_relative_to(cover) for cover in covers):
            continue
        inside = [path for path in needed if path.is_relative_to(folder)]
        for cover in [cover for cover in covers if cover.is_relative_to(folder)]:
            inside += [path for path in covers.pop(cover) if path not in inside]
        covers[folder] = inside
        shared.add(folder)
    return shared


def needed_folders() -> list[Path]:
    """What any student child must still reach: Python, its packages, the grader."""
    return _needed_folders()


def _needed_folders(submission: Path | None = None) -> list[Path]:
    """What a child must still reach as another user: Python, its packages, the grader.

    A ``sys.path`` entry that holds the submission (the working folder of ``python -m``, a
    PYTHONPATH set to the course folder) is left out: bound back whole, it would bring the real
    submission (and its neighbours, with their owner's permissions) over the child's private copy.
    The grader's own package is always kept."""
    paths = {Path(sys.prefix), Path(sys.exec_prefix), Path(sys.base_prefix)}
    for entry in sys.path:
        if entry and os.path.isabs(entry) and os.path.isdir(entry):
            paths.add(Path(entry).resolve())
    if submission is not None:
        paths = {path for path in paths if not submission.is_relative_to(path)}
    paths.add(Path(__file__).resolve().parents[1])
    ordered = sorted(paths, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in ordered:  # a folder inside one already kept comes with it
        if not any(path.is_relative_to(other) for other in kept):
            kept.append(path)
    return kept


def _read_tree(folder: Path) -> list[tuple[str, bytes | None, os.stat_result]] | None:
    """Every directory and regular file under ``folder`` (None for a directory), or None if too big."""
    entries, total = [], 0
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in dirs:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                entries.append((os.path.relpath(full, folder), None, os.stat(full)))
        for name in sorted(files):
            full = os.path.join(root, name)
            info = os.lstat(full)
            if not stat.S_ISREG(info.st_mode):
                continue  # symlinks, sockets: a submission is plain files
            total += info.st_size
            if total > MAX_SUBMISSION_BYTES:
                return None
            with open(full, "rb") as handle:
                entries.append((os.path.relpath(full, folder), handle.read(), info))
    return entries


def _mount_tmpfs(target: str, options: str) -> str | None:
    if _libc().mount(b"tmpfs", os.fsencode(target), b"tmpfs", _MS_NOSUID | _MS_NODEV, options.encode()) != 0:
        return _error(f"mount tmpfs over {target}")
    return None


def _write_tree(folder: Path, entries, uid: int) -> None:
    os.chown(folder, uid, uid)
    for relative, data, info in entries:
        path = folder / relative
        if data is None:
            path.mkdir(mode=0o755, exist_ok=True)
        else:
            path.write_bytes(data)
            os.chmod(path, 0o644)
            # Python trusts a cached .pyc only for a source of the same size and mtime.
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
        os.chown(path, uid, uid)


def private_view(submission: Path | None, uid: int) -> tuple[str | None, str | None]:
    """Builds the child's view for user ``uid`` (see the module docstring). Returns (why it could
    not, or None; the private scratch folder, or None)."""
    problem = enter_private_mounts()
    if problem:
        return problem, None
    libc = _libc()
    try:
        entries = None
        if submission is not None:
            entries = _read_tree(submission)
            if entries is None:
                return f"the submission is larger than {MAX_SUBMISSION_BYTES // 1024**2} MiB", None
        needed = _needed_folders(submission)
        covers: dict[Path, list[Path]] = {}
        for path in needed:
            closed = _closed_ancestor(path)
            if closed is not None:
                covers.setdefault(closed, []).append(path)
        if submission is not None:
            cover = _submission_cover(submission, needed)
            if cover is not None:
                inside = covers.setdefault(cover, [])
                inside += [path for path in needed if path.is_relative_to(cover) and path not in inside]
                inside.append(submission)
        shared = _cover_shared_folders(covers, needed)
        for closed in sorted(covers, key=lambda path: len(path.parts)):
            inside = covers[closed]
            # Bound back through descriptors opened before the cover hides their paths.
            handles = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in inside if path != submission}
            problem = _mount_tmpfs(str(closed), f"mode={'1777' if closed in shared else '755'},size=128m")
            if problem:
                return problem, None
            for path, handle in handles.items():
                path.mkdir(parents=True, exist_ok=True)
                source = f"/proc/self/fd/{handle}".encode()
                if libc.mount(source, os.fsencode(str(path)), None, _MS_BIND | _MS_REC, None) != 0:
                    return _error(f"bind {path}"), None
                os.close(handle)
            for path in inside:
                # The tmpfs's folders on the way down must be enterable by the child's user.
                for parent in reversed(path.parents):
                    if parent.is_relative_to(closed) and parent != closed:
                        parent.mkdir(mode=0o755, exist_ok=True)
        if submission is not None:
            if not any(submission in inside for inside in covers.values()):
                problem = _mount_tmpfs(str(submission), "mode=755,size=128m")
                if problem:
                    return problem, None
            submission.mkdir(parents=True, exist_ok=True)
            _write_tree(submission, entries, uid)
        try:
            os.chdir(os.getcwd())  # a working folder inside the submission is now its copy
        except OSError:
            pass
        scratch = None
        if os.path.isdir(_SCRATCH) and not (submission is not None and submission.is_relative_to(_SCRATCH)):
            if _mount_tmpfs(_SCRATCH, f"mode=700,size=64m,uid={uid},gid={uid}") is None:
                scratch = _SCRATCH
    except OSError as error:
        return f"could not build the child's view of the files: {error}", None
    return None, scratch


# ---------------------------------------------------------------------------------------------
# 2. nothing the child starts outlives it


def contain_descendants() -> str | None:
    """Puts everything the child will start into a new PID namespace held by an init that dies
    with the child (the parent also kills the child's process group, init included)."""
    libc = _libc()
    if libc.unshare(_CLONE_NEWPID) != 0:
        return _error("unshare(CLONE_NEWPID)")
    pid = os.fork()
    if pid == 0:  # PID 1 of the namespace: never returns
        try:
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            os.closerange(0, 1 << 16)  # holds no pipe of the child's: its ends close with it
            # Orphans are re-parented to this init: ignoring SIGCHLD reaps them at once.
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)
            for number in (signal.SIGINT, signal.SIGTERM):
                signal.signal(number, signal.SIG_DFL)
            while True:
                signal.pause()
        finally:
            os._exit(0)
    return None


# ---------------------------------------------------------------------------------------------
# 3. the environment


def clean_environment(scratch: str | None) -> None:
    """``os.environ`` becomes a fixed allow-list; the original environment block is zeroed."""
    kept = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    kept.update({name: value for name, value in os.environ.items() if name.startswith("LC_")})
    _zero_initial_environment()
    os.environ.clear()
    home = scratch or "/tmp"
    os.environ.update(kept)
    os.environ.update({
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "MPLCONFIGDIR": home,
        # one thread in anything the student starts too (the child itself is limited already)
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    })
    import tempfile

    tempfile.tempdir = None  # computed again from TMPDIR on first use


def _zero_initial_environment() -> None:
    """The strings the process started with stay in its memory after ``os.environ.clear()``:
    overwrite them (fields 50 and 51 of /proc/self/stat give where they are)."""
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50, 51)
        if 0 < start < end and end - start < 1 << 22:
            ctypes.memset(start, 0, end - start)
    except (OSError, ValueError, IndexError):
        pass


# ---------------------------------------------------------------------------------------------
# 4. another user


def drop_privileges(uid: int) -> str | None:
    """Becomes user and group ``uid`` with no supplementary groups and no way back."""
    try:
        # Counted per user at fork; the child's user is its own, so this bounds its whole tree.
        resource.setrlimit(resource.RLIMIT_NPROC, (MAX_STUDENT_PROCESSES, MAX_STUDENT_PROCESSES))
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    except OSError as error:
        return f"could not switch to an unprivileged user: {error}"
    return no_new_privileges()


def no_new_privileges() -> str | None:
    if _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return _error("prctl(PR_SET_NO_NEW_PRIVS)")
    return None


_PR_SET_DUMPABLE = 4


def refuse_inspection() -> None:
    """Makes the calling (trusted) process non-dumpable: no process of the same user can then
    ptrace it or open its ``/proc/<pid>/mem``, ``fd``, ``root`` or ``environ``. Where the grader is
    not root, student code runs as the grader's user, and this is what keeps it out of the grader's
    memory and open pipes. Children inherit it; a child that runs student code may undo it for
    itself only."""
    try:
        _libc().prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        pass


# ---------------------------------------------------------------------------------------------
# 5. seccomp

DENIED_SYSCALLS = (
    "mount", "umount2", "unshare", "setns", "ptrace", "process_vm_readv", "process_vm_writev",
    "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
    "mount_setattr", "kexec_load", "init_module", "finit_module", "bpf", "userfaultfd",
)
#: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x80)


@functools.lru_cache(maxsize=1)
def _seccomp():
    """pyseccomp, loaded without ``ctypes.util.find_library`` (which runs ``ldconfig``: 18 ms);
    None when it or libseccomp is not installed."""
    import ctypes.util

    original = ctypes.util.find_library
    known = {"c": "libc.so.6", "seccomp": "libseccomp.so.2"}

    def find(name):
        try:
            ctypes.CDLL(known[name])
            return known[name]
        except (KeyError, OSError):
            return original(name)

    ctypes.util.find_library = find
    try:
        import pyseccomp

        return pyseccomp
    except Exception:  # not installed, or libseccomp missing
        return None
    finally:
        ctypes.util.find_library = original


def install_seccomp() -> str | None:
    """Denies the calls that escape a sandbox (EPERM), for this process and all it starts."""
    seccomp = _seccomp()
    if seccomp is None:
        return "seccomp unavailable (pip install pyseccomp; needs libseccomp)"
    try:
        denied = seccomp.ERRNO(errno.EPERM)
        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        for name in DENIED_SYSCALLS:
            try:
                rules.add_rule(denied, name)
            except Exception:  # a call this kernel or libseccomp does not know
                pass
        for flag in NAMESPACE_FLAGS:
            rules.add_rule(denied, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        # clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to clone.
        rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        rules.load()
    except Exception as error:
        return f"seccomp filter refused: {error}"
    return None


# ---------------------------------------------------------------------------------------------
# 6. breakpoint()


def forbid_breakpoint() -> None:
    def hook(*args, **kwargs):
        raise RuntimeError(BREAKPOINT_MESSAGE)

    sys.breakpointhook = hook
    sys.__breakpointhook__ = hook


_seccomp()  # in the parent, once (about 1 ms): children inherit the loaded library
