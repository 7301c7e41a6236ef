"""load_dataset(): specs, the registry entries, digits, and the tensor transforms."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.data import DataError, DataNotFoundError, load_dataset
from turbopix.data.transforms import convert_channels, resize_images
from turbopix.core.registry import DATASETS


def test_registry_entries():
    assert {"mnist", "fashion-mnist", "cifar10", "digits"} <= set(DATASETS.names())
    for entry in DATASETS:
        assert entry.info["description"] and "\n" not in entry.info["description"]
        assert entry.info["channels"] in (1, 3) and entry.info["num_classes"] == 10
    assert DATASETS.entry("cifar10").info["native_size"] == 32


def test_digits():
    train, test = load_dataset("digits"), load_dataset("digits", split="test")
    assert train.name == "digits:train" and train.num_classes == 10
    assert (len(train), len(test)) == (1437, 360)
    assert train.images.shape[1:] == (1, 8, 8) and int(train.images.max()) == 255
    assert set(train.labels.tolist()) == set(range(10))
    assert torch.equal(load_dataset("digits").images, train.images)  # deterministic split


def test_spec_split_overrides_argument():
    assert load_dataset("digits:test", split="train").name == "digits:test"


def test_resize_and_channels_on_registered_dataset():
    data = load_dataset("digits:test", image_size=16, channels=3)
    assert data.images.shape == (360, 3, 16, 16) and data.name == "digits:test"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("mnst", "Did you mean 'mnist'"),
        ("mnist:validation", "unknown split 'validation'"),
        ("folder:", "folder: needs a path"),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(DataError, match=message):
        load_dataset(spec)


def test_missing_data_root(tmp_path):
    with pytest.raises(DataNotFoundError, match="data root .*nowhere.* is not a folder"):
        load_dataset("mnist", data_root=tmp_path / "nowhere")


def test_convert_channels_matches_pil():
    rgb = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (5, 3, 7, 9), dtype=np.uint8))
    gray = convert_channels(rgb, 1)
    for i in range(5):
        pil = Image.fromarray(rgb[i].permute(1, 2, 0).numpy()).convert("L")
        np.testing.assert_array_equal(gray[i, 0].numpy(), np.asarray(pil))
    assert torch.equal(convert_channels(gray, 3)[:, 1], gray[:, 0])


def test_resize_images_shapes():
    x = torch.zeros((2, 3, 10, 6), dtype=torch.uint8)
    assert resize_images(x, 4).shape == (2, 3, 4, 4)
    assert resize_images(x[:, :1], 12).shape == (2, 1, 12, 12)
