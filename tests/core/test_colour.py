"""core/colour.py: YCbCr as MATLAB computes it, its inverse, grey, and the dataset colour modes."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.core.colour import convert_colour, rgb_to_grey, rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb


def _pixel(r, g, b) -> torch.Tensor:
    return torch.tensor([r, g, b], dtype=torch.float64).view(3, 1, 1)


@pytest.mark.parametrize(
    "rgb, expected",
    [  # MATLAB: rgb2ycbcr(uint8([...])) before its rounding to uint8 (81, 90, 240 for red)
        ((255, 0, 0), (81.481, 90.203, 240.0)),
        ((0, 255, 0), (144.553, 53.797, 34.214)),
        ((0, 0, 255), (40.966, 240.0, 109.786)),
        ((255, 255, 255), (235.0, 128.0, 128.0)),
        ((0, 0, 0), (16.0, 128.0, 128.0)),
    ],
)
def test_rgb_to_ycbcr_matches_matlab(rgb, expected):
    out = rgb_to_ycbcr(_pixel(*rgb), data_range=255)
    np.testing.assert_allclose(out.flatten().numpy(), expected, atol=1e-9)
    assert rgb_to_y(_pixel(*rgb), data_range=255).item() == pytest.approx(expected[0])


def test_ycbcr_round_trip():
    rgb = torch.rand(2, 3, 5, 7, dtype=torch.float64)
    back = ycbcr_to_rgb(rgb_to_ycbcr(rgb))
    torch.testing.assert_close(back, rgb, atol=1e-12, rtol=0)
    back255 = ycbcr_to_rgb(rgb_to_ycbcr(rgb * 255, data_range=255), data_range=255)
    torch.testing.assert_close(back255, rgb * 255, atol=1e-9, rtol=0)
    assert ycbcr_to_rgb(rgb.float()).dtype == torch.float32


def test_grey_matches_pil_luma():
    rgb = np.random.default_rng(0).integers(0, 256, (9, 11, 3), dtype=np.uint8)
    grey = rgb_to_grey(torch.from_numpy(rgb).permute(2, 0, 1).double())[0].numpy()
    pil = np.asarray(Image.fromarray(rgb).convert("L")).astype(np.float64)
    assert np.abs(grey - pil).max() <= 0.5 + 1e-6  # PIL rounds the same weighted sum


def test_convert_colour_modes():
    rgb = torch.rand(3, 4, 4) * 255
    grey = rgb_to_grey(rgb)
    assert convert_colour(rgb, "rgb") is rgb
    torch.testing.assert_close(convert_colour(rgb, "grey"), grey)
    torch.testing.assert_close(convert_colour(rgb, "y"), rgb_to_y(rgb, data_range=255))
    assert convert_colour(grey, "rgb").shape == (3, 4, 4)
    # a grey image is R = G = B: its Y is that of the repeated RGB image
    torch.testing.assert_close(convert_colour(grey, "y"), rgb_to_y(grey.expand(3, 4, 4), data_range=255))
    # on a [0, 1] scale the Y is on that scale too
    torch.testing.assert_close(convert_colour(rgb / 255, "y", data_range=1.0), rgb_to_y(rgb, data_range=255) / 255)


def test_bad_input():
    with pytest.raises(ValueError, match="3, H, W"):
        rgb_to_ycbcr(torch.zeros(1, 4, 4))
    with pytest.raises(ValueError, match="unknown colour 'hsv'"):
        convert_colour(torch.zeros(3, 2, 2), "hsv")
