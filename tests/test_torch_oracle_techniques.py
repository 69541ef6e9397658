"""Unit 5's reference held against torch where torch has the operation (batch normalization, dropout,
SGD / Adam with L2 vs AdamW, softmax averaging), in float64 on every case the checks use, public and
hidden; and against scikit-learn / scipy where they have it (KFold, a Gaussian process with a fixed
RBF kernel, the normal distribution in expected improvement)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.units import techniques as unit
from autograder.units.hidden import techniques as hidden

from .test_unit_techniques import load_techniques, solutions_importable

reference = load_techniques()
BATCHNORM_CASES = unit._bn_public + list(hidden.CHECKS[1].cases)


def tensor(array, grad=False):
    return torch.tensor(np.asarray(array), dtype=torch.float64, requires_grad=grad)


def torch_batchnorm(x):
    layer = torch.nn.BatchNorm1d(x["X"].shape[1], eps=x["eps"], momentum=x["momentum"], dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(tensor(x["gamma"]))
        layer.bias.copy_(tensor(x["beta"]))
    return layer


def our_batchnorm(x):
    layer = reference.BatchNorm1d(x["X"].shape[1], eps=x["eps"], momentum=x["momentum"])
    layer.gamma, layer.beta = x["gamma"].copy(), x["beta"].copy()
    return layer


@pytest.mark.parametrize("case", BATCHNORM_CASES, ids=lambda case: case.label or "hidden")
def test_batchnorm_training_forward_and_backward_equal_torch(case):
    x = case.inputs
    # A feature of mean 1e5 and spread 0.1 is only known to about 1e5 * 1e-16 = 1e-10 of its spread
    # (the rounding of the mean): there torch and the reference (two-pass) agree to that, 1e-9.
    rtol = 1e-9 if np.max(np.abs(x["X"].mean(axis=0)) / x["X"].std(axis=0)) > 1e4 else 1e-10
    ours, theirs = our_batchnorm(x), torch_batchnorm(x)
    X = tensor(x["X"], grad=True)
    Y = theirs(X)
    Y.backward(tensor(x["dY"]))
    np.testing.assert_allclose(ours.forward(x["X"]), Y.detach().numpy(), rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(ours.backward(x["dY"]), X.grad.numpy(), rtol=100 * rtol, atol=1e-10)
    np.testing.assert_allclose(ours.dgamma, theirs.weight.grad.numpy(), rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(ours.dbeta, theirs.bias.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", BATCHNORM_CASES, ids=lambda case: case.label or "hidden")
def test_batchnorm_running_statistics_and_evaluation_equal_torch(case):
    x = case.inputs
    ours, theirs = our_batchnorm(x), torch_batchnorm(x)
    for batch in x["batches"]:
        ours.forward(batch)
        theirs(tensor(batch))
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
    ours.training = False
    theirs.eval()
    X = tensor(x["X_eval"], grad=True)
    Y = theirs(X)
    Y.backward(tensor(x["dY_eval"]))
    np.testing.assert_allclose(ours.forward(x["X_eval"]), Y.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.backward(x["dY_eval"]), X.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)  # eval changed nothing


def test_batchnorm_refuses_one_sample_in_training_like_torch():
    with pytest.raises(ValueError):
        torch.nn.BatchNorm1d(3, dtype=torch.float64)(tensor(np.ones((1, 3))))
    with pytest.raises(ValueError):
        reference.BatchNorm1d(3).forward(np.ones((1, 3)))


def test_batchnorm_defaults_are_torchs():
    layer, theirs = reference.BatchNorm1d(5), torch.nn.BatchNorm1d(5)
    assert (layer.eps, layer.momentum) == (theirs.eps, theirs.momentum)
    np.testing.assert_array_equal(layer.gamma, theirs.weight.detach().numpy())
    np.testing.assert_array_equal(layer.beta, theirs.bias.detach().numpy())
    np.testing.assert_array_equal(layer.running_mean, theirs.running_mean.numpy())
    np.testing.assert_array_equal(layer.running_var, theirs.running_var.numpy())


def torch_dropout_facts(check):
    """torch's dropout on the check's cases, as the check's probe would report them."""
    x = check.case.inputs
    facts = {}
    for index, case in enumerate(x["cases"]):
        torch.manual_seed(case["seed"])
        X = tensor(unit._dropout_input(case["seed"], x["shape"]), grad=True)
        Y = torch.nn.functional.dropout(X, p=case["p"], training=True)
        dY = np.random.default_rng(case["seed"] + 2).standard_normal(x["shape"])
        Y.backward(tensor(dY))
        facts[f"{index}/Y"] = Y.detach().numpy().copy()
        facts[f"{index}/dX"] = X.grad.numpy().copy()
    return facts


@pytest.mark.parametrize("check", unit.DROPOUT_CHECKS[:3] + (unit.DROPOUT_CHECKS[4], hidden.CHECKS[0]),
                         ids=lambda check: check.id)
def test_torch_dropout_passes_the_statistical_checks_too(check):
    """The checks grade what torch does (keep rate, 1 / (1 - p) scaling, expectation, gradient through
    the same mask), with torch's own random numbers: they do not depend on how the numbers are drawn."""
    verdict = check.judge(torch_dropout_facts(check), None)
    assert verdict.passed, (verdict.message, verdict.hint)


