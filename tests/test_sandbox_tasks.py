"""run_tasks: many checks in one child, each with its own deadline, output and outcome."""

from __future__ import annotations

import os
import sys

import numpy as np

from autograder.sandbox import Limits, Status, Task, run_tasks

LIMITS = Limits(timeout_s=1.0)


def pid_task(label):
    def run():
        print(label)
        return {"pid": os.getpid()}

    return run


def loop():
    while True:
        pass


def segfault():
    import ctypes

    ctypes.string_at(0)


def test_well_behaved_tasks_share_one_child_and_keep_their_own_output():
    tasks = [Task(f"t{i}", pid_task(f"hello {i}"), 1.0) for i in range(5)]
    outcomes = run_tasks(tasks, limits=LIMITS)
    assert [o.status for o in outcomes.values()] == [Status.OK] * 5
    assert len({int(o.outputs["pid"]) for o in outcomes.values()}) == 1
    assert [o.captured_output for o in outcomes.values()] == [f"hello {i}\n" for i in range(5)]


def test_a_hang_or_a_crash_costs_only_its_own_task():
    tasks = [
        Task("before", pid_task("a"), 1.0),
        Task("hang", loop, 0.3),
        Task("after hang", pid_task("b"), 1.0),
        Task("crash", segfault, 1.0),
        Task("exit", lambda: os._exit(4), 1.0),
        Task("sys.exit", lambda: sys.exit(5), 1.0),
        Task("last", pid_task("c"), 1.0),
    ]
    outcomes = run_tasks(tasks, limits=LIMITS)
    assert list(outcomes) == [task.key for task in tasks]
    assert outcomes["hang"].status is Status.TIMEOUT and "timed out after 0.3 s" in outcomes["hang"].message
    assert outcomes["crash"].status is Status.CRASHED and "SIGSEGV" in outcomes["crash"].message
    assert outcomes["exit"].status is Status.CRASHED and "status 4" in outcomes["exit"].message
    assert outcomes["sys.exit"].status is Status.EXCEPTION and "sys.exit(5)" in outcomes["sys.exit"].message
    for key, text in (("before", "a\n"), ("after hang", "b\n"), ("last", "c\n")):
        assert outcomes[key].status is Status.OK and outcomes[key].captured_output == text
    # sys.exit is caught in the child, so "last" ran in the same child as "sys.exit"'s neighbours.
    assert outcomes["last"].outputs["pid"] != outcomes["before"].outputs["pid"]


def test_a_flood_is_truncated_per_task():
    def flood():
        for _ in range(50_000):
            print("x" * 40)
        return {"a": np.ones(2)}

    outcomes = run_tasks([Task("flood", flood, 5.0), Task("quiet", pid_task("q"), 1.0)], limits=LIMITS)
    assert "output truncated" in outcomes["flood"].captured_output
    assert outcomes["quiet"].captured_output == "q\n"


def test_output_written_just_before_returning_stays_with_its_task():
    def last_word():
        sys.stdout.write("x" * 70_000 + "end")  # more than a pipe holds, unflushed until the end
        return {"a": 1.0}

    limits = Limits(timeout_s=1.0, output_bytes=100_000)
    outcomes = run_tasks([Task("talker", last_word, 2.0), Task("next", pid_task("n"), 1.0)], limits=limits)
    assert outcomes["talker"].captured_output.endswith("end")
    assert outcomes["next"].captured_output == "n\n"


def test_a_leftover_module_of_the_same_name_never_answers_a_submission_import(tmp_path, monkeypatch):
    import types

    from autograder.sandbox.loader import Implementation

    (tmp_path / "mlp.py").write_text("WHO = 'the submission'\n")
    (tmp_path / "techniques.py").write_text("from mlp import WHO\n")
    monkeypatch.setitem(sys.modules, "mlp", types.SimpleNamespace(WHO="a leftover", __file__="/elsewhere/mlp.py"))
    monkeypatch.delitem(sys.modules, "techniques", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert Implementation(tmp_path).module("techniques").WHO == "the submission"
    sys.modules.pop("techniques", None)
