"""Batch grading on a real Dask cluster (``LocalCluster`` on loopback, two worker processes): the
same files as the local pool, byte for byte; resumable; a worker that dies costs one row; and
clear errors for an unreachable scheduler or workers without the package."""

from __future__ import annotations

import filecmp
import io
import json
import shutil
import subprocess
import sys

import pytest

from autograder import api, executors
from autograder.batch import Progress, grade_batch
from autograder.cli import main
from autograder.sandbox.confine import is_root
from autograder.units import select_checks
from autograder.executors import (
    DaskExecutor,
    ExecutorError,
    SubmissionNotSent,
    read_submission,
)

from .conftest import ASSIGNMENTS, SOLUTIONS
from .corpus.hostile import HOSTILE
from .corpus.linear import MUTATIONS
from .test_batch import QUICK, UNIT, Silent, read_rows
from .test_isolation import PREDICT_BODY

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

HOSTILE_BY_NAME = {hostile.name: hostile for hostile in HOSTILE}
#: Unit 1's full marks as the CSV writes them
FULL_LINEAR = f"{sum(check.points for check in select_checks(['linear'])):g}"
#: Kills the process that forked it: on a Dask worker, the prober.
KILLS_ITS_PARENT = "    import os, signal\n    os.kill(os.getppid(), signal.SIGKILL)\n    return X @ W + b\n"
#: Kills its grandparent: on a Dask worker, the worker process itself (the nanny starts a new one).
KILLS_THE_DASK_WORKER = (
    "    import os, signal\n"
    "    with open(f'/proc/{os.getppid()}/stat') as stat:\n"
    "        grandparent = int(stat.read().rsplit(')', 1)[1].split()[1])\n"
    "    os.kill(grandparent, signal.SIGKILL)\n"
    "    return X @ W + b\n"
)


def copy_of_reference(target, *, predict_body=None, prefix=None):
    shutil.copytree(SOLUTIONS, target, ignore=shutil.ignore_patterns("__pycache__"))
    path = target / "linear_model.py"
    source = path.read_text()
    if predict_body is not None:
        assert source.count(PREDICT_BODY) == 1
        source = source.replace(PREDICT_BODY, predict_body)
    if prefix is not None:
        source = source.replace("import numpy as np\n", "import numpy as np\n" + prefix, 1)
    path.write_text(source)
    return target


@pytest.fixture(scope="module")
def cluster():
    # One death is enough to call a task a killer: keeps the worker-death test short.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0"
        )
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """Reference, stubs, two buggy, three hostile, a nested folder, a file, an empty folder."""
    root = tmp_path_factory.mktemp("class")
    shutil.copytree(SOLUTIONS, root / "ada")
    shutil.copytree(ASSIGNMENTS, root / "bo")
    MUTATIONS[0].apply(SOLUTIONS, root / "cy")  # gradient sign flipped
    MUTATIONS[8].apply(SOLUTIONS, root / "di")  # update mutates its inputs
    copy_of_reference(root / "eve", predict_body=HOSTILE_BY_NAME["segfault through ctypes"].predict_body)
    copy_of_reference(root / "flo", prefix=HOSTILE_BY_NAME["sys.exit at import time"].prefix)
    copy_of_reference(root / "gil", predict_body=HOSTILE_BY_NAME["imports torch"].predict_body)
    copy_of_reference(root / "kit", prefix=HOSTILE_BY_NAME["print flood at import time (truncated, no cost)"].prefix)
    shutil.copytree(SOLUTIONS, root / "hal" / "assignments")  # one level too deep
    (root / "ivy.zip").write_bytes(b"PK\x03\x04")  # a file instead of a folder
    (root / "jo").mkdir()  # empty folder
    return root


GRADED = ["ada", "bo", "cy", "di", "eve", "flo", "gil", "hal", "kit"]


