"""Unit 3's reference losses held against torch (torch.nn.functional and autograd), in float64.

Reductions: the course sums over the K outputs and averages over the N samples, so it equals
torch's ``reduction="sum"`` divided by N (torch's ``"mean"`` divides by N*K). Cross-entropy is the
exception: torch's ``"mean"`` already averages over the batch only.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from .conftest import load_reference

losses = load_reference("losses")

SHAPES = [(5, 3), (1, 4), (7, 1), (256, 10)]


def torch_loss_and_grads(function, *arrays, requires_grad=(0,)):
    """function(*tensors) -> scalar tensor; returns (value, [gradient of each array in requires_grad])."""
    tensors = [torch.tensor(a, requires_grad=i in requires_grad) for i, a in enumerate(arrays)]
    value = function(*tensors)
    value.backward()
    return value.item(), [tensors[i].grad.numpy() for i in requires_grad]


def assert_close(value, expected_value, grad, expected_grad):
    assert isinstance(value, float)
    assert value == pytest.approx(expected_value, rel=1e-12, abs=1e-12)
    assert grad.shape == expected_grad.shape
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-13)


def regression_inputs(seed, n, d, scale=1.0, ties=False):
    rng = np.random.default_rng(seed)
    Y = rng.standard_normal((n, d))
    Y_hat = Y + scale * rng.standard_normal((n, d))
    if ties:
        mask = rng.random((n, d)) < 0.3
        Y_hat[mask] = Y[mask]
    return Y_hat, Y


@pytest.mark.parametrize("n, d", SHAPES)
def test_mse_and_l1_match_torch_sum_over_n(n, d):
    Y_hat, Y = regression_inputs(n * 10 + d, n, d, ties=True)
    for ours, theirs in ((losses.MSELoss(), F.mse_loss), (losses.L1Loss(), F.l1_loss)):
        value = ours.forward(Y_hat, Y)
        # torch.abs has derivative 0 at 0, like np.sign: the ties check the subgradient too
        expected, (grad,) = torch_loss_and_grads(lambda a, b: theirs(a, b, reduction="sum") / n, Y_hat, Y)
        assert_close(value, expected, ours.backward(), grad)
        # and torch's "mean" is ours divided by D
        assert torch_loss_and_grads(lambda a, b: theirs(a, b), Y_hat, Y)[0] == pytest.approx(value / d, rel=1e-12)


@pytest.mark.parametrize("n, d", SHAPES)
@pytest.mark.parametrize("delta", [None, 0.3, 2.5])
def test_huber_matches_torch_on_both_pieces(n, d, delta):
    Y_hat, Y = regression_inputs(n + d, n, d, scale=2.0)
    ours = losses.HuberLoss() if delta is None else losses.HuberLoss(delta)
    value = ours.forward(Y_hat, Y)
    expected, (grad,) = torch_loss_and_grads(
        lambda a, b: F.huber_loss(a, b, reduction="sum", delta=1.0 if delta is None else delta) / n, Y_hat, Y
    )
    assert_close(value, expected, ours.backward(), grad)
    assert losses.HuberLoss().delta == 1.0 == torch.nn.HuberLoss().delta


def classification_inputs(seed, n, c, targets, scale=3.0):
    rng = np.random.default_rng(seed)
    Z = scale * rng.standard_normal((n, c))
    labels = rng.integers(0, c, n)
    Y = {"labels": labels, "one_hot": np.eye(c)[labels], "soft": rng.dirichlet(np.ones(c), n)}[targets]
    return Z, Y


@pytest.mark.parametrize("n, c", [(5, 4), (1, 3), (7, 10), (256, 6)])
@pytest.mark.parametrize("targets", ["labels", "one_hot", "soft"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5])
def test_cross_entropy_matches_torch(n, c, targets, smoothing):
    Z, Y = classification_inputs(n * c, n, c, targets)
    ours = losses.CrossEntropyLoss(label_smoothing=smoothing)
    value = ours.forward(Z, Y)
    expected, (grad,) = torch_loss_and_grads(
        lambda z, y: F.cross_entropy(z, y, label_smoothing=smoothing), Z, Y
    )
    assert_close(value, expected, ours.backward(), grad)


@pytest.mark.parametrize("size", [1000.0, 1e4])
def test_cross_entropy_at_extreme_logits_matches_torch(size):
    rng = np.random.default_rng(int(size))
    Z = size * rng.choice([-1.0, 0.0, 1.0], (6, 4))
    Z[0, :2] = (size, -size)
    for Y in (rng.integers(0, 4, 6), rng.dirichlet(np.ones(4), 6)):
        ours = losses.CrossEntropyLoss(label_smoothing=0.1)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            value, grad = ours.forward(Z, Y), ours.backward()
        expected, (expected_grad,) = torch_loss_and_grads(lambda z, y: F.cross_entropy(z, y, label_smoothing=0.1), Z, Y)
        assert_close(value, expected, grad, expected_grad)


@pytest.mark.parametrize("check_id", ["losses.ce.large_logits", "losses.ce.small_probabilities", "losses.ce.row_max",
                                      "losses.ce.label_smoothing_targets"])
def test_cross_entropy_on_the_graders_edge_cases_matches_torch(check_id):
    """The cases that grade one edge case each (huge gaps, tiny probabilities, rows at levels 800
    apart): the reference the students are held to is torch's value and gradient there."""
    from autograder.units import UNITS

    check = next(c for c in UNITS["losses"].checks if c.id == check_id)
    for case in check.cases:
        Z, Y = case.inputs["Z"], case.inputs["Y"]
        smoothing = case.inputs.get("label_smoothing", 0.0)
        ours = losses.CrossEntropyLoss(label_smoothing=smoothing)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            value, grad = ours.forward(Z, Y), ours.backward()
        expected, (expected_grad,) = torch_loss_and_grads(
            lambda z, y: F.cross_entropy(z, y, label_smoothing=smoothing), Z, Y)
        assert_close(value, expected, grad, expected_grad)


