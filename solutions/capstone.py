"""Unit 6 - capstone: a handwritten-digit classifier (손글씨 숫자 분류) built from your own parts.

Everything you wrote so far comes together here: your ``Linear`` layers and activations (Unit 2),
your cross-entropy (Unit 3), your optimizer and learning-rate schedule (Unit 4), and your dropout
and early stopping (Unit 5) train a multi-layer perceptron on real data, the UCI handwritten digits
(8x8 grey images of the digits 0-9; the data section below says where they come from).

The grade is the note's real question about a model: how well does it do on data it never saw?
The grader trains your classifier on a fixed training set (학습 세트), lets it watch a validation
set (검증 세트) for early stopping (조기 종료), and then, only after training, asks it to classify
a held-out test set (테스트 세트) whose labels never reach your code. The target: at least
``TARGET_ACCURACY`` = 95% of the test digits right, within ``EPOCH_BUDGET`` = 40 epochs. The recipe
below (the constants) reaches about 98% in well under a second.

The contract every function here shares:

* Rows are samples: ``X`` is ``(N, 64)`` float64, the 8x8 pixels row by row, scaled to [0, 1];
  labels ``y`` are ``(N,)`` integers 0..9; logits are ``(N, 10)``, one score per class.
* Build everything from your own modules (``from mlp import Linear`` etc., as the imports below
  do); the course forbids torch and friends.
* All randomness (initial weights, dropout masks, the order of the mini-batches) comes from the
  ``numpy.random.Generator`` passed in: the same seed gives the same classifier.
* Nothing modifies the arrays it is given.
* A model is in training mode (dropout drops) while it trains, and in evaluation mode (dropout is
  the identity) whenever it is evaluated or predicts: :func:`predict_logits` switches it.

The data: E. Alpaydin and C. Kaynak (1998), Optical Recognition of Handwritten Digits, UCI Machine
Learning Repository, https://doi.org/10.24432/C50P49, licensed CC BY 4.0 (the 1797 digits that
scikit-learn bundles as ``load_digits``). The course ships them inside its grader package
(``autograder/data/digits.npz``): nothing is downloaded. :func:`load_training_data` gives you the
training and validation sets; the test set stays with the grader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from losses import CrossEntropyLoss
from mlp import Layer, Linear, ReLU, Sequential
from optimizers import Adam, CosineAnnealingLR
from techniques import Dropout, EarlyStopping, set_training

N_FEATURES = 64
N_CLASSES = 10

#: The parts of Units 2 to 5 the recipe below builds on (imported above): all of them your own code.
RECIPE_PARTS = (Linear, ReLU, Sequential, Dropout, set_training, CrossEntropyLoss, Adam, CosineAnnealingLR,
                EarlyStopping)

#: What the grader asks: at least this fraction of the held-out test digits classified correctly ...
TARGET_ACCURACY = 0.95
#: ... by a model trained with ``train_digits_classifier(..., epochs=EPOCH_BUDGET)``.
EPOCH_BUDGET = 40

# A recipe that works (about 98% test accuracy). Change it if you like; the grader only looks at
# what your classifier does.
#: 128, not more: a batch of 32 through Linear(64, 128) is a small enough product for numpy's BLAS to
#: compute on one thread; larger ones use two, which on a busy shared machine can be ten times slower.
HIDDEN_UNITS = 128
DROPOUT_P = 0.2
BATCH_SIZE = 32
LEARNING_RATE = 1e-2
#: Unit 3's label smoothing, for the training loss only (validation uses the plain cross-entropy).
LABEL_SMOOTHING = 0.1
#: Early stopping's patience, in epochs.
PATIENCE = 6


@dataclass
class TrainingHistory:
    """What happened in each epoch of :func:`train_digits_classifier`, one entry per epoch run.

    Attributes:
        train_loss: the mean training loss of the epoch, as :func:`train_one_epoch` returns it.
        val_loss: the validation loss after the epoch, from :func:`evaluate` (evaluation mode, plain
            cross-entropy).
        val_accuracy: the validation accuracy after the epoch, from :func:`evaluate`.
        learning_rate: the optimizer's learning rate during the epoch (read before the epoch).
        best_epoch: the 0-based index of the epoch whose weights the returned model holds (the
            epoch of the lowest validation loss); -1 until training ends.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    best_epoch: int = -1


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


