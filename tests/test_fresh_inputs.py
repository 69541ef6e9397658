"""Fresh inputs (issue 12, docs/fresh-inputs.md): with the reference solutions, every public reference
check is also judged on inputs the student release does not hold, so replaying the release's
fixtures earns nothing there; correct code loses nothing."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autograder import api
from autograder.checks import Visibility
from autograder.evidence import fresh
from autograder.evidence.cases import redrawn
from autograder.fixtures import FixtureReference, check_fingerprint, read_fixtures, write_fixtures
from autograder.grading import SolutionsReference
from autograder.units import all_checks, select_checks

from .conftest import ASSIGNMENTS, SOLUTIONS, results_by_id

PUBLIC_REFERENCE_CHECKS = [c for c in all_checks() if c.visibility is Visibility.PUBLIC and c.needs_reference]

# ----------------------------------------------------------------------------- a replay of the fixtures

#: Unit 1's functions a replay answers, with the case inputs they take (in call order) and their outputs.
REPLAYED = {
    "linear.predict.values": ("predict", ("X", "W", "b"), ("Y_hat",)),
    "linear.loss.values": ("mse_loss", ("Y_hat", "Y"), ("loss",)),
    "linear.loss.huge_values": ("mse_loss", ("Y_hat", "Y"), ("loss",)),
    "linear.gradients.values": ("loss_gradients", ("X", "Y", "W", "b"), ("dW", "db")),
    "linear.step.values": ("gradient_descent_step", ("W", "b", "dW", "db", "lr"), ("W_new", "b_new")),
    "linear.collapse.values": ("collapse_linear_stack", ("weights", "biases"), ("W", "b")),
}
#: What each replayed function returns for inputs it has no stored answer for (zeros of the right shape).
FALLBACK = {
    "predict": "np.zeros((np.shape(args[0])[0], np.shape(args[1])[1]))",
    "mse_loss": "0.0",
    "loss_gradients": "(np.zeros(np.shape(args[2])), np.zeros(np.shape(args[3])))",
    "gradient_descent_step": "(np.zeros(np.shape(args[0])), np.zeros(np.shape(args[1])))",
    "collapse_linear_stack": "(np.zeros((np.shape(args[0][0])[0], np.shape(args[1][-1])[0])), "
                             "np.zeros(np.shape(args[1][-1])))",
}


def _input_bytes(values) -> bytes:
    """How the replay keys its answers: the bytes of every argument (lists of arrays flattened)."""
    flat = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return b"|".join(np.ascontiguousarray(np.asarray(v, dtype=np.float64)).tobytes() for v in flat)


def _replay_module(fixtures) -> str:
    """linear_model.py that returns the fixture file's stored outputs, keyed by the input bytes."""
    checks = {check.id: check for check in PUBLIC_REFERENCE_CHECKS}
    stored: dict[str, dict[bytes, list]] = {}
    for check_id, (function, inputs, outputs) in REPLAYED.items():
        for index, case in enumerate(checks[check_id].cases):
            key = _input_bytes([case.inputs[name] for name in inputs])
            answer = [np.asarray(fixtures.outputs[check_id][f"{index}/{name}"]).tolist() for name in outputs]
            stored.setdefault(function, {})[key] = answer
    functions = []
    for function, answers in stored.items():
        single = len(next(iter(answers.values()))) == 1
        functions.append(textwrap.dedent(f"""
            _{function.upper()} = {answers!r}

            def {function}(*args):
                found = _{function.upper()}.get(_key(args))
                if found is None:
                    return {FALLBACK[function]}
                return {"np.array(found[0])" if single else "tuple(np.array(v) for v in found)"}
            """))
    return textwrap.dedent("""
        import numpy as np

        def _key(args):
            flat = []
            for value in args:
                flat.extend(value if isinstance(value, list) else [value])
            return b"|".join(np.ascontiguousarray(np.asarray(v, dtype=np.float64)).tobytes() for v in flat)
        """) + "".join(functions)


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    """A submission whose Unit 1 replays the release's fixtures, and those fixtures."""
    root = tmp_path_factory.mktemp("replay")
    path = root / "public_fixtures.agw.gz"
    write_fixtures(path, select_checks(["linear"]), SolutionsReference(SOLUTIONS))  # what a release ships
    submission = root / "submission"
    shutil.copytree(ASSIGNMENTS, submission)
    reference = (SOLUTIONS / "linear_model.py").read_text()  # fit, FitResult... so the module imports
    (submission / "linear_model.py").write_text(reference + "\n" + _replay_module(read_fixtures(path)))
    return submission, path


