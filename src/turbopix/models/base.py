"""What every model declares about itself, whatever its family.

A model is a plain ``nn.Module`` holding its networks and its config; how it is trained lives in
``turbopix.training`` (one Task per family), so a model file reads as the architecture only.

Code that handles *any* model (export, quantization calibration, pruning, distillation, bench,
evaluation, sampling grids) reads these declarations instead of inspecting the model:

- ``family``: picks the training Task (``gan``, ``vae``, ``ae``, ...);
- ``inputs()``: the named inputs of inference, with per-example shapes and dtypes
  (``InputSpec``); ``example_inputs(batch)`` builds a batch of them;
- ``infer(**inputs)``: the inference forward, what ONNX export traces and runtimes run;
- ``inference_network()``: the sub-network ``infer`` runs (prunable, distillable, counted);
- ``width_fields``: the config fields that set that network's widths (for narrower students);
- ``prunable``: False when channel pruning cannot follow the network's structure;
- ``sampling_module()``: what the EMA averages during training;
- ``metadata`` / ``pruning``: what a loaded checkpoint said, and a pruned model's channel plan.

``ImageGenerator`` is the latent-to-image kind (GAN, VAE, AE); an image-to-image model declares an
``image`` input with free spatial dimensions instead of ``z``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from ..core.config import opt


# ---------------------------------------------------------------- config fields every model shares
# Declared once here; a family's config inherits them (dataclass fields of a base come first).
@dataclass
class ImageConfig:
    image_size: int = opt(28, "image width = height in pixels (convolutional models: 4*2^k or 7*2^k, e.g. 28, 32, 64)", min=1)
    channels: int = opt(1, "image channels (1 grey, 3 RGB)", min=1, max=3)


@dataclass
class ConditionalImageConfig(ImageConfig):
    num_classes: int = opt(0, "classes for a class-conditional model; 0 = unconditional", min=0)


@dataclass(frozen=True)
class InputSpec:
    """One named input of a model's inference forward."""

    name: str  # the keyword of ``infer`` and the ONNX graph input's name
    shape: tuple[int | None, ...]  # per example (no batch dim); None marks a free dimension (H, W)
    dtype: torch.dtype = torch.float32
    doc: str = ""  # what it is, for --help and docs

    @property
    def is_float(self) -> bool:
        return self.dtype.is_floating_point


class ImageModel(nn.Module):
    """The declarations every registered model makes (see the module docstring)."""

    family: ClassVar[str]  # picks the training Task
    width_fields: ClassVar[tuple[str, ...]] = ()  # config fields setting the inference network's widths
    prunable: ClassVar[bool] = True  # False: channels.py cannot follow its channels (say why where set)
    # int8 settings that won for this family on training data (benchmarks/int8_settings.py): what
    # `accelerate --recipe int8` uses for keep_fp32 / bias_correction when they are left at "auto"
    int8_settings: ClassVar[dict[str, Any]] = {"keep_fp32": (), "bias_correction": "fast"}
    name: str = ""  # the registry name the model was created under (set by create_model)

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config
        self.metadata: dict[str, Any] = {}  # a loaded checkpoint's metadata (data, step, ...)
        self.pruning: dict[str, Any] = {}  # a pruned model's channel plan ({"channels": {...}})

    def inputs(self) -> list[InputSpec]:
        raise NotImplementedError

    def example_inputs(self, batch: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        """A batch of valid inputs by name (tracing, calibration, benchmarks)."""
        raise NotImplementedError

    def infer(self, **inputs: torch.Tensor) -> torch.Tensor:
        """The inference forward: images (B, C, H, W) in [-1, 1] from ``inputs()``."""
        raise NotImplementedError

    def inference_network(self) -> tuple[str, nn.Module]:
        """(prefix, module): the network ``infer`` runs, its parameter names starting with prefix."""
        return "", self

    def sampling_module(self) -> tuple[str, nn.Module]:
        """(prefix, module) whose weights are averaged by EMA during training and used for inference."""
        return "", self


class ImageGenerator(ImageModel):
    """Latent codes (and optional class labels) in, images out."""

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

    def inputs(self) -> list[InputSpec]:
        specs = [InputSpec("z", (self.latent_dim,), torch.float32, "latent codes from the model's prior")]
        if self.num_classes:
            specs.append(InputSpec("labels", (), torch.long, f"class indices in [0, {self.num_classes - 1}]"))
        return specs

    def example_inputs(self, batch: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        """Latents from the model's own prior; labels cycling over the classes."""
        gen = torch.Generator().manual_seed(seed)
        inputs = {"z": self.sample_latent(batch, gen).float()}
        if self.num_classes:
            inputs["labels"] = torch.arange(batch, dtype=torch.long) % self.num_classes
        return inputs

    def infer(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        return self.generate(z, labels if self.num_classes else None)

    # -- sampling
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1], (B, C, H, W), from latent codes (B, latent_dim): deterministic."""
        raise NotImplementedError

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator)

    def latent_prior(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation, each (latent_dim,), of the diagonal Gaussian that
        ``sample_latent`` draws from (latent search whitens codes with them)."""
        return torch.zeros(self.latent_dim), torch.ones(self.latent_dim)

    def encode_latent(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor | None:
        """The code the model's encoder gives images ``x`` (B, latent_dim), or None for a model with no
        encoder (a GAN): a starting point for latent search."""
        return None

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


def unwrap(model: nn.Module) -> nn.Module:
    """The plain model under torch.compile / DDP wrappers."""
    while hasattr(model, "_orig_mod") or hasattr(model, "module"):
        model = getattr(model, "_orig_mod", None) or model.module
    return model


def pad_to_multiple(image: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """``image`` (..., H, W) padded at the bottom and right to multiples of ``multiple`` (reflected,
    or replicated where the image is too small to reflect), and its original (H, W)."""
    h, w = image.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"  # reflection needs more pixels than the pad
        image = torch.nn.functional.pad(image, (0, pw, 0, ph), mode=mode)
    return image, (h, w)
