from __future__ import annotations

import pytest
import torch
from torch import nn

from turbopix.accel.lower import PointToGrid, fold_batchnorm, lower_for_inference, point_to_grid, subpixel_conv
from turbopix.core.registry import MODELS


@pytest.mark.parametrize("k,s,p", [(4, 2, 1), (2, 2, 0), (6, 2, 2), (3, 3, 0), (5, 3, 1), (8, 4, 2)])
@pytest.mark.parametrize("bias", [True, False])
def test_subpixel_conv_equals_the_transposed_convolution(k, s, p, bias):
    torch.manual_seed(k * 10 + s)
    layer = nn.ConvTranspose2d(5, 3, k, s, p, bias=bias)
    x = torch.randn(2, 5, 7, 6)  # not square: rows and columns must not be mixed up
    conv = subpixel_conv(layer)
    assert conv is not None and not any(isinstance(m, nn.ConvTranspose2d) for m in conv.modules())
    with torch.no_grad():
        expected, got = layer(x), conv(x)
    assert got.shape == expected.shape
    assert (got - expected).abs().max() < 1e-5


@pytest.mark.parametrize("layer", [
    nn.ConvTranspose2d(4, 4, 3, 1, 1),  # stride 1: nothing to gain
    nn.ConvTranspose2d(4, 4, 3, 2, 1),  # output is 2n - 1, not a whole number of phases
    nn.ConvTranspose2d(4, 4, 4, 2, 1, output_padding=1),
    nn.ConvTranspose2d(4, 4, 4, 2, 1, groups=2),
], ids=["stride1", "odd-output", "output-padding", "groups"])
def test_subpixel_conv_declines_shapes_it_cannot_express(layer):
    assert subpixel_conv(layer) is None


def test_point_to_grid_equals_the_transposed_convolution_of_a_point():
    torch.manual_seed(0)
    layer = nn.ConvTranspose2d(10, 6, 7, 1, 0, bias=True)
    x = torch.randn(3, 10, 1, 1)
    dense = point_to_grid(layer)
    assert isinstance(dense, PointToGrid) and isinstance(dense.linear, nn.Linear)
    with torch.no_grad():
        assert (dense(x) - layer(x)).abs().max() < 1e-5
    with pytest.raises(ValueError, match="point-to-grid"):
        point_to_grid(nn.ConvTranspose2d(10, 6, 7, 1, 1))


def test_fold_batchnorm_keeps_the_function_and_removes_the_norm():
    torch.manual_seed(0)
    net = nn.Sequential(nn.ConvTranspose2d(4, 8, 4, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))
    for m in net:
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_()
    net.eval()
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        expected = net(x)
        assert fold_batchnorm(net) == 2
        got = net(x)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    assert (got - expected).abs().max() < 1e-5


@pytest.mark.parametrize("name", MODELS.names())
def test_lowered_model_generates_the_same_images(name, make):
    model = make(name)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lowered, report = lower_for_inference(model)
    inputs = model.example_inputs(4, seed=3)
    with torch.no_grad():
        expected, got = model.infer(**inputs), lowered.infer(**inputs)
    assert (got - expected).abs().max() < 1e-5
    assert set(report) == {"folded_batchnorm", "point_to_grid", "subpixel"}
    after = model.state_dict()  # the source model is not modified
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


def test_dcgan_lowering_rewrites_the_first_and_the_thin_layers(make):
    model = make("dcgan", num_classes=10)
    lowered, report = lower_for_inference(model)
    assert report["point_to_grid"] == ["generator.decoder.net.0"]
    assert report["subpixel"] == ["generator.decoder.net.6"]  # 64 -> 1 channels; 128 -> 64 stays
    assert report["folded_batchnorm"] == 2  # the generator's; the discriminator is not touched
    remaining = [m for m in lowered.generator.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels) for m in remaining] == [(128, 64)]
    assert any(isinstance(m, nn.BatchNorm2d) for m in lowered.discriminator.modules())
    # the ReLU after the first layer moved inside it, before the reshape
    assert isinstance(lowered.generator.decoder.net[0].act, nn.ReLU)
    everything, report_all = lower_for_inference(model, subpixel="all")
    assert report_all["subpixel"] == ["generator.decoder.net.3", "generator.decoder.net.6"]
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in everything.generator.modules())
