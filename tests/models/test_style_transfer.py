"""The style-transfer family: shapes at any size, gradients, width option, save/load round trip."""
import pytest
import torch

import turbopix
from turbopix.models import create_model
from turbopix.models.style_transfer import pad_to_multiple


@pytest.mark.parametrize("size", [(24, 32), (30, 45), (7, 5)])
def test_any_size_in_same_size_out(size):
    torch.manual_seed(0)
    model = create_model("style-transfer", width=4, blocks=1)
    x = torch.rand(2, 3, *size) * 2 - 1
    out = model(x)
    assert out.shape == x.shape
    out.mean().backward()
    assert all(p.grad is not None for p in model.parameters())
    y = model.eval().infer(x)
    assert y.min() >= -1 and y.max() <= 1


def test_pad_to_multiple_pads_bottom_right_only():
    x = torch.arange(30.0).view(1, 1, 5, 6)
    padded, (h, w) = pad_to_multiple(x, 4)
    assert padded.shape[-2:] == (8, 8) and (h, w) == (5, 6)
    assert torch.equal(padded[..., :5, :6], x)


def test_width_sets_the_size_and_the_network_matches_johnson():
    small, full = create_model("style-transfer", width=8), create_model("style-transfer")
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(full) == 1_679_235  # Johnson et al.'s layout with instance norm: 1.68M parameters
    assert count(small) < 120_000
    with pytest.raises(ValueError, match="channels must be >= 3 and <= 3"):
        create_model("style-transfer", channels=4)


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    model = create_model("style-transfer", width=4, blocks=2, style="my/style.jpg").eval()
    path = turbopix.save(model, tmp_path / "m.safetensors")
    loaded = turbopix.load(path)
    assert loaded.config == model.config and loaded.family == "style-transfer"
    x = torch.rand(1, 3, 16, 20) * 2 - 1
    with torch.no_grad():
        assert torch.equal(loaded.infer(x), model.infer(x))


@pytest.mark.parametrize("name", ["style-candy", "style-mosaic"])
def test_shipped_styles_load_by_name_and_saw_only_training_photos(name, tmp_path):
    from turbopix.cli.main import main
    from turbopix.models.shipped import WEIGHTS_DIR, available

    if name not in available():
        pytest.skip(f"{name} is not shipped in this checkout")
    assert (WEIGHTS_DIR / f"{name}.safetensors").stat().st_size < 500_000
    model = turbopix.load(name)
    assert model.family == "style-transfer" and model.config.width == 8
    assert model.metadata["data"].startswith("patches:cbsd432_train")
    assert model.infer(torch.zeros(1, 3, 20, 12)).shape == (1, 3, 20, 12)
    from PIL import Image

    Image.new("RGB", (20, 12), (120, 30, 200)).save(tmp_path / "in.png")
    assert main(["stylize", str(tmp_path / "in.png"), str(tmp_path / "out.png"), "--style", name.removeprefix("style-"),
                 "--no-progress"]) == 0
    assert Image.open(tmp_path / "out.png").size == (20, 12)
