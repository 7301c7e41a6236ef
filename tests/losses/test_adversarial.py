"""Adversarial losses: hand-computed values, the registry, and the name-based functions."""
import math

import pytest
import torch

from turbopix.core.registry import UnknownNameError
from turbopix.losses import ADVERSARIAL, discriminator_loss, generator_loss

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def _softplus(t: float) -> float:
    return math.log1p(math.exp(t))


def test_bce_is_the_non_saturating_gan_loss():
    # D: -log sigmoid(real) - log(1 - sigmoid(fake)), averaged; G: -log sigmoid(fake)
    d = (_softplus(-2.0) + _softplus(1.0)) / 2 + (_softplus(0.5) + _softplus(-3.0)) / 2
    g = (_softplus(-0.5) + _softplus(3.0)) / 2
    assert discriminator_loss("bce", REAL, FAKE).item() == pytest.approx(d, rel=1e-6)
    assert generator_loss("bce", FAKE).item() == pytest.approx(g, rel=1e-6)
    # the same as torch's BCE on probabilities with targets 1 (real) and 0 (fake)
    bce = torch.nn.functional.binary_cross_entropy
    ref = bce(torch.sigmoid(REAL), torch.ones(2)) + bce(torch.sigmoid(FAKE), torch.zeros(2))
    torch.testing.assert_close(discriminator_loss("bce", REAL, FAKE), ref)


def test_hinge():
    # D: mean(relu(1 - real)) + mean(relu(1 + fake)) = (0 + 2)/2 + (1.5 + 0)/2; G: -mean(fake)
    assert discriminator_loss("hinge", REAL, FAKE).item() == pytest.approx(1.0 + 0.75)
    assert generator_loss("hinge", FAKE).item() == pytest.approx(1.25)


def test_patch_logits_average_over_every_element():
    real, fake = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    for name in ADVERSARIAL.names():
        torch.testing.assert_close(discriminator_loss(name, real, fake), discriminator_loss(name, real.flatten(), fake.flatten()))


def test_losses_push_the_right_way():
    """Lower discriminator loss when it separates better; lower generator loss when it fools D."""
    for name in ["bce", "hinge"]:  # lsgan is not monotonic: see test_lsgan
        assert discriminator_loss(name, REAL + 1, FAKE - 1) < discriminator_loss(name, REAL, FAKE)
        assert generator_loss(name, FAKE + 1) < generator_loss(name, FAKE)


def test_lsgan():
    # D: ((2-1)^2 + (-1-1)^2)/2 + (0.5^2 + 3^2)/2, halved; G: ((0.5-1)^2 + (-3-1)^2)/2
    assert discriminator_loss("lsgan", REAL, FAKE).item() == pytest.approx(0.5 * (2.5 + 4.625))
    assert generator_loss("lsgan", FAKE).item() == pytest.approx(8.125)
    # least squares pulls scores to the targets 1 (real) and 0 (fake) from either side
    assert discriminator_loss("lsgan", torch.ones(2), torch.zeros(2)).item() == 0
    assert generator_loss("lsgan", torch.tensor([0.9])) < generator_loss("lsgan", torch.tensor([0.2]))


def test_unknown_name_lists_the_valid_ones():
    assert ADVERSARIAL.names() == ["bce", "hinge", "lsgan"]
    with pytest.raises(UnknownNameError, match="bce, hinge, lsgan"):
        generator_loss("wasserstein", FAKE)
