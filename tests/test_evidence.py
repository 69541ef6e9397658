"""Reusable evidence pieces: inputs-unchanged properties and warning capture, run through the engine."""

from __future__ import annotations

import warnings

import numpy as np

from autograder.evidence import Case, InputsUnchangedCheck, call_recording_warnings
from autograder.grading import GradingOptions, grade_submission
from autograder.sandbox import Limits


class NoReference:
    def outputs(self, checks):
        raise AssertionError("property checks need no reference")

    def folders_to_hide(self):
        return ()


def grade_source(tmp_path, source: str, check):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "toy.py").write_text(source)
    report = grade_submission(folder, [check], reference=NoReference(), options=GradingOptions(Limits(timeout_s=2)))
    return report.results[0]


def stack_check():
    rng = np.random.default_rng(0)
    case = Case("two matrices", {"mats": [rng.standard_normal((2, 2)), rng.standard_normal((2, 2))], "x": rng.standard_normal(2)})
    return InputsUnchangedCheck(
        "toy.stack.inputs_unchanged",
        description="stack leaves its inputs unchanged",
        points=1,
        call=lambda impl, inputs: impl.function("toy", "stack")(inputs["mats"], inputs["x"]),
        function="stack",
        case=case,
    )


def test_unchanged_inputs_pass(tmp_path):
    result = grade_source(tmp_path, "def stack(mats, x):\n    return mats[0] @ mats[1] @ x\n", stack_check())
    assert result.passed


def test_mutated_array_inside_a_list_is_named(tmp_path):
    source = "def stack(mats, x):\n    mats[1] *= 2\n    return mats[0] @ mats[1] @ x\n"
    result = grade_source(tmp_path, source, stack_check())
    assert not result.passed and "stack changed its argument mats in place" in result.message


def test_mutated_plain_array_is_named(tmp_path):
    result = grade_source(tmp_path, "def stack(mats, x):\n    x[0] = 0\n    return x\n", stack_check())
    assert not result.passed and "argument x in place" in result.message


def test_call_recording_warnings_catches_numpy_overflow_and_python_warnings():
    def noisy():
        warnings.warn("careful")
        return np.exp(np.array([1000.0]))

    result, caught = call_recording_warnings(noisy)
    assert np.isinf(result[0])
    assert any("overflow" in text for text in caught) and any("careful" in text for text in caught)
    assert call_recording_warnings(lambda: np.exp(np.array([1.0])))[1] == []


def softmax_check():
    from autograder.evidence import NoWarningsCheck

    case = Case("logits of 1000", {"Z": np.array([[1000.0, -1000.0, 0.0]])})
    return NoWarningsCheck(
        "toy.softmax.no_warnings", description="softmax at +-1000", points=1,
        call=lambda impl, x: {"P": impl.function("toy", "softmax")(x["Z"])},
        subject="softmax at +-1000", advice="subtract each row's maximum first.", case=case,
    )


def test_stable_code_passes_the_no_warnings_check(tmp_path):
    source = "import numpy as np\ndef softmax(Z):\n    E = np.exp(Z - Z.max(axis=1, keepdims=True))\n    return E / E.sum(axis=1, keepdims=True)\n"
    assert grade_source(tmp_path, source, softmax_check()).passed


def test_overflowing_code_fails_with_the_cause_and_the_advice(tmp_path):
    source = "import numpy as np\ndef softmax(Z):\n    E = np.exp(Z)\n    return E / E.sum(axis=1, keepdims=True)\n"
    result = grade_source(tmp_path, source, softmax_check())
    assert not result.passed
    assert "overflow encountered in exp" in result.message
    assert result.hint.startswith("np.exp overflowed") and result.hint.endswith("subtract each row's maximum first.")
