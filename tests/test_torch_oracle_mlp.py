"""Unit 2's reference layers held against torch (torch.nn.functional and autograd), in float64, and
the layer contract the module docstring pins (shapes, no averaging, live parameters, fixed order,
no mutation, seeded initialisation).

Every backward is compared with torch's autograd for a random upstream gradient dY: for a layer
Y = f(X), ``backward(dY)`` must equal ``X.grad`` after ``f(X).backward(dY)``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from .conftest import load_reference

mlp = load_reference("mlp")

SHAPES = [(5, 3), (1, 4), (7, 1), (256, 10)]
RTOL, ATOL = 1e-12, 1e-14


def assert_close(received, expected):
    assert received.shape == expected.shape and received.dtype == np.float64
    np.testing.assert_allclose(received, expected, rtol=RTOL, atol=ATOL)


def torch_forward_backward(function, X, dY):
    """(Y, dX) of ``function`` at X for the upstream gradient dY, by torch's autograd."""
    X_t = torch.tensor(X, requires_grad=True)
    Y_t = function(X_t)
    Y_t.backward(torch.tensor(dY))
    return Y_t.detach().numpy(), X_t.grad.numpy()


def inputs(seed, shape, scale=2.0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal(shape), rng.standard_normal(shape)


# ----------------------------------------------------------------------------- Linear


@pytest.mark.parametrize("n, d_in, d_out", [(5, 3, 2), (1, 4, 3), (7, 1, 1), (128, 50, 20)])
def test_linear_matches_torch_and_does_not_average(n, d_in, d_out):
    rng = np.random.default_rng(n * 100 + d_in * 10 + d_out)
    X, dY = rng.standard_normal((n, d_in)), rng.standard_normal((n, d_out))
    layer = mlp.Linear.from_parameters(rng.standard_normal((d_in, d_out)), rng.standard_normal(d_out))

    X_t = torch.tensor(X, requires_grad=True)
    W_t = torch.tensor(layer.W, requires_grad=True)
    b_t = torch.tensor(layer.b, requires_grad=True)
    Y_t = F.linear(X_t, W_t.T, b_t)  # torch stores the weight as (D_out, D_in): ours transposed
    Y_t.backward(torch.tensor(dY))

    assert_close(layer.forward(X), Y_t.detach().numpy())
    assert_close(layer.backward(dY), X_t.grad.numpy())
    assert_close(layer.dW, W_t.grad.numpy())
    assert_close(layer.db, b_t.grad.numpy())
    # The pinned convention, stated plainly: no 1/N anywhere in the layer.
    assert_close(layer.dW, X.T @ dY)
    assert_close(layer.db, dY.sum(axis=0))


@pytest.mark.parametrize("init, torch_init, std", [
    ("he", lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu"), lambda i, o: np.sqrt(2.0 / i)),
    ("xavier", torch.nn.init.xavier_normal_, lambda i, o: np.sqrt(2.0 / (i + o))),
])
def test_initialisation_has_the_spread_of_torchs_namesake(init, torch_init, std):
    """Same distribution as torch's kaiming_normal_ (fan-in, ReLU gain) and xavier_normal_: the
    sample standard deviations of 120,000 draws agree with each other and with the formula to 2%."""
    d_in, d_out = 400, 300
    layer = mlp.Linear(d_in, d_out, np.random.default_rng(0), init=init)
    torch.manual_seed(0)
    theirs = torch_init(torch.empty(d_out, d_in, dtype=torch.float64)).numpy()
    assert layer.W.shape == (d_in, d_out) and layer.W.dtype == np.float64
    assert np.all(layer.b == 0) and layer.b.shape == (d_out,)
    assert layer.W.std() == pytest.approx(std(d_in, d_out), rel=0.02)
    assert theirs.std() == pytest.approx(std(d_in, d_out), rel=0.02)
    assert abs(layer.W.mean()) < 5 * std(d_in, d_out) / np.sqrt(layer.W.size)


def test_initialisation_comes_from_the_generator_passed_in():
    first = mlp.Linear(6, 5, np.random.default_rng(3)).W
    np.random.seed(0)  # numpy's global generator must play no role
    again = mlp.Linear(6, 5, np.random.default_rng(3)).W
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, mlp.Linear(6, 5, np.random.default_rng(4)).W)
    with pytest.raises(ValueError, match="unknown init"):
        mlp.Linear(2, 2, np.random.default_rng(0), init="lecun")


# ----------------------------------------------------------------------------- activations


ACTIVATIONS = {
    "ReLU": (lambda: mlp.ReLU(), F.relu),
    "LeakyReLU": (lambda: mlp.LeakyReLU(), lambda x: F.leaky_relu(x, 0.01)),
    "LeakyReLU(0.2)": (lambda: mlp.LeakyReLU(negative_slope=0.2), lambda x: F.leaky_relu(x, 0.2)),
    "Sigmoid": (lambda: mlp.Sigmoid(), torch.sigmoid),
    "Tanh": (lambda: mlp.Tanh(), torch.tanh),
    "GELU": (lambda: mlp.GELU(), lambda x: F.gelu(x, approximate="tanh")),
    "Softmax": (lambda: mlp.Softmax(), lambda x: F.softmax(x, dim=1)),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_activation_matches_torch(name, shape):
    make, torch_function = ACTIVATIONS[name]
    X, dY = inputs(len(name) * 31 + shape[0], shape)
    X = np.where(np.abs(X) < 1e-3, 0.5, X)  # no input at the kink of ReLU / LeakyReLU
    X_before, dY_before = X.copy(), dY.copy()
    layer = make()
    Y_expected, dX_expected = torch_forward_backward(torch_function, X, dY)
    assert_close(layer.forward(X), Y_expected)
    assert_close(layer.backward(dY), dX_expected)
    np.testing.assert_array_equal(X, X_before)  # neither pass modifies its argument
    np.testing.assert_array_equal(dY, dY_before)
    assert layer.parameters() == [] and layer.gradients() == []


@pytest.mark.parametrize("name", ["Sigmoid", "Tanh", "Softmax", "GELU"])
def test_activation_matches_torch_at_extreme_inputs_without_warnings(name):
    make, torch_function = ACTIVATIONS[name]
    X = np.array([[-1000.0, -710.0, -30.0, 0.0, 30.0, 710.0, 1000.0],
                  [1000.0, 999.0, 0.5, -1000.0, -1000.0, 3.0, 1000.0]])
    dY = np.random.default_rng(5).standard_normal(X.shape)
    Y_expected, dX_expected = torch_forward_backward(torch_function, X, dY)
    layer = make()
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is harmless
        Y, dX = layer.forward(X), layer.backward(dY)
    assert np.all(np.isfinite(Y)) and np.all(np.isfinite(dX))
    np.testing.assert_allclose(Y, Y_expected, rtol=RTOL, atol=1e-300)
    np.testing.assert_allclose(dX, dX_expected, rtol=RTOL, atol=1e-300)


def test_softmax_rows_are_probabilities():
    X, _ = inputs(7, (9, 5), scale=30.0)
    Y = mlp.Softmax().forward(X)
    assert np.all(Y >= 0) and np.allclose(Y.sum(axis=1), 1.0, rtol=0, atol=1e-15)


# ----------------------------------------------------------------------------- containers


def torch_linear(linear):
    layer = torch.nn.Linear(*linear.W.shape, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(linear.W.T))
        layer.bias.copy_(torch.from_numpy(linear.b))
    return layer


TORCH_ACTIVATION = {"relu": torch.nn.ReLU, "leaky_relu": torch.nn.LeakyReLU, "sigmoid": torch.nn.Sigmoid,
                    "tanh": torch.nn.Tanh, "gelu": lambda: torch.nn.GELU(approximate="tanh")}


def torch_twin(model):
    """The same network in torch, holding the same weights."""
    layers = []
    for layer in model.layers:
        if isinstance(layer, mlp.Linear):
            layers.append(torch_linear(layer))
        else:
            name = next(key for key, cls in mlp.ACTIVATIONS.items() if isinstance(layer, cls))
            layers.append(TORCH_ACTIVATION[name]())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("sizes, activation, n", [
    ((4, 8, 6, 3), "tanh", 5), ((3, 7, 2), "relu", 1), ((5, 9, 9, 9, 4), "gelu", 40),
    ((2, 16, 1), "sigmoid", 33), ((6, 10, 3), "leaky_relu", 8),
])
def test_mlp_matches_torch_sequential_in_the_documented_parameter_order(sizes, activation, n):
    model = mlp.MLP(list(sizes), activation, np.random.default_rng(n))
    expected_types = [mlp.Linear]
    for _ in sizes[2:]:
        expected_types += [mlp.ACTIVATIONS[activation], mlp.Linear]
    assert [type(layer) for layer in model.layers] == expected_types  # no activation at the end
    twin = torch_twin(model)
    X, dY = inputs(n, (n, sizes[0]))[0], inputs(n + 1, (n, sizes[-1]))[1]

    X_t = torch.tensor(X, requires_grad=True)
    Y_t = twin(X_t)
    Y_t.backward(torch.tensor(dY))
    assert_close(model.forward(X), Y_t.detach().numpy())
    assert_close(model.backward(dY), X_t.grad.numpy())
    # parameters() / gradients(): [W1, b1, W2, b2, ...] = torch's [weight1.T, bias1, weight2.T, ...]
    ours_params, ours_grads = model.parameters(), model.gradients()
    theirs = list(twin.parameters())
    assert len(ours_params) == len(ours_grads) == len(theirs) == 2 * (len(sizes) - 1)
    for p, g, t in zip(ours_params, ours_grads, theirs):
        flip = (lambda a: a.T) if t.ndim == 2 else (lambda a: a)
        assert_close(p, flip(t.detach().numpy()))
        assert_close(g, flip(t.grad.numpy()))


def test_parameters_are_the_live_arrays():
    model = mlp.MLP([3, 4, 2], "tanh", np.random.default_rng(0))
    linears = [layer for layer in model.layers if isinstance(layer, mlp.Linear)]
    assert all(p is q for p, q in zip(model.parameters(), [a for l in linears for a in (l.W, l.b)]))
    X = np.ones((2, 3))
    before = model.forward(X).copy()
    for parameter in model.parameters():
        parameter -= 0.5  # the way an optimizer updates them
    assert not np.allclose(model.forward(X), before)
    model.backward(np.ones((2, 2)))
    assert all(g is q for g, q in zip(model.gradients(), [a for l in linears for a in (l.dW, l.db)]))


def test_residual_block_matches_torch():
    rng = np.random.default_rng(11)
    inner = mlp.Sequential(mlp.Linear.from_parameters(rng.standard_normal((5, 5)), rng.standard_normal(5)),
                           mlp.Tanh())
    block = mlp.Residual(inner)
    twin_linear = torch_linear(inner.layers[0])
    X, dY = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))

    X_t = torch.tensor(X, requires_grad=True)
    Y_t = X_t + torch.tanh(twin_linear(X_t))
    Y_t.backward(torch.tensor(dY))
    assert_close(block.forward(X), Y_t.detach().numpy())
    assert_close(block.backward(dY), X_t.grad.numpy())
    for ours, theirs in zip(block.gradients(), (twin_linear.weight.grad.numpy().T, twin_linear.bias.grad.numpy())):
        assert_close(ours, theirs)
    assert all(p is q for p, q in zip(block.parameters(), inner.parameters()))
    with pytest.raises(ValueError, match="keep the shape"):
        mlp.Residual(mlp.Linear(5, 2, rng)).forward(X)


