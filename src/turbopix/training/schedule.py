"""Which images, which noise and which learning rate each step gets, as pure functions of (seed, step).

Nothing here keeps state, so a resumed run sees exactly the batches and noise an uninterrupted run
would have, without saving RNG state.

Images: PyTorch's ``DistributedSampler`` (``shuffle=True``, ``drop_last=True``, ``set_epoch`` per
epoch) deals each rank every N-th index of the epoch's permutation, a permutation that depends only
on (seed, epoch). Rank r's j-th image of a step is therefore position ``j*N + r`` of the *global*
batch, and the N ranks together see exactly the images one process sees with the same global batch
size, whatever N is. The noise is drawn for the global batch and each rank takes the same rows
(``r::N``), so every image meets the same noise on any number of processes; that is what makes
2-process training equal 1-process training (``tests/training/test_distributed.py``).
"""
from __future__ import annotations

import math

import torch
from torch.utils.data import DistributedSampler

_MIX = 1_000_003  # a prime that keeps (seed, step) pairs from colliding in the generator seed


def step_generator(seed: int, step: int, stream: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed((seed * _MIX + step) * 8 + stream)


class BatchOrder:
    """This rank's images for each step: epochs of ``DistributedSampler`` shards, cut into batches
    of ``batch_size / world_size`` (the global batch is what the user asked for; the ragged tail of
    each epoch is dropped)."""

    def __init__(self, num_samples: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1) -> None:
        if batch_size > num_samples:
            raise ValueError(f"batch size {batch_size} is larger than the dataset ({num_samples} images)")
        if batch_size % world_size:
            raise ValueError(f"the global batch {batch_size} does not split evenly over {world_size} processes")
        self.per_rank = batch_size // world_size
        # ``range`` serves as the dataset: the sampler only needs its length. It seeds each epoch's
        # shuffle with seed + epoch, so seed s at epoch 1 would repeat seed s+1 at epoch 0: spread
        # the seeds apart first.
        self.sampler = DistributedSampler(range(num_samples), num_replicas=world_size, rank=rank, shuffle=True,
                                          seed=seed * _MIX, drop_last=True)
        self.per_epoch = num_samples // batch_size  # = len(shard) // per_rank: the same steps on every rank
        self._epoch, self._shard = -1, torch.empty(0, dtype=torch.long)

    def indices(self, step: int) -> torch.Tensor:
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            self._epoch = epoch
            self.sampler.set_epoch(epoch)  # a new permutation each epoch, the same on every rank
            self._shard = torch.tensor(list(self.sampler), dtype=torch.long)
        return self._shard[i * self.per_rank : (i + 1) * self.per_rank]


class StepNoise:
    """Gaussian noise for one step: drawn for the global batch, this rank's rows ``rank::world_size``
    returned (the rows of its images in the global batch, see the module docstring)."""

    def __init__(self, seed: int, step: int, global_batch: int, rank: int = 0, world_size: int = 1) -> None:
        self.gen = step_generator(seed, step, stream=2)
        self.global_batch = global_batch
        self.rows = slice(rank, None, world_size)

    def randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(self.global_batch, *shape, generator=self.gen)[self.rows]


def lr_factor(schedule: str, step: int, steps: int) -> float:
    """The fraction of the base learning rate that ``step`` (0-based) trains with: 1 throughout for
    ``constant``; ``cosine`` falls from 1 at step 0 towards 0 at ``steps`` along a half cosine
    (SGDR without restarts, Loshchilov & Hutter 2017)."""
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / max(steps, 1)))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}")


def set_learning_rates(optimizers: dict[str, torch.optim.Optimizer], factor: float) -> None:
    """Scale every parameter group's base rate (``initial_lr``, as torch's schedulers name it; saved
    with the optimizer state, so a resumed run keeps its base) by ``factor``."""
    for opt in optimizers.values():
        for group in opt.param_groups:
            group.setdefault("initial_lr", group["lr"])
            group["lr"] = group["initial_lr"] * factor