def build_model(rng: np.random.Generator) -> Sequential:
    """The classifier: an MLP from your own layers, with dropout (or batch normalization).

    The recipe: ``Linear(64, HIDDEN_UNITS)``, ``ReLU``, ``Dropout(DROPOUT_P)``, ``Linear(HIDDEN_UNITS, 10)``,
    in a ``Sequential``; the Linear layers draw their (He) initial weights from ``rng`` and the
    dropout layer its masks. No softmax at the end: the outputs are logits, and the cross-entropy
    applies the softmax itself.

    Args:
        rng: the generator of every random number the model will use.

    Returns:
        A model mapping (N, 64) to (N, 10) logits, in training mode (new layers are).
    """
    # Hint: Sequential(Linear(...), ReLU(), Dropout(...), Linear(...)); pass rng to each layer that draws.
    ### BEGIN SOLUTION
    return Sequential(
        Linear(N_FEATURES, HIDDEN_UNITS, rng),
        ReLU(),
        Dropout(DROPOUT_P, rng),
        Linear(HIDDEN_UNITS, N_CLASSES, rng),
    )
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# Mini-batches (미니배치)
# ---------------------------------------------------------------------------------------------


def iterate_minibatches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The mini-batches of one epoch, as index arrays into a data set of ``n`` samples.

    A fresh random order of ``0 .. n-1`` (a permutation drawn from ``rng``), cut into consecutive
    pieces of ``batch_size``; the last piece holds what is left (it may be smaller). Every sample
    appears in exactly one batch. Shuffling matters: the grader may hand you the training set
    sorted by class, and a model that sees all the 0s, then all the 1s, ..., forgets the early
    classes by the end of each epoch.

    Args:
        n: the number of samples.  batch_size: the largest batch, >= 1.  rng: draws the order.

    Returns:
        A list of int arrays; concatenated, they are a permutation of ``np.arange(n)``.
    """
    # Hint: rng.permutation(n), then slices [start:start + batch_size] for start in range(0, n, batch_size).
    ### BEGIN SOLUTION
    order = rng.permutation(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# Evaluation (평가): logits, accuracy, loss
# ---------------------------------------------------------------------------------------------


def predict_logits(model: Layer, X: np.ndarray) -> np.ndarray:
    """The model's logits for ``X``, in evaluation mode.

    Switches the model to evaluation mode first (your ``set_training`` with ``training=False``): dropout then
    keeps every unit and the prediction is deterministic, the same for a sample whatever else is
    in the batch. The model stays in evaluation mode afterwards.

    Args:
        model: a trained (or new) model.  X: (N, 64) inputs.

    Returns:
        (N, 10) logits.
    """
    # Hint: two lines: set_training, then forward.
    ### BEGIN SOLUTION
    set_training(model, False)
    return model.forward(X)
    ### END SOLUTION


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    """The fraction of rows whose largest logit is the true class: a Python float in [0, 1].

    Args:
        logits: (N, C) class scores.  y: (N,) integer labels.
    """
    # Hint: np.argmax along the class axis (axis=1), compare with y, take the mean.
    ### BEGIN SOLUTION
    predicted = logits.argmax(axis=1)
    return float(np.count_nonzero(predicted == y) / y.shape[0])
    ### END SOLUTION


def evaluate(model: Layer, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``(loss, accuracy)`` of ``model`` on ``(X, y)`` in evaluation mode.

    The loss is the plain mean cross-entropy of :func:`predict_logits`'s logits (your
    ``CrossEntropyLoss()``, no label smoothing, so that losses of different models and recipes
    compare); the accuracy is :func:`accuracy` of the same logits.

    Args:
        model: the model.  X: (N, 64) inputs.  y: (N,) labels.

    Returns:
        Two Python floats.
    """
    # Hint: one predict_logits call; CrossEntropyLoss().forward(logits, y) and accuracy(logits, y).
    ### BEGIN SOLUTION
    logits = predict_logits(model, X)
    return CrossEntropyLoss().forward(logits, y), accuracy(logits, y)
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# Training (학습)
# ---------------------------------------------------------------------------------------------


def train_one_epoch(model: Layer, loss_function, optimizer, X: np.ndarray, y: np.ndarray, batch_size: int,
                    rng: np.random.Generator) -> float:
    """One pass over the training data in shuffled mini-batches; returns the epoch's mean loss.

    Puts the model in training mode (``set_training`` with ``training=True``), then for each batch
    of :func:`iterate_minibatches`: forward, loss, backward of the loss's gradient, and one optimizer
    step with the model's gradients (``model.gradients()``).

    Args:
        model: the model (its parameters are the optimizer's).
        loss_function: e.g. your ``CrossEntropyLoss``: ``forward(logits, y)`` and ``backward()``.
        optimizer: e.g. your ``Adam`` built on ``model.parameters()``.
        X: (N, 64) training inputs.  y: (N,) labels.  batch_size: the batch size.
        rng: draws the order of the batches.

    Returns:
        The mean over the epoch's N samples of the loss, a Python float: each batch's loss (a mean
        over that batch) weighted by the batch's size, so a smaller last batch counts less.
    """
    # Hint: keep a running sum of loss * len(batch); divide by N at the end.
    ### BEGIN SOLUTION
    set_training(model, True)
    total = 0.0
    for batch in iterate_minibatches(y.shape[0], batch_size, rng):
        logits = model.forward(X[batch])
        total += loss_function.forward(logits, y[batch]) * batch.shape[0]
        model.backward(loss_function.backward())
        optimizer.step(model.gradients())
    return float(total / y.shape[0])
    ### END SOLUTION


