"""KL of a diagonal Gaussian to the standard normal."""
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from turbopix.losses import gaussian_kl


def test_zero_for_the_prior_itself():
    assert torch.equal(gaussian_kl(torch.zeros(4, 8), torch.zeros(4, 8)), torch.zeros(4))


def test_by_hand():
    # one dim: mu = 1, var = e: 0.5 * (1 + e - 1 - 1) = 0.5 * (e - 1)
    assert gaussian_kl(torch.tensor([[1.0]]), torch.tensor([[1.0]])).item() == pytest.approx(0.5 * (torch.e - 1))


def test_matches_torch_distributions_summed_over_latent_dims():
    torch.manual_seed(0)
    mu, logvar = torch.randn(5, 6), torch.randn(5, 6)
    ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
    torch.testing.assert_close(gaussian_kl(mu, logvar), ref)
