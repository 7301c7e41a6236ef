"""Completing images with a generator by latent search: recovers a known code, keeps the visible
pixels, works for every generator family, and refuses what it cannot do."""
import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.cli.main import main
from turbopix.models import create_model, save
from turbopix.pipelines.complete import CompletionConfig, complete

# sigma small: an untrained generator's images differ by little, so the pixels must outweigh the prior
FAST = CompletionConfig(steps=150, restarts=3, lr=0.1, sigma=0.003)


def _box(n, size=12, top=4, left=6, side=28):
    missing = torch.zeros(n, 1, side, side)
    missing[:, :, top:top + size, left:left + size] = 1
    return missing


def _generator(name, **kw):
    torch.manual_seed(0)
    return create_model(name, **kw).eval()


@pytest.mark.parametrize("name, kw", [("vae", dict(latent_dim=3, hidden=(32,))),
                                      ("conv-vae", dict(latent_dim=3, width=4)),
                                      ("ae", dict(latent_dim=3, width=4)),
                                      ("mlp-gan", dict(latent_dim=3, g_hidden=(32,), d_hidden=(8,)))])
def test_the_search_finds_the_code_that_made_the_image(name, kw):
    """An image the generator made from a known code, with a hole: the completed hole is far closer
    to the generator's own pixels than another code's image is, and the visible pixels are kept."""
    model = _generator(name, **kw)
    mean, std = model.latent_prior()
    z, other = (mean + std * torch.randn(4, model.latent_dim, generator=torch.Generator().manual_seed(s)) for s in (1, 2))
    with torch.no_grad():
        target, elsewhere = model.generate(z), model.generate(other)
    missing = _box(4)
    result = complete(model, target, missing, FAST)
    hole = missing.bool().expand_as(target)
    assert torch.equal(result.images[~hole], target[~hole])  # visible pixels exactly as given
    err = (result.images - target)[hole].pow(2).mean()
    baseline = (elsewhere - target)[hole].pow(2).mean()
    assert err < 0.05 * baseline, (name, float(err / baseline))
    assert result.labels is None and result.codes.shape == (4, model.latent_dim)
    assert all(p.requires_grad for p in model.parameters() if p is not getattr(model, "log_sigma", None))


def test_a_conditional_model_reports_the_class_it_chose_and_takes_a_given_class():
    model = _generator("mlp-gan", latent_dim=3, g_hidden=(32,), d_hidden=(8,), num_classes=4)
    labels = torch.tensor([0, 3])
    with torch.no_grad():
        target = model.generate(torch.randn(2, 3, generator=torch.Generator().manual_seed(2)), labels)
    searched = complete(model, target, _box(2), FAST)
    assert searched.labels.shape == (2,) and searched.labels.max() < 4
    given = complete(model, target, _box(2), FAST, labels=torch.tensor([1, 1]))
    assert given.labels.tolist() == [1, 1]
    assert (searched.objective <= given.objective + 1e-3).all()  # every class was tried, 1 among them


def test_the_encoder_gives_the_first_start():
    """With no steps to speak of, a VAE's completion is its encoder's code of the grey-filled image."""
    model = _generator("conv-vae", latent_dim=3, width=4)
    image = torch.rand(1, 1, 28, 28) * 2 - 1
    missing = _box(1)
    tiny = CompletionConfig(steps=1, restarts=1, lr=1e-9)
    result = complete(model, image, missing, tiny)
    keep = 1 - missing
    filled = keep * image + missing * (image * keep).sum() / keep.sum()
    assert torch.allclose(result.codes, model.encode_latent(filled), atol=1e-5)


def test_refusals():
    model = _generator("conv-vae", latent_dim=3, width=4)
    with pytest.raises(ValueError, match=r"completes images of shape \(1, 28, 28\)"):
        complete(model, torch.zeros(1, 1, 32, 32), torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match="not class-conditional"):
        complete(model, torch.zeros(1, 1, 28, 28), _box(1), labels=torch.tensor([0]))


def test_turbopix_inpaint_completes_a_digit_with_a_generator_file(tmp_path, capsys):
    gen = save(_generator("conv-vae", latent_dim=3, width=4), tmp_path / "vae.safetensors", data="mnist")
    digit = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    hole = np.zeros((28, 28), np.uint8)
    hole[8:16, 8:16] = 255
    Image.fromarray(digit).save(tmp_path / "digit.png")
    Image.fromarray(hole).save(tmp_path / "hole.png")
    args = ["inpaint", str(tmp_path / "digit.png"), "--mask", str(tmp_path / "hole.png"), str(tmp_path / "out.png"),
            "--model", str(gen), "--no-progress"]
    assert main(args) == 0
    out = np.asarray(Image.open(tmp_path / "out.png"))
    assert np.array_equal(out[hole == 0], digit[hole == 0]) and not np.array_equal(out, digit)
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "big.png")
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "bighole.png")
    args[1], args[3], args[4] = str(tmp_path / "big.png"), str(tmp_path / "bighole.png"), str(tmp_path / "o2.png")
    assert main(args) == 2
    assert "big.png is 32x32 but --model" in capsys.readouterr().err
