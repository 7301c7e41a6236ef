"""data/resize.py: MATLAB imresize, checked against a per-pixel implementation and Set5's stored LR."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.data.resize import cubic, imresize


def _direct(image: np.ndarray, scale: float) -> np.ndarray:
    """MATLAB imresize, one output pixel at a time: every input pixel within the kernel's reach
    (searched over a wide range, so nothing depends on a tap count), edges mirrored, weights
    normalised; height first, then width."""

    def axis(x: np.ndarray) -> np.ndarray:  # resize the first axis of x
        n = x.shape[0]
        out = np.zeros((math.ceil(n * scale), *x.shape[1:]))
        k = scale if scale < 1 else 1.0
        for i in range(out.shape[0]):
            u = (i + 1) / scale + 0.5 * (1 - 1 / scale)  # 1-based input coordinate
            weights, rows = [], []
            for j in range(-3 * n, 4 * n):  # 1-based input positions, far past the edges
                w = k * float(cubic(np.array((u - j) * k)))
                if w != 0:
                    m = (j - 1) % (2 * n)  # symmetric mirroring: ... 2 1 | 1 2 ... n | n n-1 ...
                    weights.append(w)
                    rows.append(m if m < n else 2 * n - 1 - m)
            weights = np.array(weights) / sum(weights)
            out[i] = np.tensordot(weights, x[rows], axes=1)
        return out

    return axis(axis(image).swapaxes(0, 1)).swapaxes(0, 1)


@pytest.mark.parametrize("scale", [1 / 2, 1 / 3, 1 / 4, 2.0, 0.7])
def test_matches_direct_implementation(scale):
    image = np.random.default_rng(1).uniform(0, 255, (7, 10))
    ours = imresize(torch.from_numpy(image), scale).numpy()
    np.testing.assert_allclose(ours, _direct(image, scale), atol=1e-9, rtol=0)


def test_shapes_constants_and_rounding():
    x = torch.full((3, 12, 9), 77.0)
    assert imresize(x, 1 / 3).shape == (3, 4, 3)
    assert imresize(x, 1 / 4).shape == (3, 3, 3)  # ceil(9 / 4)
    torch.testing.assert_close(imresize(x, 1 / 4), torch.full((3, 3, 3), 77.0))  # weights sum to 1
    ramp = torch.linspace(-40, 300, 24).repeat(24, 1)
    rounded = imresize(ramp, 1 / 2, round_output=True)
    assert rounded.min() == 0 and rounded.max() == 255 and torch.equal(rounded, rounded.round())
    assert imresize(torch.zeros(4, 4, dtype=torch.uint8), 0.5).dtype == torch.float32


@pytest.mark.data
@pytest.mark.parametrize("s", [2, 3, 4])
def test_agrees_with_set5_matlab_lr(shared_data, s):
    """Set5's LR images were made by MATLAB imresize on uint8: we reproduce them (the bar is a mean
    absolute difference under 1 grey level; in fact they agree exactly)."""
    diffs = []
    for hr_path in sorted((shared_data / "set5" / "HR").glob("*.png")):
        lr = np.asarray(Image.open(shared_data / "set5" / "LR_bicubic" / f"X{s}" / f"{hr_path.stem}x{s}.png"), np.float64)
        h, w = lr.shape[:2]
        hr = torch.from_numpy(np.asarray(Image.open(hr_path), np.float64)[: h * s, : w * s]).permute(2, 0, 1)
        ours = imresize(hr, 1 / s, round_output=True).permute(1, 2, 0).numpy()
        diffs.append(np.abs(ours - lr).mean())
    assert len(diffs) == 5
    assert np.mean(diffs) < 0.01, diffs
