"""Reconstruction losses and pixel likelihoods against hand-computed and torch reference values."""
import math

import pytest
import torch
import torch.nn.functional as F

from turbopix.losses import bernoulli_nll, charbonnier, gaussian_nll, l1, mse

PRED = torch.tensor([[[[0.0, 0.5], [1.0, -1.0]]]])  # (1, 1, 2, 2)
TARGET = torch.tensor([[[[0.0, 0.0], [0.0, 0.0]]]])


def test_distances_average_over_every_element():
    assert l1(PRED, TARGET).item() == pytest.approx((0 + 0.5 + 1 + 1) / 4)
    assert mse(PRED, TARGET).item() == pytest.approx((0 + 0.25 + 1 + 1) / 4)
    eps = 1e-3
    want = sum(math.sqrt(d * d + eps * eps) for d in (0, 0.5, 1, 1)) / 4
    assert charbonnier(PRED, TARGET).item() == pytest.approx(want, rel=1e-6)
    assert charbonnier(PRED, TARGET, eps=0.5).item() == pytest.approx(sum(math.sqrt(d * d + 0.25) for d in (0, 0.5, 1, 1)) / 4)


def test_charbonnier_is_smooth_l1():
    a, b = torch.randn(2, 3, 5, 5), torch.randn(2, 3, 5, 5)
    assert charbonnier(a, b).item() == pytest.approx(l1(a, b).item(), abs=2e-3)
    same = a.clone().requires_grad_()
    charbonnier(same, a).backward()
    assert torch.isfinite(same.grad).all() and same.grad.abs().max() == 0  # defined where L1's is not


def test_bernoulli_nll_sums_bce_per_image():
    torch.manual_seed(0)
    logits, t = torch.randn(3, 1, 4, 4), torch.rand(3, 1, 4, 4)
    nll = bernoulli_nll(logits, t)
    assert nll.shape == (3,)
    p = torch.sigmoid(logits.double())
    by_hand = -(t * p.log() + (1 - t) * (1 - p).log()).flatten(1).sum(1)
    torch.testing.assert_close(nll.double(), by_hand)


def test_gaussian_nll_is_the_normal_log_density_summed_per_image():
    torch.manual_seed(0)
    mean, t = torch.rand(3, 2, 4, 4), torch.rand(3, 2, 4, 4)
    log_sigma = torch.tensor(-1.3)
    nll = gaussian_nll(mean, t, log_sigma)
    assert nll.shape == (3,)
    ref = -torch.distributions.Normal(mean, log_sigma.exp()).log_prob(t).flatten(1).sum(1)
    torch.testing.assert_close(nll, ref)
    # and torch's GaussianNLLLoss (which drops the constant log(2 pi)/2) per image
    var = torch.full_like(mean, math.exp(2 * -1.3))
    torch_nll = F.gaussian_nll_loss(mean, t, var, full=True, reduction="none").flatten(1).sum(1)
    torch.testing.assert_close(nll, torch_nll)


def test_gaussian_nll_gives_log_sigma_its_gradient():
    log_sigma = torch.zeros((), requires_grad=True)
    gaussian_nll(torch.zeros(2, 1, 3, 3), torch.ones(2, 1, 3, 3), log_sigma).sum().backward()
    # d/d(log sigma) of sum(d^2 / (2 sigma^2) + log sigma) at sigma = 1, d = 1, 18 pixels: 18 * (-1 + 1) = 0
    assert log_sigma.grad.item() == pytest.approx(0.0)
    log_sigma.grad = None
    gaussian_nll(torch.zeros(2, 1, 3, 3), torch.full((2, 1, 3, 3), 2.0), log_sigma).sum().backward()
    assert log_sigma.grad.item() == pytest.approx(18 * (-4 + 1))
