"""The published-protocol CAS: a CNN trained only on "generated" labelled images, tested on real ones."""
from __future__ import annotations

import pytest
import torch

from turbopix.data import load_dataset
from turbopix.metrics.cas import cas


@pytest.fixture(scope="module")
def digits():
    train, test = load_dataset("digits:train"), load_dataset("digits:test")
    as_unit = lambda d: (d.images.float() / 255, d.labels)  # noqa: E731
    return as_unit(train), as_unit(test)


def test_real_training_images_score_high_and_reproducibly(digits):
    (x, y), (xt, yt) = digits
    r = cas(x, y, xt, yt, epochs=8)
    assert r["accuracy"] > 0.9 and r["n_train"] == len(x) and r["n_test"] == len(xt)
    assert len(r["per_class_accuracy"]) == 10
    assert cas(x, y, xt, yt, epochs=8) == r  # seeded: the same number twice


def test_wrong_labels_score_near_chance(digits):
    (x, y), (xt, yt) = digits
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(0))]
    assert cas(x, shuffled, xt, yt, epochs=8)["accuracy"] < 0.3


def test_one_class_only_scores_that_class_share(digits):
    (x, y), (xt, yt) = digits
    r = cas(x[y == 3], y[y == 3], xt, yt, epochs=2)
    assert r["accuracy"] == pytest.approx((yt == 3).float().mean().item(), abs=1e-6)


def test_bad_input(digits):
    (x, y), (xt, yt) = digits
    with pytest.raises(ValueError, match="channels"):
        cas(x.repeat(1, 3, 1, 1), y, xt, yt)
    with pytest.raises(ValueError, match="non-negative class indices"):
        cas(x, -y - 1, xt, yt)
