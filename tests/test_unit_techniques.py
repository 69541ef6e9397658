"""Unit 5 (training techniques): every buggy variant in the corpus loses points with the hint a student
needs (full marks for the reference and 0 for the stubs: tests/test_units.py); the grader's trusted
re-implementations (used for hints and to recompute Bayesian-optimization steps) equal the reference;
the statistical and demonstrative checks hold for every correct implementation, whatever order it
draws its random numbers in; hidden checks show hints but no values."""

from __future__ import annotations

import contextlib
import math
import sys

import numpy as np
import pytest

from autograder import api
from autograder.units import UNITS
from autograder.units import techniques as unit
from autograder.units.hidden import techniques as hidden
from autograder.units.instructor import techniques as instructor

from .conftest import SOLUTIONS, assert_caught_with_hints, load_reference, results_by_id
from .corpus.techniques import MUTATIONS

PARTS = ["dropout", "batchnorm", "set_training", "early_stopping", "kfold", "cross_validation", "mixup",
         "weight_decay", "ensemble", "surrogate", "search"]
#: the solution modules the reference imports by their plain names
SOLUTION_MODULES = ("mlp", "optimizers", "techniques")


@contextlib.contextmanager
def solutions_importable():
    """solutions/ on sys.path while the block runs (techniques imports mlp, and optimizers when
    weight_decay_paths runs), and afterwards no plain-named solution module left in sys.modules,
    where forked sandbox children would find it instead of a submission's own file."""
    saved = {name: sys.modules.pop(name) for name in SOLUTION_MODULES if name in sys.modules}
    sys.path.insert(0, str(SOLUTIONS))
    try:
        yield
    finally:
        sys.path.remove(str(SOLUTIONS))
        for name in SOLUTION_MODULES:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def load_techniques():
    with solutions_importable():
        return load_reference("techniques")


reference = load_techniques()


class ReferenceImpl:
    """The reference as an Implementation, in-process (for probes run by the tests themselves)."""

    def function(self, module, name):
        return getattr(reference, name)


def probe(check):
    with solutions_importable():
        return check.probe(ReferenceImpl())


# ----------------------------------------------------------------------------- the unit's shape


def test_unit_parts_points_and_split():
    techniques = UNITS["techniques"]
    assert techniques.parts == [f"techniques.{part}" for part in PARTS]
    assert sum(check.points for check in techniques.checks) == 88
    points = {part: sum(c.points for c in techniques.checks if c.part == f"techniques.{part}") for part in PARTS}
    assert points == {"dropout": 11, "batchnorm": 18, "set_training": 2, "early_stopping": 7, "kfold": 7,
                      "cross_validation": 6, "mixup": 8, "weight_decay": 7, "ensemble": 6, "surrogate": 8,
                      "search": 8}
    assert {check.part for check in hidden.CHECKS} == {f"techniques.{part}" for part in PARTS} - {
        "techniques.set_training"}


def test_every_dependency_names_a_registered_part():
    parts = {part for registered in UNITS.values() for part in registered.parts}
    for check in UNITS["techniques"].checks:
        assert set(check.depends_on) <= parts, (check.id, set(check.depends_on) - parts)


def test_constants_shared_with_the_students_file():
    for name, value in unit.SHARED_CONSTANTS.items():
        assert getattr(reference, name) == value, name


# ----------------------------------------------------------------------------- the corpus


def _parts(mutation) -> list[str]:
    return sorted({check_id.rsplit(".", 1)[0] for check_id in mutation.must_fail})


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_buggy_variant_loses_points_with_the_right_hint(mutation, tmp_path):
    assert_caught_with_hints(mutation, tmp_path, parts=_parts(mutation))


def test_corpus_is_large_and_covers_every_part():
    assert len(MUTATIONS) >= 20
    assert {part.split(".")[1] for mutation in MUTATIONS for part in _parts(mutation)} == set(PARTS)


def _grade_one(tmp_path, name, parts):
    mutation = next(m for m in MUTATIONS if m.name == name)
    return results_by_id(api.grade(mutation.apply(SOLUTIONS, tmp_path / "s"), parts=parts))