@pytest.fixture(scope="module")
def local_run(classroom, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    grade_batch(classroom, out, reference=api.default_reference(), jobs=2, options=QUICK, parts=UNIT,
                progress=Silent())
    return out


@pytest.fixture(scope="module")
def dask_run(classroom, cluster, tmp_path_factory):
    out = tmp_path_factory.mktemp("dask")
    stream = io.StringIO()
    executor = DaskExecutor(cluster.scheduler_address)
    summary = grade_batch(classroom, out, reference=api.default_reference(), executor=executor,
                          options=QUICK, parts=UNIT, progress=Progress(len(GRADED), stream=stream))
    return out, summary, executor, stream.getvalue()


def result_files(out):
    return sorted(path.name for path in out.iterdir() if path.is_file())


def test_dask_writes_the_same_files_as_the_local_pool(local_run, dask_run):
    out, summary, executor, _ = dask_run
    names = result_files(local_run)
    assert names == result_files(out)
    assert {"grades.csv", "nbgrader_grades.csv", "ada.json", "kit.txt"} <= set(names)
    different = [name for name in names if not filecmp.cmp(local_run / name, out / name, shallow=False)]
    assert different == []
    assert sorted(summary.graded) == sorted([*GRADED, "ivy.zip", "jo"])
    assert executor.workers == 2 and "2 worker(s)" in executor.describe()


def test_dask_scores_are_the_expected_ones(dask_run):
    out, summary, _, _ = dask_run
    rows = read_rows(out / "grades.csv")
    assert rows["ada"]["total"] == rows["hal"]["total"] == FULL_LINEAR and rows["bo"]["total"] == "0"
    assert 0 < float(rows["cy"]["total"]) < float(FULL_LINEAR) and 0 < float(rows["di"]["total"]) < float(FULL_LINEAR)
    assert rows["eve"]["total"] == rows["gil"]["total"] == "10" and rows["flo"]["total"] == "0"
    assert rows["kit"]["total"] == FULL_LINEAR
    eve = json.loads((out / "eve.json").read_text())
    assert any("SIGSEGV" in test["output"] for test in eve["tests"])
    assert any("importing torch is not allowed" in test["output"]
               for test in json.loads((out / "gil.json").read_text())["tests"])
    assert set(summary.problems) == {"ivy.zip", "jo"}


def test_dask_reports_progress(dask_run):
    *_, progress = dask_run
    assert f"{len(GRADED)}/{len(GRADED)}" in progress


def test_dask_resumes_and_rebuilds_identical_tables(classroom, cluster, dask_run, tmp_path):
    out, *_ = dask_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "cy.json").unlink()
    (copy / "eve.json").unlink()
    scheduler_file = tmp_path / "scheduler.json"  # as `dask scheduler --scheduler-file` writes it
    scheduler_file.write_text(json.dumps({"address": cluster.scheduler_address}))
    summary = grade_batch(classroom, copy, reference=api.default_reference(),
                          executor=DaskExecutor(str(scheduler_file)), options=QUICK, parts=UNIT, progress=Silent())
    assert sorted(summary.graded) == ["cy", "eve"] and "ada" in summary.skipped
    for name in ("grades.csv", "nbgrader_grades.csv", "cy.json", "eve.json"):
        assert (copy / name).read_bytes() == (out / name).read_bytes(), name


def test_command_line_grades_on_the_cluster(classroom, cluster, tmp_path, capsys):
    root = tmp_path / "two"
    root.mkdir()
    shutil.copytree(classroom / "ada", root / "ada")
    shutil.copytree(classroom / "cy", root / "cy")
    out = tmp_path / "out"
    assert main(["grade-batch", str(root), "--out", str(out), "--unit", "linear",
                 "--scheduler", cluster.scheduler_address]) == 0
    printed = capsys.readouterr().out
    assert "graded 2 student(s)" in printed and f"the Dask cluster at {cluster.scheduler_address}" in printed
    assert read_rows(out / "grades.csv")["ada"]["total"] == FULL_LINEAR


def test_a_submission_too_large_to_send_gets_a_row(cluster, tmp_path, monkeypatch):
    copy_of_reference(tmp_path / "class" / "zed")
    monkeypatch.setattr(executors, "MAX_SUBMISSION_BYTES", 1024)
    summary = grade_batch(tmp_path / "class", tmp_path / "out", reference=api.default_reference(),
                          executor=DaskExecutor(cluster.scheduler_address), parts=UNIT, progress=Silent())
    assert "too large to send" in summary.problems["zed"]
    assert "too large to send" in read_rows(tmp_path / "out" / "grades.csv")["zed"]["notes"]


def test_read_submission_skips_links_caches_and_hidden_files(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "linear_model.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "helper.py").write_text("y = 2\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "linear_model.pyc").write_bytes(b"\0")
    (tmp_path / ".secret").write_text("no")
    (tmp_path / "link.py").symlink_to("/etc/hostname")
    assert read_submission(tmp_path) == {"linear_model.py": b"x = 1\n", "pkg/helper.py": b"y = 2\n"}
    with pytest.raises(SubmissionNotSent):
        read_submission(tmp_path, limit=3)


def test_workers_with_a_different_grader_are_refused(classroom, cluster, tmp_path, monkeypatch):
    real = executors.describe_this_worker()
    monkeypatch.setattr(executors, "describe_this_worker", lambda: {**real, "fingerprint": "0" * 64})
    with pytest.raises(ExecutorError, match="Install this very version"):
        grade_batch(classroom, tmp_path / "out", reference=api.default_reference(),
                    executor=DaskExecutor(cluster.scheduler_address), options=QUICK, parts=UNIT, progress=Silent())
    assert not (tmp_path / "out" / "ada.json").exists()  # (rows without a submission need no worker)


