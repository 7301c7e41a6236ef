"""Stochastic binarisation: bits with the right probability, a pure function of (seed, index, pixel)."""
from __future__ import annotations

import pytest
import torch

from turbopix.data import DataError, load_dataset
from turbopix.data.binarize import binarize, splitmix64, uniforms


def test_splitmix64_matches_the_reference_values():
    # splitmix64 outputs for seeds 0 and 1 (Vigna's reference: next() after state = seed)
    out = splitmix64(torch.tensor([0, 1], dtype=torch.int64))
    assert [v & ((1 << 64) - 1) for v in out.tolist()] == [0xE220A8397B1DCDAF, 0x910A2DEC89025CC1]


def test_uniforms_are_uniform_and_reproducible():
    u = uniforms(7, torch.arange(200), 784)
    assert u.shape == (200, 784) and 0 <= u.min() and u.max() < 1
    assert abs(u.mean().item() - 0.5) < 0.005 and abs(u.var().item() - 1 / 12) < 0.002
    assert torch.equal(u, uniforms(7, torch.arange(200), 784))
    assert not torch.equal(u, uniforms(8, torch.arange(200), 784))


def test_a_pixel_is_on_with_probability_its_intensity():
    images = torch.tensor([0, 64, 128, 255], dtype=torch.uint8).view(4, 1, 1, 1).expand(4, 1, 50, 50).contiguous()
    on = torch.stack([binarize(images, torch.arange(4), seed) for seed in range(20)]).float().div(255).mean((0, 2, 3, 4))
    assert on[0] == 0 and on[3] == 1
    assert on[1].item() == pytest.approx(64 / 255, abs=0.01) and on[2].item() == pytest.approx(128 / 255, abs=0.01)


def test_an_image_gets_the_same_bits_whatever_batch_it_is_in():
    images = torch.randint(0, 256, (10, 1, 8, 8), dtype=torch.uint8)
    whole = binarize(images, torch.arange(10), 3)
    part = binarize(images[[7, 2]], torch.tensor([7, 2]), 3)
    assert torch.equal(part, whole[[7, 2]])


def test_dataset_options():
    fixed = load_dataset("digits:test", binarize="fixed")
    assert fixed.name.endswith("?binarize=fixed")
    a, b = fixed.batch(torch.arange(8))["image"], fixed.batch(torch.arange(8))["image"]
    assert torch.equal(a, b) and set(a.unique().tolist()) <= {-1.0, 1.0}

    dynamic = load_dataset("digits?binarize=dynamic")
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)
    x1, x2 = dynamic.batch(torch.arange(8), g1)["image"], dynamic.batch(torch.arange(8), g2)["image"]
    assert not torch.equal(x1, x2)
    assert torch.equal(x1, dynamic.batch(torch.arange(8), torch.Generator().manual_seed(1))["image"])
    with pytest.raises(DataError, match="binarize must be 'dynamic' or 'fixed'"):
        load_dataset("digits", binarize="sometimes")
