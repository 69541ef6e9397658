"""Unit 1 (linear model): the mistakes students really make, and what the grader must say."""

from . import Mutation

M = "linear_model"

MUTATIONS = [
    Mutation(
        "gradient sign flipped", M,
        "dY_hat = -2.0 / N * (Y - predict(X, W, b))",
        "dY_hat = 2.0 / N * (Y - predict(X, W, b))",
        {"linear.gradients.values": "opposite sign",
         "linear.gradients.finite_differences": "opposite sign"},
    ),
    Mutation(
        "missing 1/N in the gradient", M,
        "dY_hat = -2.0 / N * (Y - predict(X, W, b))",
        "dY_hat = -2.0 * (Y - predict(X, W, b))",
        {"linear.gradients.values": "n=5 times too large",
         "linear.gradients.finite_differences": "not the derivative"},
    ),
    Mutation(
        "factor 2 of the square missing", M,
        "dY_hat = -2.0 / N * (Y - predict(X, W, b))",
        "dY_hat = -1.0 / N * (Y - predict(X, W, b))",
        {"linear.gradients.values": "factor 2",
         "linear.gradients.finite_differences": "factor of about 0.5"},
    ),
    Mutation(
        "bias gradient summed over the wrong axis", M,
        "db = dY_hat.sum(axis=0)",
        "db = dY_hat.sum(axis=1)",
        {"linear.gradients.values": "batch axis"},
    ),
    Mutation(
        "bias gradient not summed over the batch", M,
        "db = dY_hat.sum(axis=0)",
        "db = dY_hat",
        {"linear.gradients.values": "sum the per-sample contributions"},
    ),
    Mutation(
        "transposed weight gradient", M,
        "dW = X.T @ dY_hat",
        "dW = dY_hat.T @ X",
        {"linear.gradients.values": "transposed"},
    ),
    Mutation(
        "the lecture note's dropped x_i", M,
        "dW = X.T @ dY_hat",
        "dW = np.ones_like(W) * dY_hat.sum(axis=0)",
        {"linear.gradients.values": "missing the factor x_i"},
    ),
    Mutation(
        "averaged over features instead of samples", M,
        "N = X.shape[0]",
        "N = X.shape[1]",
        {"linear.gradients.values": "number of features d"},
    ),
    Mutation(
        "update mutates its inputs in place", M,
        "return W - lr * dW, b - lr * db",
        "W -= lr * dW\n    b -= lr * db\n    return W, b",
        {"linear.step.inputs_unchanged": "changed its argument w in place"},
    ),
    Mutation(
        "update goes uphill", M,
        "return W - lr * dW, b - lr * db",
        "return W + lr * dW, b + lr * db",
        {"linear.step.values": "uphill", "linear.fit.least_squares": "fix linear.step first: the step goes uphill"},
    ),
    Mutation(
        "learning rate applied twice", M,
        "return W - lr * dW, b - lr * db",
        "return W - lr * lr * dW, b - lr * lr * db",
        {"linear.step.values": "applied twice"},
    ),
    Mutation(
        "hard-coded single output in predict", M,
        "return X @ W + b\n",
        "return (X @ W + b).reshape(-1, 1)\n",
        {"linear.predict.values": "wrong shape"},
    ),
    Mutation(
        "bias forgotten in predict", M,
        "return X @ W + b\n",
        "return X @ W\n",
        {"linear.predict.values": "bias b is missing"},
    ),
    Mutation(
        "predict returns a Python list", M,
        "return X @ W + b\n",
        "return (X @ W + b).tolist()\n",
        {"linear.predict.returns_array": "predict returned a list, expected a numpy array"},
    ),
    Mutation(
        "loss averaged over every element (torch's reduction)", M,
        "return float(np.sum(residual * residual) / Y.shape[0])",
        "return float(np.mean(residual * residual))",
        {"linear.loss.values": "n*k"},
    ),
    Mutation(
        "expanded square overflows on large inputs", M,
        "return float(np.sum(residual * residual) / Y.shape[0])",
        "return float(np.sum(Y * Y - 2 * Y * Y_hat + Y_hat * Y_hat) / Y.shape[0])",
        {"linear.loss.huge_values": "overflow"},
    ),
    Mutation(
        "NaN returned silently by fit", M,
        "        if not np.isfinite(loss):\n            raise DivergenceError(step, loss, lr)\n",
        "",
        {"linear.fit.divergence": "silently"},
    ),
    Mutation(
        "loss recorded after the update", M,
        "        losses[step] = loss\n        dW, db = loss_gradients(X, Y, W, b)\n"
        "        W, b = gradient_descent_step(W, b, dW, db, lr)\n",
        "        dW, db = loss_gradients(X, Y, W, b)\n"
        "        W, b = gradient_descent_step(W, b, dW, db, lr)\n"
        "        losses[step] = mse_loss(predict(X, W, b), Y)\n",
        {"linear.fit.history": "shifted by one step"},
    ),
    Mutation(
        "bias never updated in fit", M,
        "W, b = gradient_descent_step(W, b, dW, db, lr)",
        "W, _ = gradient_descent_step(W, b, dW, db, lr)",
        {"linear.fit.least_squares": "b is still all zeros"},
    ),
    Mutation(
        "earlier biases not pushed through later layers", M,
        "W, b = W @ W_next, b @ W_next + b_next",
        "W, b = W @ W_next, b_next",
        {"linear.collapse.values": "earlier biases", "linear.collapse.equivalence": "differs"},
    ),
    Mutation(
        "random initialisation in fit", M,
        "W = np.zeros((X.shape[1], Y.shape[1]))",
        "W = 0.01 * np.random.randn(X.shape[1], Y.shape[1])",
        {"linear.fit.deterministic": "no random numbers", "linear.fit.history": "losses"},
    ),
    # Upstream mistakes: the checks that run predict blame predict, not themselves
    # (tests/test_diagnosis.py grades these two for their exact score and hints).
    Mutation(
        "predict returns float32", M,
        "return X @ W + b\n",
        "return (X @ W + b).astype(np.float32)\n",
        {"linear.predict.returns_array": "dtype float32",
         "linear.gradients.values": "fix linear.predict first: keep everything float64",
         "linear.gradients.finite_differences": "fix linear.predict first: keep everything float64"},
    ),
    Mutation(
        "predict squeezes a single output column away", M,
        "return X @ W + b\n",
        "return (X @ W + b).squeeze()\n",
        {"linear.predict.values": "right numbers in the wrong shape: expected (8, 1), got (8,)",
         "linear.gradients.values": "fix linear.predict first: y_hat has the right numbers in the wrong shape",
         "linear.gradients.finite_differences": "blocked: fix linear.predict first"},
    ),
    Mutation(
        "gradient divided by N*K (torch's mean over every element)", M,
        "dY_hat = -2.0 / N * (Y - predict(X, W, b))",
        "dY_hat = -2.0 / (N * Y.shape[1]) * (Y - predict(X, W, b))",
        # with K = 2 the generic diagnosis blamed only "the factor 2 of the square"; now the hint names
        # both causes there, and the N*K division alone where K != 2 (the hidden case)
        {"linear.gradients.values": "divided by n*k", "linear.gradients.hidden": "divided by n*k"},
    ),
]

