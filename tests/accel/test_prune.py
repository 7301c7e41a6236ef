from __future__ import annotations

import pytest
import torch

import turbopix
from turbopix.accel.flops import count_flops, count_params
from turbopix import load as load_pruned  # turbopix.load applies the recorded channel plan
from turbopix.accel.prune import kept_channels, prune, prune_channels
from turbopix.core.registry import MODELS



@pytest.mark.parametrize("name", [n for n in MODELS.names() if MODELS.get(n).prunable])
def test_pruning_cuts_counted_flops_and_params(name, make):
    model = make(name)
    pruned = prune_channels(model, 0.5)
    assert count_params(pruned) < count_params(model)
    assert count_flops(pruned) < count_flops(model)
    inputs = model.example_inputs(3)
    assert pruned.infer(**inputs).shape == model.infer(**inputs).shape


def test_transposed_conv_channels_are_cut_in_all_three_places(make):
    model = make("dcgan")
    pruned = prune_channels(model, 0.5)
    net = pruned.generator.decoder.net
    # ConvTranspose2d weight is (in, out, k, k): outputs are dim 1, inputs dim 0
    assert net[0].weight.shape[1] == net[1].num_features == net[3].weight.shape[0] == 64
    assert net[3].weight.shape[1] == net[4].num_features == net[6].weight.shape[0] == 32
    assert net[6].weight.shape[1] == 1  # image channels are never pruned


def test_dead_channels_go_first_and_nothing_else_changes(make):
    """Channels that batch norm zeroes (gamma = beta = 0, then ReLU) contribute nothing. Make half
    of every hidden layer dead: pruning half must remove exactly those and leave the output
    unchanged, which checks every slice (producer, batch norm, consumer) and every index."""
    model = make("dcgan")
    net = model.generator.decoder.net
    with torch.no_grad():
        for bn in (net[1], net[4]):
            bn.weight[0::2] = 0
            bn.bias[0::2] = 0
    pruned = prune_channels(model, 0.5)
    kept = pruned.generator.decoder.net
    assert torch.equal(kept[1].weight, net[1].weight[1::2])  # the live (odd) channels survive, in order
    assert torch.equal(kept[3].weight, net[3].weight[1::2, 1::2])
    inputs = model.example_inputs(4)
    with torch.no_grad():
        torch.testing.assert_close(pruned.infer(**inputs), model.infer(**inputs), atol=1e-6, rtol=0)


def test_amount_zero_changes_nothing(make):
    model = make("mlp-gan")
    pruned = prune_channels(model, 0.0)
    inputs = model.example_inputs(4)
    with torch.no_grad():
        torch.testing.assert_close(pruned.infer(**inputs), model.infer(**inputs))


def test_kept_channels_round_to_multiples_of_8(make):
    assert kept_channels(128, 0.5, 8) == 64
    assert kept_channels(100, 0.5, 8) == 56
    assert kept_channels(4, 0.9, 8) == 4  # never more than there were
    with pytest.raises(ValueError):
        prune_channels(make("mlp-gan"), 1.0)


def test_pruned_model_saves_and_reloads(tmp_path, make):
    pruned = prune_channels(make("dcgan", num_classes=10), 0.5)
    path = turbopix.save(pruned, tmp_path / "p.safetensors", pruning=pruned.pruning)
    again = load_pruned(path)
    inputs = pruned.example_inputs(3)
    with torch.no_grad():
        torch.testing.assert_close(again.infer(**inputs), pruned.infer(**inputs))


def test_recovery_finetune_reduces_the_distance_to_the_teacher(make):
    model = make("mlp-gan")
    pruned, report = prune(model, 0.5, finetune_steps=60, batch_size=32, extractor=None)
    assert report.flops_after < report.flops_before and report.params_after < report.params_before
    assert report.recovery.pixel_l1_last < report.recovery.pixel_l1_first
    assert report.to_json()["flop_cut"] > 0.3
