"""Unit 4's given (ungraded) helpers: the test functions are right, and the pictures render (Agg),
return a matplotlib Figure and draw what they promise, also on the stubs."""

from __future__ import annotations

import importlib.util
import io
import sys
import warnings

import matplotlib
import numpy as np
import pytest

from .conftest import ASSIGNMENTS, load_reference

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402  (after the backend is chosen)

optimizers = load_reference("optimizers")


def load_stubs():
    spec = importlib.util.spec_from_file_location("stub_optimizers", ASSIGNMENTS / "optimizers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up in sys.modules
    spec.loader.exec_module(module)
    return module


def render(figure) -> None:
    figure.savefig(io.BytesIO(), format="png")


def labelled_lines(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]


@pytest.mark.parametrize("function", [optimizers.rosenbrock, optimizers.narrow_valley])
def test_test_functions_have_the_right_gradient_and_minimum(function):
    rng = np.random.default_rng(0)
    for _ in range(5):
        xy, h = rng.uniform(-1.5, 1.5, 2), 1e-6
        _, gradient = function(xy)
        numeric = [(function(xy + h * e)[0] - function(xy - h * e)[0]) / (2 * h) for e in np.eye(2)]
        np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-6)
    minimum = np.array([1.0, 1.0]) if function is optimizers.rosenbrock else np.zeros(2)
    assert function(minimum)[0] == 0.0 and np.all(function(minimum)[1] == 0.0)


def test_run_optimizer_returns_the_path_and_losses():
    path, losses = optimizers.run_optimizer(lambda p: optimizers.SGD(p, lr=0.1), optimizers.narrow_valley,
                                            (1.0, 0.0), steps=3)
    np.testing.assert_allclose(path[:, 0], 0.9 ** np.arange(4))
    np.testing.assert_allclose(losses, 0.5 * 0.81 ** np.arange(4))


def test_paths_figure_is_small_multiples_one_labelled_panel_per_optimizer_and_problem():
    names = list(optimizers.PICTURE_OPTIMIZERS)
    figure = optimizers.plot_paths(steps=50)
    assert isinstance(figure, Figure)
    axes = figure.axes
    assert len(axes) == 2 * len(names)  # rows of the Rosenbrock function, then of the narrow valley
    for index, ax in enumerate(axes):
        name = names[index % len(names)]
        assert labelled_lines(ax) == [name] and ax.get_title().startswith(f"{name}: loss ")
        assert ax.collections  # the contour lines
        star = [line for line in ax.get_lines() if line.get_marker() == "*"]
        minimum = optimizers.MINIMA["rosenbrock" if index < len(names) else "narrow_valley"]
        assert len(star) == 1 and (star[0].get_xdata()[0], star[0].get_ydata()[0]) == minimum
    assert [ax.get_xlabel() for ax in axes[4:8]] == ["x"] * 4 and [axes[0].get_ylabel(), axes[4].get_ylabel()] == ["y"] * 2
    assert [sub.get_suptitle().split(":")[0] for sub in figure.subfigs] == ["rosenbrock", "narrow valley"]
    adam = next(line for line in axes[names.index("Adam")].get_lines() if line.get_label() == "Adam")
    assert len(adam.get_xdata()) == 51 and (adam.get_xdata()[0], adam.get_ydata()[0]) == (-1.2, 1.0)
    render(figure)


def test_loss_curves_go_down_on_the_valley():
    figure = optimizers.plot_loss_curves("narrow_valley", steps=200)
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    assert labelled_lines(ax) == list(optimizers.PICTURE_OPTIMIZERS) and ax.get_yscale() == "log"
    for line in ax.get_lines():
        losses = np.asarray(line.get_ydata())
        assert losses[-1] < losses[0], line.get_label()
    render(figure)


def test_schedule_curves_follow_the_seed_recipe():
    curves = optimizers.schedule_curves(epochs=100, base_lr=0.1)
    recipe = curves["ResNet/CIFAR (x0.1 at 50%, 75%)"]
    np.testing.assert_allclose(recipe[[0, 49, 50, 74, 75, 100]], [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    np.testing.assert_allclose(curves["LinearWarmup(10)"][[0, 10, 100]], [0.1 / 3, 0.1, 0.1])
    np.testing.assert_allclose(curves["CosineAnnealingLR(100)"][[0, 50, 100]], [0.1, 0.05, 0.0], atol=1e-15)
    figure = optimizers.plot_schedules(epochs=100)
    assert isinstance(figure, Figure) and labelled_lines(figure.axes[0]) == list(curves)
    render(figure)


@pytest.mark.parametrize("helper", ["plot_paths", "plot_loss_curves", "plot_schedules"])
def test_pictures_on_the_stubs_say_not_implemented_instead_of_crashing(helper):
    kwargs = {"plot_schedules": {}}.get(helper, {"steps": 5})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = getattr(load_stubs(), helper)(**kwargs)
    assert [str(w.message) for w in caught] == []
    assert isinstance(figure, Figure)
    assert any("not implemented yet" in ax.get_title() for ax in figure.axes)
    render(figure)
