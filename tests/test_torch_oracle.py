"""The reference solutions held against torch, an independent implementation, in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from .conftest import load_reference

linear = load_reference("linear_model")


@pytest.mark.parametrize("n, d, k", [(5, 3, 2), (8, 1, 1), (1, 4, 3), (64, 20, 7)])
def test_linear_model_matches_torch_autograd(n, d, k):
    rng = np.random.default_rng(n * 100 + d * 10 + k)
    X, Y = rng.standard_normal((n, d)), rng.standard_normal((n, k))
    W, b = rng.standard_normal((d, k)), rng.standard_normal(k)

    W_t = torch.tensor(W, requires_grad=True)
    b_t = torch.tensor(b, requires_grad=True)
    Y_hat_t = torch.nn.functional.linear(torch.tensor(X), W_t.T, b_t)
    # The note's MSE: torch's mean over all N*K elements, times K.
    loss_t = torch.nn.functional.mse_loss(Y_hat_t, torch.tensor(Y), reduction="mean") * k
    loss_t.backward()

    np.testing.assert_allclose(linear.predict(X, W, b), Y_hat_t.detach().numpy(), rtol=1e-12)
    assert linear.mse_loss(linear.predict(X, W, b), Y) == pytest.approx(loss_t.item(), rel=1e-12)
    dW, db = linear.loss_gradients(X, Y, W, b)
    np.testing.assert_allclose(dW, W_t.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(db, b_t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_gradient_descent_matches_torch_sgd():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 2))
    result = linear.fit(X, Y, lr=0.05, steps=40)

    W_t = torch.zeros((4, 2), dtype=torch.float64, requires_grad=True)
    b_t = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([W_t, b_t], lr=0.05)
    losses = []
    for _ in range(40):
        optimizer.zero_grad()
        loss = ((torch.tensor(X) @ W_t + b_t - torch.tensor(Y)) ** 2).sum() / 30
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    np.testing.assert_allclose(result.losses, losses, rtol=1e-12)
    np.testing.assert_allclose(result.W, W_t.detach().numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(result.b, b_t.detach().numpy(), rtol=1e-10, atol=1e-14)


def test_collapsed_stack_matches_torch_sequential():
    rng = np.random.default_rng(4)
    sizes = (5, 7, 3, 2)
    layers = [torch.nn.Linear(a, b, dtype=torch.float64) for a, b in zip(sizes[:-1], sizes[1:])]
    weights = [layer.weight.detach().numpy().T.copy() for layer in layers]
    biases = [layer.bias.detach().numpy().copy() for layer in layers]
    X = rng.standard_normal((9, 5))
    W, b = linear.collapse_linear_stack(weights, biases)
    expected = torch.nn.Sequential(*layers)(torch.tensor(X)).detach().numpy()
    np.testing.assert_allclose(X @ W + b, expected, rtol=1e-10, atol=1e-12)


def test_divergence_is_raised_not_returned():
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((50, 2)), rng.standard_normal((50, 1))
    with pytest.raises(linear.DivergenceError) as error, np.errstate(over="ignore", invalid="ignore"):
        linear.fit(X, Y, lr=3.0, steps=1000)
    assert error.value.step > 0 and error.value.lr == 3.0

