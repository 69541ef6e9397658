"""Reusable evidence pieces: inputs-unchanged properties and warning capture, run through the engine."""

from __future__ import annotations

import warnings

import numpy as np

from autograder.checks import Check
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


# ----------------------------------------------------------------------------- judges fail closed


def _all_checks():
    from autograder.units import UNITS

    return [check for unit in UNITS.values() for check in unit.checks]


def test_no_judge_passes_without_evidence():
    """Every check of every unit, given no numbers at all (and an empty reference), fails or raises
    (which the engine turns into a failure): missing evidence is never a pass."""
    from autograder.diagnosis import quietly

    passing = []
    for check in _all_checks():
        try:
            with quietly():
                verdict = check.judge({}, {} if check.needs_reference else None)
        except Exception:
            continue
        if verdict.passed:
            passing.append(check.id)
    assert passing == []


def _linear_gradient_check():
    from autograder.units import UNITS

    return next(c for c in UNITS["linear"].checks if c.id == "linear.gradients.finite_differences")


def _linear_gradient_outputs():
    from autograder.sandbox import Implementation, Status, run_isolated

    from .conftest import SOLUTIONS

    check = _linear_gradient_check()
    # In a child, as the engine probes: importing solutions/ here would put it on this process's path.
    outcome = run_isolated(lambda: check.probe(Implementation(SOLUTIONS)), limits=Limits(timeout_s=30),
                           student_folder=SOLUTIONS)
    assert outcome.status is Status.OK, outcome.message
    return check, dict(outcome.outputs)


def test_gradient_check_needs_evidence_for_every_case_and_parameter():
    check, outputs = _linear_gradient_outputs()
    assert check.judge(outputs, None).passed
    assert not check.judge({}, None).passed
    without_a_case = {k: v for k, v in outputs.items() if not k.startswith("1/")}
    assert check.judge(without_a_case, None).message == "the gradient check's evidence is incomplete"
    without_db = {k: v for k, v in outputs.items() if not k.startswith("0/b/")}
    assert check.judge(without_db, None).message == "the gradient check's evidence is incomplete"
    short = {**outputs, "0/W/plus": outputs["0/W/plus"][:1]}
    assert check.judge(short, None).message == "the gradient check's evidence is malformed"


def test_reference_check_fails_without_a_complete_reference():
    from autograder.units import UNITS

    check = next(c for c in UNITS["linear"].checks if c.id == "linear.predict.values")
    assert check.judge({}, {}).message == "grader error: the reference outputs are missing or incomplete"
    only_first_case = {"0/Y_hat": np.zeros((5, 2))}
    assert not check.judge(only_first_case, only_first_case).passed


def test_no_warnings_check_fails_without_a_result():
    check = softmax_check()
    assert not check.judge({}, None).passed
    assert not check.judge({"warnings": ""}, None).passed


# ----------------------------------------------------------------------------- a factor needs evidence


def test_a_constant_factor_is_claimed_on_many_directions_only():
    from autograder.evidence.gradient import MIN_RATIO_EVIDENCE, _ratio_hint

    numeric = np.random.default_rng(5).standard_normal(8) + 3.0
    assert _ratio_hint("W", numeric, 0.5 * numeric, 5) == "dW looks off by a constant factor of about 0.5."
    assert _ratio_hint("W", numeric[:2], 0.5 * numeric[:2], 5) is None  # two directions prove little
    assert MIN_RATIO_EVIDENCE > 2
    varying = numeric * np.linspace(0.5, 0.9, 8)
    assert _ratio_hint("W", numeric, varying, 5) is None
    assert _ratio_hint("W", np.full(8, np.nan), numeric, 5) is None  # never "about nan"


def test_failing_gradient_sends_confirmation_directions_and_names_the_factor(tmp_path):
    from .conftest import SOLUTIONS
    from .corpus.linear import MUTATIONS

    mutation = next(m for m in MUTATIONS if m.name == "factor 2 of the square missing")
    report = api_grade(mutation.apply(SOLUTIONS, tmp_path / "s"), ["linear.gradients"])
    result = report["linear.gradients.finite_differences"]
    assert result.hint == "dW looks off by a constant factor of about 0.5."