def test_collapsed_linear_stack_matches_torch_sequential():
    rng = np.random.default_rng(4)
    model = mlp.Sequential(*(mlp.Linear.from_parameters(rng.standard_normal((a, b)), rng.standard_normal(b))
                             for a, b in ((5, 7), (7, 3), (3, 2))))
    X = rng.standard_normal((9, 5))
    expected = torch.nn.Sequential(*(torch_linear(layer) for layer in model.layers))(torch.tensor(X))
    single = mlp.collapse_linear_layers(model)
    assert isinstance(single, mlp.Linear) and single.W.shape == (5, 2) and single.b.shape == (2,)
    np.testing.assert_allclose(single.forward(X), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(TypeError, match="ReLU"):
        mlp.collapse_linear_layers(mlp.Sequential(model.layers[0], mlp.ReLU(), model.layers[1]))


def test_given_gradient_descent_matches_torch_sgd():
    """train_mse, the exercises' plain gradient descent, follows torch's SGD step for step."""
    X, Y = mlp.make_curve_data(mlp.TARGETS["bumpy"], n=32)
    model = mlp.MLP([1, 8, 1], "tanh", np.random.default_rng(2), init="xavier")
    twin = torch_twin(model)
    optimizer = torch.optim.SGD(twin.parameters(), lr=0.05)
    losses = mlp.train_mse(model, X, Y, lr=0.05, steps=40)
    expected = []
    for _ in range(40):
        optimizer.zero_grad()
        loss = ((twin(torch.tensor(X)) - torch.tensor(Y)) ** 2).sum() / X.shape[0]  # the note's MSE
        expected.append(loss.item())
        loss.backward()
        optimizer.step()
    np.testing.assert_allclose(losses, expected, rtol=1e-10)
    for ours, theirs in zip(model.parameters(), twin.parameters()):
        theirs = theirs.detach().numpy()
        np.testing.assert_allclose(ours, theirs.T if theirs.ndim == 2 else theirs, rtol=1e-10, atol=1e-13)
