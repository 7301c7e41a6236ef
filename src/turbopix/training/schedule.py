"""Which images and which noise each step sees, as pure functions of (seed, step).

Nothing here keeps state, so a resumed run sees exactly the batches and noise an uninterrupted run
would have, without saving RNG state. The batch and the noise are drawn for the *global* batch and
then sliced per process, so N processes see the same samples and noise as one process would.
"""
from __future__ import annotations

import torch

_MIX = 1_000_003  # a prime that keeps (seed, step) pairs from colliding in the generator seed


def step_generator(seed: int, step: int, stream: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed((seed * _MIX + step) * 8 + stream)


class BatchOrder:
    """Epochs of random permutations; step s takes the s-th global batch (the ragged tail is dropped)."""

    def __init__(self, num_samples: int, batch_size: int, seed: int) -> None:
        if batch_size > num_samples:
            raise ValueError(f"batch size {batch_size} is larger than the dataset ({num_samples} images)")
        self.n, self.batch, self.seed = num_samples, batch_size, seed
        self.per_epoch = num_samples // batch_size
        self._epoch, self._perm = -1, torch.empty(0, dtype=torch.long)

    def indices(self, step: int) -> torch.Tensor:
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            self._epoch = epoch
            self._perm = torch.randperm(self.n, generator=step_generator(self.seed, epoch, stream=1))
        return self._perm[i * self.batch : (i + 1) * self.batch]


class StepNoise:
    """Gaussian noise for one step: drawn for the global batch, rows [start, stop) returned."""

    def __init__(self, seed: int, step: int, global_batch: int, start: int = 0, stop: int | None = None) -> None:
        self.gen = step_generator(seed, step, stream=2)
        self.global_batch = global_batch
        self.rows = slice(start, global_batch if stop is None else stop)

    def randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(self.global_batch, *shape, generator=self.gen)[self.rows]
