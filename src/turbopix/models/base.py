"""What every generator model offers, whatever its family.

A model is a plain ``nn.Module`` holding its networks and its config; how it is trained lives in
``turbopix.training`` (one Task per family), so a model file reads as the architecture only.
"""
from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn


class ImageGenerator(nn.Module):
    family: ClassVar[str]  # "gan", "vae" or "ae": picks the training Task
    name: str = ""  # the registry name the model was created under (set by create_model)

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    # -- shape facts used by training, sampling and export
    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.config.channels, self.config.image_size, self.config.image_size)

    # -- sampling
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1], (B, C, H, W), from latent codes (B, latent_dim): deterministic."""
        raise NotImplementedError

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator)

    def sample_inputs(self, n: int, *, labels: torch.Tensor | None = None, seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The latents (and checked labels: random classes if None) that ``sample`` decodes."""
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        z = self.sample_latent(n, gen)
        if self.num_classes:
            if labels is None:
                labels = torch.randint(self.num_classes, (n,), generator=gen)
            labels = self.check_labels(labels, n)
        elif labels is not None:
            raise ValueError(f"model '{self.name}' is not class-conditional; do not pass labels")
        return z, labels

    @torch.no_grad()
    def sample(self, n: int, *, labels: torch.Tensor | None = None, seed: int | None = None) -> torch.Tensor:
        """``n`` images in [-1, 1]; ``labels`` (n,) for conditional models (random classes if None)."""
        z, labels = self.sample_inputs(n, labels=labels, seed=seed)
        param = next(self.parameters())
        return self.generate(z.to(param.device), None if labels is None else labels.to(param.device))

    def check_labels(self, labels: torch.Tensor, n: int) -> torch.Tensor:
        labels = torch.as_tensor(labels, dtype=torch.long)
        if labels.shape != (n,):
            raise ValueError(f"expected {n} labels, got shape {tuple(labels.shape)}")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(f"labels must be in [0, {self.num_classes - 1}]")
        return labels

    def sampling_module(self) -> tuple[str, nn.Module]:
        """(prefix, module) whose weights are averaged by EMA and used for sampling."""
        return "", self
