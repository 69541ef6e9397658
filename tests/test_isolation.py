"""Broken and hostile submissions: each gets a clear message, and every other part its fair score."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from autograder import api, grading
from autograder.grading import GradingOptions
from autograder.results import ResultStatus
from autograder.sandbox import Limits

from .conftest import SOLUTIONS, results_by_id
from .corpus.hostile import CONTAINMENT, FULL, HOSTILE
from .corpus.hostile import INDEPENDENT_OF_PREDICT as PREDICT_FAILS_SCORE

QUICK = GradingOptions(limits=Limits(timeout_s=1.0), timeout_override_s=1.0)
PREDICT_BODY = "    ### BEGIN SOLUTION\n    return X @ W + b\n    ### END SOLUTION\n"
#: Parts that never call predict in the reference or the student's code.
INDEPENDENT_OF_PREDICT = ["linear.loss.values", "linear.step.values", "linear.collapse.values"]


def submission_with(tmp_path, *, predict_body: str | None = None, source: str | bytes | None = None):
    folder = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / "linear_model.py"
    if isinstance(source, bytes):
        path.write_bytes(source)
    elif source is not None:
        path.write_text(source)
    if predict_body is not None:
        text = path.read_text()
        assert text.count(PREDICT_BODY) == 1
        path.write_text(text.replace(PREDICT_BODY, predict_body))
    return folder


def grade(folder):
    return results_by_id(api.grade(folder, parts=["linear"], options=QUICK))


def assert_others_pass(results):
    for check_id in INDEPENDENT_OF_PREDICT:
        assert results[check_id].passed, (check_id, results[check_id].message)


def refused_here(hostile, report) -> bool:
    """Whether this machine and user can refuse ``hostile`` (see Hostile.refused_by). As root every
    attack is refused, with no note; elsewhere a layer the OS cannot give is named in the notes."""
    import autograder
    import numpy

    if os.geteuid() == 0:  # (a machine without writable cgroups notes that, and only that)
        assert all(note.startswith("the memory and processes") for note in report.notes), report.notes
        return True
    if hostile.refused_by == "always":
        return True
    # A layer that depends on the OS: the report says what this grader could not promise.
    assert any("could not be hidden" in note and "does not run as root" in note for note in report.notes)
    if hostile.refused_by == "hiding":  # what hiding.py says when the OS refuses a mount namespace
        refusals = ("unshare(CLONE_NEWUSER)", "user namespace mapping", "mount namespaces unavailable",
                    "mount tmpfs over", "mount --make-rprivate")
        return not any(refusal in note for note in report.notes for refusal in refusals)
    if hostile.refused_by == "package files":
        return not os.access(Path(autograder.__file__).parent, os.W_OK)
    if hostile.refused_by == "site-packages":
        return not os.access(Path(numpy.__file__).parents[1], os.W_OK)
    raise ValueError(f"unknown layer {hostile.refused_by!r}")


def _trusted_files_fingerprint() -> dict[str, str]:
    """Digest of everything student code must never change: solutions/, the grader package and
    site-packages' top level (names, and every .pth file's content)."""
    import hashlib

    import autograder
    import numpy

    digests = {}
    for name, root in (("solutions", SOLUTIONS), ("package", Path(autograder.__file__).parent)):
        digest = hashlib.sha256()
        for path in sorted(root.rglob("*")):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
        digests[name] = digest.hexdigest()
    site = Path(numpy.__file__).parents[1]
    listing = hashlib.sha256()
    for path in sorted(site.iterdir()):
        listing.update(path.name.encode() + b"\0")
        if path.suffix == ".pth" and path.is_file():
            listing.update(path.read_bytes())
    digests["site-packages"] = listing.hexdigest()
    return digests


@pytest.fixture(scope="module")
def trusted_files_before():
    """Taken when the first corpus test of this module starts."""
    return _trusted_files_fingerprint()


@pytest.mark.parametrize("hostile", HOSTILE + CONTAINMENT, ids=[h.name for h in HOSTILE + CONTAINMENT])
def test_hostile_submission_gets_its_exact_score_and_message(tmp_path, hostile, trusted_files_before):
    source = None
    if hostile.source is not None:
        source = hostile.source
    elif hostile.prefix is not None:
        anchor = "import numpy as np\n"
        source = (SOLUTIONS / "linear_model.py").read_text().replace(anchor, anchor + hostile.prefix, 1)
    folder = submission_with(tmp_path, predict_body=hostile.predict_body, source=source)
    report = api.grade(folder, parts=["linear"], options=QUICK)
    expected = hostile.score if refused_here(hostile, report) else PREDICT_FAILS_SCORE
    assert report.score == expected, [(r.id, r.message) for r in report.results if not r.passed]
    results = results_by_id(report)
    for check_id, fragment in hostile.messages.items():
        assert fragment in results[check_id].message, results[check_id].message
    if hostile.score == FULL or hostile.predict_body is not None:
        assert_others_pass(results)


def test_after_the_corpus_nothing_outside_the_children_changed(trusted_files_before):
    """solutions/, the package and site-packages are as before, and (as root, where every child has
    a user of its own) no process of a student's user is left."""
    from autograder.sandbox.confine import STUDENT_ID_BASE

    assert _trusted_files_fingerprint() == trusted_files_before
    if os.geteuid() == 0:
        # Other graders on this machine have living student children of their own; a leftover of
        # ours is still below this process, or an orphan handed to PID 1.
        parents = {pid: ppid for pid, ppid, uid in _processes()}
        left = [pid for pid, ppid, uid in _processes() if uid >= STUDENT_ID_BASE
                and (ppid == 1 or _descends_from(pid, os.getpid(), parents))]
        assert left == [], left


