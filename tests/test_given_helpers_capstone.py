"""Unit 6's given (ungraded) helpers: the data loader and the confusion matrix are right, and the
pictures render headless (Agg), return a matplotlib Figure and draw what they promise, also on the
stubs (where they say what is not implemented yet instead of crashing).

The capstone imports the other units by their plain names (``from mlp import Linear``), so it runs
in a forked child here, as the grader runs it: importing it into the test process would put the
reference's ``mlp`` into ``sys.modules`` of every child forked later."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.data import digits_split
from autograder.sandbox import Implementation, Limits, Status, run_isolated

from .conftest import ASSIGNMENTS, SOLUTIONS


def _in_child(folder, body):
    """Runs ``body(capstone_module)`` in a forked child with matplotlib on Agg; returns its facts."""

    def task():
        import io
        import warnings

        import matplotlib

        matplotlib.use("Agg")
        module = Implementation(folder).module("capstone")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            facts = body(module, io.BytesIO)
        facts["warnings"] = "\n".join(str(w.message) for w in caught)
        return facts

    outcome = run_isolated(task, limits=Limits(timeout_s=120.0), student_folder=folder)
    assert outcome.status is Status.OK, outcome.message
    return outcome.outputs


def _render(figure, buffer_type) -> int:
    buffer = buffer_type()
    figure.savefig(buffer, format="png")
    return len(buffer.getvalue())


def _labels(axis) -> list[str]:
    return [line.get_label() for line in axis.get_lines() if not line.get_label().startswith("_")]


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    def body(capstone, _):
        counts = capstone.confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), n_classes=3)
        return {"counts": counts}

    counts = _in_child(SOLUTIONS, body)["counts"]
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def test_load_training_data_is_the_fixed_split_without_the_test_set():
    def body(capstone, _):
        X_train, y_train, X_val, y_val = capstone.load_training_data()
        return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}

    facts = _in_child(SOLUTIONS, body)
    split = digits_split()
    for name in ("X_train", "y_train", "X_val", "y_val"):
        np.testing.assert_array_equal(facts[name], getattr(split, name))
    assert facts["X_train"].shape == (1078, 64) and facts["X_val"].shape == (359, 64)


def test_pictures_of_a_trained_classifier():
    def body(capstone, buffer):
        model, history = capstone.train_on_digits(seed=0)
        _, _, X_val, y_val = capstone.load_training_data()
        curves = capstone.plot_training_curves(history)
        matrix = capstone.plot_confusion_matrix(model, X_val, y_val)
        wrong = capstone.plot_misclassified(model, X_val, y_val)
        predicted = capstone.predict_logits(model, X_val).argmax(axis=1)
        losses, accuracies = curves.axes
        return {
            "figure_types": " ".join(type(f).__name__ for f in (curves, matrix, wrong)),
            "bytes": min(_render(f, buffer) for f in (curves, matrix, wrong)),
            "loss_labels": "|".join(_labels(losses)), "accuracy_labels": "|".join(_labels(accuracies)),
            "loss_scale": losses.get_yscale(), "epochs": len(history.val_loss), "best_epoch": history.best_epoch,
            "matrix_images": len(matrix.axes[0].images), "matrix_texts": len(matrix.axes[0].texts),
            "matrix_title": matrix.axes[0].get_title(),
            "nonzero_cells": int(np.count_nonzero(capstone.confusion_matrix(y_val, predicted))),
            "wrong_images": sum(len(axis.images) for axis in wrong.axes),
            "wrong_count": int(np.sum(predicted != y_val)), "wrong_title": wrong._suptitle.get_text(),
        }

    facts = _in_child(SOLUTIONS, body)
    assert facts["warnings"] == ""
    assert facts["figure_types"] == "Figure Figure Figure" and facts["bytes"] > 1000
    best = f"best epoch {facts['best_epoch']}"
    assert facts["loss_labels"] == f"training loss (with smoothing)|validation loss|{best}"
    assert facts["accuracy_labels"] == f"validation accuracy|target 0.95|{best}"
    assert facts["loss_scale"] == "log" and 1 <= facts["epochs"] <= 40
    assert facts["matrix_images"] == 1 and facts["matrix_texts"] == facts["nonzero_cells"]
    assert facts["matrix_title"].startswith("confusion matrix: accuracy 0.9")
    assert facts["wrong_images"] == min(facts["wrong_count"], 24) > 0
    assert facts["wrong_title"].startswith(f"{facts['wrong_count']} of 359 digits misclassified")


def test_an_empty_history_draws_an_empty_picture():
    def body(capstone, buffer):
        figure = capstone.plot_training_curves(capstone.TrainingHistory())
        return {"title": figure.axes[0].get_title(), "bytes": _render(figure, buffer)}

    facts = _in_child(SOLUTIONS, body)
    assert facts["title"] == "no epochs in this history yet" and facts["bytes"] > 0


@pytest.mark.parametrize("helper", ["plot_confusion_matrix", "plot_misclassified"])
def test_pictures_on_the_stubs_say_not_implemented_instead_of_crashing(helper):
    def body(capstone, buffer):
        _, _, X_val, y_val = capstone.load_training_data()
        figure = getattr(capstone, helper)(object(), X_val, y_val)  # predict_logits is a stub
        return {"titles": "|".join(axis.get_title() for axis in figure.axes), "bytes": _render(figure, buffer),
                "type": type(figure).__name__}

    facts = _in_child(ASSIGNMENTS, body)
    assert facts["warnings"] == "" and facts["type"] == "Figure" and facts["bytes"] > 0
    assert "predict_logits is not implemented yet" in facts["titles"]


def test_training_curves_on_the_stubs_draw_a_given_history():
    def body(capstone, buffer):
        history = capstone.TrainingHistory(train_loss=[1.0, 0.6, 0.5], val_loss=[0.9, 0.5, 0.55],
                                           val_accuracy=[0.7, 0.9, 0.88], learning_rate=[0.01, 0.005, 0.0],
                                           best_epoch=1)
        figure = capstone.plot_training_curves(history)
        return {"lines": len(figure.axes[0].get_lines()), "bytes": _render(figure, buffer)}

    facts = _in_child(ASSIGNMENTS, body)
    assert facts["warnings"] == "" and facts["lines"] == 3 and facts["bytes"] > 0
