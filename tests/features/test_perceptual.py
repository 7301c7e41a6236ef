"""The perceptual network: the seeded random one, and users' VGG weights in safetensors (a small
fabricated file with torchvision's key layout stands in for the real 528 MB VGG16)."""
import pytest
import torch
from safetensors.torch import save_file

from turbopix.core.errors import render
from turbopix.features.perceptual import (
    PerceptualError,
    PerceptualNetwork,
    layer_indices,
    load_vgg,
    perceptual_network,
    random_network,
)


def test_layer_indices_follow_torchvision():
    vgg16 = layer_indices("vgg16")
    assert (vgg16["conv1_1"], vgg16["relu1_2"], vgg16["relu2_2"], vgg16["relu3_3"], vgg16["relu4_3"]) == (0, 3, 8, 15, 22)
    vgg19 = layer_indices("vgg19")
    assert (vgg19["relu3_3"], vgg19["conv3_4"], vgg19["relu4_3"]) == (15, 16, 24)


def test_random_network_is_reproducible_and_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    a, b = random_network(width=0.125), random_network(width=0.125)
    assert torch.equal(torch.rand(1), before)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert a.source == "random:vgg16:w0.125:seed0"
    x = torch.rand(2, 3, 32, 24) * 2 - 1
    shapes = [tuple(f.shape) for f in a(x)]
    assert shapes == [(2, 8, 32, 24), (2, 16, 16, 12), (2, 32, 8, 6), (2, 64, 4, 3)]
    assert not any(p.requires_grad for p in a.parameters())


def fabricated_vgg(path, layout="vgg16", *, drop=None, reshape=None):
    """A state dict with torchvision's ``features.N`` keys and the real shapes (random values)."""
    net = PerceptualNetwork(layout)
    tensors = {f"features.{k}": torch.randn_like(v) * 0.01 for k, v in net.features.state_dict().items()}
    tensors["classifier.0.bias"] = torch.zeros(4)  # extra keys of a full VGG are ignored
    tensors.pop(drop, None)
    if reshape:
        tensors[reshape] = torch.zeros(3)
    save_file(tensors, str(path))
    return tensors


@pytest.mark.parametrize("layout", ["vgg16", "vgg19"])
def test_user_weights_load_with_their_layout(tmp_path, layout, monkeypatch):
    tensors = fabricated_vgg(tmp_path / "vgg.safetensors", layout)
    net = load_vgg(tmp_path / "vgg.safetensors")
    assert net.layout == layout and net.source.endswith("vgg.safetensors")
    assert torch.equal(net.features[0].weight, tensors["features.0.weight"])
    assert [f.shape[1] for f in net(torch.zeros(1, 3, 16, 16))] == [64, 128, 256, 512]
    monkeypatch.setenv("TURBOPIX_VGG", str(tmp_path / "vgg.safetensors"))
    assert perceptual_network().layout == layout  # the environment variable picks the file
    monkeypatch.delenv("TURBOPIX_VGG")
    assert perceptual_network().source.startswith("random:")


def test_bad_user_weights_are_one_clear_error(tmp_path):
    with pytest.raises(PerceptualError, match="not found; convert torchvision's VGG") as e:
        load_vgg(tmp_path / "missing.safetensors")
    assert "safetensors.torch" in str(e.value) and "\n" not in render(e.value, "cli")
    with pytest.raises(PerceptualError, match="pickled weights are not loaded"):
        load_vgg(tmp_path / "vgg16.pth")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 40)
    with pytest.raises(PerceptualError, match="not a readable safetensors"):
        load_vgg(tmp_path / "junk.safetensors")
    fabricated_vgg(tmp_path / "nokey.safetensors", drop="features.5.weight")
    with pytest.raises(PerceptualError, match="missing features.5.weight"):
        load_vgg(tmp_path / "nokey.safetensors")
    fabricated_vgg(tmp_path / "shape.safetensors", reshape="features.2.bias")
    with pytest.raises(PerceptualError, match=r"features.2.bias has shape \(3,\), vgg16 needs \(64,\)"):
        load_vgg(tmp_path / "shape.safetensors")
