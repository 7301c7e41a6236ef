"""Feature extractors: the shipped LeNets, input conversion, fixed batching, and plugging in others."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from turbopix.data import load_dataset
from turbopix.features.networks import LeNet, to_extractor_input
from turbopix.features.extractor import (
    WEIGHTS_DIR,
    ExtractorError,
    FeatureExtractor,
    OnnxExtractor,
    default_extractor,
    load_extractor,
    read_extractor_file,
    save_extractor,
)
from turbopix.core.registry import FEATURES, Entry

SHIPPED = {"lenet-mnist": ("mnist", 0.993), "lenet-fashion": ("fashion-mnist", 0.92)}  # dataset, accuracy target


def images(n: int, *shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.fixture(scope="module")
def lenet_mnist() -> FeatureExtractor:
    return load_extractor("lenet-mnist")


# ------------------------------------------------------------------ shipped weights


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_weights_are_small_self_describing_safetensors(name):
    path = WEIGHTS_DIR / f"{name}.safetensors"
    assert path.stat().st_size < 2_000_000
    _, meta = read_extractor_file(path)
    dataset, target = SHIPPED[name]
    assert meta["architecture"] == "lenet" and meta["dataset"] == dataset
    assert meta["test_accuracy"] >= target and meta["test_images"] == 10000
    assert default_extractor(dataset) == name


def test_loading_never_unpickles(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("torch.load (pickle) must not be used")

    monkeypatch.setattr(torch, "load", refuse)
    assert load_extractor("lenet-fashion").feature_dim == 128


@pytest.mark.data
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_accuracy_on_a_test_slice(name, shared_data):
    """2,000 random test images: the accuracy recorded in the file, within sampling noise (~3 sd)."""
    dataset, _ = SHIPPED[name]
    test = load_dataset(dataset, split="test", data_root=shared_data)
    idx = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:2000]
    b = test.batch(idx)
    x, y = b["image"], b["label"]
    logits = load_extractor(name).extract(x).logits
    acc = (torch.from_numpy(logits).argmax(1) == y).double().mean().item()
    recorded = read_extractor_file(WEIGHTS_DIR / f"{name}.safetensors")[1]["test_accuracy"]
    sd = (recorded * (1 - recorded) / 2000) ** 0.5
    assert acc >= recorded - 3 * sd - 1e-3, (acc, recorded)


# ------------------------------------------------------------------ shapes, determinism, batching


def test_shapes_dtypes_and_determinism(lenet_mnist):
    x = images(7, 1, 28, 28)
    a, b = lenet_mnist.extract(x), lenet_mnist.extract(x)
    assert a.features.shape == (7, 128) and a.features.dtype == np.float32
    assert a.logits.shape == (7, 10)
    np.testing.assert_array_equal(a.features, b.features)
    info = lenet_mnist.info()
    assert info["name"] == "lenet-mnist" and len(info["sha256"]) == 64 and info["input"] == [1, 28, 28]


def test_results_do_not_depend_on_how_the_caller_chunks(lenet_mnist, monkeypatch):
    x = images(45, 1, 28, 28)
    monkeypatch.setattr(lenet_mnist, "batch_size", 16)  # fixed batches of 16, whatever the chunks
    whole = lenet_mnist.extract(x).features
    chunked = lenet_mnist.extract([x[:3], x[3:30], x[30:31], x[31:]]).features
    np.testing.assert_array_equal(whole, chunked)
    sizes = [n for n, _ in lenet_mnist.iter_batches([x[:5], x[5:]])]
    assert sizes == [16, 16, 13]


def test_rgb_and_other_sizes_are_converted(lenet_mnist):
    rgb = images(4, 3, 64, 64)
    gray = (rgb * torch.tensor([0.299, 0.587, 0.114])[None, :, None, None]).sum(1, keepdim=True)
    expected = F.interpolate(gray, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    torch.testing.assert_close(to_extractor_input(rgb, 1, 28), expected)
    np.testing.assert_allclose(lenet_mnist.extract(rgb).features, lenet_mnist.extract(expected).features, atol=1e-5)


def test_input_conversion_details():
    x = images(2, 1, 30, 40) * 3  # out of range and non-square
    out = to_extractor_input(x, 1, 28)
    assert out.shape == (2, 1, 28, 28) and out.min() >= -1 - 1e-6 and out.max() <= 1 + 1e-6  # resizing: rounding only
    assert to_extractor_input(images(2, 1, 8, 8), 3, 8).shape == (2, 3, 8, 8)
    with pytest.raises(ValueError, match="1 \\(gray\\) or 3 \\(RGB\\)"):
        to_extractor_input(images(2, 2, 8, 8), 1, 8)
    with pytest.raises(ValueError, match="N, C, H, W"):
        to_extractor_input(images(2, 8, 8), 1, 8)


def test_eval_mode_dropout_is_off(lenet_mnist):
    assert not lenet_mnist.module.training


# ------------------------------------------------------------------ plugging in other extractors


class TinyNet(torch.nn.Module):
    """Features only (no logits): a 2-layer net for 3x16x16 input."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.fc = torch.nn.Linear(4 * 14 * 14, 6)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