def test_hidden_checks_show_the_hint_but_no_values(tmp_path):
    results = _grade_one(tmp_path, "Dropout: p taken as the keep probability", ["techniques.dropout"])
    result = results["techniques.dropout.hidden"]
    assert not result.passed and "probability of dropping" in result.hint.lower()
    lines = "\n".join(result.feedback_lines())
    assert "0.3" not in lines and "0.65" not in lines and "kept" not in lines
    assert "with p=0.2" in results["techniques.dropout.keep_rate"].message  # the public one says it


def test_bo_step_feedback_names_the_evaluation_and_both_points(tmp_path):
    results = _grade_one(tmp_path, "bayesian_optimization: takes the smallest expected improvement",
                         ["techniques.search"])
    result = results["techniques.search.bo_steps"]
    assert "evaluation 4 is not the grid point of largest expected improvement given the 3 before it" in result.message
    assert any(line.startswith("your point: x = ") and "largest EI at x = " in line for line in result.details)


# ----------------------------------------------------------------------------- trusted re-implementations


def _bn_reference(x, training_batches=True):
    layer = reference.BatchNorm1d(x["X"].shape[1], eps=x["eps"], momentum=x["momentum"])
    layer.gamma, layer.beta = x["gamma"].copy(), x["beta"].copy()
    return layer


