"""Unit 6 (capstone): the mistakes students really make when they put a classifier together, and
what the grader must say about each."""

from . import Mutation

M = "capstone"

PREDICT_BODY = "    set_training(model, False)\n    return model.forward(X)\n"
EPOCH_LOOP = (
    "    set_training(model, True)\n"
    "    total = 0.0\n"
    "    for batch in iterate_minibatches(y.shape[0], batch_size, rng):\n"
    "        logits = model.forward(X[batch])\n"
    "        total += loss_function.forward(logits, y[batch]) * batch.shape[0]\n"
    "        model.backward(loss_function.backward())\n"
    "        optimizer.step(model.gradients())\n"
    "    return float(total / y.shape[0])\n"
)
TRAIN_CALL = "train_one_epoch(model, training_loss, optimizer, X_train, y_train, BATCH_SIZE, rng))"

MUTATIONS = [
    # ------------------------------------------------------------------ the model
    Mutation(
        "model: no dropout layer", M,
        "        Dropout(DROPOUT_P, rng),\n",
        "",
        {"capstone.model.build": "no dropout or batchnorm1d"},
    ),
    Mutation(
        "model: a generator with a fixed seed instead of the rng argument", M,
        "    return Sequential(\n        Linear(N_FEATURES",
        "    rng = np.random.default_rng(0)\n    return Sequential(\n        Linear(N_FEATURES",
        {"capstone.model.build": "fixed seed"},
    ),
    # ------------------------------------------------------------------ mini-batches
    Mutation(
        "batches: never shuffled", M,
        "    order = rng.permutation(n)\n",
        "    order = np.arange(n)\n",
        {"capstone.batches.order": "shuffle", "capstone.epoch.one_pass": "shuffle"},
    ),
    Mutation(
        "batches: numpy's global generator instead of rng", M,
        "    order = rng.permutation(n)\n",
        "    order = np.random.permutation(n)\n",
        {"capstone.batches.order": "rng argument"},
    ),
    Mutation(
        "batches: the last, smaller batch dropped", M,
        "for start in range(0, n, batch_size)]",
        "for start in range(0, n - batch_size + 1, batch_size)]",
        {"capstone.batches.order": "last, smaller batch", "capstone.epoch.one_pass": "each of the 70 samples once"},
    ),
    # ------------------------------------------------------------------ evaluation
    Mutation(
        "predict: dropout left on at test time (no evaluation mode)", M,
        PREDICT_BODY,
        "    return model.forward(X)\n",
        {"capstone.evaluate.predict": "set_training(model, false)",
         "capstone.evaluate.loss": "evaluation mode", "capstone.train.best_weights": "none of the history's"},
    ),
    Mutation(
        "predict: probabilities instead of logits", M,
        PREDICT_BODY,
        "    set_training(model, False)\n    Z = model.forward(X)\n    P = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
        "    return P / P.sum(axis=1, keepdims=True)\n",
        {"capstone.evaluate.predict": "return the logits"},
    ),
    Mutation(
        "accuracy: a percentage", M,
        "    return float(np.count_nonzero(predicted == y) / y.shape[0])\n",
        "    return float(100 * np.count_nonzero(predicted == y) / y.shape[0])\n",
        {"capstone.evaluate.accuracy": "not a percentage", "capstone.evaluate.loss": "fraction in [0, 1]",
         "capstone.train.history": "outside [0, 1]"},
    ),
    Mutation(
        "accuracy: argmax over the wrong axis", M,
        "    predicted = logits.argmax(axis=1)\n",
        "    predicted = logits.argmax(axis=0)\n",
        {"capstone.evaluate.accuracy": "could not be broadcast"},
    ),
    Mutation(
        "evaluate: the label-smoothed training loss as validation loss", M,
        "    return CrossEntropyLoss().forward(logits, y), accuracy(logits, y)\n",
        "    return CrossEntropyLoss(LABEL_SMOOTHING).forward(logits, y), accuracy(logits, y)\n",
        {"capstone.evaluate.loss": "label-smoothed", "capstone.train.best_weights": "none of the history's"},
    ),
    # ------------------------------------------------------------------ one epoch
    Mutation(
        "epoch: training mode never switched back on after evaluation", M,
        EPOCH_LOOP,
        EPOCH_LOOP.replace("    set_training(model, True)\n", ""),
        {"capstone.epoch.one_pass": "set_training(model, true)"},
    ),
    Mutation(
        "epoch: the plain mean of the batch losses", M,
        EPOCH_LOOP,
        EPOCH_LOOP.replace("    total = 0.0\n", "    losses = []\n")
        .replace("        total += loss_function.forward(logits, y[batch]) * batch.shape[0]\n",
                 "        losses.append(loss_function.forward(logits, y[batch]))\n")
        .replace("    return float(total / y.shape[0])\n", "    return float(np.mean(losses))\n"),
        {"capstone.epoch.one_pass": "weight each batch's loss by its size"},
    ),
    Mutation(
        "epoch: optimizer step before the backward pass", M,
        "        model.backward(loss_function.backward())\n        optimizer.step(model.gradients())\n",
        "        optimizer.step(model.gradients())\n        model.backward(loss_function.backward())\n",
        {"capstone.epoch.one_pass": "forward, loss, backward, step"},
    ),
    # ------------------------------------------------------------------ training
    Mutation(
        "train: the learning-rate schedule never stepped", M,
        "        schedule.step()\n",
        "",
        {"capstone.train.schedule": "call schedule.step() once per epoch"},
    ),
    Mutation(
        "train: the last epoch's weights returned instead of the best", M,
        "    early_stopping.restore(parameters)\n",
        "",
        {"capstone.train.best_weights": "early_stopping.restore"},
    ),
    Mutation(
        "train: early stopping watches the training loss", M,
        "        if early_stopping.step(val_loss, parameters):\n",
        "        if early_stopping.step(history.train_loss[-1], parameters):\n",
        {"capstone.train.best_weights": "must watch the validation loss"},
    ),
    Mutation(
        "train: best_epoch never set", M,
        "    history.best_epoch = early_stopping.best_epoch\n",
        "",
        {"capstone.train.best_weights": "history.best_epoch = early_stopping.best_epoch"},
    ),
    Mutation(
        "train: the validation set added to the training set", M,
        TRAIN_CALL,
        TRAIN_CALL.replace("X_train, y_train,",
                           "np.concatenate([X_train, X_val]), np.concatenate([y_train, y_val]),"),
        {"capstone.train.honest_split": "validation set looks like training data"},
    ),
    Mutation(
        "train: trained on the validation set instead of the training set", M,
        TRAIN_CALL,
        TRAIN_CALL.replace("X_train, y_train,", "X_val, y_val,"),
        {"capstone.train.honest_split": "validation set looks like training data"},
    ),
    Mutation(
        "train: a learning rate far too large", M,
        "LEARNING_RATE = 1e-2\n",
        "LEARNING_RATE = 1.0\n",
        {"capstone.train.held_out": "learned nothing", "capstone.train.hidden": "learned nothing"},
    ),
]