def _processes() -> list[tuple[int, int, int]]:
    """(pid, parent pid, uid) of every process that still exists."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                found.append((int(entry.name), ppid, entry.stat().st_uid))
            except (OSError, ValueError, IndexError):  # ended meanwhile
                continue
    return found


def _descends_from(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    while pid in parents and pid > 1:
        pid = parents[pid]
        if pid == ancestor:
            return True
    return False


def test_hostile_corpus_is_large_enough():
    assert len(HOSTILE) >= 15 and len(CONTAINMENT) >= 10


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the user switch and the child's view need root")


@needs_root
def test_containment_attacks_left_nothing_behind():
    """The refused writes of CONTAINMENT really were refused (the file does not exist)."""
    import numpy

    assert not (Path(numpy.__file__).parent.parent / "zz_hostile_was_here.pth").exists()


@needs_root
def test_student_code_runs_as_its_own_user_and_writes_only_its_copy(tmp_path):
    """As root, the child is another user with no groups; the submission it sees is a private copy
    it may write (the original folder is untouched)."""
    spy = (
        "    import os, tempfile\n"
        "    ids = (os.getuid(), os.geteuid(), os.getgid(), os.getgroups())\n"
        "    if 0 in ids[:3] or ids[3]:\n"
        "        raise RuntimeError(f'runs as {ids}')\n"
        "    with open(os.path.join(os.path.dirname(__file__), 'scribble.txt'), 'w') as mine:\n"
        "        mine.write('mine')\n"
        "    with open(os.path.join(tempfile.gettempdir(), 'scratch.txt'), 'w') as scratch:\n"
        "        scratch.write('mine')\n"
        "    return X @ W + b\n"
    )
    folder = submission_with(tmp_path, predict_body=spy)
    report = api.grade(folder, parts=["linear.predict"], options=QUICK)
    assert not any("could not be hidden" in note for note in report.notes), report.notes
    assert results_by_id(report)["linear.predict.values"].passed, results_by_id(report)["linear.predict.values"].message
    assert not (folder / "scribble.txt").exists()


@needs_root
def test_shared_temporary_folders_are_private_to_the_child(tmp_path):
    """/tmp and /var/tmp are a private tmpfs each: the child sees nothing another process left
    there, and nothing it leaves there outlives it."""
    planted = Path(tempfile.mkstemp(prefix="autograder-planted-", dir="/tmp")[1])
    planted.chmod(0o644)
    left = [Path(folder) / f"autograder-left-{os.getpid()}" for folder in ("/tmp", "/var/tmp")]
    spy = (
        "    import os\n"
        f"    if os.path.exists({str(planted)!r}):\n"
        "        raise RuntimeError('sees what another process left in /tmp')\n"
        f"    for path in {[str(path) for path in left]!r}:\n"
        "        with open(path, 'w') as handle:\n"
        "            handle.write('left behind')\n"
        "    return X @ W + b\n"
    )
    try:
        report = api.grade(submission_with(tmp_path, predict_body=spy), parts=["linear.predict"], options=QUICK)
        result = results_by_id(report)["linear.predict.values"]
        assert result.passed, result.message  # the writes worked, in the child's own /tmp
        assert not any(path.exists() for path in left)
    finally:
        planted.unlink()
        for path in left:
            path.unlink(missing_ok=True)


@needs_root
def test_a_fork_bomb_stops_at_the_process_limit(tmp_path):
    """The child's user is its own, so RLIMIT_NPROC bounds the check's whole process tree."""
    from autograder.sandbox.confine import MAX_STUDENT_PROCESSES

    bomb = (
        "    import os, signal\n"
        "    if not os.environ.get('BOMBED'):\n"
        "        os.environ['BOMBED'] = '1'\n"
        "        children = []\n"
        "        try:\n"
        "            for _ in range(500):\n"
        "                pid = os.fork()\n"
        "                if pid == 0:\n"
        "                    signal.pause()\n"
        "                    os._exit(0)\n"
        "                children.append(pid)\n"
        "        except OSError:\n"
        "            pass\n"
        "        for pid in children:\n"
        "            os.kill(pid, signal.SIGKILL)\n"
        "            os.waitpid(pid, 0)\n"
        f"        if len(children) >= {MAX_STUDENT_PROCESSES}:\n"
        "            raise RuntimeError(f'started {len(children)} processes')\n"
        "    return X @ W + b\n"
    )
    report = api.grade(submission_with(tmp_path, predict_body=bomb), parts=["linear.predict"], options=QUICK)
    result = results_by_id(report)["linear.predict.values"]
    assert result.passed, result.message


@needs_root
def _cgroups_writable() -> bool:
    from autograder.sandbox.cgroups import _own_groups

    groups = _own_groups()
    for _, folder in groups:
        probe = folder / f"autograder-probe-{os.getpid()}"
        try:
            probe.mkdir()
            probe.rmdir()
        except OSError:
            return False
    return bool(groups)


@pytest.mark.skipif(os.geteuid() != 0 or not _cgroups_writable(), reason="no writable cgroup hierarchy here")
def test_the_memory_of_the_childs_whole_tree_is_bounded(tmp_path):
    """Six processes of 200 MiB each stay under the per-process limit (256 MiB) but not under the
    tree's (256 MiB + the cgroup's slack): the kernel kills one of them, never the grader."""
    from autograder.sandbox.cgroups import MEMORY_SLACK_BYTES, _own_groups

    hog = (
        "    import os\n"
        "    pids = []\n"
        "    for _ in range(6):\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        "            block = np.ones(200 * 2**20 // 8)\n"
        "            import time; time.sleep(0.5)\n"
        "            os._exit(0)\n"
        "        pids.append(pid)\n"
        "    killed = sum(os.WIFSIGNALED(os.waitpid(pid, 0)[1]) for pid in pids)\n"
        "    if not killed:\n"
        "        raise RuntimeError('1.2 GiB in all, and nothing was killed')\n"
        "    return X @ W + b\n"
    )
    assert 256 * 2**20 + MEMORY_SLACK_BYTES < 6 * 200 * 2**20
    def dead_childrens_groups():
        return {group for _, folder in _own_groups() for group in folder.glob("autograder-*")
                if not Path("/proc", group.name.rsplit("-", 1)[1]).exists()}

    before = dead_childrens_groups()  # a grader killed outright elsewhere on this machine may leave some
    options = GradingOptions(limits=Limits(timeout_s=10.0, memory_bytes=256 * 2**20), timeout_override_s=10.0)
    report = api.grade(submission_with(tmp_path, predict_body=hog), parts=["linear.predict.values"], options=options)
    result = results_by_id(report)["linear.predict.values"]
    assert result.passed, result.message
    # Every group is removed once its child is reaped (other graders on this machine may hold
    # groups of their own living children meanwhile: only a dead child's group is a leftover).
    deadline = time.monotonic() + 3
    while leftovers := dead_childrens_groups() - before:
        assert time.monotonic() < deadline, leftovers
        time.sleep(0.05)


@needs_root
@pytest.mark.parametrize("front_end", ["grade", "grade-batch"])
def test_an_nbgrader_course_around_a_notebook_submission_is_out_of_sight(front_end, tmp_path):
    """Notebooks are graded as modules written out elsewhere (and a batch grades staged copies), so
    the child's own view does not cover the course they came from: its source/ (the solutions in
    place) must be covered too, or reading it at grading time gives full marks for nothing. The
    course lies outside /tmp here, which the child never sees anyway."""
    from autograder.batch import grade_batch
    from autograder.notebooks.build import course_notebooks
    from autograder.notebooks.cells import module_cells

    from .test_batch import Silent

    course = Path(tempfile.mkdtemp(prefix="autograder-course-", dir="/run"))
    course.chmod(0o755)  # readable by everyone, as course folders usually are
    try:
        (course / "nbgrader_config.py").write_text("c = get_config()\n")
        (course / "gradebook.db").write_bytes(b"SQLite format 3\0")
        notebooks = course_notebooks(SOLUTIONS, student=False, units=["linear"])
        (name, text), = notebooks.items()
        (course / "source" / "week").mkdir(parents=True)
        (course / "source" / "week" / name).write_text(text)
        notebook = json.loads(text)
        for _, cell, tag in module_cells(notebook, "linear_model"):
            if tag["chunk"] == "predict":  # runs the source notebook's own predict
                cell["source"] = (
                    "def predict(X, W, b):\n    import json\n"
                    f"    cells = json.load(open({str(course / 'source' / 'week' / name)!r}))['cells']\n"
                    "    code = [''.join(c['source']) for c in cells if 'def predict(' in ''.join(c['source'])]\n"
                    "    space = {}\n    exec(code[0], space)\n    return space['predict'](X, W, b)\n")
            if tag["chunk"] == "loss_gradients":  # the gradebook: every student's scores
                cell["source"] = "".join(cell["source"]) + (
                    "\n\nimport os as _os\n"
                    f"if _os.path.exists({str(course / 'gradebook.db')!r}):\n"
                    "    raise RuntimeError('sees the gradebook')\n")
        folder = course / "submitted" / "alice" / "week"
        folder.mkdir(parents=True)
        (folder / name).write_text(json.dumps(notebook))
        if front_end == "grade":
            results = results_by_id(api.grade(folder, parts=["linear.predict"], options=QUICK))
            result = results["linear.predict.values"]
            assert not result.passed and "No such file or directory" in result.message, result.message
            assert all("sees the gradebook" not in result.message for result in results.values())
        else:
            out = tmp_path / "out"
            grade_batch(course, out, reference=api.default_reference(), jobs=1, options=QUICK,
                        parts=["linear.predict"], progress=Silent())
            tests = {test["name"]: test for test in json.loads((out / "alice.json").read_text())["tests"]}
            assert tests["linear.predict.values"]["score"] == 0
            assert "No such file or directory" in tests["linear.predict.values"]["output"]
            assert all("sees the gradebook" not in test["output"] for test in tests.values())
    finally:
        shutil.rmtree(course, ignore_errors=True)


@needs_root
def test_without_a_writable_cgroup_the_report_says_so_and_grading_goes_on(tmp_path, monkeypatch):
    """Docker mounts /sys/fs/cgroup read-only: the tree's memory is then bounded one process at a
    time, which the report says in a note of its own (not as a folder it could not hide)."""
    from autograder.sandbox import cgroups

    monkeypatch.setattr(grading, "_holds_reference_values", False)  # fork from this process
    monkeypatch.setattr(cgroups, "_GROUPS", [("v1-pids", Path("/proc/self"))])  # mkdir there fails
    report = api.grade(submission_with(tmp_path), parts=["linear.predict"], options=QUICK)
    assert results_by_id(report)["linear.predict.values"].passed
    assert len(report.notes) == 1, report.notes
    assert report.notes[0].startswith("the memory and processes of the submission's code are limited one "
                                      "process at a time here, not as a whole (no cgroup: could not create one")


def test_the_process_that_forks_students_cannot_be_inspected(tmp_path):
    """Non-dumpable: a process of the same user (student code where the grader is not root) can
    neither ptrace it nor open its /proc/<pid>/fd, mem, root or environ."""
    import ctypes

    api.grade(submission_with(tmp_path), parts=["linear.predict"], options=QUICK)
    pr_get_dumpable = 3
    assert ctypes.CDLL(None).prctl(pr_get_dumpable, 0, 0, 0, 0) == 0


def test_grader_secrets_in_the_environment_do_not_reach_student_code(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_API_TOKEN", "tok-7f3a91")
    # Fork from this process (which holds the token), not from the clean worker started earlier.
    monkeypatch.setattr(grading, "_holds_reference_values", False)
    spy = "    import os\n    raise RuntimeError('environment: ' + repr(sorted(os.environ.items())))\n"
    report = api.grade(submission_with(tmp_path, predict_body=spy), parts=["linear.predict"], options=QUICK)
    message = results_by_id(report)["linear.predict.values"].message
    assert "environment: [" in message and "'PATH'" in message
    assert "tok-7f3a91" not in json.dumps(report.to_gradescope())
    assert "GRADER_API_TOKEN" not in message


@needs_root
def test_a_double_forked_daemon_does_not_outlive_grading(tmp_path):
    """A predict starts a setsid daemon (out of the child's process group) that sleeps 3 s, then
    writes a file: once grading has returned, it must be dead, with everything it started."""
    # /tmp is private to the child: the marker lies in a folder it sees as everyone does.
    marker = Path(tempfile.mkdtemp(prefix="autograder-daemon-marker-", dir="/run"))
    marker.chmod(0o777)  # the child's user may write here (it is outside every hidden folder)
    try:
        daemon = (
            "    import os\n"
            f"    marker = {str(marker)!r}\n"
            "    if not os.path.exists(marker + '/started'):\n"
            "        open(marker + '/started', 'w').close()\n"
            "        if os.fork() == 0:\n"
            "            os.setsid()\n"
            "            if os.fork() == 0:\n"
            "                os.execv('/bin/sh', ['sh', '-c', 'sleep 3; touch ' + marker + '/daemon-was-here'])\n"
            "            os._exit(0)\n"
            "        os.wait()\n"
            "    return X @ W + b\n"
        )
        report = api.grade(submission_with(tmp_path, predict_body=daemon), parts=["linear.predict"], options=QUICK)
        assert results_by_id(report)["linear.predict.values"].passed
        assert (marker / "started").exists()  # the attack ran
        time.sleep(4)
        assert not (marker / "daemon-was-here").exists()
        survivors = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and str(marker).encode() in (entry / "cmdline").read_bytes():
                    survivors.append(entry.name)
            except OSError:
                pass
        assert survivors == []
    finally:
        shutil.rmtree(marker, ignore_errors=True)


def test_seccomp_refuses_new_namespaces(tmp_path):
    """Unprivileged users may usually create user namespaces (and in one, mount): seccomp refuses."""
    pytest.importorskip("pyseccomp")
    attack = (
        "    import ctypes\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    if libc.unshare(0x10000000 | 0x00020000) == 0:\n"
        "        raise RuntimeError('created a user and mount namespace')\n"
        "    if ctypes.get_errno() != 1:\n"
        "        raise RuntimeError(f'unshare failed with errno {ctypes.get_errno()}, not EPERM')\n"
        "    return X @ W + b\n"
    )
    result = grade(submission_with(tmp_path, predict_body=attack))["linear.predict.values"]
    assert result.passed, result.message


def test_exception_names_the_students_line(tmp_path):
    folder = submission_with(tmp_path, predict_body="    return X @ W.T + b\n")
    line = (folder / "linear_model.py").read_text().splitlines().index("    return X @ W.T + b") + 1
    message = grade(folder)["linear.predict.values"].message
    assert f"at linear_model.py line {line}" in message
    assert "return X @ W.T + b" in message and "ValueError" in message


def assert_import_failure_reported_once(results, full: str, blocked: str):
    """The first check of the unit carries the full import failure, every other check says only
    what blocks it; all score 0."""
    ordered = list(results.values())
    assert all(r.status is ResultStatus.ERROR and r.score == 0 for r in ordered)
    assert full in ordered[0].message, ordered[0].message
    assert ordered[0].blocked_by == blocked
    for result in ordered[1:]:
        assert result.message == f"blocked by {blocked}" and result.blocked_by == blocked, result.message


def test_syntax_error_names_file_and_line_once(tmp_path):
    source = (SOLUTIONS / "linear_model.py").read_text().replace("return X @ W + b\n", "return X @ W +\n", 1)
    folder = submission_with(tmp_path, source=source)
    line = source.splitlines().index("    return X @ W +") + 1
    assert_import_failure_reported_once(
        grade(folder), f"linear_model.py line {line}: syntax error", f"linear_model.py (syntax error, line {line})"
    )


@pytest.mark.parametrize(
    "prefix, fragment, what",
    [
        ("raise RuntimeError('boom')\n", "raised RuntimeError: boom while importing linear_model.py", "RuntimeError"),
        ("import sys\nsys.exit(1)\n", "called sys.exit(1) while importing", "sys.exit"),
        ("import torch_does_not_exist\n", "ModuleNotFoundError", "ModuleNotFoundError"),
    ],
)
def test_import_time_failure_is_reported_once(tmp_path, prefix, fragment, what):
    anchor = "import numpy as np\n"
    source = (SOLUTIONS / "linear_model.py").read_text().replace(anchor, anchor + prefix, 1)
    line = source.splitlines().index(prefix.splitlines()[-1]) + 1
    results = grade(submission_with(tmp_path, source=source))
    assert_import_failure_reported_once(results, fragment, f"linear_model.py ({what}, line {line})")
    assert f"linear_model.py line {line}" in next(iter(results.values())).message


def test_missing_module_is_reported(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    assert_import_failure_reported_once(
        grade(folder), "linear_model.py is missing from the submission", "linear_model.py (missing)"
    )


def test_deleted_function_is_named(tmp_path):
    source = (SOLUTIONS / "linear_model.py").read_text().replace("def predict(", "def predict_renamed(")
    results = grade(submission_with(tmp_path, source=source))
    assert "no function or class named 'predict'" in results["linear.predict.values"].message
    assert_others_pass(results)


@pytest.mark.parametrize("module", ["torch", "jax", "tensorflow", "autograd"])
def test_forbidden_import_inside_a_function_scores_that_part_zero(tmp_path, module):
    body = f"    import {module}\n    return X @ W + b\n"
    results = grade(submission_with(tmp_path, predict_body=body))
    predict = results["linear.predict.values"]
    assert predict.score == 0 and f"importing {module} is not allowed" in predict.message
    assert "linear_model.py line" in predict.message
    assert_others_pass(results)


def test_forbidden_import_at_module_level_scores_every_check_zero(tmp_path):
    anchor = "import numpy as np\n"
    source = (SOLUTIONS / "linear_model.py").read_text().replace(anchor, anchor + "import torch\n", 1)
    results = grade(submission_with(tmp_path, source=source))
    assert all(r.score == 0 and "importing torch is not allowed" in r.message for r in results.values())


def test_forbidden_import_is_refused_even_when_the_parent_imported_it(tmp_path):
    import torch  # noqa: F401  (the grading process has torch in sys.modules)

    results = grade(submission_with(tmp_path, predict_body="    import torch\n    return X @ W + b\n"))
    assert "importing torch is not allowed" in results["linear.predict.values"].message


def test_a_fallback_on_import_error_is_allowed(tmp_path):
    body = "    try:\n        import torch\n    except ImportError:\n        pass\n    return X @ W + b\n"
    assert grade(submission_with(tmp_path, predict_body=body))["linear.predict.values"].passed


def test_check_specific_forbidden_function(tmp_path):
    source = (SOLUTIONS / "linear_model.py").read_text()
    start, end = source.index("def fit("), source.index("def collapse_linear_stack(")
    cheat = '''def fit(X, Y, lr, steps):
    A = np.hstack([X, np.ones((len(X), 1))])
    solution = np.linalg.lstsq(A, Y, rcond=None)[0]
    return FitResult(W=solution[:-1], b=solution[-1], losses=np.zeros(steps))


'''
    results = grade(submission_with(tmp_path, source=source[:start] + cheat + source[end:]))
    least_squares = results["linear.fit.least_squares"]
    assert least_squares.score == 0
    assert "numpy.linalg.lstsq is not allowed in this part" in least_squares.message
    assert_others_pass(results)


def test_reference_solutions_are_hidden_from_student_code(tmp_path):
    spy = (
        "    import os\n"
        "    from autograder.paths import solutions_dir\n"
        "    if os.listdir(solutions_dir()):\n"
        "        raise RuntimeError('I can see ' + ', '.join(os.listdir(solutions_dir())))\n"
        "    return X @ W + b\n"
    )
    report = api.grade(submission_with(tmp_path, predict_body=spy), parts=["linear.predict"], options=QUICK)
    predict = results_by_id(report)["linear.predict.values"]
    if report.notes:  # the OS refused mount namespaces: the report must say so
        assert "could not be hidden" in report.notes[0]
        pytest.skip(report.notes[0])
    assert predict.passed, predict.message
    assert (SOLUTIONS / "linear_model.py").is_file()  # hidden in the child only


def test_inherited_files_are_closed_and_stdin_is_empty(tmp_path):
    with open(tmp_path / "parent-secret.txt", "w") as secret:
        probe = (
            "    import os\n"
            f"    try:\n        os.fstat({secret.fileno()})\n        raise RuntimeError('inherited fd open')\n"
            "    except OSError:\n        pass\n"
            "    try:\n        input()\n        raise RuntimeError('stdin gave a line')\n"
            "    except EOFError:\n        pass\n"
            "    return X @ W + b\n"
        )
        results = grade(submission_with(tmp_path, predict_body=probe))
    assert results["linear.predict.values"].passed, results["linear.predict.values"].message




def test_student_warnings_reach_the_captured_output_even_under_pytest(tmp_path):
    noisy = "    import warnings\n    warnings.warn('careful with b')\n    return X @ W + b\n"
    result = grade(submission_with(tmp_path, predict_body=noisy))["linear.predict.values"]
    assert result.passed
    assert "linear_model.py:" in result.captured_output and "UserWarning: careful with b" in result.captured_output
    assert str(tmp_path) not in result.captured_output  # paths are shown relative to the submission


def test_hidden_checks_do_not_show_exception_text_shapes_or_batch_sizes(tmp_path):
    leak = "    raise ValueError('inputs were ' + repr(X[:1]) + ' of shape ' + str(X.shape))\n"
    results = grade(submission_with(tmp_path, predict_body=leak))
    public = "\n".join(results["linear.predict.values"].feedback_lines())
    hidden = "\n".join(results["linear.predict.hidden"].feedback_lines())
    assert "inputs were array" in public
    assert "raised ValueError at linear_model.py line" in hidden
    assert "inputs were" not in hidden and "array(" not in hidden and "shape (" not in hidden


def test_hidden_hints_do_not_name_shapes_or_the_batch_size(tmp_path):
    source = (SOLUTIONS / "linear_model.py").read_text().replace("db = dY_hat.sum(axis=0)", "db = dY_hat")
    results = grade(submission_with(tmp_path, source=source))
    public = results["linear.gradients.values"].hint
    hidden = results["linear.gradients.hidden"].feedback_lines()
    assert "N=5" in public and "(5, 2)" in public
    assert any("batch axis" in line for line in hidden)
    assert not any("N=" in line or "(7, 3)" in line for line in hidden)


def test_a_training_check_that_times_out_suggests_vectorising(tmp_path):
    slow = "    import time\n    time.sleep(0.05)\n    return X @ W + b\n"  # 300 steps: 15 s
    report = api.grade(submission_with(tmp_path, predict_body=slow), parts=["linear.fit.least_squares"], options=QUICK)
    result = report.results[0]
    assert result.status is ResultStatus.ERROR and "timed out" in result.message
    assert "whole-array numpy operations" in result.hint


def test_after_holding_reference_values_students_are_forked_from_a_clean_process(tmp_path):
    api.grade(SOLUTIONS, parts=["linear.predict"])  # this process now holds reference outputs
    spy = (
        "    import os\n"
        f"    if os.getppid() == {os.getpid()}:\n"
        "        raise RuntimeError('forked straight from the grading process')\n"
        "    return X @ W + b\n"
    )
    result = results_by_id(api.grade(submission_with(tmp_path, predict_body=spy), parts=["linear.predict"]))
    assert result["linear.predict.values"].passed, result["linear.predict.values"].message


def test_syntax_error_in_an_imported_module_blames_that_module_once_per_unit(tmp_path):
    """capstone.py imports losses.py: losses.py's syntax error is reported as losses.py's (not as
    'capstone.py line N'), once per unit; the unit's other checks are "blocked by losses.py"."""
    import io
    import json

    from autograder.render import render_report

    folder = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    source = (folder / "losses.py").read_text().replace("import numpy as np\n", "import numpy as np\ndef broken(:\n", 1)
    (folder / "losses.py").write_text(source)
    line = source.splitlines().index("def broken(:") + 1
    report = api.grade(folder, parts=["capstone", "losses"], options=QUICK)
    blocked = f"losses.py (syntax error, line {line})"
    for unit in ("capstone", "losses"):
        results = {r.id: r for r in report.results if r.unit == unit}
        assert_import_failure_reported_once(results, f"losses.py line {line}: syntax error: invalid syntax", blocked)
    first_capstone = next(r for r in report.results if r.unit == "capstone")
    assert first_capstone.message.endswith("(imported by capstone.py)")
    assert not any("capstone.py line" in r.message for r in report.results)

    stream = io.StringIO()
    render_report(report, stream=stream)
    text = stream.getvalue()
    assert text.count(f"losses.py line {line}: syntax error") == 2  # once per unit
    assert text.count(f": blocked by {blocked}") == len(report.results)

    entries = report.to_gradescope()["tests"]
    assert len(entries) == len(report.results)
    assert sum(f"blocked by {blocked}" in entry["output"] for entry in entries) == len(entries) - 2
    json.dumps(entries)


@pytest.mark.skipif(os.geteuid() != 0, reason="the private view of the files is built as root only")
def test_a_search_path_holding_the_submission_never_exposes_or_changes_the_real_folder(tmp_path, monkeypatch):
    """``python -m`` puts the working folder on sys.path; when it holds the submission (a course
    folder, pytest's tmp_path), binding it back whole into the child's view would hand the child the
    real folder instead of its private copy: the child then wrote (and chowned) the real files."""
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    folder = closed / "student"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(closed))
    before = {path.name: (path.stat().st_uid, path.stat().st_mode, path.read_bytes()) for path in folder.iterdir()}
    checks = [check for check in grading_checks(["linear"])]
    outcomes = grading.probe_submission(folder, checks)
    assert all(outcome.status.value == "ok" for outcome in outcomes.values()), {
        key: outcome.message for key, outcome in outcomes.items() if outcome.status.value != "ok"}
    after = {path.name: (path.stat().st_uid, path.stat().st_mode, path.read_bytes()) for path in folder.iterdir()}
    assert after == before
    assert folder.stat().st_uid == 0


def grading_checks(selectors):
    from autograder.units import select_checks

    return select_checks(selectors)
