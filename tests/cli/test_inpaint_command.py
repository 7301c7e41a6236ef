"""``turbopix inpaint IN --mask MASK OUT``: the shipped inpaint-colour by default, on a photo from no
test set (scikit-image's astronaut); known pixels kept, the hole filled better than its mean colour."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import turbopix
from turbopix.cli.main import main
from turbopix.models.shipped import available

pytestmark = pytest.mark.skipif("inpaint-colour" not in available(), reason="shipped inpainter weights not in this installation")


@pytest.fixture
def photo_and_mask(tmp_path):
    data = pytest.importorskip("skimage.data")
    rgb = data.astronaut()[100:196, 180:276]  # 96x96: face and suit, not from any test set
    mask = np.zeros(rgb.shape[:2], np.uint8)
    mask[30:60, 40:70] = 255  # a 30x30 box, white = missing
    Image.fromarray(rgb).save(tmp_path / "photo.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    return rgb, mask > 0, tmp_path / "photo.png", tmp_path / "mask.png"


def test_inpaint_with_the_shipped_model_keeps_known_pixels_and_fills_the_hole(photo_and_mask, tmp_path):
    rgb, hole, photo, mask = photo_and_mask
    out = tmp_path / "filled.png"
    assert main(["inpaint", str(photo), "--mask", str(mask), str(out), "--no-progress"]) == 0
    filled = np.asarray(Image.open(out)).astype(np.float64)
    assert filled.shape == rgb.shape
    assert np.array_equal(filled[~hole], rgb[~hole])  # known pixels exactly as in the file
    error = np.abs(filled[hole] - rgb[hole]).mean()
    floor = np.abs(np.floor(rgb[~hole].mean(0) + 0.5) - rgb[hole]).mean()  # the hole set to the known mean colour
    assert error < 0.8 * floor, (error, floor)


def test_the_shipped_inpainter_says_what_it_was_trained_on():
    model = turbopix.load("inpaint-colour")
    assert model.name == "inpaint" and model.config.channels == 3
    data = model.metadata["data"]
    assert "cbsd432_train" in data and "degrade=mask:any" in data and "cbsd68" not in data
    assert sum(p.numel() for p in model.parameters()) < 200_000  # a small file
    assert [s.name for s in model.inputs()] == ["image", "mask"]
    image, mask = model.example_inputs(1).values()
    assert torch.equal(model.infer(image, mask)[~mask.bool().expand_as(image)], image[~mask.bool().expand_as(image)])
