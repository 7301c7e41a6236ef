"""Accelerated artifacts: a folder that loads back as a model with the usual interface.

Layout of an artifact folder (written by :func:`turbopix.accel.recipe.accelerate`)::

    artifact.json       what it is: recipe, source checkpoint (path, sha256), runtime, measured checks
    model.safetensors   the PyTorch model after the model transforms (pruned / distilled), with
                        turbopix metadata; the source of truth for the inputs it declares and, for
                        a generator, its latent prior
    model.onnx          ONNX Runtime artifacts
    model.xml, .bin     OpenVINO artifacts (fp32 or int8 IR)

:func:`load_artifact` returns an :class:`AcceleratedModel`, whose ``infer(**inputs)`` runs the
recorded runtime and whose declarations (``inputs``, ``example_inputs``, ...) are the PyTorch
model's. For a generator it is an :class:`AcceleratedGenerator`, which also offers ``generate``,
``sample``, ``sample_latent`` and the shape facts, so sampling and evaluation code need not know
how the images are computed. ``turbopix.load`` takes either an artifact folder or a checkpoint file.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..core.checkpoint import CheckpointError
from ..models.base import ImageGenerator, ImageModel, InputSpec, pad_to_multiple
from .runtimes import OnnxRuntimeRunner, OpenVINORunner, Runner, TorchRunner

ARTIFACT_FILE = "artifact.json"
ARTIFACT_FORMAT = "turbopix-accelerated"
ARTIFACT_VERSION = 1
MODEL_FILE = "model.safetensors"


class AcceleratedModel(nn.Module):
    """A model whose ``infer(**inputs)`` runs through a :class:`Runner`; its declarations (inputs,
    example inputs, name, family, config) come from the PyTorch model it was made from.

    An ``nn.Module`` so that code written for turbopix models (``.eval()``, ``.to("cpu")``,
    ``isinstance(x, nn.Module)``) accepts it; only the CPU is supported.
    """

    def __init__(self, model: ImageModel, runner: Runner, metadata: dict[str, Any]) -> None:
        super().__init__()
        self.model = model.eval()
        self.runner = runner
        self.metadata = metadata  # artifact.json
        self.name, self.family, self.config = model.name, model.family, model.config

    @property
    def recipe(self) -> str:
        return self.metadata.get("recipe", "")

    def inputs(self) -> list[InputSpec]:
        return self.model.inputs()

    def example_inputs(self, batch: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        return self.model.example_inputs(batch, seed=seed)

    def infer(self, **inputs: torch.Tensor) -> torch.Tensor:
        """Images (B, C, H, W) in [-1, 1] from the declared inputs, computed by the artifact's runtime.

        A model that needs sizes in multiples of ``size_multiple`` pads them itself in eager mode;
        its exported graph does not (it was traced at a multiple), so an ``image`` of another size is
        padded here and the output cropped back (to the input's size times the model's scale), and
        eager and accelerated outputs have the same shape."""
        inputs = {k: v.cpu() for k, v in inputs.items()}
        multiple = int(getattr(self.model, "size_multiple", 1))
        image = inputs.get("image")
        if multiple <= 1 or image is None or image.dim() != 4 or not (image.shape[-2] % multiple or image.shape[-1] % multiple):
            return self.runner.run(inputs)
        padded, (h, w) = pad_to_multiple(image, multiple)
        out = self.runner.run({**inputs, "image": padded})
        scale = out.shape[-1] // padded.shape[-1]
        return out[..., : h * scale, : w * scale]

    def forward(self, **inputs: torch.Tensor) -> torch.Tensor:
        return self.infer(**inputs)

    def extra_repr(self) -> str:
        return f"recipe={self.recipe!r}, runtime={self.metadata.get('runtime', {}).get('kind')!r}"


class AcceleratedGenerator(AcceleratedModel):
    """An accelerated :class:`ImageGenerator`: latent prior, label checks and shape facts from the
    PyTorch model, images from the runtime."""

    model: ImageGenerator

    @property
    def latent_dim(self) -> int:
        return self.model.latent_dim

    @property
    def num_classes(self) -> int:
        return self.model.num_classes

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.model.image_shape

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.model.sample_latent(n, generator)

    def check_labels(self, labels: torch.Tensor, n: int) -> torch.Tensor:
        return self.model.check_labels(labels, n)

    def sample_inputs(self, n: int, *, labels: torch.Tensor | None = None,
                      seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.model.sample_inputs(n, labels=labels, seed=seed)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images (B, C, H, W) in [-1, 1] from latents, computed by the artifact's runtime."""
        if self.num_classes and labels is None:
            raise ValueError("this model is class-conditional: labels are required")
        inputs = {"z": z.float()}
        if self.num_classes:
            inputs["labels"] = labels.long()
        return self.infer(**inputs)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        return self.generate(z, labels)

    @torch.no_grad()
    def sample(self, n: int, *, labels: torch.Tensor | None = None, seed: int | None = None) -> torch.Tensor:
        """Same contract (and, for a given seed, the same latents) as ``ImageGenerator.sample``."""
        z, labels = self.sample_inputs(n, labels=labels, seed=seed)
        return self.generate(z, labels)


def accelerated(model: ImageModel, runner: Runner, metadata: dict[str, Any]) -> AcceleratedModel:
    """The accelerated kind that matches the model's: generators keep their sampling interface."""
    kind = AcceleratedGenerator if isinstance(model, ImageGenerator) else AcceleratedModel
    return kind(model, runner, metadata)


def is_artifact(path: str | Path) -> bool:
    return (Path(path) / ARTIFACT_FILE).is_file()