#: Correct but unusual code, and the part whose every check it must still pass (no must_fail).
PART = "linear.predict"
CORRECT_VARIANTS = [
    (PART, Mutation(
        "predict with a Python loop over the samples (correct, slow)", M,
        "return X @ W + b\n",
        "rows = [X[n] @ W + b for n in range(X.shape[0])]\n"
        "    return np.array(rows).reshape(X.shape[0], W.shape[1])\n",
    )),
    ("linear.loss", Mutation(
        "MSE as np.mean((Y_hat - Y) ** 2, axis=0).sum(), a numpy float", M,
        "    residual = Y - Y_hat\n    return float(np.sum(residual * residual) / Y.shape[0])\n",
        "    return np.mean((Y_hat - Y) ** 2, axis=0).sum()\n",
    )),
    ("linear.loss", Mutation(
        "MSE as the squared Frobenius norm over N", M,
        "    residual = Y - Y_hat\n    return float(np.sum(residual * residual) / Y.shape[0])\n",
        "    return np.linalg.norm(Y - Y_hat) ** 2 / len(Y)\n",
    )),
    ("linear.gradients", Mutation(
        "gradients with einsum and the error Y_hat - Y", M,
        "    N = X.shape[0]\n    dY_hat = -2.0 / N * (Y - predict(X, W, b))\n    dW = X.T @ dY_hat\n"
        "    db = dY_hat.sum(axis=0)\n",
        "    N = len(X)\n    err = X @ W + b - Y\n    dW = 2 * np.einsum('nd,nk->dk', X, err) / N\n"
        "    db = 2 * err.mean(axis=0)\n",
    )),
    ("linear.step", Mutation(
        "step with in-place updates of copies", M,
        "    return W - lr * dW, b - lr * db\n",
        "    W_new = W.copy()\n    W_new -= lr * dW\n    b_new = np.array(b, dtype=float)\n    b_new -= lr * db\n"
        "    return W_new, b_new\n",
    )),
    ("linear.collapse", Mutation(
        "collapse starting from the identity map", M,
        "    W = weights[0]\n    b = biases[0]\n    for W_next, b_next in zip(weights[1:], biases[1:]):\n"
        "        W, b = W @ W_next, b @ W_next + b_next\n",
        "    W = np.eye(weights[0].shape[0])\n    b = np.zeros(weights[0].shape[0])\n"
        "    for W_next, b_next in zip(weights, biases):\n        W, b = W @ W_next, b @ W_next + b_next\n",
    )),
]