def train_digits_classifier(X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                            rng: np.random.Generator, epochs: int = EPOCH_BUDGET) -> tuple[Layer, TrainingHistory]:
    """Trains :func:`build_model` on the training set, with early stopping on the validation set.

    The recipe (the constants at the top of the file):

    * the model from ``build_model(rng)``; ``Adam(model.parameters(), lr=LEARNING_RATE)``;
      ``CosineAnnealingLR(optimizer, T_max=epochs)``; ``CrossEntropyLoss(LABEL_SMOOTHING)`` for
      training; ``EarlyStopping(PATIENCE)``;
    * each epoch: record the optimizer's lr, :func:`train_one_epoch` (batches of ``BATCH_SIZE``),
      one step of the schedule, then :func:`evaluate` on the validation set, and
      ``early_stopping.step(val_loss, model.parameters())``; stop when it says so;
    * at most ``epochs`` epochs. Afterwards restore the best epoch's weights
      (``early_stopping.restore``) and set ``history.best_epoch``; return the model in evaluation mode.

    The validation set only *watches* training (early stopping, the history): it never takes a
    training step. The test set never comes here at all.

    With ``BatchNorm1d`` in the model, its running statistics belong to the best epoch's model too,
    and they are not parameters: let early stopping keep and restore them with the weights, e.g.
    ``model.parameters() + [bn.running_mean, bn.running_var]`` (Unit 5's BatchNorm1d updates them
    in place, so ``restore`` reaches them).

    Args:
        X_train: (N, 64), y_train: (N,): the training set, in any order (maybe sorted by class).
        X_val: (M, 64), y_val: (M,): the validation set.
        rng: the generator of everything random (weights, dropout, batch order).
        epochs: the largest number of epochs to run (the grader passes ``EPOCH_BUDGET``).

    Returns:
        ``(model, history)``: the model with the weights of its best epoch, and a
        :class:`TrainingHistory` with one entry per epoch run.
    """
    # Hint: one loop over range(epochs); `if early_stopping.step(...): break`; restore after the loop.
    ### BEGIN SOLUTION
    model = build_model(rng)
    parameters = model.parameters()
    optimizer = Adam(parameters, lr=LEARNING_RATE)
    schedule = CosineAnnealingLR(optimizer, T_max=epochs)
    training_loss = CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)
    early_stopping = EarlyStopping(PATIENCE)
    history = TrainingHistory()
    for _ in range(epochs):
        history.learning_rate.append(optimizer.lr)
        history.train_loss.append(
            train_one_epoch(model, training_loss, optimizer, X_train, y_train, BATCH_SIZE, rng))
        schedule.step()
        val_loss, val_accuracy = evaluate(model, X_val, y_val)
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_accuracy)
        if early_stopping.step(val_loss, parameters):
            break
    early_stopping.restore(parameters)
    history.best_epoch = early_stopping.best_epoch
    set_training(model, False)
    return model, history
    ### END SOLUTION


# ---------------------------------------------------------------------------------------------
# Given helpers (not graded): the data, a confusion matrix, and pictures.
# ---------------------------------------------------------------------------------------------


def load_training_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, y_train, X_val, y_val)``: the course's fixed training and validation sets.

    X: (N, 64) float64 in [0, 1]; y: (N,) int labels. 1078 training and 359 validation digits; the
    360 test digits stay with the grader. Read from the grader package (nothing is downloaded).
    """
    from autograder.data import (
        training_and_validation_sets,  # lazily: only notebooks and scripts need it
    )

    return training_and_validation_sets()


def train_on_digits(seed: int = 0, epochs: int = EPOCH_BUDGET) -> tuple[Layer, TrainingHistory]:
    """Runs your :func:`train_digits_classifier` on the course's training and validation sets with
    ``numpy.random.default_rng(seed)``, as the grader does; returns ``(model, history)``."""
    X_train, y_train, X_val, y_val = load_training_data()
    return train_digits_classifier(X_train, y_train, X_val, y_val, np.random.default_rng(seed), epochs=epochs)


def confusion_matrix(y_true: np.ndarray, y_predicted: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """(n_classes, n_classes) int counts: entry [t, p] counts the samples of true class t predicted as p.
    The diagonal holds the correct ones; each row sums to the number of samples of its class."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true, dtype=np.int64), np.asarray(y_predicted, dtype=np.int64)), 1)
    return counts


