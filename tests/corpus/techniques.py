"""Unit 5 (training techniques): the mistakes students really make, and what the grader must say."""

from . import Mutation

M = "techniques"

MUTATIONS = [
    # ------------------------------------------------------------------ dropout
    Mutation(
        "Dropout: p taken as the keep probability", M,
        "mask = (self.rng.random(X.shape) >= self.p) / (1.0 - self.p)",
        "mask = (self.rng.random(X.shape) < self.p) / (1.0 - self.p)",
        {"techniques.dropout.keep_rate": "probability of dropping", "techniques.dropout.expectation": "expectation",
         "techniques.dropout.hidden": "probability of dropping"},
    ),
    Mutation(
        "Dropout: kept elements not scaled (not inverted)", M,
        "mask = (self.rng.random(X.shape) >= self.p) / (1.0 - self.p)",
        "mask = (self.rng.random(X.shape) >= self.p) * 1.0",
        {"techniques.dropout.scaling": "not scaled", "techniques.dropout.expectation": "divide the kept elements"},
    ),
    Mutation(
        "Dropout: kept elements multiplied by (1 - p)", M,
        "mask = (self.rng.random(X.shape) >= self.p) / (1.0 - self.p)",
        "mask = (self.rng.random(X.shape) >= self.p) * (1.0 - self.p)",
        {"techniques.dropout.scaling": "multiplied by (1 - p)"},
    ),
    Mutation(
        "Dropout: one mask per feature, shared by every sample", M,
        "mask = (self.rng.random(X.shape) >= self.p) / (1.0 - self.p)",
        "mask = (self.rng.random(X.shape[1]) >= self.p) / (1.0 - self.p)",
        {"techniques.dropout.keep_rate": "not one number per column"},
    ),
    Mutation(
        "Dropout: backward draws a new mask", M,
        "        if self.cache.mask is None:\n            return dY\n        return dY * self.cache.mask\n",
        "        if self.cache.mask is None:\n            return dY\n"
        "        return dY * (self.rng.random(dY.shape) >= self.p) / (1.0 - self.p)\n",
        {"techniques.dropout.backward": "not draw a new one", "techniques.dropout.gradcheck": "not the derivative"},
    ),
    Mutation(
        "Dropout: backward ignores the mask", M,
        "        return dY * self.cache.mask\n",
        "        return dY\n",
        {"techniques.dropout.backward": "ignores the mask"},
    ),
    Mutation(
        "Dropout: evaluation mode scales by (1 - p), as in the paper", M,
        "            self.cache = DropoutCache(mask=None)\n            return X\n",
        "            self.cache = DropoutCache(mask=None)\n            return X * (1.0 - self.p)\n",
        {"techniques.dropout.eval": "test-time scaling"},
    ),
    Mutation(
        "Dropout: evaluation mode still drops", M,
        "        if not self.training:\n            self.cache = DropoutCache(mask=None)\n            return X\n",
        "",
        {"techniques.dropout.eval": "must not drop anything"},
    ),
    Mutation(
        "Dropout: the mask drawn once in __init__ and reused", M,
        "        mask = (self.rng.random(X.shape) >= self.p) / (1.0 - self.p)\n",
        "        if not hasattr(self, \"fixed_mask\") or self.fixed_mask.shape != X.shape:\n"
        "            self.fixed_mask = (self.rng.random(X.shape) >= self.p) / (1.0 - self.p)\n"
        "        mask = self.fixed_mask\n",
        {"techniques.dropout.rng": "new mask at every forward call"},
    ),
    Mutation(
        "Dropout: p = 1 accepted", M,
        "        if not 0.0 <= p < 1.0:\n",
        "        if not 0.0 <= p <= 1.0:\n",
        {"techniques.dropout.validation": "must lie in [0, 1)"},
    ),
    Mutation(
        "Dropout: X multiplied in place", M,
        "        return X * mask\n",
        "        X *= mask\n        return X\n",
        {"techniques.dropout.unchanged": "instead of x *= mask"},
    ),
    Mutation(
        "Dropout: a global generator instead of the rng passed in", M,
        "mask = (self.rng.random(X.shape) >= self.p) / (1.0 - self.p)",
        "mask = (np.random.random(X.shape) >= self.p) / (1.0 - self.p)",
        {"techniques.dropout.rng": "rng passed to __init__"},
    ),
    # ------------------------------------------------------------------ batch normalization
    Mutation(
        "BatchNorm1d: normalised with the unbiased variance", M,
        "            var = np.mean(centered * centered, axis=0)\n",
        "            var = np.sum(centered * centered, axis=0) / (N - 1)\n",
        {"techniques.batchnorm.forward": "unbiased variance"},
    ),
    Mutation(
        "BatchNorm1d: eps outside the square root", M,
        "        inv_std = 1.0 / np.sqrt(var + self.eps)\n",
        "        inv_std = 1.0 / (np.sqrt(var) + self.eps)\n",
        {"techniques.batchnorm.forward": "outside the square root"},
    ),
    Mutation(
        "BatchNorm1d: one-pass variance mean(X**2) - mean**2", M,
        "            var = np.mean(centered * centered, axis=0)\n",
        "            var = np.mean(X * X, axis=0) - mean * mean\n",
        {"techniques.batchnorm.forward": "lost its precision"},
    ),
    Mutation(
        "BatchNorm1d: running_var keeps the biased variance", M,
        "m * var * (N / (N - 1.0))",
        "m * var",
        {"techniques.batchnorm.running_stats": "unbiased one"},
    ),
    Mutation(
        "BatchNorm1d: Keras' momentum convention", M,
        "            self.running_mean[...] = (1.0 - m) * self.running_mean + m * mean\n"
        "            self.running_var[...] = (1.0 - m) * self.running_var + m * var * (N / (N - 1.0))\n",
        "            self.running_mean[...] = m * self.running_mean + (1.0 - m) * mean\n"
        "            self.running_var[...] = m * self.running_var + (1.0 - m) * var * (N / (N - 1.0))\n",
        {"techniques.batchnorm.running_stats": "keras"},
    ),
    Mutation(
        "BatchNorm1d: evaluation mode uses the batch statistics", M,
        "        if self.training:\n            N = X.shape[0]\n",
        "        if True:\n            N = X.shape[0]\n",
        {"techniques.batchnorm.eval": "batch's own statistics"},
    ),
    Mutation(
        "BatchNorm1d: backward treats the batch statistics as constants", M,
        "        if not self.cache.training:\n            return g * inv_std\n",
        "        if True:\n            return g * inv_std\n",
        {"techniques.batchnorm.backward": "as constants", "techniques.batchnorm.gradcheck": "not the derivative",
         "techniques.batchnorm.hidden": "as constants"},
    ),
    Mutation(
        "BatchNorm1d: dgamma without X_hat", M,
        "        self.dgamma = np.sum(dY * X_hat, axis=0)\n",
        "        self.dgamma = np.sum(dY, axis=0)\n",
        {"techniques.batchnorm.backward": "gamma multiplies x_hat"},
    ),
    Mutation(
        "BatchNorm1d: parameters() returns copies", M,
        "        return [self.gamma, self.beta]\n",
        "        return [self.gamma.copy(), self.beta.copy()]\n",
        {"techniques.batchnorm.init": "not copies"},
    ),
    Mutation(
        "BatchNorm1d: running_var starts at zeros", M,
        "        self.running_var = np.ones(self.num_features)\n",
        "        self.running_var = np.zeros(self.num_features)\n",
        {"techniques.batchnorm.init": "running_var = ones", "techniques.batchnorm.running_stats": "start at ones"},
    ),
    # ------------------------------------------------------------------ set_training
    Mutation(
        "set_training: does not follow a Residual's inner layer", M,
        "    inner = getattr(model, \"inner\", None)\n    if inner is not None:\n        set_training(inner, training)\n",
        "",
        {"techniques.set_training.walk": "follow a residual's .inner"},
    ),
    Mutation(
        "set_training: always switches to evaluation mode", M,
        "        model.training = bool(training)\n",
        "        model.training = False\n",
        {"techniques.set_training.walk": "use the training argument"},
    ),
    # ------------------------------------------------------------------ early stopping
    Mutation(
        "EarlyStopping: a tie counts as an improvement", M,
        "        if val_loss < self.best_loss - self.min_delta:\n",
        "        if val_loss <= self.best_loss - self.min_delta:\n",
        {"techniques.early_stopping.curves": "strictly lower", "techniques.early_stopping.hidden": "strictly lower"},
    ),
    Mutation(
        "EarlyStopping: stops one epoch late", M,
        "        return self.wait >= self.patience\n",
        "        return self.wait > self.patience\n",
        {"techniques.early_stopping.curves": "one epoch late"},
    ),
    Mutation(
        "EarlyStopping: min_delta ignored", M,
        "        if val_loss < self.best_loss - self.min_delta:\n",
        "        if val_loss < self.best_loss:\n",
        {"techniques.early_stopping.curves": "min_delta is ignored"},
    ),
    Mutation(
        "EarlyStopping: keeps references instead of copies", M,
        "            self.best_params = [np.array(p, dtype=np.float64, copy=True) for p in params]\n",
        "            self.best_params = list(params)\n",
        {"techniques.early_stopping.restore": "keep copies"},
    ),
    Mutation(
        "EarlyStopping: the wait counter never reset", M,
        "            self.best_params = [np.array(p, dtype=np.float64, copy=True) for p in params]\n"
        "            self.wait = 0\n",
        "            self.best_params = [np.array(p, dtype=np.float64, copy=True) for p in params]\n",
        {"techniques.early_stopping.curves": "not reset"},
    ),
    Mutation(
        "EarlyStopping: restore rebinds instead of writing in place", M,
        "        for live, kept in zip(params, self.best_params):\n            live[...] = kept\n",
        "        for live, kept in zip(params, self.best_params):\n            live = kept.copy()\n",
        {"techniques.early_stopping.restore": "in place"},
    ),
    # ------------------------------------------------------------------ k-fold
    Mutation(
        "kfold: the last fold takes the remainder", M,
        "    sizes = np.full(k, n // k)\n    sizes[: n % k] += 1\n",
        "    sizes = np.full(k, n // k)\n    sizes[-1] += n % k\n",
        {"techniques.kfold.sizes": "the last fold takes the whole remainder"},
    ),
    Mutation(
        "kfold: the remainder dropped", M,
        "    sizes[: n % k] += 1\n",
        "",
        {"techniques.kfold.partition": "in no validation fold"},
    ),
    Mutation(
        "kfold: training on every sample (validation leaks into training)", M,
        "        folds.append((np.flatnonzero(in_training), val_idx))\n",
        "        folds.append((np.arange(n), val_idx))\n",
        {"techniques.kfold.partition": "leakage"},
    ),
    Mutation(
        "kfold: shuffle ignored", M,
        "    if shuffle:\n        order",
        "    if False:\n        order",
        {"techniques.kfold.shuffle": "consecutive blocks"},
    ),
    Mutation(
        "kfold: k = 1 accepted", M,
        "    if k < 2 or k > n:\n",
        "    if k < 1 or k > n:\n",
        {"techniques.kfold.validation": "2 <= k <= n"},
    ),
    # ------------------------------------------------------------------ cross-validation
    Mutation(
        "cross_validate: validation targets of the training rows", M,
        "float(train_and_score(X[train_idx], y[train_idx], X[val_idx], y[val_idx]))",
        "float(train_and_score(X[train_idx], y[train_idx], X[val_idx], y[train_idx][: len(val_idx)]))",
        {"techniques.cross_validation.folds": "same index arrays"},
    ),
    Mutation(
        "cross_validate: returns the mean score", M,
        "    return np.array(scores)\n",
        "    return np.mean(scores)\n",
        {"techniques.cross_validation.folds": "not their mean"},
    ),
    Mutation(
        "choose_hidden_size: one generator for every candidate (different folds)", M,
        "    means = np.array([\n        cross_validate(make_train_and_score(h), X, y, k, np.random.default_rng(seed)).mean()\n",
        "    rng = np.random.default_rng(seed)\n    means = np.array([\n"
        "        cross_validate(make_train_and_score(h), X, y, k, rng).mean()\n",
        {"techniques.cross_validation.choose": "same split", "techniques.cross_validation.hidden": "same split"},
    ),
    Mutation(
        "choose_hidden_size: the highest score chosen", M,
        "    return int(hidden_sizes[int(np.argmin(means))]), means\n",
        "    return int(hidden_sizes[int(np.argmax(means))]), means\n",
        {"techniques.cross_validation.choose": "lower is better",
         "techniques.cross_validation.demonstration": "lower is better"},
    ),
    # ------------------------------------------------------------------ mixup
    Mutation(
        "mixup: one lambda per sample", M,
        "    lam = rng.beta(alpha, alpha)\n",
        "    lam = rng.beta(alpha, alpha, size=(x.shape[0], 1))\n",
        {"techniques.mixup.pairs": "one lambda per batch"},
    ),
    Mutation(
        "mixup: targets weighted with 1 - lambda", M,
        "lam * y_onehot + (1.0 - lam) * y_onehot[perm]",
        "(1.0 - lam) * y_onehot + lam * y_onehot[perm]",
        {"techniques.mixup.targets": "same lam for both"},
    ),
    Mutation(
        "mixup: targets not mixed", M,
        "lam * y_onehot + (1.0 - lam) * y_onehot[perm]",
        "y_onehot",
        {"techniques.mixup.targets": "y unchanged"},
    ),
    Mutation(
        "mixup: lambda uniform whatever alpha", M,
        "    lam = rng.beta(alpha, alpha)\n",
        "    lam = rng.uniform()\n",
        {"techniques.mixup.alpha": "looks uniform"},
    ),
    Mutation(
        "mixup: lambda folded into [0.5, 1]", M,
        "    lam = rng.beta(alpha, alpha)\n",
        "    lam = rng.beta(alpha, alpha)\n    lam = max(lam, 1.0 - lam)\n",
        {"techniques.mixup.alpha": "do not fold"},
    ),
    Mutation(
        "mixup: partners drawn with replacement", M,
        "    perm = rng.permutation(x.shape[0])\n",
        "    perm = rng.integers(0, x.shape[0], x.shape[0])\n",
        {"techniques.mixup.pairs": "rng.permutation"},
    ),
    # ------------------------------------------------------------------ weight decay
    Mutation(
        "l2_penalty: the 1/2 missing", M,
        "    penalty = 0.5 * weight_decay * sum(float(np.sum(p * p)) for p in params)\n",
        "    penalty = weight_decay * sum(float(np.sum(p * p)) for p in params)\n",
        {"techniques.weight_decay.l2_penalty": "the 1/2 is part of it"},
    ),
    Mutation(
        "l2_penalty: gradient 2 * weight_decay * p", M,
        "    return float(penalty), [weight_decay * p for p in params]\n",
        "    return float(penalty), [2.0 * weight_decay * p for p in params]\n",
        {"techniques.weight_decay.l2_penalty": "cancels the 1/2"},
    ),
    Mutation(
        "weight_decay_paths: AdamW taken as Adam's weight_decay", M,
        "            optimizer = AdamW([w], lr=lr, weight_decay=weight_decay)\n",
        "            optimizer = Adam([w], lr=lr, weight_decay=weight_decay)\n",
        {"techniques.weight_decay.paths": "that is what adam's own weight_decay does",
         "techniques.weight_decay.equivalence": "are the same"},
    ),
    Mutation(
        "weight_decay_paths: AdamW's decay taken for Adam's L2 penalty", M,
        "        if run == \"adam_l2\":\n            optimizer = Adam([w], lr=lr)\n"
        "        elif run == \"adamw\":\n            optimizer = AdamW([w], lr=lr, weight_decay=weight_decay)\n"
        "        else:\n            optimizer = SGD([w], lr=lr)\n        rows = [w.copy()]\n"
        "        for _ in range(steps):\n            _, gradient = loss_and_gradient(w)\n"
        "            if run.endswith(\"_l2\"):\n",
        "        if run in (\"adam_l2\", \"adamw\"):\n"
        "            optimizer = AdamW([w], lr=lr, weight_decay=weight_decay)\n"
        "        else:\n            optimizer = SGD([w], lr=lr)\n        rows = [w.copy()]\n"
        "        for _ in range(steps):\n            _, gradient = loss_and_gradient(w)\n"
        "            if run == \"sgd_l2\":\n",
        {"techniques.weight_decay.paths": "decays the weights directly, as adamw does",
         "techniques.weight_decay.equivalence": "are the same"},
    ),
    Mutation(
        "weight_decay_paths: decoupled decay without the learning rate", M,
        "                w *= 1.0 - lr * weight_decay\n",
        "                w *= 1.0 - weight_decay\n",
        {"techniques.weight_decay.paths": "the learning rate is part of it",
         "techniques.weight_decay.equivalence": "one update"},
    ),
    Mutation(
        "weight_decay_paths: the L2 penalty forgotten", M,
        "            if run.endswith(\"_l2\"):\n",
        "            if run == \"none\":\n",
        {"techniques.weight_decay.paths": "follows the loss alone"},
    ),
    # ------------------------------------------------------------------ ensemble
    Mutation(
        "Ensemble: logits averaged, then one softmax", M,
        "        total = None\n        for model in self.models:\n            Z = model.forward(X)\n"
        "            Z = Z - Z.max(axis=1, keepdims=True)\n            P = np.exp(Z)\n"
        "            P /= P.sum(axis=1, keepdims=True)\n            total = P if total is None else total + P\n"
        "        return total / len(self.models)\n",
        "        Z = np.mean([model.forward(X) for model in self.models], axis=0)\n"
        "        Z = Z - Z.max(axis=1, keepdims=True)\n        P = np.exp(Z)\n        return P / P.sum(axis=1, keepdims=True)\n",
        {"techniques.ensemble.values": "average the members' probabilities"},
    ),
    Mutation(
        "Ensemble: probabilities summed, not averaged", M,
        "        return total / len(self.models)\n",
        "        return total\n",
        {"techniques.ensemble.values": "divide by the number of models",
         "techniques.ensemble.beats_members": "do not sum to 1"},
    ),
    Mutation(
        "Ensemble: softmax without subtracting the maximum", M,
        "            Z = Z - Z.max(axis=1, keepdims=True)\n",
        "",
        {"techniques.ensemble.no_warnings": "overflow"},
    ),
    # ------------------------------------------------------------------ surrogate
    Mutation(
        "rbf_kernel: the 2 missing", M,
        "    return np.exp(-(difference * difference) / (2.0 * length_scale * length_scale))\n",
        "    return np.exp(-(difference * difference) / (length_scale * length_scale))\n",
        {"techniques.surrogate.kernel": "the 2 is missing"},
    ),
    Mutation(
        "gp_posterior: the noise left off K's diagonal", M,
        "    K = rbf_kernel(z_train, z_train, length_scale) + noise * np.eye(len(z_train))\n",
        "    K = rbf_kernel(z_train, z_train, length_scale) + 1e-12 * np.eye(len(z_train))\n",
        {"techniques.surrogate.gp_posterior": "noise on its diagonal"},
    ),
    Mutation(
        "gp_posterior: the standard deviation returned as variance", M,
        "    return mean, variance\n",
        "    return mean, np.sqrt(variance)\n",
        {"techniques.surrogate.gp_posterior": "not its square root"},
    ),
    Mutation(
        "gp_posterior: solved with np.linalg.inv", M,
        "    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y_train))\n",
        "    alpha = np.linalg.inv(K) @ y_train\n",
        {"techniques.surrogate.gp_posterior": "numpy.linalg.inv is not allowed"},
    ),
    Mutation(
        "expected_improvement: written for maximisation", M,
        "    improvement = best - mean - xi\n",
        "    improvement = mean - best - xi\n",
        {"techniques.surrogate.expected_improvement": "maximising"},
    ),
    Mutation(
        "expected_improvement: the variance used as sigma", M,
        "    sigma = np.sqrt(variance)\n",
        "    sigma = variance\n",
        {"techniques.surrogate.expected_improvement": "not the variance"},
    ),
    Mutation(
        "expected_improvement: divides by sigma everywhere", M,
        "    z = np.divide(improvement, sigma, out=np.zeros_like(improvement), where=positive)\n",
        "    z = improvement / sigma\n",
        {"techniques.surrogate.ei_no_warnings": "division by zero"},
    ),
    # ------------------------------------------------------------------ search
    Mutation(
        "random_search: uniform in x although log_scale", M,
        "        x = float(from_unit(rng.uniform(), low, high, log_scale))\n",
        "        x = float(from_unit(rng.uniform(), low, high, False))\n",
        {"techniques.search.random_search": "uniform in x, not in log10(x)"},
    ),
    Mutation(
        "random_search: returns the last point, not the best", M,
        "        history.append((x, float(objective(x))))\n    best_x = min(history, key=lambda pair: pair[1])[0]\n",
        "        history.append((x, float(objective(x))))\n    best_x = history[-1][0]\n",
        {"techniques.search.random_search": "not the last one evaluated"},
    ),
    Mutation(
        "bayesian_optimization: takes the smallest expected improvement", M,
        "        evaluate(grid[int(np.argmax(ei))])\n",
        "        evaluate(grid[int(np.argmin(ei))])\n",
        {"techniques.search.bo_steps": "take np.argmax(ei)", "techniques.search.bo_beats_random": "argmax",
         "techniques.search.hidden": "argmax"},
    ),
    Mutation(
        "bayesian_optimization: values not standardised", M,
        "        y_standard = (y - y.mean()) / scale\n",
        "        y_standard = y\n",
        {"techniques.search.bo_steps": "standardised"},
    ),
]

