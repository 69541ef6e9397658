"""Unit 2 (MLP layers): the reference scores full marks, the stubs score 0, every buggy variant in the
corpus loses points with the hint a student needs, and the checks keep their own promises (inputs
away from kinks, trusted stand-in layers that are right, training exercises with margin)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from autograder import api
from autograder.checks import part_of
from autograder.evidence import (
    ConvergenceCheck,
    GradientCheck,
    ReferenceCheck,
    call_recording_warnings,
)
from autograder.gradcheck import check_gradient
from autograder.units import UNITS
from autograder.units import mlp as unit

from .conftest import (
    SOLUTIONS,
    assert_caught_with_hints,
    load_reference,
    results_by_id,
)
from .corpus.mlp import CORRECT_VARIANTS, MUTATIONS

reference = load_reference("mlp")

PARTS = ("linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax", "sequential", "network",
         "residual", "linear_stack", "universal", "depth")
#: parts with hidden checks: every layer and container
HIDDEN_PARTS = ("linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax", "sequential", "network",
                "residual")


def test_unit_is_worth_88_points():
    assert sum(check.points for check in UNITS["mlp"].checks) == 88


def test_unit_has_the_promised_parts_and_hidden_checks():
    checks = UNITS["mlp"].checks
    assert UNITS["mlp"].parts == [f"mlp.{part}" for part in PARTS]
    hidden = {check.part for check in checks if check.visibility.value == "hidden"}
    assert hidden == {f"mlp.{part}" for part in HIDDEN_PARTS}
    for part in HIDDEN_PARTS:  # every backward is held to finite differences of its own forward
        assert any(isinstance(c, GradientCheck) and c.part == f"mlp.{part}" for c in checks), part


def test_exercises_and_containers_name_the_parts_they_run():
    depends = {check.id: check.depends_on for check in UNITS["mlp"].checks}
    assert depends["mlp.universal.sin"] == ("mlp.linear", "mlp.tanh", "mlp.sequential", "mlp.network")
    assert set(depends["mlp.depth.residual_vs_plain"]) == {"mlp.linear", "mlp.sigmoid", "mlp.sequential",
                                                             "mlp.residual"}
    assert set(depends["mlp.sequential.chain"]) == {"mlp.linear", "mlp.tanh", "mlp.relu"}
    # the container checks run the grader's trusted stand-in layers, so they depend on nothing
    for check_id in ("mlp.sequential.forward", "mlp.sequential.backward", "mlp.sequential.gradcheck",
                     "mlp.sequential.parameters", "mlp.residual.forward_backward", "mlp.residual.gradcheck"):
        assert depends[check_id] == ()


def test_training_exercises_have_timeouts_and_other_checks_do_not_need_them():
    for check in UNITS["mlp"].checks:
        if isinstance(check, ConvergenceCheck):
            assert check.timeout_s is not None and check.timeout_s <= 20
        else:
            assert check.timeout_s is None, check.id


# ----------------------------------------------------------------------------- the corpus


def test_corpus_is_large_enough_and_covers_every_part():
    assert len(MUTATIONS) >= 14
    covered = {part_of(check_id) for mutation in MUTATIONS for check_id in mutation.must_fail}
    assert covered >= {f"mlp.{part}" for part in PARTS if part not in ("universal", "depth")}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_buggy_variant_loses_points_with_the_right_hint(mutation, tmp_path):
    # Only the parts the variant must fail (their checks run the code the variant changed).
    assert_caught_with_hints(mutation, tmp_path, parts=sorted({part_of(check_id) for check_id in mutation.must_fail}))


@pytest.mark.parametrize("part, variant", CORRECT_VARIANTS, ids=[v.name for _, v in CORRECT_VARIANTS])
def test_correct_but_unusual_code_keeps_every_point_of_its_part(part, variant, tmp_path):
    report = api.grade(variant.apply(SOLUTIONS, tmp_path / "s"), parts=[part])
    assert report.results and all(r.passed for r in report.results), [(r.id, r.message) for r in report.results
                                                                      if not r.passed]


@pytest.mark.parametrize("part", ["mlp.relu", "mlp.leaky_relu"])
def test_derivative_at_zero_is_its_own_check(part, tmp_path):
    """One check, one concept: taking the other side of the kink (X >= 0) costs at_zero and nothing
    else, since every other check of the part keeps its inputs off 0."""
    mutation = next(m for m in MUTATIONS if m.name.startswith(("ReLU" if part == "mlp.relu" else "LeakyReLU")
                                                               + " derivative 1 at x = 0"))
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=[part])
    failed = {r.id for r in report.results if not r.passed}
    assert failed == {f"{part}.at_zero"}
    check = next(c for c in UNITS["mlp"].checks if c.id == f"{part}.at_zero")
    X = check.case.inputs["X"]
    assert np.any((X == 0) & ~np.signbit(X)) and np.any((X == 0) & np.signbit(X))  # 0.0 and -0.0
    assert np.min(np.abs(X[X != 0])) >= 0.1
    assert not check.judge({}, None).passed  # no evidence, no points


def test_depth_exercise_fails_a_residual_backward_without_the_skip_gradient(tmp_path):
    """Graded alone (so no other part's failure explains it), the depth exercise itself sees the
    missing "+ dY": the residual network still fits sin(x), but its first layer never learns."""
    mutation = next(m for m in MUTATIONS if m.name == "Residual backward without the skip path")
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=["mlp.depth"])
    depth = results_by_id(report)["mlp.depth.residual_vs_plain"]
    assert not depth.passed and "first linear layer barely learned" in depth.message.lower()
    assert "the skip path's gradient is missing in residual.backward" in depth.hint.lower()


def test_random_bias_costs_the_bias_check_only(tmp_path):
    """The initial bias is its own convention: the W statistics still earn their points."""
    mutation = next(m for m in MUTATIONS if m.name == "bias drawn at random like W")
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=["mlp.linear"])
    assert {r.id for r in report.results if not r.passed} == {"mlp.linear.init_bias"}


def test_hard_coded_slope_costs_the_slope_check_only(tmp_path):
    mutation = next(m for m in MUTATIONS if m.name == "LeakyReLU with a hard-coded slope")
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=["mlp.leaky_relu"])
    public_failed = {r.id for r in report.results if not r.passed and not r.id.endswith(".hidden")}
    assert public_failed == {"mlp.leaky_relu.slope"}


def test_failing_dependency_is_named_in_dependent_checks(tmp_path):
    mutation = next(m for m in MUTATIONS if m.name == "dW averaged over the batch")
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=["mlp.linear", "mlp.network"])
    network = results_by_id(report)["mlp.network.forward_backward"]
    assert not network.passed and network.failing_dependencies == ("mlp.linear",)
    assert network.hint.startswith("fix mlp.linear first: ")


def test_hidden_checks_show_the_hint_but_not_the_inputs(tmp_path):
    mutation = next(m for m in MUTATIONS if m.name == "sigmoid derivative written with the input (x * (1 - x))")
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=["mlp.sigmoid"])
    hidden = results_by_id(report)["mlp.sigmoid.hidden"]
    lines = "\n".join(hidden.feedback_lines())
    assert "the output of the forward pass" in lines.lower()
    assert "worst element" not in lines and "N=" not in lines


# ----------------------------------------------------------------------------- the checks' own promises


def test_kinked_activations_are_probed_away_from_zero():
    """Finite differences of ReLU and LeakyReLU must never step across the kink at 0."""
    for check in UNITS["mlp"].checks:
        if check.part in ("mlp.relu", "mlp.leaky_relu") and isinstance(check, (ReferenceCheck, GradientCheck)):
            for case in check.cases:
                assert np.min(np.abs(case.inputs["X"])) >= 0.1, check.id


def test_stand_in_layers_are_right():
    """The trusted layers the container checks use pass a gradient check themselves."""
    rng = np.random.default_rng(0)
    X, R = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    W, b = rng.standard_normal((4, 4)), rng.standard_normal(4)

    def objective(layer_factory, wrt):
        def f(value):
            params = {"X": X, "W": W, "b": b, wrt: value}
            layer = layer_factory(params)
            return float(np.sum(layer.forward(params["X"]) * R))
        return f

    affine = unit._TanhAffine(W.copy(), b.copy())
    affine.forward(X)
    dX = affine.backward(R)
    for name, value, analytic in (("X", X, dX), ("W", W, affine.dW), ("b", b, affine.db)):
        report = check_gradient(objective(lambda p: unit._TanhAffine(p["W"], p["b"]), name), value, analytic, seed=1)
        assert report.passed, name
    square = unit._HalfSquare()
    square.forward(X)
    report = check_gradient(objective(lambda p: unit._HalfSquare(), "X"), X, square.backward(R), seed=2)
    assert report.passed


def test_parameter_contract_check_ignores_backward_correctness(tmp_path):
    """Sequential.parameters grades order and identity only: a wrong backward fails elsewhere."""
    mutation = next(m for m in MUTATIONS if m.name == "Sequential backward in forward order")
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=["mlp.sequential"])
    results = results_by_id(report)
    assert not results["mlp.sequential.backward"].passed
    assert results["mlp.sequential.parameters"].passed


def test_no_warnings_check_ignores_harmless_underflow():
    """The reference's stable sigmoid underflows exp(-1000) to 0, and that is not a finding."""
    layer = reference.Sigmoid()
    X = unit._extreme_case(150).inputs["X"]
    _, caught = call_recording_warnings(lambda: layer.backward(np.ones_like(layer.forward(X))))
    # (whether numpy reports the underflow at all depends on the array size and the CPU's exp kernel)
    assert all("underflow" in text for text in caught), caught
    check = next(c for c in UNITS["mlp"].checks if c.id == "mlp.sigmoid.no_warnings")
    result = {"result/Y": layer.forward(X)}  # (without a result the check fails closed)
    assert check.judge({**result, "warnings": "\n".join(caught)}, None).passed
    assert check.judge({**result, "warnings": "RuntimeWarning: underflow encountered in exp"}, None).passed
    assert not check.judge({**result, "warnings": "RuntimeWarning: overflow encountered in exp"}, None).passed


def test_exercise_data_match_the_modules_given_helpers():
    X, Y = reference.make_curve_data(reference.TARGETS["bumpy"], n=unit.UNIVERSAL_POINTS)
    X_check, Y_check = unit._curve("bumpy")
    np.testing.assert_array_equal(X, X_check)
    np.testing.assert_allclose(Y, Y_check, rtol=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_universal_approximation_meets_its_targets_with_margin_for_other_seeds(seed):
    """A correct implementation whose weights come out differently still passes: the reference
    reaches at most 60% of each target for these seeds too (0.0055 and 0.0089 at worst over 300)."""
    for name, target in unit.UNIVERSAL_TARGETS.items():
        X, Y = unit._curve(name)
        model = reference.MLP([1, unit.UNIVERSAL_HIDDEN, 1], "tanh", np.random.default_rng(seed), init="xavier")
        reference.train_mse(model, X, Y, unit.UNIVERSAL_LR, unit.UNIVERSAL_STEPS)
        assert reference.mse(model.forward(X), Y) < 0.6 * target, name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_depth_exercise_separates_residual_from_plain_for_other_seeds(seed):
    X, Y = unit._curve("sin")
    variance = float(np.var(Y))
    errors = {}
    for residual in (False, True):
        model = reference.deep_mlp(1, unit.DEPTH_WIDTH, unit.DEPTH, 1, "sigmoid", np.random.default_rng(seed),
                                   residual=residual)
        reference.train_mse(model, X, Y, unit.DEPTH_LR, unit.DEPTH_STEPS)
        errors[residual] = reference.mse(model.forward(X), Y) / variance
    assert errors[True] < 0.5 * unit.RESIDUAL_TARGET
    assert errors[False] > unit.PLAIN_STALLED


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_depth_exercise_sees_whether_the_gradient_reaches_the_first_layer(seed):
    """The residual network's first layer moves 100 times more than the threshold; with a Residual
    whose backward drops "+ dY" (which still fits sin(x) through the forward skip path) it does not
    move at all, no more than the plain network's."""
    X, Y = unit._curve("sin")
    src = (SOLUTIONS / "mlp.py").read_text()
    moved = {}
    for name, backward in (("right", None), ("no skip", "return self.inner.backward(dY)")):
        module = reference
        if backward is not None:
            module = types.ModuleType("reference_mlp_no_skip")
            sys.modules[module.__name__] = module  # (dataclasses look their module up)
            source = src.replace("return dY + self.inner.backward(dY)", backward)
            exec(compile(source, "mlp_no_skip.py", "exec"), module.__dict__)
        model = module.deep_mlp(1, unit.DEPTH_WIDTH, unit.DEPTH, 1, "sigmoid", np.random.default_rng(seed),
                                residual=True)
        start = model.parameters()[0].copy()
        module.train_mse(model, X, Y, unit.DEPTH_LR, unit.DEPTH_STEPS)
        moved[name] = unit._first_layer_moved({"r/W1_start": start, "r/W1_end": model.parameters()[0]}, "r")
        if backward is not None:  # the loss alone cannot tell: it still fits
            assert module.mse(model.forward(X), Y) < unit.RESIDUAL_TARGET * float(np.var(Y))
    assert moved["right"] > 100 * unit.FIRST_LAYER_MOVED
    assert moved["no skip"] < 1e-6 * unit.FIRST_LAYER_MOVED