def test_registered_module_factory(monkeypatch):
    monkeypatch.setitem(FEATURES._entries, "tiny-test", Entry("tiny-test", TinyNet, {"channels": 3, "input_size": 16}))
    ext = load_extractor("tiny-test")
    out = ext.extract(images(5, 1, 28, 28))  # gray 28 px -> RGB 16 px
    assert out.features.shape == (5, 6) and out.logits is None and ext.num_classes == 0


def test_module_without_input_description_is_an_error(monkeypatch):
    monkeypatch.setitem(FEATURES._entries, "tiny-test", Entry("tiny-test", TinyNet, {}))
    with pytest.raises(ExtractorError, match="input_size"):
        load_extractor("tiny-test")


def test_safetensors_file_with_and_without_metadata(tmp_path):
    torch.manual_seed(1)
    net = LeNet(num_classes=3, feature_dim=16).eval()
    config = {"num_classes": 3, "feature_dim": 16}
    described = save_extractor(net, tmp_path / "mine.safetensors", architecture="lenet", config=config, note="test")
    ext = load_extractor(str(described))
    x = images(3, 1, 28, 28)
    with torch.no_grad():
        ref_feats, ref_logits = net(x)
    np.testing.assert_allclose(ext.extract(x).features, ref_feats.numpy(), atol=1e-6)
    assert ext.num_classes == 3

    bare = tmp_path / "bare.safetensors"  # plain weights: the architecture must be named
    save_file({k: v.contiguous() for k, v in LeNet().state_dict().items()}, str(bare))
    with pytest.raises(ExtractorError, match="does not say which architecture"):
        load_extractor(str(bare))
    assert load_extractor(f"lenet:{bare}").feature_dim == 128
    small = tmp_path / "small.safetensors"  # 16-D weights, read as a default (128-D) LeNet
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(small))
    with pytest.raises(ExtractorError, match="do not fit"):
        load_extractor(f"lenet:{small}")


def test_unknown_extractor_lists_the_choices(tmp_path):
    with pytest.raises(ExtractorError, match="lenet-fashion, lenet-mnist"):
        load_extractor("inception")
    with pytest.raises(ExtractorError, match="not found"):
        load_extractor(str(tmp_path / "missing.safetensors"))
    with pytest.raises(ExtractorError, match="no default feature extractor"):
        default_extractor("cifar10")


def test_onnx_extractor_matches_torch(tmp_path, lenet_mnist):
    pytest.importorskip("onnx", reason="exporting to ONNX needs the onnx package (pip install onnx)")
    pytest.importorskip("onnxruntime", reason="running ONNX models needs onnxruntime (pip install onnxruntime)")
    path = tmp_path / "lenet.onnx"
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated but exports this small net ~10x faster than the
        # dynamo one, which would also need onnxscript; the ONNX file is the same kind either way.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            lenet_mnist.module, (torch.zeros(2, 1, 28, 28),), str(path), dynamo=False,
            input_names=["images"], output_names=["features", "logits"], dynamic_axes={"images": {0: "batch"}},
        )
    ext = load_extractor(str(path))
    assert isinstance(ext, OnnxExtractor) and (ext.feature_dim, ext.num_classes) == (128, 10)
    x = images(9, 1, 32, 32)
    np.testing.assert_allclose(ext.extract(x).features, lenet_mnist.extract(x).features, atol=1e-4)
    np.testing.assert_allclose(ext.extract(x).logits, lenet_mnist.extract(x).logits, atol=1e-4)


def test_onnx_without_onnxruntime_says_what_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes "import onnxruntime" fail
    (tmp_path / "x.onnx").write_bytes(b"")
    with pytest.raises(ExtractorError, match="pip install onnxruntime"):
        load_extractor(str(tmp_path / "x.onnx"))
