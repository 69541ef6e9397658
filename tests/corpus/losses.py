"""Unit 3 (losses): the mistakes students really make, and what the grader must say."""

from . import Mutation

M = "losses"

CE_BACKWARD = (
    "# Hint: one line from the cache; do not forget the 1/N of the mean.\n"
    "        ### BEGIN SOLUTION\n"
    "        return (cache.probabilities - cache.targets) / cache.targets.shape[0]"
)
CE_SMOOTHING_AND_LOSS = (
    "        targets = (1.0 - self.label_smoothing) * targets + self.label_smoothing / C\n"
    "        shifted = Z - Z.max(axis=1, keepdims=True)\n"
    "        exp = np.exp(shifted)\n"
    "        total = exp.sum(axis=1, keepdims=True)\n"
    "        log_p = shifted - np.log(total)\n"
    "        self.cache = LogitCache(probabilities=exp / total, targets=targets)\n"
    "        return float(-np.sum(targets * log_p) / N)\n"
)
GAUSSIAN_RETURN = (
    "        self.cache = GaussianCache(residual=residual, variance=variance)\n"
    "        return float(np.sum(pieces) / residual.shape[0])\n"
)

MUTATIONS = [
    # --- MSE
    Mutation(
        "MSE averaged over every element (torch's mean)", M,
        "return float(np.sum(residual * residual) / residual.shape[0])",
        "return float(np.mean(residual * residual))",
        # (finite_differences fails too: blocked by forward under Check.requires, or "a factor of about 3")
        {"losses.mse.forward": "divided by n*k", "losses.mse.hidden": "divided by n*k"},
    ),
    Mutation(
        "MSE gradient divided by N*K", M,
        "return 2.0 * cache.residual / cache.residual.shape[0]",
        "return 2.0 * cache.residual / cache.residual.size",
        {"losses.mse.backward": "divided by n*k"},
    ),
    Mutation(
        "MSE gradient sign flipped", M,
        "return 2.0 * cache.residual / cache.residual.shape[0]",
        "return -2.0 * cache.residual / cache.residual.shape[0]",
        {"losses.mse.backward": "opposite sign", "losses.mse.finite_differences": "opposite sign",
         "losses.outliers.l2_pulled_away": "sign"},
    ),
    Mutation(
        "MSE gradient without the factor 2 of the square", M,
        "return 2.0 * cache.residual / cache.residual.shape[0]",
        "return cache.residual / cache.residual.shape[0]",
        {"losses.mse.backward": "factor 2", "losses.mse.finite_differences": "factor of about 0.5"},
    ),
    # --- L1
    Mutation(
        "L1 subgradient 1 at zero (r >= 0)", M,
        "return np.sign(cache.residual) / cache.residual.shape[0]",
        "return np.where(cache.residual >= 0, 1.0, -1.0) / cache.residual.shape[0]",
        {"losses.l1.zero_residual": "subgradient 0"},
    ),
    Mutation(
        "L1 gradient without the 1/N", M,
        "return np.sign(cache.residual) / cache.residual.shape[0]",
        "return np.sign(cache.residual)",
        {"losses.l1.backward": "n=5 times too large", "losses.l1.finite_differences": "n=5 times too large"},
    ),
    Mutation(
        "L1 returns the per-sample losses", M,
        "return float(np.sum(np.abs(residual)) / residual.shape[0])",
        "return np.sum(np.abs(residual), axis=1)",
        {"losses.l1.forward": "should be a single number", "losses.l1.contract": "not a python float"},
    ),
    Mutation(
        "L1 subtracts the target in place", M,
        "        residual = Y_hat - Y\n        self.cache = ResidualCache(residual)\n"
        "        return float(np.sum(np.abs(residual))",
        "        residual = Y_hat\n        residual -= Y\n        self.cache = ResidualCache(residual)\n"
        "        return float(np.sum(np.abs(residual))",
        {"losses.l1.contract": "changed its argument y_hat in place"},
    ),
    # --- Huber
    Mutation(
        "Huber linear piece without - delta / 2", M,
        "self.delta * (size - 0.5 * self.delta))",
        "self.delta * size)",
        {"losses.huber.forward": "the linear piece must be delta * (|r| - delta / 2)"},
    ),
    Mutation(
        "Huber gradient not clipped", M,
        "return np.clip(cache.residual, -self.delta, self.delta) / cache.residual.shape[0]",
        "return cache.residual / cache.residual.shape[0]",
        {"losses.huber.backward": "np.clip(r, -delta, delta) / n",
         "losses.huber.finite_differences": "not the derivative"},
    ),
    Mutation(
        "Huber ignores delta", M,
        "pieces = np.where(size <= self.delta, 0.5 * residual * residual, self.delta * (size - 0.5 * self.delta))",
        "pieces = np.where(size <= 1.0, 0.5 * residual * residual, 1.0 * (size - 0.5))",
        {"losses.huber.delta": "does not follow delta"},
    ),
    # --- cross-entropy
    Mutation(
        "CE gradient without the 1/N", M,
        CE_BACKWARD,
        CE_BACKWARD.replace(" / cache.targets.shape[0]", ""),
        {"losses.ce.backward": "n=5 times too large", "losses.ce.finite_differences": "n=5 times too large"},
    ),
    Mutation(
        "CE gradient sign flipped", M,
        CE_BACKWARD,
        CE_BACKWARD.replace("(cache.probabilities - cache.targets)", "(cache.targets - cache.probabilities)"),
        {"losses.ce.backward": "opposite sign", "losses.ce.finite_differences": "opposite sign"},
    ),
    # The stability mistakes: each loses exactly its own checks (ISOLATED in test_unit_losses.py).
    Mutation(
        "softmax without the max shift", M,
        "shifted = Z - Z.max(axis=1, keepdims=True)",
        "shifted = Z",
        {"losses.ce.large_logits": "subtract each row's maximum",
         "losses.relative_logits.no_overflow_warnings": "overflow encountered in exp"},
    ),
    Mutation(
        "softmax shifted by the batch's max, not each row's", M,
        "shifted = Z - Z.max(axis=1, keepdims=True)",
        "shifted = Z - Z.max()",
        {"losses.ce.row_max": "subtract the max of each row, not of the whole batch"},
    ),
    Mutation(
        "log of the softmax plus 1e-12", M,
        "log_p = shifted - np.log(total)",
        "log_p = np.log(exp / total + 1e-12)",
        {"losses.ce.small_probabilities": "is off for very confident predictions"},
    ),
    Mutation(
        "log of the softmax clipped at 1e-15", M,
        "log_p = shifted - np.log(total)",
        "log_p = np.log(np.clip(exp / total, 1e-15, 1.0))",
        {"losses.ce.small_probabilities": "use the log-softmax"},
    ),
    Mutation(
        "log of the softmax instead of the log-softmax", M,
        "log_p = shifted - np.log(total)",
        "log_p = np.log(exp / total)",
        {"losses.ce.large_logits": "rather than np.log(softmax(z))",
         "losses.ce.small_probabilities": "log(0) = -inf",
         "losses.relative_logits.no_overflow_warnings": "divide by zero encountered in log"},
    ),
    Mutation(
        "label smoothing not implemented (label_smoothing ignored)", M,
        "        targets = (1.0 - self.label_smoothing) * targets + self.label_smoothing / C\n",
        "",
        {"losses.ce.label_smoothing": "label_smoothing has no effect on the loss",
         "losses.ce.label_smoothing_backward": "uses the targets without label smoothing",
         "losses.ce.label_smoothing_targets": "no effect with probability targets",
         "losses.ce.hidden_label_smoothing": "label_smoothing has no effect on the loss"},
    ),
    Mutation(
        "probability targets not supported (labels only)", M,
        "targets = np.eye(C)[Y] if Y.ndim == 1 else Y",
        "targets = np.eye(C)[Y]",
        {"losses.ce.targets": "indexerror", "losses.ce.label_smoothing_targets": "indexerror",
         "losses.ce.hidden_targets": "indexerror"},
    ),
    Mutation(
        "label smoothing applied to integer labels only", M,
        "        targets = np.eye(C)[Y] if Y.ndim == 1 else Y\n"
        "        targets = (1.0 - self.label_smoothing) * targets + self.label_smoothing / C\n",
        "        if Y.ndim == 1:\n"
        "            targets = (1.0 - self.label_smoothing) * np.eye(C)[Y] + self.label_smoothing / C\n"
        "        else:\n"
        "            targets = Y\n",
        {"losses.ce.label_smoothing_targets": "smooth (n, c) targets exactly as the one-hot rows"},
    ),
    Mutation(
        "CE without the log-sum-exp normaliser", M,
        "return float(-np.sum(targets * log_p) / N)",
        "return float(-np.sum(targets * Z) / N)",
        {"losses.ce.forward": "log-sum-exp normaliser is missing",
         "losses.relative_logits.shift_invariance": "normaliser is missing"},
    ),
    Mutation(
        "label smoothing spread over the other classes only", M,
        "targets = (1.0 - self.label_smoothing) * targets + self.label_smoothing / C",
        "targets = (1.0 - self.label_smoothing) * targets + self.label_smoothing / (C - 1) * (1.0 - targets)",
        {"losses.ce.label_smoothing": "all c classes"},
    ),
    Mutation(
        "label smoothing forgotten in backward", M,
        CE_SMOOTHING_AND_LOSS,
        CE_SMOOTHING_AND_LOSS.replace("        targets = (1.0", "        smoothed = (1.0").replace(
            "-np.sum(targets * log_p)", "-np.sum(smoothed * log_p)"),
        {"losses.ce.label_smoothing_backward": "without label smoothing"},
    ),
    Mutation(
        "probability targets reduced to their argmax (one-hot vs labels)", M,
        "targets = np.eye(C)[Y] if Y.ndim == 1 else Y",
        "targets = np.eye(C)[Y if Y.ndim == 1 else Y.argmax(axis=1)]",
        {"losses.ce.targets": "argmax"},
    ),
    # --- binary cross-entropy
    Mutation(
        "BCE in the naive log-sigmoid form", M,
        "pieces = np.maximum(Z, 0.0) - Z * Y + np.log1p(small)",
        "pieces = -Y * np.log(probabilities) - (1 - Y) * np.log(1 - probabilities)",
        {"losses.bce.large_logits": "stable form", "losses.bce.no_overflow_warnings": "np.log was given 0"},
    ),
    Mutation(
        "BCE sigmoid as 1 / (1 + exp(-z))", M,
        "probabilities = np.where(Z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))",
        "probabilities = 1.0 / (1.0 + np.exp(-Z))",
        {"losses.bce.no_overflow_warnings": "np.exp overflowed"},
    ),
    # --- Gaussian NLL
    Mutation(
        "log of the unclamped variance", M,
        "pieces = 0.5 * (np.log(variance) + residual * residual / variance)",
        "pieces = 0.5 * (np.log(var) + residual * residual / variance)",
        {"losses.gaussian_nll.clamp": "clamp the variance before taking its log"},
    ),
    Mutation(
        "variance gradient 0 where the clamp is active", M,
        "d_var = 0.5 * (1.0 / cache.variance - cache.residual**2 / cache.variance**2) / N",
        "d_var = np.where(cache.variance > self.eps, "
        "0.5 * (1.0 / cache.variance - cache.residual**2 / cache.variance**2) / N, 0.0)",
        {"losses.gaussian_nll.clamp_gradient": "passes the gradient through"},
    ),
    Mutation(
        "variance gradient without the square", M,
        "cache.residual**2 / cache.variance**2",
        "cache.residual**2 / cache.variance",
        {"losses.gaussian_nll.backward": "var squared",
         "losses.gaussian_nll.finite_differences": "not the derivative",
         "losses.gaussian_mle.learned_variance": "blew up"},
    ),
    Mutation(
        "full=True constant added once per sample", M,
        "        if self.full:\n            pieces = pieces + 0.5 * math.log(2.0 * math.pi)\n" + GAUSSIAN_RETURN,
        GAUSSIAN_RETURN.replace(
            "residual.shape[0])", "residual.shape[0] + (0.5 * math.log(2.0 * math.pi) if self.full else 0.0))"),
        {"losses.gaussian_nll.full": "belongs to every element",
         "losses.gaussian_mle.unit_variance": "belongs to every element"},
    ),
    Mutation(
        "variance clamped in place", M,
        "variance = np.maximum(var, self.eps)",
        "variance = np.maximum(var, self.eps, out=var)",
        {"losses.gaussian_nll.contract": "changed its argument var in place"},
    ),
    Mutation(
        "mean gradient sign flipped with a learned variance", M,
        "GaussianNLLGradients(mu=cache.residual / cache.variance / N",
        "GaussianNLLGradients(mu=-cache.residual / cache.variance / N",
        {"losses.gaussian_nll.backward": "opposite sign",
         "losses.gaussian_mle.learned_variance": "sign"},
    ),
    # --- found by grading other courses' styles (aliasing, conventions the generic diagnosis misnamed)
    Mutation(
        "probability targets smoothed in place (Y *= 1 - eps)", M,
        "        targets = (1.0 - self.label_smoothing) * targets + self.label_smoothing / C\n",
        "        targets *= 1.0 - self.label_smoothing\n        targets += self.label_smoothing / C\n",
        # integer labels are copied by np.eye(C)[Y], and without smoothing the edit is a no-op: only
        # the contract's second case (soft targets with smoothing) sees the caller's Y change
        {"losses.ce.contract": "changed its argument y in place"},
    ),
    Mutation(
        "CE averaged over the classes too (np.mean)", M,
        "return float(-np.sum(targets * log_p) / N)",
        "return float(-np.mean(targets * log_p))",
        {"losses.ce.forward": "divided by n*c", "losses.ce.hidden": "divided by n*c"},
    ),
    Mutation(
        "Huber gradient 0 beyond delta", M,
        "return np.clip(cache.residual, -self.delta, self.delta) / cache.residual.shape[0]",
        "r = cache.residual\n        return np.where(np.abs(r) <= self.delta, r, 0.0) / r.shape[0]",
        # the generic diagnosis called this "only some rows are wrong: a loop bound"
        {"losses.huber.backward": "is 0 where |r| > delta", "losses.huber.delta_backward": "is 0 where |r| > delta",
         "losses.huber.hidden": "is 0 where |r| > delta"},
    ),
    Mutation(
        "Huber as torch's SmoothL1Loss (divided by delta)", M,
        "        return float(np.sum(pieces) / residual.shape[0])\n        ### END SOLUTION\n\n    def backward(self) -> np.ndarray:\n        \"\"\"Returns dloss/dY_hat, (N, K): r where",
        "        return float(np.sum(pieces) / self.delta / residual.shape[0])\n        ### END SOLUTION\n\n    def backward(self) -> np.ndarray:\n        \"\"\"Returns dloss/dY_hat, (N, K): r where",
        # with delta = 0.5 the generic diagnosis said "twice too large: a factor 2 counted twice"
        {"losses.huber.delta": "smoothl1loss"},
    ),
    Mutation(
        "eps added to the variance instead of clamping it", M,
        "variance = np.maximum(var, self.eps)",
        "variance = var + self.eps",
        # a relative error of about eps: the generic diagnosis called it float32 rounding
        {"losses.gaussian_nll.forward": "var + eps", "losses.gaussian_nll.backward": "var + eps",
         "losses.gaussian_nll.full": "var + eps", "losses.gaussian_nll.hidden": "var + eps"},
    ),
    Mutation(
        "MSE backward scales the cached residual in place and returns it", M,
        "return 2.0 * cache.residual / cache.residual.shape[0]",
        "cache.residual *= 2.0 / cache.residual.shape[0]\n        return cache.residual",
        # every value check calls backward once and passed; a second call returns 2/N times more
        {"losses.mse.contract": "called a second time"},
    ),
    Mutation(
        "Gaussian backward divides the cached residual in place", M,
        "return GaussianNLLGradients(mu=cache.residual / cache.variance / N, var=d_var)",
        "cache.residual /= cache.variance * N\n        return GaussianNLLGradients(mu=cache.residual, var=d_var)",
        {"losses.gaussian_nll.contract": "called a second time"},
    ),
]


