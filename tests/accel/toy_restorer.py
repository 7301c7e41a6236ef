"""A tiny image-to-image model, defined only for tests: proof that acceleration works from the model
declarations alone (``models/base.py``), with nothing in ``turbopix.accel`` knowing this family.

One input, ``image`` (C, H, W) with free H and W; a residual conv net whose hidden width is the
config field ``width`` (its ``width_fields``). It is registered in ``MODELS`` only while a test
module uses the :func:`registered` fixture (see ``test_image_model.py``), so the catalog that other
tests iterate over is unchanged.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn

from turbopix.core.config import opt
from turbopix.core.registry import MODELS
from turbopix.models.base import ImageModel, InputSpec

NAME = "toy-restorer"
EXAMPLE_SIZE = (12, 16)  # not square: height and width must not be mixed up


@dataclass
class ToyRestorerConfig:
    channels: int = opt(3, "image channels")
    width: int = opt(16, "hidden conv channels")


class ToyRestorer(ImageModel):
    family = "restoration"
    width_fields = ("width",)

    def __init__(self, config: ToyRestorerConfig) -> None:
        super().__init__(config)
        c, w = config.channels, config.width
        self.net = nn.Sequential(
            nn.Conv2d(c, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(w, c, 3, padding=1),
        )

    def inputs(self) -> list[InputSpec]:
        return [InputSpec("image", (self.config.channels, None, None), torch.float32, "degraded image in [-1, 1]")]

    def example_inputs(self, batch: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        return {"image": torch.rand(batch, self.config.channels, *EXAMPLE_SIZE, generator=gen) * 2 - 1}

    def infer(self, image: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return (image + self.net(image)).clamp(-1, 1)  # the net predicts the correction

    def inference_network(self) -> tuple[str, nn.Module]:
        return "net.", self.net


@contextmanager
def registered() -> Iterator[str]:
    """``toy-restorer`` in ``MODELS`` for the duration (the registry has no public removal)."""
    MODELS.register(NAME, config=ToyRestorerConfig, description="test-only residual conv restorer")(ToyRestorer)
    try:
        yield NAME
    finally:
        MODELS._entries.pop(NAME, None)
