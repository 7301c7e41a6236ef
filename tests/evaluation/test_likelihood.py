"""The importance-sampled NLL against a model whose likelihood is known exactly: probabilistic PCA
(a linear-Gaussian VAE), p(x) = N(b, W W^T + sigma^2 I); and on a turbopix VAE, the IWAE bound
tightens with K and is never worse than the ELBO."""
from __future__ import annotations

import math

import pytest
import torch

import turbopix
from turbopix.data import load_dataset
from turbopix.evaluation.elbo import evaluate_elbo
from turbopix.evaluation.likelihood import evaluate_nll, importance_log_px

D, LATENT, SIGMA = 6, 2, 0.3


def ppca():
    g = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(D, LATENT, generator=g, dtype=torch.float64))
    W = q * torch.tensor([2.0, 0.7], dtype=torch.float64)  # orthogonal columns: the exact posterior is diagonal
    b = torch.randn(D, generator=g, dtype=torch.float64)
    x = (torch.randn(50, LATENT, generator=g, dtype=torch.float64) @ W.T + b
         + SIGMA * torch.randn(50, D, generator=g, dtype=torch.float64))
    exact = torch.distributions.MultivariateNormal(b, W @ W.T + SIGMA**2 * torch.eye(D, dtype=torch.float64)).log_prob(x)
    m = (W * W).sum(0) + SIGMA**2  # W^T W + sigma^2 I, diagonal

    def posterior(v, shift=0.0, scale=1.0):
        mu = (v - b) @ W / m + shift
        logvar = torch.log(SIGMA**2 / m).expand_as(mu) + math.log(scale)
        return mu, logvar

    def log_px(v, z):
        mean = z @ W.T + b  # (S, B, D)
        return torch.distributions.Normal(mean, SIGMA).log_prob(v).sum(-1)

    return x, exact, posterior, log_px


def test_exact_posterior_gives_the_exact_likelihood_with_one_sample():
    x, exact, posterior, log_px = ppca()
    est = importance_log_px(posterior, log_px, x, k=1, chunk=1, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(est, exact, atol=1e-9)  # every importance weight equals p(x)


def test_a_wrong_posterior_converges_to_the_exact_likelihood_as_k_grows():
    x, exact, posterior, log_px = ppca()
    wrong = lambda v: posterior(v, shift=0.4, scale=2.5)  # noqa: E731
    gaps = {}
    for k in (1, 50, 5000):
        est = importance_log_px(wrong, log_px, x, k=k, chunk=700, generator=torch.Generator().manual_seed(2))
        gaps[k] = (exact - est).mean().item()
    assert gaps[1] > 0.3  # the ELBO's gap for this posterior
    assert gaps[1] > gaps[50] > gaps[5000] > -0.01  # a lower bound (up to Monte Carlo noise), tightening
    assert gaps[5000] < 0.02


def test_chunking_does_not_change_the_estimate():
    x, _, posterior, log_px = ppca()
    wrong = lambda v: posterior(v, shift=0.4, scale=2.5)  # noqa: E731
    a = importance_log_px(wrong, log_px, x, k=300, chunk=300, generator=torch.Generator().manual_seed(3))
    b = importance_log_px(wrong, log_px, x, k=300, chunk=300, generator=torch.Generator().manual_seed(3))
    c = importance_log_px(wrong, log_px, x, k=300, chunk=7, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert abs((a - c).mean().item()) < 0.1  # same distribution, other draws: close on average, not equal


@pytest.fixture(scope="module")
def vae_and_data(tmp_path_factory):
    data = load_dataset("digits", split="test", binarize="fixed")
    out = tmp_path_factory.mktemp("vae")
    result = turbopix.train("vae", "digits?binarize=dynamic", out=out, steps=150, batch_size=64, progress=False,
                            sample_every=0, ckpt_every=0, threads=1, model_options={"hidden": (64,), "latent_dim": 4})
    return turbopix.load(result.model_path), data, result.model_path  # the file records the binarised training data


def test_iwae_is_at_least_as_tight_as_the_elbo(vae_and_data):
    model, data, _ = vae_and_data
    elbo = evaluate_elbo(model, data)["elbo"]
    r1 = evaluate_nll(model, data, k=1, progress=False)
    r100 = evaluate_nll(model, data, k=100, progress=False)
    assert r1["nll"] == pytest.approx(-elbo, abs=0.5)  # K=1 is the ELBO, estimated with other draws
    assert r100["nll"] < r1["nll"]
    assert r100["images"] == len(data) and 0 < r100["se"] < 5


def test_refuses_a_model_that_is_not_a_vae(vae_and_data):
    _, data, _ = vae_and_data
    with pytest.raises(ValueError, match="needs a VAE"):
        evaluate_nll(turbopix.create_model("dcgan", image_size=8, g_width=8, d_width=8), data)


def test_eval_reports_the_nll_of_a_vae(vae_and_data, tmp_path):
    from turbopix.cli.main import main
    from turbopix.evaluation import evaluate, format_results
    _, _, path = vae_and_data
    result = evaluate(path, ref="digits:test", n=50, metrics="fid", nll_k=20, extractor="lenet-mnist",
                      progress=False, cache=False)
    nll = result["nll"]
    assert nll["data"] == "digits:test?binarize=fixed"  # it trained on binarised digits
    assert nll["k"] == 20 and nll["images"] > 100 and nll["nll"] > 0
    assert "NLL (IWAE, K=20)" in format_results(result)
    assert main(["eval", str(path), "--ref", "digits:test", "--n", "50", "--metrics", "fid", "--nll-k", "5",
                 "--extractor", "lenet-mnist", "--no-progress", "--no-cache"]) == 0
