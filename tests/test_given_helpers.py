"""The given (ungraded) helpers of the reference modules work and draw what they promise."""

import io

import numpy as np

from .conftest import load_reference

linear = load_reference("linear_model")


def test_given_learning_rate_plot_renders_and_marks_divergence():
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(6)
    X, Y = linear.make_regression_data(rng, n=40, d=2, k=1)
    with np.errstate(over="ignore", invalid="ignore"):
        ax = linear.plot_learning_rates(X, Y, learning_rates=(0.1, 3.0), steps=400)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0] == "lr = 0.1" and labels[1].startswith("lr = 3.0 (diverged at step")
    ax.figure.savefig(io.BytesIO(), format="png")