def test_reference_dropout_matches_torch_in_training_and_evaluation():
    X = unit._dropout_input(5, (300, 50))
    for p in (0.0, 0.25, 0.6):
        ours = reference.Dropout(p, np.random.default_rng(3)).forward(X)
        torch.manual_seed(3)
        theirs = torch.nn.functional.dropout(tensor(X), p=p, training=True).numpy()
        for Y in (ours, theirs):  # same law: kept values X / (1 - p), keep rate 1 - p
            kept = Y != 0
            np.testing.assert_allclose(Y[kept], X[kept] / (1 - p), rtol=1e-15)
            assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / X.size) + 1e-12
        layer = reference.Dropout(p, np.random.default_rng(3))
        layer.training = False
        np.testing.assert_array_equal(layer.forward(X), torch.nn.functional.dropout(tensor(X), p=p,
                                                                                     training=False).numpy())


@pytest.mark.parametrize("case", unit._wd_public + list(hidden.CHECKS[6].cases), ids=lambda c: c.label or "hidden")
def test_weight_decay_runs_equal_torch_sgd_adam_and_adamw(case):
    """sgd_l2 and sgd_decoupled = torch SGD(weight_decay); adam_l2 = torch Adam(weight_decay) (torch's
    Adam adds weight_decay * p to the gradient: L2); adamw = torch AdamW."""
    x = case.inputs
    with solutions_importable():
        paths = reference.weight_decay_paths(unit._Quadratic(x["a"], x["c"]), x["start"], x["lr"],
                                             x["weight_decay"], x["steps"])
    makers = {
        "sgd_l2": lambda p: torch.optim.SGD(p, lr=x["lr"], weight_decay=x["weight_decay"]),
        "sgd_decoupled": lambda p: torch.optim.SGD(p, lr=x["lr"], weight_decay=x["weight_decay"]),
        "adam_l2": lambda p: torch.optim.Adam(p, lr=x["lr"], weight_decay=x["weight_decay"]),
        "adamw": lambda p: torch.optim.AdamW(p, lr=x["lr"], weight_decay=x["weight_decay"]),
    }
    a, c = tensor(x["a"]), tensor(x["c"])
    for run, make in makers.items():
        w = tensor(x["start"], grad=True)
        optimizer = make([w])
        rows = [w.detach().numpy().copy()]
        for _ in range(x["steps"]):
            optimizer.zero_grad()
            (0.5 * torch.sum(a * (w - c) ** 2)).backward()
            optimizer.step()
            rows.append(w.detach().numpy().copy())
        np.testing.assert_allclose(paths[run], np.array(rows), rtol=1e-10, atol=1e-12, err_msg=run)
    assert np.max(np.abs(paths["adam_l2"] - paths["adamw"])) > 1e-2  # the point of AdamW


@pytest.mark.parametrize("case", unit.ENSEMBLE_CHECKS[0].cases + hidden.CHECKS[7].cases, ids=lambda c: c.label or "h")
def test_ensemble_averages_torch_softmax(case):
    x = case.inputs
    members = [unit._Affine(W, b) for W, b in zip(x["W"], x["b"])]
    theirs = torch.stack([torch.softmax(tensor(x["X"] @ W + b), dim=1) for W, b in zip(x["W"], x["b"])]).mean(dim=0)
    np.testing.assert_allclose(reference.Ensemble(members).predict_proba(x["X"]), theirs.numpy(), rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("n, k", [(10, 3), (8, 4), (11, 3), (23, 5), (7, 7), (37, 6)])
def test_unshuffled_folds_equal_scikit_learn_kfold(n, k):
    model_selection = pytest.importorskip("sklearn.model_selection")
    ours = reference.kfold_indices(n, k, shuffle=False)
    theirs = list(model_selection.KFold(n_splits=k, shuffle=False).split(np.zeros((n, 1))))
    assert len(ours) == len(theirs) == k
    for (train, val), (their_train, their_val) in zip(ours, theirs):
        np.testing.assert_array_equal(val, their_val)
        np.testing.assert_array_equal(train, their_train)


def test_gaussian_process_posterior_equals_scikit_learn():
    gaussian_process = pytest.importorskip("sklearn.gaussian_process")
    kernels = pytest.importorskip("sklearn.gaussian_process.kernels")
    for case in unit.SURROGATE_CHECKS[1].cases + [hidden.CHECKS[8].cases[0]]:
        x = case.inputs
        model = gaussian_process.GaussianProcessRegressor(
            kernel=kernels.RBF(length_scale=x["length_scale"], length_scale_bounds="fixed"), alpha=x["noise"],
            optimizer=None, normalize_y=False)
        model.fit(x["z_train"].reshape(-1, 1), x["y_train"])
        mean, std = model.predict(x["z_query"].reshape(-1, 1), return_std=True)
        ours_mean, ours_variance = reference.gp_posterior(x["z_train"], x["y_train"], x["z_query"],
                                                          x["length_scale"], x["noise"])
        np.testing.assert_allclose(ours_mean, mean, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(np.sqrt(ours_variance), std, rtol=1e-6, atol=1e-7)


def test_expected_improvement_equals_the_closed_form_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    for case in unit.SURROGATE_CHECKS[2].cases:
        x = case.inputs
        sigma = np.sqrt(x["variance"])
        improvement = x["best"] - x["mean"] - x["xi"]
        with np.errstate(divide="ignore", invalid="ignore"):
            z = improvement / sigma
            expected = np.where(sigma > 0, improvement * stats.norm.cdf(z) + sigma * stats.norm.pdf(z),
                                np.maximum(improvement, 0.0))
        np.testing.assert_allclose(reference.expected_improvement(x["mean"], x["variance"], x["best"], x["xi"]),
                                   expected, rtol=1e-12, atol=1e-15)
