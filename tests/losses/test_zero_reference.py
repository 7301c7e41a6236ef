"""Zero-reference losses against values computed by hand on tiny tensors."""
import math

import torch

from turbopix.losses import (ZERO_DCE_WEIGHTS, colour_constancy, exposure_control, illumination_smoothness,
                             spatial_consistency, zero_reference_losses)


def _grey(values):
    """A (1, 3, h, w) image whose three channels all equal ``values``."""
    t = torch.tensor(values, dtype=torch.float64)
    return t.expand(1, 3, *t.shape).clone()


def test_exposure_control_by_hand():
    # 2x4 image, regions of 2x2: region means 0.2 and 0.8; ((0.2-0.6)^2 + (0.8-0.6)^2) / 2 = 0.1
    x = _grey([[0.2, 0.2, 0.8, 0.8], [0.2, 0.2, 0.8, 0.8]])
    assert math.isclose(float(exposure_control(x, 0.6, patch=2)), 0.1, rel_tol=1e-12)
    assert float(exposure_control(torch.full((2, 3, 32, 32), 0.6), 0.6)) < 1e-12


def test_colour_constancy_by_hand():
    x = torch.zeros(1, 3, 2, 2, dtype=torch.float64)
    x[:, 0], x[:, 1], x[:, 2] = 0.5, 0.3, 0.1  # D_rg = 0.04, D_rb = 0.16, D_gb = 0.04
    expected = math.sqrt(0.04**2 + 0.16**2 + 0.04**2)
    assert math.isclose(float(colour_constancy(x)), expected, rel_tol=1e-12)
    assert float(colour_constancy(_grey([[0.1, 0.9]]))) == 0


def test_illumination_smoothness_by_hand():
    a = torch.zeros(1, 3, 2, 3, dtype=torch.float64)
    a[0, 0] = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    # channel 0: vertical pairs (1 - 0)^2 once of 3 -> 1/3; horizontal: two of 4 pairs are 1 -> 1/2
    expected = 2 * (1 / 3 + 1 / 2)
    assert math.isclose(float(illumination_smoothness(a)), expected, rel_tol=1e-12)
    assert float(illumination_smoothness(torch.ones(2, 3, 4, 4))) == 0


def test_spatial_consistency_by_hand():
    # one row of two 1x1 regions (region=1): original 0.1 | 0.3, enhanced 0.2 | 0.8.
    # each region has one real neighbour: (|0.6| - |0.2|)^2 = 0.16 for both, mean over regions 0.16
    original, enhanced = _grey([[0.1, 0.3]]), _grey([[0.2, 0.8]])
    assert math.isclose(float(spatial_consistency(enhanced, original, region=1)), 0.16, rel_tol=1e-12)
    # a uniform brightening (same differences) costs nothing
    x = torch.rand(1, 3, 8, 8, dtype=torch.float64)
    assert float(spatial_consistency(x + 0.2, x)) < 1e-24


def test_weighted_total_uses_the_papers_weights():
    torch.manual_seed(0)
    x, y, a = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32) * 2 - 1
    terms = zero_reference_losses(y, x, a)
    expected = sum(ZERO_DCE_WEIGHTS[k] * terms[k] for k in ZERO_DCE_WEIGHTS)
    torch.testing.assert_close(terms["loss"], expected)
    assert ZERO_DCE_WEIGHTS == {"spatial": 1.0, "exposure": 10.0, "colour": 5.0, "smoothness": 1600.0}


def test_log_spatial_consistency_is_gain_invariant():
    # log contrast: original 0.1 | 0.3, enhanced 0.2 | 0.8 -> (ln 4 - ln 3)^2 per region
    original, enhanced = _grey([[0.1, 0.3]]), _grey([[0.2, 0.8]])
    expected = (math.log(4) - math.log(3)) ** 2
    assert math.isclose(float(spatial_consistency(enhanced, original, region=1, log=True)), expected, rel_tol=1e-12)
    # a uniform gain keeps every ratio (free in log form) but not the differences the paper's form keeps
    x = torch.rand(1, 3, 8, 8, dtype=torch.float64) * 0.4 + 0.05
    assert float(spatial_consistency(2.5 * x, x, log=True)) < 1e-24
    assert float(spatial_consistency(2.5 * x, x)) > 1e-4
    # below one 8-bit step, darkness is not contrast: black regions compare as 1/255
    assert float(spatial_consistency(_grey([[0.0, 1e-5]]), _grey([[1e-6, 0.0]]), region=1, log=True)) == 0


def test_whole_image_exposure():
    # patch=0: one region per image; the image means 0.5 and 0.2 -> ((0.5-0.6)^2 + (0.2-0.6)^2) / 2
    x = torch.cat([_grey([[0.2, 0.8]]), _grey([[0.1, 0.3]])])
    assert math.isclose(float(exposure_control(x, 0.6, patch=0)), (0.01 + 0.16) / 2, rel_tol=1e-12)
    x = x.repeat_interleave(4, 2).repeat_interleave(4, 3)  # 4x8: the spatial term's 4x4 regions fit
    terms = zero_reference_losses(x, x, torch.zeros_like(x), level=0.6, patch=0, log_contrast=True)
    assert math.isclose(float(terms["exposure"]), (0.01 + 0.16) / 2, rel_tol=1e-12) and float(terms["spatial"]) == 0