CE_BODY = CE_SMOOTHING_AND_LOSS.replace(
    "        targets = (1.0 - self.label_smoothing) * targets + self.label_smoothing / C\n", "")

#: Correct code in other courses' styles, and the part whose every check it must still pass.
CORRECT_VARIANTS = [
    ("losses.ce", Mutation(
        "CE with a separate log-sum-exp and labels by fancy indexing", M,
        "        targets = np.eye(C)[Y] if Y.ndim == 1 else Y\n" + CE_SMOOTHING_AND_LOSS,
        "        if Y.ndim == 1:\n"
        "            q = np.zeros((N, C))\n"
        "            q[np.arange(N), Y] = 1.0\n"
        "        else:\n"
        "            q = Y.astype(np.float64)\n"
        "        q = q * (1 - self.label_smoothing) + self.label_smoothing / C\n"
        "        m = np.max(Z, axis=1, keepdims=True)\n"
        "        lse = m + np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True))\n"
        "        log_p = Z - lse\n"
        "        self.cache = LogitCache(np.exp(log_p), q)\n"
        "        return float(-(q * log_p).sum(axis=1).mean())\n",
    )),
    ("losses.ce", Mutation(
        "CE with a loop over the rows (CS231n style), returning np.float64", M,
        CE_BODY,
        "        loss = 0.0\n"
        "        probs = np.zeros(Z.shape)\n"
        "        for i in range(N):\n"
        "            z = Z[i] - np.max(Z[i])\n"
        "            s = np.sum(np.exp(z))\n"
        "            probs[i] = np.exp(z) / s\n"
        "            loss += -np.dot(targets[i], z - np.log(s))\n"
        "        self.cache = LogitCache(probs, targets)\n"
        "        return loss / N\n",
    )),
    ("losses.ce", Mutation(
        "CE with torch's split of smoothing: (1 - eps) * NLL + eps * mean(-log p)", M,
        "        targets = np.eye(C)[Y] if Y.ndim == 1 else Y\n" + CE_SMOOTHING_AND_LOSS,
        "        hard = np.eye(C)[Y] if Y.ndim == 1 else Y\n"
        "        eps = self.label_smoothing\n"
        "        shifted = Z - Z.max(axis=1, keepdims=True)\n"
        "        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n"
        "        self.cache = LogitCache(probabilities=np.exp(log_p), targets=(1.0 - eps) * hard + eps / C)\n"
        "        nll = -np.sum(hard * log_p, axis=1)\n"
        "        smooth = -np.mean(log_p, axis=1)\n"
        "        return float(np.mean((1 - eps) * nll + eps * smooth))\n",
    )),
    ("losses.mse", Mutation(
        "MSE as np.mean(r ** 2, axis=0).sum() (mean first, then the sum over outputs)", M,
        "return float(np.sum(residual * residual) / residual.shape[0])",
        "return np.mean(residual ** 2, axis=0).sum()",
    )),
    ("losses.l1", Mutation(
        "L1 as np.abs(r).sum(axis=1).mean(), a numpy float", M,
        "return float(np.sum(np.abs(residual)) / residual.shape[0])",
        "return np.abs(residual).sum(axis=1).mean()",
    )),
    ("losses.huber", Mutation(
        "Huber as 0.5 * min(|r|, delta)**2 + delta * (|r| - min(|r|, delta))", M,
        "        pieces = np.where(size <= self.delta, 0.5 * residual * residual, self.delta * (size - 0.5 * self.delta))",
        "        quadratic = np.minimum(size, self.delta)\n"
        "        pieces = 0.5 * quadratic**2 + self.delta * (size - quadratic)",
    )),
    ("losses.huber", Mutation(
        "Huber with |r| < delta (the two pieces are equal at |r| = delta)", M,
        "np.where(size <= self.delta,", "np.where(size < self.delta,",
    )),
    ("losses.bce", Mutation(
        "BCE with np.logaddexp(0, z) - z * y and sigmoid via tanh", M,
        "        probabilities = np.where(Z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))\n"
        "        self.cache = LogitCache(probabilities=probabilities, targets=Y)\n"
        "        pieces = np.maximum(Z, 0.0) - Z * Y + np.log1p(small)\n",
        "        self.cache = LogitCache(probabilities=0.5 * (1.0 + np.tanh(0.5 * Z)), targets=Y)\n"
        "        pieces = np.logaddexp(0.0, Z) - Z * Y\n",
    )),
    ("losses.bce", Mutation(
        "BCE as y * softplus(-z) + (1 - y) * softplus(z)", M,
        "        pieces = np.maximum(Z, 0.0) - Z * Y + np.log1p(small)\n",
        "        pieces = Y * np.logaddexp(0.0, -Z) + (1.0 - Y) * np.logaddexp(0.0, Z)\n",
    )),
    ("losses.gaussian_nll", Mutation(
        "Gaussian NLL with np.clip(var, eps, None)", M,
        "            variance = np.maximum(var, self.eps)\n"
        "            pieces = 0.5 * (np.log(variance) + residual * residual / variance)\n",
        "            variance = np.clip(var, self.eps, None)\n"
        "            pieces = 0.5 * np.log(variance) + 0.5 * residual**2 / variance\n",
    )),
    ("losses.mse", Mutation(
        "MSE backward that frees its cache after use (as torch frees its graph)", M,
        "return 2.0 * cache.residual / cache.residual.shape[0]",
        "self.cache = None\n        return 2.0 * cache.residual / cache.residual.shape[0]",
    )),
]