PARTS = ["linear.predict", "linear.loss", "linear.gradients", "linear.step", "linear.collapse"]


def test_replaying_the_fixtures_passes_the_public_checks_judged_against_them(replay):
    submission, fixtures = replay
    report = api.grade(submission, parts=PARTS, reference=FixtureReference(fixtures), visibility=Visibility.PUBLIC)
    results = results_by_id(report)
    assert {check_id: results[check_id].passed for check_id in REPLAYED} == {check_id: True for check_id in REPLAYED}


def test_replaying_the_fixtures_earns_nothing_with_the_reference_solutions(replay):
    submission, _ = replay
    report = api.grade(submission, parts=PARTS, reference=SolutionsReference(SOLUTIONS))
    results = results_by_id(report)
    for check_id in REPLAYED:
        result = results[check_id]
        assert not result.passed and result.score == 0, check_id
        assert result.message == fresh.MESSAGE, (check_id, result.message)
        assert "stored answers" in result.message and "published inputs" in result.message
        # the fresh case's evidence, as for any public mismatch; no hint blaming a formula that is right
        assert result.details[0].startswith("on other inputs of that kind: "), result.details
        assert any("expected" in line for line in result.details[1:]), result.details
        # (a check that also runs another replayed part says to fix that part first, as always)
        assert result.hint is None or result.hint == f"fix linear.predict first: {fresh.MESSAGE}", result.hint
    # The same ids and points as ever: the fresh inputs add no check.
    assert report.max_score == sum(c.points for c in select_checks(PARTS))


def test_a_public_failure_keeps_its_own_message(tmp_path):
    """Code wrong on the published inputs already is told what is wrong there, not the replay message."""
    submission = tmp_path / "s"
    shutil.copytree(SOLUTIONS, submission)
    module = submission / "linear_model.py"
    module.write_text(module.read_text() + "\n\ndef predict(X, W, b):\n    return X @ W - b\n")
    result = results_by_id(api.grade(submission, parts=["linear.predict"]))["linear.predict.values"]
    assert not result.passed and result.message != fresh.MESSAGE
    assert result.message.startswith("Y_hat does not match the reference")


# ----------------------------------------------------------------------------- correct code


def test_the_reference_keeps_full_marks_and_is_judged_on_fresh_inputs(reference_report):
    assert reference_report.score == reference_report.max_score == 433
    assert len(reference_report.results) == 332
    outputs = SolutionsReference(SOLUTIONS).outputs(PUBLIC_REFERENCE_CHECKS[:3])
    for check in PUBLIC_REFERENCE_CHECKS[:3]:
        fresh_keys = fresh.fresh_part(outputs[check.id])
        assert {key.split("/")[0] for key in fresh_keys} == {str(i) for i in range(len(check.cases))}


# ----------------------------------------------------------------------------- the fresh inputs


def _arrays(value):
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, dict):
        return [a for item in value.values() for a in _arrays(item)]
    if isinstance(value, (list, tuple)):
        return [a for item in value for a in _arrays(item)]
    if hasattr(value, "__dataclass_fields__"):
        return [a for name in value.__dataclass_fields__ for a in _arrays(getattr(value, name))]
    return [np.asarray(value)] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def _same_inputs(a, b) -> bool:
    left, right = _arrays(a.inputs), _arrays(b.inputs)
    return len(left) == len(right) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(left, right))


def test_every_public_reference_check_has_fresh_inputs_unlike_its_public_ones():
    for check in PUBLIC_REFERENCE_CHECKS:
        twin = fresh.twin_of(check)
        assert twin is not None, check.id
        assert twin.id == check.id and twin.points == check.points and len(twin.cases) == len(check.cases)
        differing = [not _same_inputs(p, f) for p, f in zip(check.cases, twin.cases)]
        assert any(differing), check.id
    # checks that judge from the student's own numbers, and hidden checks, get none
    assert all(fresh.twin_of(c) is None for c in all_checks() if c not in PUBLIC_REFERENCE_CHECKS)