def api_grade(folder, parts):
    from autograder import api

    from .conftest import results_by_id

    return results_by_id(api.grade(folder, parts=parts))


# ----------------------------------------------------------------------------- requires: blocked, 0 points


ZEROS = {
    "return X @ W + b\n": "return np.zeros((X.shape[0], W.shape[1]))\n",
    "return float(np.sum(residual * residual) / Y.shape[0])": "return 0.0",
    "    return dW, db\n": "    return np.zeros_like(W), np.zeros_like(b)\n",
}


def test_zero_forward_with_zero_backward_earns_no_gradient_check(tmp_path):
    from .conftest import edited_reference

    folder = edited_reference(tmp_path / "zeros", "linear_model", ZEROS)
    results = api_grade(folder, ["linear"])
    gradient = results["linear.gradients.finite_differences"]
    # 0 is the derivative of 0: on its own this check would pass; the forward it rests on fails.
    assert (gradient.score, gradient.status.value, gradient.message) == (0.0, "failed", "blocked: fix linear.predict first")
    assert gradient.hint == "linear.predict: Y_hat is all zeros."
    assert all(r.score == 0 for r in results.values() if r.id.startswith("linear.gradients."))


def test_every_gradient_check_requires_the_checks_of_its_forward():
    from autograder.evidence import GradientCheck

    checks = _all_checks()
    ids = {c.id for c in checks}
    parts = {c.part for c in checks}
    gradient_checks = [c for c in checks if isinstance(c, GradientCheck)]
    assert gradient_checks
    for check in gradient_checks:
        assert check.requires, f"{check.id} declares no forward check it requires"
        assert all(entry in ids or entry in parts for entry in check.requires), check.requires
        assert check.id not in check.requires


def test_a_passing_check_is_blocked_by_a_failing_requirement():
    from autograder.grading import _note_failing_dependencies
    from autograder.results import CheckResult, ResultStatus

    forward = ToyCheck("toy.forward.values")
    gradient = ToyCheck("toy.gradient.check", requires=("toy.forward.values",))

    def result(check, passed, hint=None):
        return CheckResult(check.id, "", ResultStatus.PASSED if passed else ResultStatus.FAILED,
                           1.0 if passed else 0.0, 1.0, check.visibility, hint=hint)

    blocked = _note_failing_dependencies(
        [forward, gradient], [result(forward, False, "Y is all zeros."), result(gradient, True)]
    )[1]
    assert (blocked.passed, blocked.score, blocked.message, blocked.hint) == (
        False, 0.0, "blocked: fix toy.forward first", "toy.forward: Y is all zeros."
    )
    kept = _note_failing_dependencies([forward, gradient], [result(forward, True), result(gradient, True)])[1]
    assert kept.passed and kept.score == 1.0
    # A requirement left out of the graded selection is unknown, not failing.
    alone = _note_failing_dependencies([gradient], [result(gradient, True)])[0]
    assert alone.passed


class ToyCheck(Check):
    def probe(self, impl):
        return {}

    def judge(self, student, reference):
        raise AssertionError

    def __init__(self, id, **kwargs):
        super().__init__(id, description="", points=1, **kwargs)


def test_a_float32_forward_is_named_by_the_gradient_check(tmp_path):
    from autograder.evidence import GradientCheck, GradientProblem

    w = np.random.default_rng(6).standard_normal(20) + 3.0

    def build(impl, x):
        module = impl.module("toy")
        return GradientProblem(forward=lambda p: module.loss(p["w"]), params={"w": x["w"]},
                               analytic={"w": module.grad(x["w"])})

    check = GradientCheck("toy.loss.gradcheck", description="", points=1, build=build,
                          cases=[Case("20 weights", {"w": w})])
    source = ("import numpy as np\n"
              "def loss(w):\n    return np.float32(np.sum(w * w))\n"
              "def grad(w):\n    return 2 * w\n")
    result = grade_source(tmp_path, source, check)
    assert not result.passed
    assert result.hint.startswith("your forward pass or dw is float32: float32 rounds at about 1e-7")
    (tmp_path / "f64").mkdir()
    assert grade_source(tmp_path / "f64", source.replace("np.float32(", "float("), check).passed
