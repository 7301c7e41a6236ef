from __future__ import annotations

import pytest
import torch
from torch.utils.data import DistributedSampler

from turbopix.training.schedule import BatchOrder, StepNoise


@pytest.mark.parametrize("world", [2, 4])
def test_ranks_together_hold_the_single_process_batch(world):
    n, batch, seed = 103, 8, 5  # 12 steps per epoch, a ragged tail of 7: steps cross two epochs
    one = BatchOrder(n, batch, seed)
    ranks = [BatchOrder(n, batch, seed, rank=r, world_size=world) for r in range(world)]
    assert all(isinstance(o.sampler, DistributedSampler) for o in ranks)
    for step in [0, 1, 11, 12, 13, 30]:
        shards = [o.indices(step) for o in ranks]
        assert all(len(s) == batch // world for s in shards)
        # rank r's j-th image is position j*world + r of the global batch
        assert torch.equal(torch.stack(shards, 1).flatten(), one.indices(step))


def test_each_epoch_is_a_new_permutation_without_repeats():
    order = BatchOrder(40, 8, seed=0)
    epochs = [torch.cat([order.indices(e * 5 + i) for i in range(5)]) for e in range(3)]
    for seen in epochs:
        assert sorted(seen.tolist()) == list(range(40))
    assert not torch.equal(epochs[0], epochs[1]) and not torch.equal(epochs[1], epochs[2])
    assert torch.equal(BatchOrder(40, 8, seed=0).indices(7), epochs[1][16:24])  # step 7 = epoch 1, batch 2: a pure function of (seed, step)
    assert not torch.equal(BatchOrder(40, 8, seed=1).indices(7), epochs[1][16:24])
    # seeds do not shift into each other (DistributedSampler alone seeds an epoch with seed + epoch)
    assert not torch.equal(BatchOrder(40, 8, seed=1).indices(0), epochs[1][:8])


def test_each_rank_gets_the_noise_rows_of_its_images():
    full = StepNoise(3, 9, 8).randn(4)
    parts = [StepNoise(3, 9, 8, rank=r, world_size=2).randn(4) for r in range(2)]
    assert torch.equal(torch.stack(parts, 1).flatten(0, 1), full)
    assert not torch.equal(StepNoise(3, 10, 8).randn(4), full)


def test_bad_batch_sizes_are_refused():
    with pytest.raises(ValueError, match="larger than the dataset"):
        BatchOrder(10, 16, 0)
    with pytest.raises(ValueError, match="split evenly"):
        BatchOrder(100, 10, 0, rank=0, world_size=4)