def test_a_replay_of_the_public_answers_fails_every_check_on_its_fresh_inputs():
    """Whatever a replay keys on (bytes, shapes), the public answers are not the fresh ones: for every
    public reference check, the reference's public outputs served as its fresh outputs fail, while
    the reference's own fresh outputs pass."""
    outputs = SolutionsReference(SOLUTIONS).outputs(PUBLIC_REFERENCE_CHECKS)
    for check in PUBLIC_REFERENCE_CHECKS:
        reference = outputs[check.id]
        assert not isinstance(reference, str), (check.id, reference)
        public = fresh.public_part(reference)
        replayed = {**public, **{fresh.PREFIX + key: value for key, value in public.items()}}
        assert fresh.judge(check, reference, reference).passed, check.id
        verdict = fresh.judge(check, replayed, reference)
        assert not verdict.passed and verdict.message == fresh.MESSAGE, check.id
        # judged against fixtures (no fresh outputs), the same replay passes: only the public cases count
        assert fresh.judge(check, replayed, public).passed, check.id


DIGEST_SCRIPT = """
import hashlib
import numpy as np
from autograder.checks import Visibility
from autograder.evidence import fresh
from autograder.units import all_checks

def arrays(value):
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, dict):
        return [a for item in value.values() for a in arrays(item)]
    if isinstance(value, (list, tuple)):
        return [a for item in value for a in arrays(item)]
    if hasattr(value, "__dataclass_fields__"):
        return [a for name in value.__dataclass_fields__ for a in arrays(getattr(value, name))]
    return [np.asarray(value)] if isinstance(value, (int, float)) and not isinstance(value, bool) else []

digest = hashlib.sha256()
for check in all_checks():
    if check.visibility is Visibility.PUBLIC and check.needs_reference:
        for case in fresh.twin_of(check).cases:
            for array in arrays(case.inputs):
                digest.update(f"{array.dtype}{array.shape}".encode() + np.ascontiguousarray(array).tobytes())
print(digest.hexdigest())
"""


def _digest_in_a_new_process() -> str:
    result = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_fresh_inputs_are_the_same_in_every_process_and_depend_on_the_salt():
    first = _digest_in_a_new_process()
    assert len(first) == 64 and _digest_in_a_new_process() == first
    check = next(c for c in PUBLIC_REFERENCE_CHECKS if c.id == "linear.predict.values")
    other_salt = [redrawn(case, 7) for case in check.cases]
    assert all(_same_inputs(a, b) for a, b in zip(other_salt, [redrawn(case, 7) for case in check.cases]))
    assert not any(_same_inputs(a, b) for a, b in zip(other_salt, fresh.twin_of(check).cases))
    assert not any(_same_inputs(a, b) for a, b in zip(other_salt, check.cases))


RELEASE_SCRIPT = """
import sys
sys.modules["autograder.units.hidden"] = None  # as in a release: the hidden package is not there
from autograder.units import all_checks, fresh_input_salt
from autograder.evidence import fresh
print(fresh_input_salt(), sum(fresh.twin_of(c) is not None for c in all_checks()))
"""


def test_without_the_hidden_package_there_are_no_fresh_inputs():
    result = subprocess.run([sys.executable, "-c", RELEASE_SCRIPT], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["None", "0"]


def test_fixtures_hold_no_fresh_outputs_and_ignore_the_twin_in_fingerprints(replay):
    _, path = replay
    fixtures = read_fixtures(path)
    assert fixtures.outputs and not any(key.startswith(fresh.PREFIX) for out in fixtures.outputs.values()
                                        for key in out)
    for check in select_checks(["linear"]):
        if fresh.twin_of(check) is None:
            continue
        without = copy.copy(fresh.twin_of(check))  # the check without a twin, as in a release
        without.cases = check.cases
        assert check_fingerprint(without) == check_fingerprint(check) == fixtures.fingerprints[check.id]
