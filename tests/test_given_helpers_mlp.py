"""The given (ungraded) helpers of solutions/mlp.py work and draw what they promise; on the stubs
they still return a figure that says what is not implemented yet."""

import importlib.util
import io

import numpy as np
import pytest

from .conftest import ASSIGNMENTS, load_reference

mlp = load_reference("mlp")


@pytest.fixture(autouse=True)
def agg_backend():
    import matplotlib

    matplotlib.use("Agg")


def rendered(figure):
    from matplotlib.figure import Figure

    assert isinstance(figure, Figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")
    return figure


def test_universal_approximation_plot_shows_each_fit_beside_its_target():
    figure = rendered(mlp.plot_universal_approximation(steps=300))
    assert len(figure.axes) == len(mlp.TARGETS)
    for axis, (name, function) in zip(figure.axes, mlp.TARGETS.items()):
        target, fit = axis.get_lines()
        assert target.get_label() == f"target {name}(x)" and "MLP [1, 32, 1]" in fit.get_label()
        x, y = target.get_data()
        np.testing.assert_allclose(y, function(x))
        assert np.all(np.isfinite(fit.get_ydata())) and axis.get_title().startswith(f"{name}: MSE")


def test_activation_plot_draws_every_activation_and_its_derivative():
    figure = rendered(mlp.plot_activations())
    values, derivatives = figure.axes
    names = list(mlp.ACTIVATIONS)
    # the horizontal zero line comes last on each axis
    assert [line.get_label() for line in values.get_lines()[:-1]] == names
    assert [line.get_label() for line in derivatives.get_lines()[:-1]] == [f"{n}'" for n in names]
    relu_prime = dict(zip(names, derivatives.get_lines()))["relu"]
    x, y = relu_prime.get_data()
    np.testing.assert_array_equal(y, (x > 0).astype(float))  # backward(ones) is the derivative


def test_deep_training_plot_shows_the_residual_network_learning_and_the_plain_one_stalling():
    figure = rendered(mlp.plot_deep_training(steps=150))
    (axis,) = figure.axes
    plain, residual = axis.get_lines()
    assert plain.get_label() == "plain, depth 20" and residual.get_label() == "residual, depth 20"
    assert residual.get_ydata()[-1] < 0.5 * plain.get_ydata()[-1]


def test_helpers_on_the_stubs_say_what_is_not_implemented():
    spec = importlib.util.spec_from_file_location("stub_mlp", ASSIGNMENTS / "mlp.py")
    stubs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stubs)
    figures = (stubs.plot_universal_approximation(steps=5), stubs.plot_deep_training(steps=5),
               stubs.plot_activations())
    for figure in figures:
        assert any("not implemented yet" in axis.get_title() for axis in rendered(figure).axes)
    assert all(name in figures[2].axes[0].get_title() for name in stubs.ACTIVATIONS)


def test_train_mse_stops_when_the_loss_blows_up():
    X, Y = mlp.make_curve_data(np.sin, n=16)
    model = mlp.MLP([1, 8, 1], "relu", np.random.default_rng(0))
    with np.errstate(over="ignore", invalid="ignore"):
        losses = mlp.train_mse(model, X, 1e200 * Y, lr=1.0, steps=50)
    assert len(losses) < 50 and not np.isfinite(losses[-1]) and np.all(np.isfinite(losses[:-1]))


def test_curve_data_covers_minus_pi_to_pi():
    X, Y = mlp.make_curve_data(mlp.bumpy, n=5)
    np.testing.assert_allclose(X[:, 0], [-np.pi, -np.pi / 2, 0.0, np.pi / 2, np.pi])
    np.testing.assert_allclose(Y, np.sin(X) + 0.5 * np.sin(2 * X))