MUTATIONS += [
    # ------------------------------------------------------------------ more of the promised hints
    Mutation(
        "Dropout: a generator of its own", M,
        "        self.rng = rng\n",
        "        self.rng = np.random.default_rng(0)\n",
        {"techniques.dropout.rng": "not from a generator of your own"},
    ),
    Mutation(
        "BatchNorm1d: gamma and beta not applied", M,
        "        return self.gamma * X_hat + self.beta\n",
        "        return X_hat\n",
        {"techniques.batchnorm.forward": "gamma and beta are not applied"},
    ),
    Mutation(
        "BatchNorm1d: backward without the variance's term", M,
        "        return inv_std / N * (N * g - g.sum(axis=0) - X_hat * np.sum(g * X_hat, axis=0))\n",
        "        return inv_std * (g - g.mean(axis=0))\n",
        {"techniques.batchnorm.backward": "the mean's term but not the variance's"},
    ),
    Mutation(
        "BatchNorm1d: running statistics never updated", M,
        "            self.running_mean[...] = (1.0 - m) * self.running_mean + m * mean\n"
        "            self.running_var[...] = (1.0 - m) * self.running_var + m * var * (N / (N - 1.0))\n",
        "",
        {"techniques.batchnorm.running_stats": "never change"},
    ),
    Mutation(
        "BatchNorm1d: evaluation mode updates the running mean", M,
        "            centered = X - self.running_mean\n            var = self.running_var\n",
        "            centered = X - self.running_mean\n            var = self.running_var\n"
        "            self.running_mean[...] = (1.0 - self.momentum) * self.running_mean + self.momentum * X.mean(axis=0)\n",
        {"techniques.batchnorm.eval": "only in training mode"},
    ),
    Mutation(
        "BatchNorm1d: evaluation-mode backward through batch statistics", M,
        "        if not self.cache.training:\n            return g * inv_std\n",
        "",
        {"techniques.batchnorm.eval": "running statistics are constants"},
    ),
    Mutation(
        "set_training: a flag for every layer", M,
        "    if hasattr(model, \"training\"):\n        model.training = bool(training)\n",
        "    model.training = bool(training)\n",
        {"techniques.set_training.walk": "gave a training attribute"},
    ),
    Mutation(
        "EarlyStopping: best_epoch counted from 1", M,
        "            self.best_epoch = self.epoch\n",
        "            self.best_epoch = self.epoch + 1\n",
        {"techniques.early_stopping.curves": "counts from 1"},
    ),
    Mutation(
        "EarlyStopping: min_delta with the wrong sign", M,
        "        if val_loss < self.best_loss - self.min_delta:\n",
        "        if val_loss < self.best_loss + self.min_delta:\n",
        {"techniques.early_stopping.curves": "wrong sign"},
    ),
    Mutation(
        "kfold: a generator of its own", M,
        "        order = (rng if rng is not None else np.random.default_rng()).permutation(n)\n",
        "        order = np.random.default_rng(0).permutation(n)\n",
        {"techniques.kfold.shuffle": "not with a generator of your own"},
    ),
    Mutation(
        "l2_penalty: norms instead of squared norms", M,
        "    penalty = 0.5 * weight_decay * sum(float(np.sum(p * p)) for p in params)\n",
        "    penalty = 0.5 * weight_decay * sum(float(np.sqrt(np.sum(p * p))) for p in params)\n",
        {"techniques.weight_decay.l2_penalty": "not their squares"},
    ),
    Mutation(
        "weight_decay_paths: decoupled decay after the step", M,
        "            if run == \"sgd_decoupled\":\n                w *= 1.0 - lr * weight_decay\n"
        "            optimizer.step([gradient])\n",
        "            optimizer.step([gradient])\n"
        "            if run == \"sgd_decoupled\":\n                w *= 1.0 - lr * weight_decay\n",
        {"techniques.weight_decay.paths": "decay w before the step"},
    ),
    Mutation(
        "Ensemble: softmax over the samples", M,
        "            Z = Z - Z.max(axis=1, keepdims=True)\n            P = np.exp(Z)\n"
        "            P /= P.sum(axis=1, keepdims=True)\n",
        "            Z = Z - Z.max(axis=0, keepdims=True)\n            P = np.exp(Z)\n"
        "            P /= P.sum(axis=0, keepdims=True)\n",
        {"techniques.ensemble.values": "over the samples"},
    ),
    Mutation(
        "Ensemble: only the last member counts", M,
        "            total = P if total is None else total + P\n        return total / len(self.models)\n",
        "            total = P\n        return total\n",
        {"techniques.ensemble.values": "only the last model"},
    ),
    Mutation(
        "rbf_kernel: |a - b| instead of its square", M,
        "    return np.exp(-(difference * difference) / (2.0 * length_scale * length_scale))\n",
        "    return np.exp(-np.abs(difference) / (2.0 * length_scale * length_scale))\n",
        {"techniques.surrogate.kernel": "must be squared"},
    ),
    Mutation(
        "rbf_kernel: the length scale not squared", M,
        "    return np.exp(-(difference * difference) / (2.0 * length_scale * length_scale))\n",
        "    return np.exp(-(difference * difference) / (2.0 * length_scale))\n",
        {"techniques.surrogate.kernel": "length scale must be squared"},
    ),
    Mutation(
        "gp_posterior: the explained variance returned", M,
        "    variance = np.maximum(1.0 - np.sum(v * v, axis=0), 0.0)\n",
        "    variance = np.sum(v * v, axis=0)\n",
        {"techniques.surrogate.gp_posterior": "1 minus what the data explain"},
    ),
    Mutation(
        "gp_posterior: the noise added to the variance", M,
        "    variance = np.maximum(1.0 - np.sum(v * v, axis=0), 0.0)\n",
        "    variance = np.maximum(1.0 - np.sum(v * v, axis=0), 0.0) + noise\n",
        {"techniques.surrogate.gp_posterior": "without adding the noise"},
    ),
    Mutation(
        "expected_improvement: no exploration term", M,
        "    ei = improvement * normal_cdf(z) + sigma * normal_pdf(z)\n",
        "    ei = improvement * normal_cdf(z)\n",
        {"techniques.surrogate.expected_improvement": "exploration term"},
    ),
    Mutation(
        "expected_improvement: xi ignored", M,
        "    improvement = best - mean - xi\n",
        "    improvement = best - mean\n",
        {"techniques.surrogate.expected_improvement": "xi is ignored"},
    ),
    Mutation(
        "expected_improvement: xi with the wrong sign", M,
        "    improvement = best - mean - xi\n",
        "    improvement = best - mean + xi\n",
        {"techniques.surrogate.expected_improvement": "xi has the wrong sign"},
    ),
    Mutation(
        "bayesian_optimization: the lowest posterior mean instead of EI", M,
        "        evaluate(grid[int(np.argmax(ei))])\n",
        "        evaluate(grid[int(np.argmin(mean))])\n",
        {"techniques.search.bo_steps": "pure exploitation"},
    ),
]
