"""Slow code fails fast: one measured call names the slow function, and the checks it would run out
of time are skipped with that reason instead of each waiting for its budget (autograder/speed.py)."""

from __future__ import annotations


import pytest

from autograder import api, speed
from autograder.grading import probe_submission
from autograder.grading import GradingOptions
from autograder.sandbox import Confinement, Implementation, Status
from autograder.units import select_checks

from .conftest import SOLUTIONS, edited_reference, results_by_id

LINEAR_FORWARD = "        self.cache = LinearCache(X=X)\n        return X @ self.W + self.b\n"
#: What a student who has not met vectorisation yet writes: three nested loops, every multiply-add
#: in Python. Correct, about 1000x slower than X @ W.
TRIPLE_LOOP_FORWARD = (
    "        self.cache = LinearCache(X=X)\n"
    "        N, D = X.shape\n"
    "        K = self.W.shape[1]\n"
    "        Y = np.zeros((N, K))\n"
    "        for n in range(N):\n"
    "            for k in range(K):\n"
    "                total = self.b[k]\n"
    "                for d in range(D):\n"
    "                    total += X[n, d] * self.W[d, k]\n"
    "                Y[n, k] = total\n"
    "        return Y\n"
)


def submission_with_linear_forward(tmp_path, forward: str):
    return edited_reference(tmp_path / "submission", "mlp", {LINEAR_FORWARD: forward})


def forward_multiply_adds(check) -> float:
    """Runs ``check``'s probe on the reference in this process, counting Linear.forward's work."""
    impl = Implementation(SOLUTIONS)
    linear = impl.module("mlp").Linear
    original = linear.forward
    counted = [0.0]

    def counting_forward(self, X):
        counted[0] += X.shape[0] * self.W.shape[0] * self.W.shape[1]
        return original(self, X)

    linear.forward = counting_forward
    try:
        check.probe(impl)
    finally:
        linear.forward = original
    return counted[0]


@pytest.mark.parametrize("check_id", sorted(speed.heavy_checks()))
def test_declared_work_is_what_the_reference_really_does(check_id):
    (check,) = select_checks([check_id])
    declared = speed.heavy_checks()[check_id]["Linear"]
    assert forward_multiply_adds(check) == pytest.approx(declared, rel=0.02)


def test_every_training_check_that_runs_linear_for_long_is_declared():
    """A check with a budget of its own that runs Linear for millions of multiply-adds must be in
    speed.heavy_checks(), or a slow Linear makes it wait for its whole budget again."""
    undeclared = []
    for check in select_checks(["mlp", "capstone"]):
        if check.timeout_s is None or check.id in speed.heavy_checks():
            continue
        if forward_multiply_adds(check) > 1e6:
            undeclared.append(check.id)
    assert undeclared == []


def test_a_triple_loop_linear_passes_its_own_part_and_skips_what_it_would_time_out(tmp_path):
    folder = submission_with_linear_forward(tmp_path, TRIPLE_LOOP_FORWARD)
    report = api.grade(folder, parts=["mlp.linear", "mlp.depth", "capstone.train.held_out"])
    results = results_by_id(report)
    assert all(result.passed for result in report.results if result.part == "mlp.linear")
    for check_id in ("mlp.depth.residual_vs_plain", "capstone.train.held_out"):
        result = results[check_id]
        assert not result.passed and result.score == 0
        assert result.message.startswith("skipped: your Linear is too slow for this check")
        assert "Vectorise Linear" in result.message
        assert result.seconds == 0.0  # never started


def test_skipping_is_decided_from_computing_time_before_any_heavy_check_runs(tmp_path):
    folder = submission_with_linear_forward(tmp_path, TRIPLE_LOOP_FORWARD)
    checks = select_checks(["capstone.train"])
    outcomes = probe_submission(folder, checks)
    assert {outcome.status for outcome in outcomes.values()} == {Status.TOO_SLOW}


def test_vectorised_code_is_never_skipped():
    checks = select_checks(list(speed.heavy_checks()))
    assert "capstone.train.hidden" in speed.heavy_checks()  # hidden checks declare theirs apart
    costs = speed.measure_costs(
        SOLUTIONS, speed.probes_for(speed.heavy_checks()), limits=GradingOptions().limits,
        confinement=Confinement(),
    )
    assert set(costs) == {"Linear"}
    for check in checks:
        assert speed.too_slow_message(check.id, check.timeout_s, costs) is None, check.id
        # also under a 1 s override (the tests' QUICK options): the measurement must resolve a
        # 0.2 ms call although /proc counts CPU time in 10 ms ticks
        assert speed.too_slow_message(check.id, 1.0, costs) is None, check.id
    assert costs["Linear"].seconds_per_call < 0.005