def test_cross_entropy_sees_only_relative_logits():
    Z, Y = classification_inputs(11, 6, 5, "labels")
    shift = np.random.default_rng(12).uniform(-30, 30, (6, 1))
    first, second = losses.CrossEntropyLoss(), losses.CrossEntropyLoss()
    assert first.forward(Z, Y) == pytest.approx(second.forward(Z + shift, Y), rel=1e-12)
    np.testing.assert_allclose(first.backward(), second.backward(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("n, d", [(5, 1), (1, 1), (7, 3), (256, 1)])
@pytest.mark.parametrize("size", [None, 1000.0, 1e4])
def test_bce_with_logits_matches_torch(n, d, size):
    rng = np.random.default_rng(n * d)
    Z = 3.0 * rng.standard_normal((n, d)) if size is None else size * rng.choice([-1.0, 1.0], (n, d))
    for Y in ((rng.random((n, d)) < 0.5).astype(float), rng.random((n, d))):
        ours = losses.BCEWithLogitsLoss()
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            value, grad = ours.forward(Z, Y), ours.backward()
        expected, (expected_grad,) = torch_loss_and_grads(
            lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="sum") / n, Z, Y
        )
        assert_close(value, expected, grad, expected_grad)


def gaussian_inputs(seed, n, d, *, below_eps=False, eps=1e-6):
    rng = np.random.default_rng(seed)
    mu = rng.standard_normal((n, d))
    Y = mu + 1.5 * rng.standard_normal((n, d))
    var = rng.uniform(0.05, 3.0, (n, d))
    if below_eps:
        var.flat[::3] = 0.0
        var.flat[1::4] = eps * rng.uniform(1e-3, 0.9, var.flat[1::4].shape)
    return mu, Y, var


@pytest.mark.parametrize("n, d", SHAPES)
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_with_learned_variance_matches_torch(n, d, full):
    mu, Y, var = gaussian_inputs(n * 7 + d, n, d)
    ours = losses.GaussianNLLLoss(full=full)
    value = ours.forward(mu, Y, var)
    expected, (d_mu, d_var) = torch_loss_and_grads(
        lambda m, y, v: F.gaussian_nll_loss(m, y, v, full=full, reduction="sum") / n, mu, Y, var, requires_grad=(0, 2)
    )
    grads = ours.backward()
    assert isinstance(grads, losses.GaussianNLLGradients)
    assert_close(value, expected, grads.mu, d_mu)
    np.testing.assert_allclose(grads.var, d_var, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("eps", [1e-6, 0.1])
def test_gaussian_nll_clamp_and_its_straight_through_gradient_match_torch(eps):
    """Where var < eps, torch uses eps in the forward and passes d/dv at v = eps straight through to
    var (it clamps a copy under no_grad); the true derivative of the clamped forward would be 0."""
    mu, Y, var = gaussian_inputs(3, 6, 4, below_eps=True, eps=eps)
    ours = losses.GaussianNLLLoss(eps=eps)
    value = ours.forward(mu, Y, var)
    expected, (d_mu, d_var) = torch_loss_and_grads(
        lambda m, y, v: F.gaussian_nll_loss(m, y, v, eps=eps, reduction="sum") / 6, mu, Y, var, requires_grad=(0, 2)
    )
    grads = ours.backward()
    assert_close(value, expected, grads.mu, d_mu)
    np.testing.assert_allclose(grads.var, d_var, rtol=1e-10, atol=1e-13)
    clamped = var < eps
    r = mu - Y
    np.testing.assert_allclose(grads.var[clamped], 0.5 * (1 / eps - r[clamped] ** 2 / eps**2) / 6, rtol=1e-12)
    assert np.all(grads.var[clamped] != 0)


@pytest.mark.parametrize("n, d", SHAPES)
def test_unit_variance_is_torch_with_var_one_and_half_the_mse(n, d):
    mu, Y, _ = gaussian_inputs(n + 100 * d, n, d)
    for full in (False, True):
        ours = losses.GaussianNLLLoss(full=full)
        value = ours.forward(mu, Y)
        expected, (d_mu,) = torch_loss_and_grads(
            lambda m, y: F.gaussian_nll_loss(m, y, torch.ones_like(m), full=full, reduction="sum") / n, mu, Y
        )
        assert_close(value, expected, ours.backward(), d_mu)
        constant = 0.5 * d * math.log(2 * math.pi) if full else 0.0
        assert value == pytest.approx(losses.MSELoss().forward(mu, Y) / 2 + constant, rel=1e-12)


def test_fit_line_is_torch_gradient_descent_for_each_loss():
    data = losses.make_outlier_data(np.random.default_rng(0))
    x = torch.tensor(data.x).reshape(-1, 1)
    y = torch.tensor(data.y).reshape(-1, 1)
    n = len(data.x)
    for ours, theirs in (
        (losses.MSELoss(), lambda a, b: F.mse_loss(a, b, reduction="sum") / n),
        (losses.L1Loss(), lambda a, b: F.l1_loss(a, b, reduction="sum") / n),
        (losses.HuberLoss(), lambda a, b: F.huber_loss(a, b, reduction="sum") / n),
    ):
        fit = losses.fit_line(ours, data.x, data.y, lr=0.1, steps=60)
        w = torch.zeros((), dtype=torch.float64, requires_grad=True)
        b = torch.zeros((), dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([w, b], lr=0.1)
        history = []
        for _ in range(60):
            optimizer.zero_grad()
            loss = theirs(w * x + b, y)
            history.append(loss.item())
            loss.backward()
            optimizer.step()
        np.testing.assert_allclose(fit.losses, history, rtol=1e-10)
        assert fit.w == pytest.approx(w.item(), rel=1e-9) and fit.b == pytest.approx(b.item(), rel=1e-9)


def test_fit_heteroscedastic_is_torch_gradient_descent_on_the_log_variance():
    data = losses.make_heteroscedastic_data(np.random.default_rng(1), n=200)
    fit = losses.fit_heteroscedastic(losses.GaussianNLLLoss(), data.x, data.y, lr=0.2, steps=80)
    x = torch.tensor(data.x).reshape(-1, 1)
    y = torch.tensor(data.y).reshape(-1, 1)
    params = [torch.zeros((), dtype=torch.float64, requires_grad=True) for _ in range(4)]
    w, b, u, v = params
    optimizer = torch.optim.SGD(params, lr=0.2)
    history = []
    for _ in range(80):
        optimizer.zero_grad()
        loss = F.gaussian_nll_loss(w * x + b, y, torch.exp(u * x + v), reduction="sum") / len(data.x)
        history.append(loss.item())
        loss.backward()
        optimizer.step()
    np.testing.assert_allclose(fit.losses, history, rtol=1e-10)
    np.testing.assert_allclose([fit.w, fit.b, fit.u, fit.v], [p.item() for p in params], rtol=1e-8, atol=1e-12)
