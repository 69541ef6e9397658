"""Unit 2 (MLP layers): the mistakes students really make, and what the grader must say."""

from . import Mutation

M = "mlp"

MUTATIONS = [
    # ------------------------------------------------------------------ Linear
    Mutation(
        "dW averaged over the batch", M,
        "self.dW = X.T @ dY",
        "self.dW = X.T @ dY / X.shape[0]",
        {"mlp.linear.backward": "layers do not average",
         "mlp.linear.backward_hidden": "divided by the batch size",
         "mlp.linear.gradcheck": "n=5 times too small"},
    ),
    Mutation(
        "bias gradient averaged over the batch", M,
        "self.db = dY.sum(axis=0)",
        "self.db = dY.mean(axis=0)",
        {"mlp.linear.backward": "db is averaged over the batch"},
    ),
    Mutation(
        "bias gradient not summed over the batch", M,
        "self.db = dY.sum(axis=0)",
        "self.db = dY",
        {"mlp.linear.backward": "sum the per-sample contributions over the batch axis"},
    ),
    Mutation(
        "transposed weight gradient", M,
        "self.dW = X.T @ dY",
        "self.dW = dY.T @ X",
        {"mlp.linear.backward": "dw is transposed"},
    ),
    Mutation(
        "dX uses W instead of W.T", M,
        "return dY @ self.W.T",
        "return dY @ self.W",
        {"mlp.linear.square": "uses w where its transpose belongs",
         "mlp.linear.backward": "valueerror"},
    ),
    Mutation(
        "forward with torch's weight layout (W transposed)", M,
        "return X @ self.W + self.b",
        "return X @ self.W.T + self.b",
        {"mlp.linear.square": "you multiplied by w transposed",
         "mlp.linear.forward": "valueerror"},
    ),
    Mutation(
        "bias forgotten in forward", M,
        "return X @ self.W + self.b",
        "return X @ self.W",
        {"mlp.linear.forward": "the bias b is missing"},
    ),
    Mutation(
        "He init without the factor 2", M,
        "std = np.sqrt(2.0 / in_features)",
        "std = np.sqrt(1.0 / in_features)",
        {"mlp.linear.init": "sqrt(1 / d_in)"},
    ),
    Mutation(
        "He init scaled with D_out", M,
        "std = np.sqrt(2.0 / in_features)",
        "std = np.sqrt(2.0 / out_features)",
        {"mlp.linear.init": "uses d_out"},
    ),
    Mutation(
        "variance passed where numpy expects the standard deviation", M,
        "std = np.sqrt(2.0 / in_features)",
        "std = 2.0 / in_features",
        {"mlp.linear.init": "you passed the variance"},
    ),
    Mutation(
        "Xavier init with D_in only", M,
        "std = np.sqrt(2.0 / (in_features + out_features))",
        "std = np.sqrt(2.0 / in_features)",
        {"mlp.linear.init_xavier": "this is he init"},
    ),
    Mutation(
        "uniform instead of normal draw", M,
        "self.W = rng.normal(0.0, std, size=(in_features, out_features))",
        "self.W = rng.uniform(-np.sqrt(3.0) * std, np.sqrt(3.0) * std, size=(in_features, out_features))",
        {"mlp.linear.init": "uniform draw", "mlp.linear.init_xavier": "normal distribution"},
    ),
    Mutation(
        "bias drawn at random like W", M,
        "self.b = np.zeros(out_features)",
        "self.b = rng.normal(0.0, std, size=out_features)",
        {"mlp.linear.init_bias": "b starts at zero"},
    ),
    Mutation(
        "weights from numpy's global generator", M,
        "self.W = rng.normal(0.0, std, size=(in_features, out_features))",
        "self.W = np.random.normal(0.0, std, size=(in_features, out_features))",
        {"mlp.linear.init_rng": "from the rng argument"},
    ),
    Mutation(
        "W drawn in torch's (D_out, D_in) layout", M,
        "self.W = rng.normal(0.0, std, size=(in_features, out_features))",
        "self.W = rng.normal(0.0, std, size=(out_features, in_features))",
        {"mlp.linear.init": "w is transposed"},
    ),
    Mutation(
        "parameters() returns copies", M,
        "return [self.W, self.b]",
        "return [self.W.copy(), self.b.copy()]",
        {"mlp.linear.parameters": "not copies",
         "mlp.universal.sin": "the loss never changes"},
    ),
    Mutation(
        "gradients() in the wrong order", M,
        "return [self.dW, self.db]",
        "return [self.db, self.dW]",
        {"mlp.linear.parameters": "in the order of parameters()"},
    ),
    # ------------------------------------------------------------------ ReLU and LeakyReLU
    Mutation(
        "ReLU forward zeroes X in place", M,
        "return np.where(positive, X, 0.0)",
        "X[~positive] = 0.0\n        return X",
        {"mlp.relu.unchanged": "relu.forward changed its argument x in place"},
    ),
    Mutation(
        "ReLU backward zeroes dY in place", M,
        "return np.where(self.cache.positive, dY, 0.0)",
        "dY[~self.cache.positive] = 0.0\n        return dY",
        {"mlp.relu.unchanged": "relu.backward changed its argument dy in place"},
    ),
    Mutation(
        "ReLU backward without the mask", M,
        "return np.where(self.cache.positive, dY, 0.0)",
        "return dY",
        {"mlp.relu.backward": "dx equals dy", "mlp.relu.gradcheck": "not the derivative"},
    ),
    Mutation(
        "ReLU with np.max instead of np.maximum", M,
        "return np.where(positive, X, 0.0)",
        "return np.max(X, 0)",
        {"mlp.relu.forward": "np.maximum(x, 0.0) compares every element"},
    ),
    Mutation(
        "LeakyReLU backward with ReLU's derivative", M,
        "return np.where(self.cache.positive, dY, self.negative_slope * dY)",
        "return np.where(self.cache.positive, dY, 0.0)",
        {"mlp.leaky_relu.backward": "this is relu's derivative", "mlp.leaky_relu.gradcheck": "not the derivative"},
    ),
    Mutation(
        "LeakyReLU with a hard-coded slope", M,
        "return np.where(positive, X, self.negative_slope * X)",
        "return np.where(positive, X, 0.01 * X)",
        {"mlp.leaky_relu.slope": "not the one the layer was built with"},
    ),
    Mutation(
        "ReLU derivative 1 at x = 0 (mask X >= 0)", M,
        "positive = X > 0\n        self.cache = ReLUCache(positive=positive)",
        "positive = X >= 0\n        self.cache = ReLUCache(positive=positive)",
        {"mlp.relu.at_zero": "at x = 0 your derivative is 1; relu's is 0 there: the mask is x > 0, not x >= 0"},
    ),
    Mutation(
        "LeakyReLU derivative 1 at x = 0 (mask X >= 0)", M,
        "positive = X > 0\n        self.cache = LeakyReLUCache(positive=positive)",
        "positive = X >= 0\n        self.cache = LeakyReLUCache(positive=positive)",
        {"mlp.leaky_relu.at_zero": "at x = 0 your derivative is 1; leakyrelu's is negative_slope there"},
    ),
    # ------------------------------------------------------------------ Sigmoid and Tanh
    Mutation(
        "sigmoid derivative written with the input (x * (1 - x))", M,
        "self.cache = SigmoidCache(Y=Y)",
        "self.cache = SigmoidCache(Y=X)",
        {"mlp.sigmoid.backward": "this used the input x", "mlp.sigmoid.gradcheck": "not the derivative"},
    ),
    Mutation(
        "sigmoid as 1 / (1 + exp(-x)) (overflow warning)", M,
        "E = np.exp(-np.abs(X))\n        Y = np.where(X >= 0, 1.0 / (1.0 + E), E / (1.0 + E))",
        "Y = 1.0 / (1.0 + np.exp(-X))",
        {"mlp.sigmoid.no_warnings": "overflow encountered in exp"},
    ),
    Mutation(
        "sigmoid as exp(x) / (1 + exp(x)) (NaN at +1000)", M,
        "E = np.exp(-np.abs(X))\n        Y = np.where(X >= 0, 1.0 / (1.0 + E), E / (1.0 + E))",
        "Y = np.exp(X) / (1.0 + np.exp(X))",
        {"mlp.sigmoid.extreme": "sigmoid returned inf or nan", "mlp.sigmoid.no_warnings": "overflow"},
    ),
    Mutation(
        "tanh derivative written with the input", M,
        "self.cache = TanhCache(Y=Y)",
        "self.cache = TanhCache(Y=X)",
        {"mlp.tanh.backward": "squared the input x"},
    ),
    Mutation(
        "tanh from exponentials", M,
        "Y = np.tanh(X)\n",
        "Y = (np.exp(X) - np.exp(-X)) / (np.exp(X) + np.exp(-X))\n",
        {"mlp.tanh.extreme": "use np.tanh", "mlp.tanh.no_warnings": "overflow"},
    ),
    # ------------------------------------------------------------------ GELU
    Mutation(
        "GELU derivative missing the term 0.5 * (1 + t)", M,
        "return dY * (0.5 * (1.0 + T) + 0.5 * X * (1.0 - T * T) * du)",
        "return dY * (0.5 * X * (1.0 - T * T) * du)",
        {"mlp.gelu.backward": "missing the term 0.5 * (1 + t)", "mlp.gelu.gradcheck": "not the derivative"},
    ),
    Mutation(
        "GELU derivative missing the chain-rule term", M,
        "return dY * (0.5 * (1.0 + T) + 0.5 * X * (1.0 - T * T) * du)",
        "return dY * 0.5 * (1.0 + T)",
        {"mlp.gelu.backward": "missing the term 0.5 * x * (1 - t**2) * du/dx"},
    ),
    Mutation(
        "GELU derivative without the chain factor du/dx (the lesson's usual mistake)", M,
        "return dY * (0.5 * (1.0 + T) + 0.5 * X * (1.0 - T * T) * du)",
        "return dY * (0.5 * (1.0 + T) + 0.5 * X * (1.0 - T * T))",
        {"mlp.gelu.backward": "the chain rule through u is missing (the lesson's \"usual mistake\")",
         "mlp.gelu.gradcheck": "not the derivative",
         "mlp.gelu.hidden": "dt/dx = (1 - t**2) * du/dx"},
    ),
    Mutation(
        "GELU inner derivative without the cubic term", M,
        "du = GELU_SCALE * (1.0 + 3.0 * GELU_CUBIC * X * X)",
        "du = GELU_SCALE",
        {"mlp.gelu.backward": "missing the cubic term", "mlp.gelu.hidden": "missing the cubic term"},
    ),
    # ------------------------------------------------------------------ Softmax
    Mutation(
        "softmax without the max shift", M,
        "E = np.exp(X - X.max(axis=1, keepdims=True))",
        "E = np.exp(X)",
        {"mlp.softmax.extreme": "subtract each row's own maximum", "mlp.softmax.no_warnings": "overflow"},
    ),
    Mutation(
        "softmax shifted by the global maximum", M,
        "E = np.exp(X - X.max(axis=1, keepdims=True))",
        "E = np.exp(X - X.max())",
        {"mlp.softmax.extreme": "subtract each row's own maximum",
         "mlp.softmax.no_warnings": "invalid value encountered"},
    ),
    Mutation(
        "softmax over the batch axis", M,
        "E = np.exp(X - X.max(axis=1, keepdims=True))\n        Y = E / E.sum(axis=1, keepdims=True)",
        "E = np.exp(X - X.max(axis=0, keepdims=True))\n        Y = E / E.sum(axis=0, keepdims=True)",
        {"mlp.softmax.forward": "wrong axis"},
    ),
    Mutation(
        "softmax backward with the Jacobian's diagonal only", M,
        "return Y * (dY - np.sum(dY * Y, axis=1, keepdims=True))",
        "return dY * Y * (1.0 - Y)",
        {"mlp.softmax.backward": "only the diagonal", "mlp.softmax.gradcheck": "not the derivative"},
    ),
    # ------------------------------------------------------------------ Sequential and MLP
    Mutation(
        "Sequential backward in forward order", M,
        "for layer in reversed(self.layers):\n            dY = layer.backward(dY)",
        "for layer in self.layers:\n            dY = layer.backward(dY)",
        {"mlp.sequential.backward": "reversed(self.layers)"},
    ),
    Mutation(
        "Sequential backward does not pass dY along", M,
        "dY = layer.backward(dY)\n        return dY",
        "dX = layer.backward(dY)\n        return dX",
        {"mlp.sequential.backward": "got the original dy", "mlp.sequential.gradcheck": "not the derivative"},
    ),
    Mutation(
        "Sequential.parameters as a list of lists", M,
        "return [p for layer in self.layers for p in layer.parameters()]",
        "return [layer.parameters() for layer in self.layers]",
        {"mlp.sequential.parameters": "one flat list"},
    ),
    Mutation(
        "Sequential.parameters with the last layer first", M,
        "return [p for layer in self.layers for p in layer.parameters()]",
        "return [p for layer in reversed(self.layers) for p in layer.parameters()]",
        {"mlp.sequential.parameters": "the order is wrong"},
    ),
    Mutation(
        "MLP with an activation after the last layer", M,
        "            if index > 0:\n                layers.append(ACTIVATIONS[activation]())\n"
        "            layers.append(Linear(d_in, d_out, rng, init))",
        "            layers.append(Linear(d_in, d_out, rng, init))\n"
        "            layers.append(ACTIVATIONS[activation]())",
        {"mlp.network.structure": "no activation after the last linear"},
    ),
    Mutation(
        "MLP does not pass init on", M,
        "layers.append(Linear(d_in, d_out, rng, init))",
        "layers.append(Linear(d_in, d_out, rng))",
        {"mlp.network.structure": "pass init on to every linear layer"},
    ),
    # ------------------------------------------------------------------ Residual
    Mutation(
        "Residual backward without the skip path", M,
        "return dY + self.inner.backward(dY)",
        "return self.inner.backward(dY)",
        {"mlp.residual.forward_backward": "skip path's gradient is missing",
         "mlp.residual.gradcheck": "not the derivative",
         "mlp.residual.hidden": "skip path's gradient is missing",
         # the point of the depth exercise: without "+ dY" the early layers never learn
         "mlp.depth.residual_vs_plain": "the skip path's gradient is missing"},
    ),
    Mutation(
        "Residual forward without the skip connection", M,
        "return X + F",
        "return F",
        {"mlp.residual.forward_backward": "the skip connection is missing"},
    ),
    # ------------------------------------------------------------------ exercise: a stack of linear layers
    Mutation(
        "collapse keeps only the last bias", M,
        "W, b = W @ layer.W, b @ layer.W + layer.b",
        "W, b = W @ layer.W, layer.b",
        {"mlp.linear_stack.values": "only the last layer's bias", "mlp.linear_stack.equivalence": "differs"},
    ),
    Mutation(
        "collapse does not refuse activations", M,
        "        if not isinstance(layer, Linear):\n            raise TypeError(\n"
        "                f\"only Linear layers can be collapsed into one; found a {type(layer).__name__}\"\n"
        "            )\n",
        "",
        {"mlp.linear_stack.rejects_activation": "raised attributeerror instead of raising typeerror"},
    ),
    # --- found by grading other courses' styles
    Mutation(
        "Sigmoid backward squares the cached output in place (Y *= 1 - Y)", M,
        "        Y = self.cache.Y\n        return dY * Y * (1.0 - Y)\n",
        "        Y = self.cache.Y\n        Y *= 1.0 - Y\n        return dY * Y\n",
        # every value check passed: the cache is the very array forward returned to the caller
        {"mlp.sigmoid.unchanged": "changed the output y of forward in place"},
    ),
    Mutation(
        "Tanh backward squares the cached output in place (Y **= 2)", M,
        "        Y = self.cache.Y\n        return dY * (1.0 - Y * Y)\n",
        "        Y = self.cache.Y\n        Y **= 2\n        return dY * (1.0 - Y)\n",
        {"mlp.tanh.unchanged": "changed the output y of forward in place"},
    ),
    Mutation(
        "GELU as x * sigmoid(1.702 x) (another approximation)", M,
        "        return 0.5 * X * (1.0 + T)\n",
        "        return X / (1.0 + np.exp(-1.702 * X))\n",
        {"mlp.gelu.forward": "does not match the reference", "mlp.gelu.hidden": "does not match the reference"},
    ),
]