class ArtifactError(CheckpointError):
    """An artifact folder that cannot be loaded: tampered, incomplete or structurally wrong
    ``artifact.json``, or a file reference that leaves the folder. The message names the file."""


RUNTIME_KINDS = ("torch", "onnxruntime", "openvino")
# artifact.json's structure: key -> type, for the top level and for "runtime" (kind-specific below)
_TOP = {"format": str, "format_version": int, "recipe": str, "runtime": dict, "checks": dict}
_RUNTIME = {"kind": str, "label": str, "file": str, "precision": str, "int8": bool, "bf16": bool,
            "channels_last": bool, "compile": bool}


def read_artifact_metadata(path: str | Path) -> dict[str, Any]:
    """artifact.json of the folder ``path``, with its structure checked (types, required keys,
    runtime kind); file references are checked when they are opened (:func:`artifact_file`)."""
    path = Path(path)
    file = path / ARTIFACT_FILE
    if not file.is_file():
        raise ArtifactError(f"{path} is not an accelerated artifact (no {ARTIFACT_FILE}); make one with 'turbopix accelerate'")
    if file.stat().st_size > 2**24:
        raise ArtifactError(f"{file}: {file.stat().st_size} bytes is not artifact metadata (they take a few KB)")
    try:
        meta = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ArtifactError(f"{file}: corrupt artifact metadata ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != ARTIFACT_FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise ArtifactError(f"{file}: not a turbopix artifact (format {found!r})")
    _check_types(meta, _TOP, file, "")
    if meta["format_version"] > ARTIFACT_VERSION:
        raise ArtifactError(f"{file}: artifact format version {meta['format_version']}; this turbopix reads up to {ARTIFACT_VERSION}: upgrade turbopix")
    runtime = meta["runtime"]
    _check_types(runtime, {"kind": str}, file, "runtime.")
    _check_types(runtime, {k: t for k, t in _RUNTIME.items() if k in runtime}, file, "runtime.")
    if runtime["kind"] not in RUNTIME_KINDS:
        raise ArtifactError(f"{file}: unknown runtime kind {runtime['kind']!r} (written by a newer turbopix?)")
    if runtime["kind"] != "torch":
        _check_types(runtime, {"file": str}, file, "runtime.")
    return meta


def _check_types(obj: dict[str, Any], types: dict[str, type], file: Path, prefix: str) -> None:
    for key, kind in types.items():
        if key not in obj:
            raise ArtifactError(f"{file}: '{prefix}{key}' is missing; the artifact is incomplete or was edited")
        value = obj[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ArtifactError(f"{file}: '{prefix}{key}' must be {_TYPE_NAMES[kind]}, got {json.dumps(value)[:60]}")


_TYPE_NAMES = {str: "a string", int: "an integer", dict: "a JSON object", bool: "true or false"}


def artifact_file(folder: str | Path, name: str) -> Path:
    """The file ``name`` of the artifact ``folder``, confined to it: a bare file name (no folder
    part, no ``..``, not absolute) that is a regular file inside the folder, also after following
    symlinks. artifact.json is data anyone may hand over; it must not point the runtime elsewhere."""
    folder = Path(folder)
    where = f"{folder / ARTIFACT_FILE}"
    if not name or name in (".", "..") or "/" in name or "\\" in name or Path(name).is_absolute():
        raise ArtifactError(f"{where}: file reference {name!r} must be a file name inside the artifact folder")
    path = folder / name
    try:
        inside = path.resolve(strict=True).is_relative_to(folder.resolve(strict=True))
    except (OSError, RuntimeError):
        raise ArtifactError(f"artifact {folder} lacks its file {name}") from None
    if not inside:
        raise ArtifactError(f"{where}: {name} is a link to {path.resolve()}, outside the artifact folder; refusing it")
    if not path.is_file():
        raise ArtifactError(f"artifact {folder}: {name} is not a regular file")
    return path


def build_runner(model: ImageModel, runtime: dict[str, Any], folder: Path | None = None) -> Runner:
    """The runner a ``runtime`` description (artifact.json's ``runtime``) asks for."""
    from .torch_paths import bf16_autocast, channels_last, compile_for_inference

    kind = runtime.get("kind")
    name = runtime.get("label", kind)
    if kind == "torch":
        bf16, cl = bool(runtime.get("bf16")), bool(runtime.get("channels_last"))
        if runtime.get("compile"):
            return TorchRunner(compile_for_inference(model, bf16=bf16, with_channels_last=cl), name)
        if bf16:
            return TorchRunner(bf16_autocast(model, with_channels_last=cl), name)
        return TorchRunner(channels_last(model) if cl else model.eval(), name)
    if folder is None:
        raise ValueError(f"a {kind} runtime needs the artifact folder holding its model file")
    file = artifact_file(folder, runtime["file"])
    if kind == "onnxruntime":
        return OnnxRuntimeRunner(file, name)
    if kind == "openvino":
        if file.suffix == ".xml":  # an IR: its weights are the .bin beside it (an ONNX file holds its own)
            artifact_file(folder, file.with_suffix(".bin").name)
        return OpenVINORunner(file, precision=runtime.get("precision", "f32"), name=name)
    raise ArtifactError(f"artifact {folder}: unknown runtime kind {kind!r} (written by a newer turbopix?)")


def load_artifact(path: str | Path) -> AcceleratedModel:
    """An :class:`AcceleratedModel` (:class:`AcceleratedGenerator` for a generator) from an
    artifact folder written by ``turbopix accelerate``."""
    from ..models.io import load_model_file

    folder = Path(path)
    meta = read_artifact_metadata(folder)
    model = load_model_file(artifact_file(folder, MODEL_FILE))
    return accelerated(model, build_runner(model, meta["runtime"], folder), meta)
