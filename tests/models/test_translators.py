"""pix2pix and CycleGAN: shapes, sizes they refuse, directions, gradients and a save -> load round trip."""
import pytest
import torch

import turbopix
from turbopix.models import create_model
from turbopix.models.channels import find_links
from turbopix.models.translators import TranslationError

TINY = {"pix2pix": dict(g_width=4, depth=3, d_width=4, image_size=16),
        "cyclegan": dict(g_width=4, blocks=1, d_width=4, image_size=16)}


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_range(name, channels):
    model = create_model(name, channels=channels, **TINY[name]).eval()
    x = torch.rand(2, channels, 16, 24) * 2 - 1  # not square: H and W stay apart
    for direction in model.directions:
        y = model.translate(x, direction)
        assert y.shape == x.shape and y.abs().max() <= 1
    assert model.infer(**model.example_inputs(3))[0].shape == model.example_inputs(3)["image"][0].shape


def test_sizes_that_are_not_multiples_are_refused():
    model = create_model("pix2pix", **TINY["pix2pix"])
    assert model.size_multiple == 8
    with pytest.raises(TranslationError, match="multiples of 8; got 12x8"):
        model.infer(torch.zeros(1, 3, 8, 12))


def test_pix2pix_has_one_direction_cyclegan_two():
    with pytest.raises(TranslationError, match="learns one direction"):
        create_model("pix2pix", **TINY["pix2pix"]).translate(torch.zeros(1, 3, 8, 8), "b2a")
    model = create_model("cyclegan", **TINY["cyclegan"]).eval()
    x = torch.rand(1, 3, 8, 8) * 2 - 1
    assert not torch.equal(model.translate(x, "a2b"), model.translate(x, "b2a"))


def test_pix2pix_follows_the_paper_layout():
    """U-Net of ``depth`` levels down to 1x1 with skips; conditional D sees 2C channels; dropout in
    the three innermost decoder levels that have skips."""
    model = create_model("pix2pix", g_width=8, depth=6, image_size=64)
    convs = [m for m in model.generator.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16, 32, 64, 64, 64]
    assert model.discriminator.net[0].in_channels == 6
    assert sum(isinstance(m, torch.nn.Dropout) for m in model.generator.modules()) == 3
    assert len(find_links(model)) >= 1  # the bottom level is a prunable chain
    # every skip is used: the first decoder layer sees twice the channels of its encoder level
    ups = [m for m in model.generator.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [u.in_channels for u in ups] == [64, 128, 128, 64, 32, 16]  # innermost first


def test_cyclegan_resnet_blocks_are_prunable_and_every_network_gets_gradients():
    model = create_model("cyclegan", **TINY["cyclegan"])
    assert len(find_links(model)) >= 1  # instance norm without parameters passes channels through
    a = torch.rand(2, 3, 16, 16) * 2 - 1
    loss = sum(d(model.translate(a, k)).mean() for k, d in zip(("b2a", "a2b"), model.discriminators.values()))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    assert sum(p.numel() for p in model.generators["a2b"].parameters()) == sum(p.numel() for p in model.generators["b2a"].parameters())


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_save_load_round_trip(name, tmp_path):
    torch.manual_seed(0)
    model = create_model(name, **TINY[name])
    model.train()
    model.translate(torch.rand(4, 3, 16, 16) * 2 - 1)  # moves batch-norm statistics
    model.eval()
    loaded = turbopix.load(turbopix.save(model, tmp_path / "m.safetensors"))
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    for direction in model.directions:
        assert torch.equal(model.translate(x, direction), loaded.translate(x, direction))
    assert loaded.config == model.config