#: Correct but unusual code, and the part whose every check it must still pass (no must_fail).
PART = "mlp.linear"
CORRECT_VARIANTS = [
    (PART, Mutation(
        "Linear with Python loops over the samples (correct, slow)", M,
        "        self.cache = LinearCache(X=X)\n        return X @ self.W + self.b\n",
        "        self.cache = LinearCache(X=X)\n"
        "        rows = []\n"
        "        for n in range(X.shape[0]):\n"
        "            rows.append(X[n] @ self.W + self.b)\n"
        "        return np.array(rows).reshape(X.shape[0], self.W.shape[1])\n",
    )),
    (PART, Mutation(
        "Linear backward with Python loops over the samples (correct, slow)", M,
        "        self.dW = X.T @ dY\n        self.db = dY.sum(axis=0)\n        return dY @ self.W.T\n",
        "        self.dW = np.zeros_like(self.W)\n"
        "        self.db = np.zeros_like(self.b)\n"
        "        dX = np.zeros((dY.shape[0], self.W.shape[0]))\n"
        "        for n in range(dY.shape[0]):\n"
        "            self.dW += np.outer(X[n], dY[n])\n"
        "            self.db += dY[n]\n"
        "            dX[n] = self.W @ dY[n]\n"
        "        return dX\n",
    )),
    ("mlp.linear", Mutation(
        "Linear backward with einsum", M,
        "        self.dW = X.T @ dY\n        self.db = dY.sum(axis=0)\n        return dY @ self.W.T\n",
        "        self.dW = np.einsum('ni,nj->ij', X, dY)\n        self.db = np.einsum('nj->j', dY)\n"
        "        return np.einsum('nj,ij->ni', dY, self.W)\n",
    )),
    ("mlp.relu", Mutation(
        "ReLU as X * (X > 0), backward dY * mask", M,
        "        return np.where(positive, X, 0.0)\n",
        "        return X * (X > 0)\n",
    )),
    ("mlp.sigmoid", Mutation(
        "Sigmoid by boolean masks (CS231n style stable form)", M,
        "        E = np.exp(-np.abs(X))\n        Y = np.where(X >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n",
        "        Y = np.empty_like(X, dtype=float)\n        pos = X >= 0\n        Y[pos] = 1 / (1 + np.exp(-X[pos]))\n"
        "        ex = np.exp(X[~pos])\n        Y[~pos] = ex / (1 + ex)\n",
    )),
    ("mlp.sigmoid", Mutation(
        "Sigmoid as 0.5 * (1 + tanh(x / 2))", M,
        "        E = np.exp(-np.abs(X))\n        Y = np.where(X >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n",
        "        Y = 0.5 * (1.0 + np.tanh(0.5 * X))\n",
    )),
    ("mlp.softmax", Mutation(
        "Softmax backward with each row's full Jacobian diag(y) - y y^T", M,
        "        Y = self.cache.Y\n        return Y * (dY - np.sum(dY * Y, axis=1, keepdims=True))\n",
        "        Y = self.cache.Y\n        dX = np.empty_like(dY)\n        for i in range(Y.shape[0]):\n"
        "            J = np.diag(Y[i]) - np.outer(Y[i], Y[i])\n            dX[i] = J @ dY[i]\n        return dX\n",
    )),
    ("mlp.softmax", Mutation(
        "Softmax normalised in place on a new array (np.amax, axis=-1)", M,
        "        E = np.exp(X - X.max(axis=1, keepdims=True))\n        Y = E / E.sum(axis=1, keepdims=True)\n",
        "        Y = np.exp(X - np.amax(X, axis=-1, keepdims=True))\n        Y /= np.sum(Y, axis=-1, keepdims=True)\n",
    )),
    ("mlp.gelu", Mutation(
        "GELU derivative with sech^2 recomputed from u", M,
        "        du = GELU_SCALE * (1.0 + 3.0 * GELU_CUBIC * X * X)\n"
        "        return dY * (0.5 * (1.0 + T) + 0.5 * X * (1.0 - T * T) * du)\n",
        "        u = GELU_SCALE * (X + GELU_CUBIC * X**3)\n        sech2 = 1.0 / np.cosh(u) ** 2\n"
        "        return dY * (0.5 * (1 + T) + 0.5 * X * sech2 * GELU_SCALE * (1 + 3 * GELU_CUBIC * X**2))\n",
    )),
]
