"""Unit 5's given (ungraded) helpers: the exercise problems are what their docstrings say, and the
pictures render headless (Agg), return a matplotlib Figure and draw what they promise, also on the
stubs (where they say what is not implemented yet instead of crashing)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import sys
import warnings

import matplotlib
import numpy as np
import pytest

from .conftest import ASSIGNMENTS
from .test_unit_techniques import SOLUTION_MODULES, load_techniques

matplotlib.use("Agg")

from matplotlib.figure import Figure  # (after the backend is chosen)

techniques = load_techniques()


@contextlib.contextmanager
def stubs_importable():
    saved = {name: sys.modules.pop(name) for name in SOLUTION_MODULES if name in sys.modules}
    sys.path.insert(0, str(ASSIGNMENTS))
    try:
        yield
    finally:
        sys.path.remove(str(ASSIGNMENTS))
        for name in SOLUTION_MODULES:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def load_stubs():
    with stubs_importable():
        spec = importlib.util.spec_from_file_location("stub_techniques", ASSIGNMENTS / "techniques.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up in sys.modules
        spec.loader.exec_module(module)
    return module


def render(figure) -> None:
    figure.savefig(io.BytesIO(), format="png")


def labels(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_learning_rate_objective_has_an_interior_optimum_and_caps_divergence():
    objective = techniques.learning_rate_objective(1)
    low, high = techniques.LR_RANGE
    rates = np.logspace(math.log10(low), math.log10(high), 401)
    values = objective(rates)
    best = int(np.argmin(values))
    assert 50 < best < 350  # too small and too large learning rates are both worse
    assert values[0] > values[best] + 0.1 and values[-1] > values[best] + 0.05
    assert objective(float(rates[best])) == pytest.approx(values[best], rel=1e-12)
    assert np.isfinite(objective(1e3)) and objective(1e3) == objective(1e4)  # diverged: "no progress"


def test_unit_interval_maps_are_inverse_and_normal_helpers_are_right():
    for log_scale in (True, False):
        x = techniques.from_unit(np.linspace(0, 1, 11), 1e-3, 2.0, log_scale)
        assert x[0] == pytest.approx(1e-3) and x[-1] == pytest.approx(2.0)
        np.testing.assert_allclose(techniques.to_unit(x, 1e-3, 2.0, log_scale), np.linspace(0, 1, 11), atol=1e-14)
    np.testing.assert_allclose(techniques.normal_cdf([-1.959963984540054, 0.0, 1.0]), [0.025, 0.5, 0.8413447460685429])
    assert techniques.normal_pdf(0.0) == pytest.approx(1 / math.sqrt(2 * math.pi))


def test_random_feature_regressor_underfits_small_and_interpolates_large():
    X, y = techniques.curve_data(1)
    train, val = slice(0, 32), slice(32, 40)
    scores = {h: techniques.random_feature_regressor(h)(X[train], y[train], X[val], y[val]) for h in (1, 8, 64)}
    assert scores[8] < scores[1] and scores[8] < scores[64]


def test_ensemble_members_are_over_confident_layers_producing_logits():
    X, labels = techniques.spiral_data(60, 500)
    members = techniques.ensemble_members(X, labels, 3, 500)
    logits = members[0].forward(X)
    assert logits.shape == (60, 3) and isinstance(members[0], techniques.Layer)
    assert not np.array_equal(logits, members[1].forward(X))  # each member its own features and sample


def test_early_stopping_picture_marks_the_best_epoch_and_the_stop():
    curve = [1.0, 0.7, 0.5, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8]
    figure = techniques.plot_early_stopping(curve, patience=3, train_losses=np.linspace(1.0, 0.1, 9))
    assert isinstance(figure, Figure)
    assert labels(figure.axes[0]) == ["training loss", "validation loss", "best epoch 3", "stopped at epoch 6"]
    render(figure)


def test_cross_validation_picture_shows_the_u_shape_and_the_choice():
    figure = techniques.plot_cross_validation(hidden_sizes=(1, 2, 8, 32, 64), data_seed=12)
    assert isinstance(figure, Figure)
    assert "chosen: 8 hidden units" in labels(figure.axes[0])
    render(figure)


def test_bayesian_optimization_picture_draws_the_surrogate_and_both_searches():
    figure = techniques.plot_bayesian_optimization(n_evals=8)
    assert isinstance(figure, Figure)
    surface, progress = figure.axes[:2]
    assert labels(surface)[:2] == ["objective", "surrogate mean"]
    assert labels(progress) == ["Bayesian optimization", "random search", "best on the grid"]
    assert len(progress.get_lines()[0].get_xdata()) == 8
    render(figure)


@pytest.mark.parametrize("helper, kwargs", [
    ("plot_early_stopping", {"val_losses": [1.0, 0.5, 0.6, 0.7], "patience": 2}),
    ("plot_cross_validation", {}),
    ("plot_bayesian_optimization", {"n_evals": 5}),
])
def test_pictures_on_the_stubs_say_not_implemented_instead_of_crashing(helper, kwargs):
    stubs = load_stubs()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with stubs_importable():
            figure = getattr(stubs, helper)(**kwargs)
    assert [str(w.message) for w in caught] == []
    assert isinstance(figure, Figure)
    assert any("not implemented yet" in ax.get_title() for ax in figure.axes)
    render(figure)