@pytest.mark.parametrize("case", unit._bn_public + list(hidden.CHECKS[1].cases), ids=lambda c: c.label or "hidden")
def test_batchnorm_simulator_equals_the_reference(case):
    x = case.inputs
    Y, _, _, X_hat, inv_std = instructor._bn_train_forward(x)
    layer = _bn_reference(x)
    np.testing.assert_allclose(layer.forward(x["X"]), Y, rtol=1e-12, atol=1e-12)
    dX, dgamma, dbeta = instructor._bn_backward(x["dY"], X_hat, inv_std, x["gamma"], True)
    np.testing.assert_allclose(layer.backward(x["dY"]), dX, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.dgamma, dgamma, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.dbeta, dbeta, rtol=1e-12, atol=1e-12)
    running = _bn_reference(x)
    for batch in x["batches"]:
        running.forward(batch)
    np.testing.assert_allclose(running.running_mean, instructor._bn_running(x)[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(running.running_var, instructor._bn_running(x)[1], rtol=1e-12)
    running.training = False
    evaluated = instructor._bn_eval(x)
    np.testing.assert_allclose(running.forward(x["X_eval"]), evaluated["Y"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(running.backward(x["dY_eval"]), evaluated["dX"], rtol=1e-12, atol=1e-12)


def test_early_stopping_simulator_equals_the_reference():
    for case in unit._early_public + list(hidden.CHECKS[2].cases):
        x = case.inputs
        expected = instructor._simulate_early_stopping(x["curve"], x["patience"], x["min_delta"])
        outputs = unit._call_early_stopping(ReferenceImpl(), x)
        np.testing.assert_array_equal([outputs[name] for name in unit.EARLY_STOPPING_OUTPUTS], expected)


def test_every_early_stopping_mistake_changes_some_public_curve():
    for mistake in ("ties", "patience_late", "min_delta_ignored", "min_delta_sign", "no_reset", "one_based_best"):
        simulate = instructor._simulate_early_stopping
        assert any(not np.array_equal(simulate(c.inputs["curve"], c.inputs["patience"], c.inputs["min_delta"], mistake),
                                      simulate(c.inputs["curve"], c.inputs["patience"], c.inputs["min_delta"]))
                   for c in unit._early_public), mistake


def test_weight_decay_simulator_equals_the_reference():
    for case in unit._wd_public:
        with solutions_importable():
            paths = unit._call_wd_paths(ReferenceImpl(), case.inputs)
        for run, path in instructor._trusted_paths(case.inputs).items():
            np.testing.assert_allclose(paths[run], path, rtol=1e-12, atol=1e-14, err_msg=run)


def test_gaussian_process_and_ei_simulators_equal_the_reference():
    for seed in range(20):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, 15))
        z = rng.uniform(0.0, 1.0, n)
        y = rng.standard_normal(n)
        query = np.linspace(0.0, 1.0, 101)
        mean, variance = reference.gp_posterior(z, y, query)
        ours = unit._gp(z, y, query)
        np.testing.assert_allclose(ours[0], mean, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(ours[1], variance, rtol=1e-6, atol=1e-8)
        ei = reference.expected_improvement(mean, variance, float(y.min()), xi=0.01 * seed)
        np.testing.assert_allclose(unit._ei(mean, variance, float(y.min()), 0.01 * seed), ei, rtol=1e-12, atol=1e-15)
    for case in [*unit.SURROGATE_CHECKS[1].cases]:
        x = case.inputs
        mean, variance = reference.gp_posterior(x["z_train"], x["y_train"], x["z_query"], x["length_scale"], x["noise"])
        ours = unit._gp(x["z_train"], x["y_train"], x["z_query"], x["length_scale"], x["noise"])
        np.testing.assert_allclose(ours[0], mean, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours[1], variance, rtol=1e-9, atol=1e-12)


def test_every_surrogate_mistake_is_visible_in_its_public_cases():
    kernel, gp, ei = unit.SURROGATE_CHECKS[0], unit.SURROGATE_CHECKS[1], unit.SURROGATE_CHECKS[2]
    for check, mistakes in ((kernel, unit.KERNEL_MISTAKES), (gp, unit.GP_MISTAKES), (ei, unit.EI_MISTAKES)):
        outputs = probe(check)
        for mistake in mistakes:
            visible = False
            for index, case in enumerate(check.cases):
                expected = outputs[f"{index}/{mistake.output}"]
                try:
                    wrong = np.asarray(mistake.wrong_answer(case.inputs, expected), dtype=np.float64)
                except np.linalg.LinAlgError:  # without the noise, a repeated point makes K singular
                    continue
                visible |= not unit.compare(wrong, expected).matches
            assert visible, mistake.hint


def test_grader_copies_of_the_given_helpers_equal_the_students_copies():
    for seed in (1, 3):
        for ours, theirs in zip(unit._curve_data(seed), reference.curve_data(seed)):
            np.testing.assert_array_equal(ours, theirs)
    X, y = unit._curve_data(1)
    for hidden_units in (1, 8, 64):
        assert unit._random_feature_regressor(hidden_units)(X[:30], y[:30], X[30:], y[30:]) == \
            reference.random_feature_regressor(hidden_units)(X[:30], y[:30], X[30:], y[30:])
    for ours, theirs in zip(unit._spiral_data(60, 500), reference.spiral_data(60, 500)):
        np.testing.assert_array_equal(ours, theirs)
    X, labels = unit._spiral_data(60, 500)
    members = reference.ensemble_members(X, labels, unit.ENSEMBLE_MEMBERS, 500)
    _, _, ours, _ = unit._ensemble_problem(500)
    for mine, theirs in zip(ours, members):
        np.testing.assert_array_equal(mine.forward(X), theirs.forward(X))
    rates = np.logspace(-4, 0, 50)
    for seed in (1, 7):
        np.testing.assert_array_equal(unit._lr_objective(seed)(rates), reference.learning_rate_objective(seed)(rates))
    for z in (0.0, 0.37, 1.0):
        for log_scale in (True, False):
            x = reference.from_unit(z, 1e-3, 2.0, log_scale)
            assert unit._from_unit(z, 1e-3, 2.0, log_scale) == x
            assert math.isclose(unit._to_unit(x, 1e-3, 2.0, log_scale), reference.to_unit(x, 1e-3, 2.0, log_scale))


# ----------------------------------------------------------------------------- statistics and demonstrations


def test_dropout_statistics_pass_for_correct_layers_drawing_in_other_orders():
    """Correct dropout drawn differently (uniforms compared the other way round, a transposed draw,
    Bernoulli via rng.binomial) passes every statistical check; torch's own masks do too
    (tests/test_torch_oracle_techniques.py)."""
    draws = {
        "1 - u < 1 - p": lambda rng, shape, p: (1.0 - rng.random(shape)) < 1.0 - p,
        "transposed": lambda rng, shape, p: (rng.random(shape[::-1]) >= p).T,
        "binomial": lambda rng, shape, p: rng.binomial(1, 1.0 - p, shape).astype(bool),
    }
    checks = unit.DROPOUT_CHECKS[:3] + (unit.DROPOUT_CHECKS[4],) + (hidden.CHECKS[0],)
    for name, draw in draws.items():
        for check in checks:
            x = check.case.inputs
            facts = {}
            for index, case in enumerate(x["cases"]):
                X = unit._dropout_input(case["seed"], x["shape"])
                mask = draw(np.random.default_rng(case["seed"] + 7), X.shape, case["p"]) / (1.0 - case["p"])
                facts[f"{index}/Y"] = X * mask
                facts[f"{index}/dX"] = np.random.default_rng(case["seed"] + 2).standard_normal(X.shape) * mask
            assert check.judge(facts, None).passed, (name, check.id)


def test_mixup_lambda_statistics_pass_for_other_correct_conventions():
    """lam * x[perm] + (1 - lam) * x (the roles swapped) and lam drawn as 1 - Beta: still correct."""
    check = unit.MIXUP_CHECKS[2]
    x = check.case.inputs
    facts = {}
    for index, (seed, alpha) in enumerate(x["settings"]):
        rng = np.random.default_rng(seed + 100)
        eye = np.eye(x["N"])
        mixes = []
        for _ in range(x["calls"]):
            lam = 1.0 - rng.beta(alpha, alpha)
            mixes.append(lam * eye[rng.permutation(x["N"])] + (1.0 - lam) * eye)
        facts[f"{index}/mixes"] = np.array(mixes)
    assert check.judge(facts, None).passed


def test_cross_validation_picks_8_hidden_units_on_the_pinned_split_and_almost_any_other():
    """With the docstring's folds (rng.permutation, consecutive slices) the demonstration's answer is
    fixed; implementations that shuffle another way get 8 too, from all but a rare split."""
    check = unit.CROSS_VALIDATION_CHECKS[2]
    assert check.judge(probe(check), None).passed
    x = check.case.inputs
    X, y = unit._curve_data(x["data_seed"], x["n"])
    others = 0
    for seed in range(200):
        folds = np.array_split(np.random.default_rng(seed + 1000).permutation(len(X)), x["k"])
        means = []
        for hidden_units in x["sizes"]:
            score = unit._random_feature_regressor(hidden_units)
            means.append(np.mean([score(np.delete(X, f, 0), np.delete(y, f), X[f], y[f]) for f in folds]))
        others += x["sizes"][int(np.argmin(means))] != 8
    assert others <= 1


def test_the_ensemble_beats_every_member_on_held_out_data():
    X_test, labels, members, member_P = unit._ensemble_problem(500)
    P = reference.Ensemble(members).predict_proba(X_test)
    verdict = unit._assess_beats_members({"P": P}, {"seed": 500})
    assert verdict.passed, verdict.message
    assert unit._nll(P, labels) < 0.7 * min(unit._nll(Q, labels) for Q in member_P)


@pytest.mark.parametrize("objective_seed", [1, hidden.CHECKS[-1].case.inputs["objective_seed"]])
def test_bayesian_optimization_finds_the_optimum_from_any_initial_design(objective_seed):
    """Every BO step after the initial points is determined; only the initial points depend on the
    student's random draws. From 40 random initial designs BO always reaches the tolerance within the
    budget, while random search needs 1 / chance (= 40) evaluations on average."""
    objective = unit._lr_objective(objective_seed)
    low, high = unit.LR_RANGE
    grid = np.linspace(0.0, 1.0, unit.GRID_SIZE)
    _, chance = unit._lr_optimum(objective_seed)
    assert round(1.0 / chance) == 40
    worst = 0
    for design in range(40):
        z = list(np.random.default_rng(design + 2000).uniform(0.0, 1.0, 3))
        ys = [float(objective(unit._from_unit(v, low, high, True))) for v in z]
        while len(z) < unit.BO_BUDGET:
            y = unit._standardised(np.array(ys))
            mean, variance = unit._gp(np.array(z), y, grid)
            z.append(grid[int(np.argmax(unit._ei(mean, variance, float(y.min()))))])
            ys.append(float(objective(unit._from_unit(z[-1], low, high, True))))
        found = unit._evaluations_to_optimum(unit._from_unit(np.array(z), low, high, True), np.array(ys), objective_seed)
        assert found is not None, design
        worst = max(worst, found)
    assert worst <= 12  # random search: 40 on average


def test_reference_bo_equals_the_graders_recomputed_steps():
    check = unit.SEARCH_CHECKS[1]
    facts = probe(check)
    for index, config in enumerate(check.case.inputs["configs"]):
        problem, xs, truth = unit._history_problem(facts, f"{index}/", config)
        assert problem is None
        assert unit._bo_step_problem(xs, truth, config) is None