def _new_figure(width: float, height: float, rows: int = 1, columns: int = 1):
    from matplotlib.figure import Figure  # lazily: grading never needs matplotlib

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, [figure.add_subplot(rows, columns, index + 1) for index in range(rows * columns)]


def plot_training_curves(history: TrainingHistory):
    """Left: training and validation loss per epoch, the best epoch marked. Right: validation
    accuracy per epoch with the target line. Returns the matplotlib Figure."""
    figure, (losses, accuracies) = _new_figure(11.0, 4.0, columns=2)
    epochs = np.arange(len(history.val_loss))
    if len(epochs) == 0:
        losses.set_title("no epochs in this history yet")
        return figure
    losses.plot(np.arange(len(history.train_loss)), history.train_loss, label="training loss (with smoothing)")
    losses.plot(epochs, history.val_loss, label="validation loss")
    accuracies.plot(np.arange(len(history.val_accuracy)), history.val_accuracy, color="tab:green",
                    label="validation accuracy")
    accuracies.axhline(TARGET_ACCURACY, color="gray", linestyle=":", label=f"target {TARGET_ACCURACY:g}")
    if 0 <= history.best_epoch < len(epochs):
        for axis in (losses, accuracies):
            axis.axvline(history.best_epoch, color="tab:red", linestyle="--",
                         label=f"best epoch {history.best_epoch}")
    losses.set_yscale("log")
    losses.set_title(f"loss per epoch ({len(epochs)} epochs)")
    accuracies.set_title("validation accuracy per epoch")
    for axis in (losses, accuracies):
        axis.set_xlabel("epoch")
        axis.legend(fontsize="small")
    return figure


def plot_confusion_matrix(model: Layer, X: np.ndarray, y: np.ndarray):
    """The confusion matrix of your model on ``(X, y)`` (e.g. the validation set), with the counts
    written in each cell; the title gives the accuracy. Returns the Figure."""
    figure, (axis,) = _new_figure(5.5, 5.0)
    try:
        predicted = predict_logits(model, X).argmax(axis=1)
    except NotImplementedError:
        axis.set_title("confusion matrix: predict_logits is not implemented yet")
        return figure
    counts = confusion_matrix(y, predicted)
    axis.imshow(counts, cmap="Blues")
    for (true, guess), count in np.ndenumerate(counts):
        if count:
            axis.text(guess, true, str(count), ha="center", va="center", fontsize="small",
                      color="white" if count > counts.max() / 2 else "black")
    axis.set_xticks(range(N_CLASSES))
    axis.set_yticks(range(N_CLASSES))
    axis.set_xlabel("predicted digit")
    axis.set_ylabel("true digit")
    axis.set_title(f"confusion matrix: accuracy {np.mean(predicted == y):.3f} on {len(y)} digits")
    return figure


def plot_misclassified(model: Layer, X: np.ndarray, y: np.ndarray, max_images: int = 24, columns: int = 8):
    """The digits of ``(X, y)`` your model gets wrong (at most ``max_images``), each as its 8x8
    image titled "true -> predicted". Returns the Figure."""
    try:
        predicted = predict_logits(model, X).argmax(axis=1)
    except NotImplementedError:
        figure, (axis,) = _new_figure(6.0, 2.0)
        axis.set_title("misclassified digits: predict_logits is not implemented yet")
        axis.set_axis_off()
        return figure
    wrong = np.flatnonzero(predicted != y)
    shown = wrong[:max_images]
    rows = max(1, -(-len(shown) // columns))
    figure, axes = _new_figure(1.3 * columns, 1.5 * rows + 0.4, rows=rows, columns=columns)
    for axis in axes:
        axis.set_axis_off()
    for axis, index in zip(axes, shown):
        axis.imshow(X[index].reshape(8, 8), cmap="gray_r", vmin=0.0, vmax=1.0)
        axis.set_title(f"{y[index]} -> {predicted[index]}", fontsize="small")
    figure.suptitle(f"{len(wrong)} of {len(y)} digits misclassified" + (f" (first {len(shown)} shown)"
                                                                       if len(wrong) > len(shown) else ""))
    return figure