def test_unreachable_scheduler_is_a_usage_error(classroom, tmp_path, capsys):
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = main(["grade-batch", str(classroom), "--out", str(tmp_path / "out"),
                     "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2
    error = capsys.readouterr().err
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in error and "is it running" in error


def test_jobs_and_scheduler_together_is_a_usage_error(classroom, tmp_path, capsys):
    assert main(["grade-batch", str(classroom), "--out", str(tmp_path / "out"), "--jobs", "3",
                 "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "--jobs sizes the local pool" in capsys.readouterr().err


def test_dask_is_imported_only_when_used():
    code = "import sys, autograder.cli, autograder.batch, autograder.executors; " \
           "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


def test_missing_dask_is_explained(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)
    copy_of_reference(tmp_path / "class" / "zed")
    with pytest.raises(ExecutorError, match=r"pip install 'dl-course-autograder\[dask\]'"):
        grade_batch(tmp_path / "class", tmp_path / "out", reference=api.default_reference(),
                    executor=DaskExecutor("tcp://127.0.0.1:9"), parts=UNIT, progress=Silent())


def _hide_the_package():
    """Runs on a worker (sent by value): the worker can no longer import ``autograder``."""

    class Hide:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "autograder":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    def hide():
        import sys

        for name in [name for name in sys.modules if name.split(".")[0] == "autograder"]:
            del sys.modules[name]
        sys.meta_path.insert(0, Hide())

    return hide


def test_workers_without_the_package_are_explained(classroom, tmp_path):
    with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=":0") as bare, distributed.Client(bare) as client:
        client.run(_hide_the_package())
        with pytest.raises(ExecutorError, match="cannot import the autograder package"):
            grade_batch(classroom, tmp_path / "out", reference=api.default_reference(),
                        executor=DaskExecutor(bare.scheduler_address), options=QUICK, parts=UNIT, progress=Silent())


def test_a_student_who_kills_the_process_grading_it_costs_one_row_locally_and_on_dask(cluster, tmp_path):
    """As root, the child runs as a uid of its own in a PID namespace: it cannot signal its parent at
    all (the kill raises, predict fails). Without root, the kill succeeds and the dead-worker guard
    gives that student a row of their own. Either way, local and Dask agree byte for byte."""
    root = tmp_path / "class"
    copy_of_reference(root / "aaron", predict_body=KILLS_ITS_PARENT)  # first in line: graded first
    copy_of_reference(root / "ada")
    MUTATIONS[0].apply(SOLUTIONS, root / "cy")
    runs = {}
    for name, executor in (("local", None), ("dask", DaskExecutor(cluster.scheduler_address))):
        out = tmp_path / name
        summary = grade_batch(root, out, reference=api.default_reference(), executor=executor, options=QUICK,
                              parts=UNIT, progress=Silent())
        assert set(summary.problems) == (set() if is_root() else {"aaron"}), name
        runs[name] = out
    rows = read_rows(runs["dask"] / "grades.csv")
    if is_root():
        assert "worker died" not in rows["aaron"]["notes"]
        assert float(rows["aaron"]["total"]) == HOSTILE_BY_NAME["os._exit"].score  # predict fails, as for os._exit
    else:
        assert "a grading worker died on this submission" in rows["aaron"]["notes"]
    assert rows["ada"]["total"] == FULL_LINEAR and 0 < float(rows["cy"]["total"]) < float(FULL_LINEAR)
    names = result_files(runs["local"])
    assert names == result_files(runs["dask"])
    assert all(filecmp.cmp(runs["local"] / name, runs["dask"] / name, shallow=False) for name in names)


def test_a_student_who_kills_the_dask_worker_gets_a_row_and_the_others_are_graded(cluster, tmp_path):
    """Last: kills worker processes (the nanny starts new ones)."""
    root = tmp_path / "class"
    copy_of_reference(root / "ada")
    copy_of_reference(root / "kills-prober", predict_body=KILLS_ITS_PARENT)
    copy_of_reference(root / "kills-worker", predict_body=KILLS_THE_DASK_WORKER)
    summary = grade_batch(root, tmp_path / "out", reference=api.default_reference(),
                          executor=DaskExecutor(cluster.scheduler_address), options=QUICK, parts=UNIT,
                          progress=Silent())
    rows = read_rows(tmp_path / "out" / "grades.csv")
    assert rows["ada"]["total"] == FULL_LINEAR
    killers = ("kills-prober", "kills-worker")
    if is_root():  # contained: neither kill reaches a grader process
        assert set(summary.problems) == set()
        for killer in killers:
            assert "worker died" not in rows[killer]["notes"], rows[killer]
        return
    for killer in killers:
        assert "a grading worker died on this submission" in rows[killer]["notes"], rows[killer]
    assert set(summary.problems) == set(killers)
