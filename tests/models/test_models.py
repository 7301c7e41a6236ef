"""Every registered model: shapes, gradients, config validation and a save -> load round trip."""
import pytest
import torch

import turbopix
from turbopix.core.checkpoint import CheckpointError
from turbopix.core.registry import MODELS
from turbopix.models import ImageGenerator, create_model, list_models
from turbopix.training.tasks import vae_terms

SIZES = [(28, 1), (32, 3), (64, 1)]
# latent-to-image models (image-to-image restorers have their own tests: test_restorers.py)
GENERATORS = [n for n in list_models() if issubclass(MODELS.get(n), ImageGenerator)]


def _batch(model, n=4):
    c, s, _ = model.image_shape
    x = torch.rand(n, c, s, s) * 2 - 1
    y = torch.arange(n) % model.num_classes if model.num_classes else None
    return x, y


def _train_forward(model, x, y):
    """A scalar that depends on every trainable network of the model."""
    if model.family == "gan":
        fake = model.generator(torch.randn(len(x), model.latent_dim), y)
        return model.discriminator(fake, y).mean() + model.discriminator(x, y).mean()
    if model.family == "vae":
        return vae_terms(model(x, y, torch.randn(len(x), model.latent_dim)), x, model.config)["loss"]
    return model(x)["reconstruction"].mean()


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("size,channels", SIZES)
def test_shapes_and_gradients(name, size, channels):
    torch.manual_seed(0)
    model = create_model(name, image_size=size, channels=channels)
    x, y = _batch(model)
    _train_forward(model, x, y).backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"parameters without gradient: {missing[:5]}"
    model.eval()
    out = model.sample(5, seed=1)
    assert out.shape == (5, channels, size, size)
    assert out.min() >= -1 and out.max() <= 1


@pytest.mark.parametrize("name", [n for n in GENERATORS if n != "ae"])
def test_conditional(name):
    model = create_model(name, num_classes=10).eval()
    imgs = model.sample(6, labels=torch.tensor([0, 1, 2, 3, 4, 9]), seed=0)
    assert imgs.shape == (6, 1, 28, 28)
    with pytest.raises(ValueError, match="labels"):
        model.sample(2, labels=torch.tensor([0, 10]))
    # the label changes the output
    z = torch.randn(1, model.latent_dim)
    with torch.no_grad():
        a, b = model.generate(z, torch.tensor([0])), model.generate(z, torch.tensor([1]))
    assert not torch.allclose(a, b)


def test_unconditional_rejects_labels():
    with pytest.raises(ValueError, match="not class-conditional"):
        create_model("dcgan").sample(2, labels=torch.tensor([0, 1]))


@pytest.mark.parametrize("name", GENERATORS)
def test_save_load_round_trip(name, tmp_path):
    torch.manual_seed(0)
    model = create_model(name, latent_dim=16)
    x, y = _batch(model)
    _train_forward(model, x, y)  # updates batch-norm statistics so buffers are non-trivial
    if model.family == "ae":
        model.update_code_stats(torch.randn(8, 16) * 3 + 1)  # and the code statistics sampling draws from
    model.eval()
    path = turbopix.save(model, tmp_path / "m.safetensors")
    loaded = turbopix.load(path)
    assert not loaded.training
    assert loaded.config == model.config and loaded.name == name
    z = torch.randn(3, 16)
    labels = None
    with torch.no_grad():
        assert torch.equal(model.generate(z, labels), loaded.generate(z, labels))
    meta = turbopix.read_metadata(path)
    assert meta["model"] == name and meta["family"] == model.family and meta["library_version"] == turbopix.__version__
    with pytest.raises(FileExistsError):
        turbopix.save(model, path)


def test_create_model_rejects_unknown_keys():
    with pytest.raises(TypeError, match="Valid options: image_size"):
        create_model("dcgan", colour=True)
    with pytest.raises(KeyError, match="Did you mean 'dcgan'"):
        create_model("dcgen")
    with pytest.raises(ValueError, match="loss must be one of"):
        create_model("dcgan", loss="wasserstein")


def test_unsupported_size_is_a_clear_error():
    with pytest.raises(ValueError, match="image_size 30 is not supported"):
        create_model("dcgan", image_size=30)


def test_mlp_gan_matches_the_seed_architecture():
    model = create_model("mlp-gan")
    sizes = [m.out_features for m in model.generator.modules() if isinstance(m, torch.nn.Linear)]
    assert sizes == [128, 128, 784]
    assert [m.out_features for m in model.discriminator.modules() if isinstance(m, torch.nn.Linear)] == [128, 1]


def test_load_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 50)
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        turbopix.load(bad)
    with pytest.raises(CheckpointError, match="not found"):
        turbopix.load(tmp_path / "missing.safetensors")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(CheckpointError, match="without turbopix metadata"):
        turbopix.load(tmp_path / "plain.safetensors")


def test_vae_elbo_terms():
    torch.manual_seed(0)
    model = create_model("vae")
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    terms = vae_terms(model(x, None, torch.zeros(8, model.latent_dim)), x, model.config)
    assert torch.allclose(terms["elbo"], -(terms["recon"] + terms["kl"]))
    assert terms["kl"] >= 0
    # with eps = 0 and a standard-normal posterior the KL is exactly zero
    mu, logvar = model.encode(x)
    kl_manual = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()
    assert torch.allclose(terms["kl"], kl_manual)
