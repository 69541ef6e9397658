"""Unit 4: every buggy variant in the corpus loses points with the hint a student needs (full marks
for the reference and 0 for the stubs: tests/test_units.py, for every unit), the trajectory feedback
names the first diverging step and the drifted state variable, and the grader's own simulator of
torch.optim equals the reference, so the hints it finds are about the real formulas."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import api
from autograder.units import UNITS
from autograder.units import optimizers as unit
from autograder.units.instructor import optimizers as simulator

from .conftest import SOLUTIONS, assert_caught_with_hints, load_reference, results_by_id
from .corpus.optimizers import CORRECT_VARIANTS, LOSES_EXACTLY, MUTATIONS

reference = load_reference("optimizers")
OPTIMIZER_PARTS = ["sgd", "momentum", "nag", "adagrad", "adadelta", "rmsprop", "adam", "adamw"]


#: one check per concept: each option alone, public and hidden (docs/unit-optimizers.md)
OPTIONS = {
    "sgd": ["weight_decay"],
    "momentum": ["momentum", "dampening", "weight_decay", "lr_schedule"],
    "nag": ["momentum", "weight_decay", "lr_schedule"],
    "adagrad": ["lr_decay", "eps", "weight_decay"],
    "adadelta": ["lr", "rho", "eps", "weight_decay"],
    "rmsprop": ["alpha", "eps", "momentum", "centered", "weight_decay"],
    "adam": ["betas", "eps", "amsgrad", "weight_decay"],
    "adamw": ["betas", "eps", "amsgrad", "weight_decay"],
}
PLAIN = ["trajectory", "in_place", "grads_untouched", "state_per_parameter", "validation", "convergence", "hidden"]


def test_unit_parts_and_points():
    assert UNITS["optimizers"].parts == [f"optimizers.{p}" for p in OPTIMIZER_PARTS + ["schedules"]]
    points = {check.id: check.points for check in UNITS["optimizers"].checks}
    for part, options in OPTIONS.items():
        ids = {i for i in points if i.startswith(f"optimizers.{part}.")}
        expected = {f"optimizers.{part}.{a}" for a in PLAIN + options + [f"hidden_{o}" for o in options]}
        assert ids == expected, part
        assert points[f"optimizers.{part}.trajectory"] == 3
        assert all(points[i] == 1 for i in ids - {f"optimizers.{part}.trajectory"})
        assert sum(points[i] for i in ids) == 9 + 2 * len(options), part
    assert sum(points.values()) == 128 + 7 and len(points) == 112 + 7


def test_an_options_cases_set_only_that_option():
    """One check, one concept: every other argument keeps its default (lr aside, which is always given)."""
    for check in UNITS["optimizers"].checks:
        aspect = check.id.split(".")[-1].removeprefix("hidden_")
        if isinstance(check, unit.TrajectoryCheck) and aspect in OPTIONS[check.part.split(".")[1]]:
            for case in check.cases:
                assert set(case.inputs["options"]) - {"lr"} <= {aspect}, (check.id, case.inputs["options"])
                assert ("lrs" in case.inputs) == (aspect == "lr_schedule"), check.id


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_buggy_variant_loses_points_with_the_right_hint(mutation, tmp_path):
    assert_caught_with_hints(mutation, tmp_path, parts=["optimizers"])


@pytest.mark.parametrize("part, variant", CORRECT_VARIANTS, ids=[v.name for _, v in CORRECT_VARIANTS])
def test_correct_code_in_another_style_keeps_every_point_of_its_part(part, variant, tmp_path):
    """torch's own arrangement of Adam's bias corrections (eps after sqrt(v_hat), as pinned) and
    in-place buffers may not cost a point: only the order of float operations differs."""
    report = api.grade(variant.apply(SOLUTIONS, tmp_path / "s"), parts=[part])
    assert report.results and all(r.passed for r in report.results), [(r.id, r.message) for r in report.results
                                                                      if not r.passed]


EXACT_VARIANTS = [m for m in MUTATIONS if m.name in LOSES_EXACTLY]


def test_the_exact_variants_exist():
    assert len(EXACT_VARIANTS) == len(LOSES_EXACTLY)


@pytest.mark.parametrize("mutation", EXACT_VARIANTS, ids=[m.name for m in EXACT_VARIANTS])
def test_a_correct_plain_optimizer_loses_exactly_its_option_checks(mutation, tmp_path):
    """The review's case: options ignored, the plain algorithm right. Every plain check (trajectory,
    contract, validation, convergence, hidden defaults) passes; exactly the ignored options' checks
    (public and hidden) fail, each with its own hint (the corpus test checks the hints). Likewise the
    textbook momentum (lr inside the buffer) loses only the checks under a schedule."""
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=["optimizers"])
    failed = {result.id for result in report.results if not result.passed}
    assert failed == set(mutation.must_fail)
    assert report.max_score - report.score == len(mutation.must_fail)  # one point per concept


def trajectory_checks(spec):
    """The trajectory checks of ``spec``'s part as registered (public, options and hidden)."""
    return [check for check in UNITS["optimizers"].checks
            if check.part == f"optimizers.{spec.part}" and isinstance(check, unit.TrajectoryCheck)]


