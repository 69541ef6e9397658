"""Unit 3's given (ungraded) helpers: the data and training loops behave as the exercises say, and
the pictures render (Agg), return a matplotlib Figure and draw what they promise, also on stubs."""

from __future__ import annotations

import importlib.util
import io
import warnings

import matplotlib
import numpy as np
import pytest

from .conftest import ASSIGNMENTS, load_reference

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.figure import Figure  # noqa: E402

losses = load_reference("losses")


def load_stubs():
    """assignments/losses.py, the file students start from, under a private name."""
    spec = importlib.util.spec_from_file_location("stub_losses", ASSIGNMENTS / "losses.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(figure) -> None:
    figure.savefig(io.BytesIO(), format="png")
    plt.close(figure)


def labelled_lines(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]


def line_endpoints(ax, label):
    line = next(line for line in ax.get_lines() if line.get_label() == label)
    return np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)


def test_outlier_data_has_the_promised_outliers():
    data = losses.make_outlier_data(np.random.default_rng(0), n=60, outlier_fraction=0.15, push=8.0)
    assert data.x.shape == data.y.shape == data.is_outlier.shape == (60,)
    assert data.is_outlier.sum() == 9
    residual = data.y - (data.w * data.x + data.b)
    assert np.all(residual[data.is_outlier] > 7.0) and np.all(np.abs(residual[~data.is_outlier]) < 0.5)


def test_outlier_fits_plot_marks_outliers_and_l1_stays_closer_than_l2():
    data = losses.make_outlier_data(np.random.default_rng(0))
    figure = losses.plot_outlier_fits(data)
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    assert labelled_lines(ax) == ["true line", "L2 (MSE) fit", "L1 fit", "Huber fit"]
    outliers = next(c for c in ax.collections if c.get_label() == "outliers")
    np.testing.assert_array_equal(outliers.get_offsets()[:, 0], data.x[data.is_outlier])
    _, true_y = line_endpoints(ax, "true line")
    gap = {label: np.max(np.abs(line_endpoints(ax, label)[1] - true_y)) for label in ("L2 (MSE) fit", "L1 fit")}
    assert gap["L1 fit"] < 0.25 < 0.75 < gap["L2 (MSE) fit"]
    render(figure)


def test_losses_of_residual_plot_draws_each_loss_and_its_derivative():
    figure = losses.plot_losses_of_residual(delta=1.0, r_max=3.0, points=241)
    assert isinstance(figure, Figure)
    left, right = figure.axes
    names = ["MSE (L2)", "L1", "Huber, delta=1"]
    assert labelled_lines(left) == labelled_lines(right) == names
    r, mse_slope = line_endpoints(right, "MSE (L2)")
    np.testing.assert_allclose(mse_slope, 2 * r, atol=1e-12)
    _, l1_slope = line_endpoints(right, "L1")
    np.testing.assert_array_equal(l1_slope, np.sign(r))  # 0 at r = 0, which is on the grid
    assert l1_slope[120] == 0.0 and r[120] == 0.0
    _, huber_slope = line_endpoints(right, "Huber, delta=1")
    np.testing.assert_allclose(huber_slope, np.clip(r, -1.0, 1.0), atol=1e-12)
    _, mse_value = line_endpoints(left, "MSE (L2)")
    np.testing.assert_allclose(mse_value, r**2, atol=1e-12)
    render(figure)


@pytest.mark.parametrize("helper", ["plot_outlier_fits", "plot_losses_of_residual"])
def test_pictures_on_the_stubs_say_not_implemented_instead_of_crashing(helper):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = getattr(load_stubs(), helper)()
    assert [str(w.message) for w in caught] == []  # nothing on stderr for a student starting out
    assert isinstance(figure, Figure)
    titles = [ax.get_title() for ax in figure.axes] + [text.get_text() for text in figure.texts]
    assert any("not implemented yet" in title for title in titles)
    render(figure)


def test_learned_variance_tracks_the_noise_level():
    data = losses.make_heteroscedastic_data(np.random.default_rng(810))
    fit = losses.fit_heteroscedastic(losses.GaussianNLLLoss(), data.x, data.y, lr=0.2, steps=300)
    grid = np.linspace(-1, 1, 21)
    assert np.max(np.abs(np.log(fit.std(grid) / data.std(grid)))) < np.log(1.25)
    assert fit.losses[-1] < fit.losses[0]