class _Reference:
    def function(self, module, name):
        return getattr(reference, name)


@pytest.mark.parametrize("spec", unit.SPECS, ids=[s.part for s in unit.SPECS])
def test_simulator_equals_the_reference_on_every_trajectory_case(spec):
    for check in trajectory_checks(spec):
        outputs = check.probe(_Reference())
        for index, case in enumerate(check.cases):
            x = case.inputs
            simulated = simulator.simulate(spec, x["options"], x["problem"], x["steps"], lrs=x.get("lrs"))
            assert np.all(np.isfinite(simulated))
            np.testing.assert_allclose(simulated, outputs[f"{index}/trajectory"], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("spec", unit.SPECS, ids=[s.part for s in unit.SPECS])
def test_every_promised_mistake_is_visible_in_some_public_case(spec):
    """A hint is only useful if its mistake changes some public trajectory beyond the tolerance."""
    cases = [case for check in unit._optimizer_checks(spec) if isinstance(check, unit.TrajectoryCheck)
             for case in check.cases]
    for mistake in spec.mistakes:
        visible = False
        for case in cases:
            x = case.inputs
            right = simulator.simulate(spec, x["options"], x["problem"], x["steps"], lrs=x.get("lrs"))
            wrong = simulator.simulate(spec, x["options"], x["problem"], x["steps"], mistake, lrs=x.get("lrs"))
            visible |= not unit.compare(wrong, right, unit.ITERATIVE).matches
        assert visible, mistake


def test_runs_are_not_chaotic_so_the_iterative_tolerance_is_fair():
    """A 1e-12 nudge of the start moves no trajectory (public, options, hidden) by more than 1e-10:
    rounding differences between two correct implementations cannot grow to the 1e-5 tolerance."""
    for spec in unit.SPECS:
        for case in [case for check in trajectory_checks(spec) for case in check.cases]:
            x = case.inputs
            nudged = unit.Problem(x["problem"].label, x["problem"].kind,
                                  tuple(a + 1e-12 for a in x["problem"].start), x["problem"].A,
                                  x["problem"].c, x["problem"].X, x["problem"].Y)
            a = simulator.simulate(spec, x["options"], x["problem"], x["steps"], lrs=x.get("lrs"))
            b = simulator.simulate(spec, x["options"], nudged, x["steps"], lrs=x.get("lrs"))
            assert np.max(np.abs(a - b)) < 1e-10, (spec.part, case.label)


def _grade_one(tmp_path, name, part):
    mutation = next(m for m in MUTATIONS if m.name == name)
    report = api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=[f"optimizers.{part}"])
    return results_by_id(report)


def test_missing_bias_correction_names_step_one_and_its_size(tmp_path):
    result = _grade_one(tmp_path, "Adam: bias correction missing", "adam")["optimizers.adam.trajectory"]
    assert "from step 1 on" in result.message
    ratio = (1 - 0.9) / np.sqrt(1 - 0.999)  # m and v without correction: step 1 is 3.16 times too long
    assert f"step 1 moved {ratio:.3g} times as far" in "\n".join(result.details)
    assert "still agrees after step 1: the update formula itself differs" in "\n".join(result.details)


def test_zero_started_momentum_buffer_names_the_drifted_state_variable(tmp_path):
    result = _grade_one(tmp_path, "Momentum: buffer started at zero (CS231n's v = 0)", "momentum")
    details = "\n".join(result["optimizers.momentum.dampening"].details)
    assert "state.momentum_buffer, after step 1" in details
    assert result["optimizers.momentum.trajectory"].passed  # without dampening the two agree


def test_hidden_trajectory_shows_the_hint_but_no_values(tmp_path):
    result = _grade_one(tmp_path, "NAG: written as plain momentum", "nag")["optimizers.nag.hidden"]
    assert not result.passed and "plain momentum" in result.hint
    lines = "\n".join(result.feedback_lines())
    assert "expected" not in lines and "quadratic" not in lines


def test_schedules_match_the_seed_recipe():
    optimizer = reference.SGD([np.zeros(1)], lr=0.1)
    schedule = reference.resnet_cifar_schedule(optimizer, epochs=100)
    values = [optimizer.lr]
    for _ in range(100):
        schedule.step()
        values.append(optimizer.lr)
    assert values[49] == 0.1 and values[50] == pytest.approx(0.01) and values[74] == pytest.approx(0.01)
    assert values[75] == pytest.approx(0.001) and values[100] == pytest.approx(0.001)
