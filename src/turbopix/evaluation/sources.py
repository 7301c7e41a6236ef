"""Where the images under evaluation come from: a checkpoint, a model, an image folder or ONNX.

Each source becomes a :class:`GeneratedImages`: a sample count, the class of each sample when known,
a description for the result's provenance, and a function that yields the images in [-1, 1] in
chunks. Sampling is seeded and independent of the chunk size: all latent codes are drawn at once
(as ``model.sample(n, seed=seed)`` draws them) and only the forward passes are chunked.

Conditional generators get balanced labels: sample i has class ``i % num_classes``, so class counts
differ by at most one and the labels are known for the Classification Accuracy Score.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from turbopix.core.errors import OptionMessage
from turbopix.core.onnx import OnnxError, onnx_session

DATA_PREFIX = "data:"  # a source of real images: data:mnist:train
ImageChunks = Callable[[int], Iterator[torch.Tensor]]  # chunk size -> images (B, C, H, W) in [-1, 1]

# ONNX generator outputs are checked against [-1, 1] with this slack: a tanh output never leaves the
# range, a linear one may overshoot slightly, but [0, 255] or unnormalised outputs are errors.
ONNX_RANGE_SLACK = 0.5


class SourceError(OptionMessage, ValueError):
    """A source of images that cannot be read or sampled; the message says which and why."""


@dataclass
class GeneratedImages:
    n: int
    chunks: ImageChunks
    labels: torch.Tensor | None  # (n,) class of each sample, None when unknown
    info: dict[str, Any] = field(default_factory=dict)  # provenance: kind, path, model, ...


def open_source(
    source: str | Path | nn.Module,
    *,
    n: int,
    seed: int,
    classes: list[str],
    data_root: str | Path | None = None,
    device: str | torch.device = "cpu",
) -> GeneratedImages:
    """``source``: a turbopix checkpoint (.safetensors), a loaded turbopix model, an image folder
    (``folder:`` prefix optional), an ONNX generator (.onnx) or real data, ``data:DATASET:SPLIT``
    (to measure the real-vs-real floor of a metric). ``classes`` are the reference dataset's class
    names, used to map class subfolders and to size ONNX label inputs."""
    if isinstance(source, nn.Module):
        return model_images(source, n=n, seed=seed, info={"kind": "model", "model": getattr(source, "name", type(source).__name__)}, device=device)
    if str(source).startswith(DATA_PREFIX):
        return dataset_images(str(source)[len(DATA_PREFIX) :], n=n, seed=seed, data_root=data_root)
    path = source_path(source)
    assert path is not None  # data: sources were handled above
    from turbopix.accel.artifact import is_artifact

    if is_artifact(path):  # an accelerated artifact is a folder too: check it first
        from turbopix.loading import load

        info = {"kind": "artifact", "path": str(path)}
        return model_images(load(path), n=n, seed=seed, info=info, device=device)
    if path.is_dir():
        return folder_images(path, n=n, seed=seed, classes=classes)
    if path.suffix.lower() == ".onnx":
        return onnx_images(path, n=n, seed=seed, num_classes=len(classes))
    from turbopix.loading import load  # CheckpointError (a ValueError) explains unreadable files

    model = load(path, device=device)
    info = {"kind": "checkpoint", "path": str(path), "model": model.name, "step": model.metadata.get("step")}
    recipe = (model.metadata.get("train") or {}).get("recipe")
    if recipe:  # what trained it, for the report
        info["recipe"] = recipe
    return model_images(model, n=n, seed=seed, info=info, device=device)


def source_path(source: str | Path) -> Path | None:
    """The file or folder a source names (``folder:`` prefix optional); an error if it does not
    exist. None for a ``data:`` source."""
    text = str(source)
    if text.startswith(DATA_PREFIX):
        return None  # a dataset: checked when it is loaded
    path = Path(text[len("folder:") :] if text.startswith("folder:") else text).expanduser()
    if not path.exists():
        raise SourceError(
            f"source not found: {text} (expected a turbopix checkpoint .safetensors, a folder of images, or an .onnx generator)"
        )
    return path


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    return torch.arange(n) % num_classes


def model_images(model: nn.Module, *, n: int, seed: int, info: dict[str, Any], device: str | torch.device = "cpu") -> GeneratedImages:
    """Images from a turbopix generator: latents from ``model.sample_latent(n, seeded generator)``."""
    if not hasattr(model, "generate") or not hasattr(model, "sample_latent"):
        raise SourceError(f"{type(model).__name__} is not a turbopix generator (it needs generate() and sample_latent())")
    model = model.to(device).eval()
    z = model.sample_latent(n, torch.Generator().manual_seed(seed))
    k = int(getattr(model, "num_classes", 0) or 0)
    labels = balanced_labels(n, k) if k else None

    @torch.no_grad()
    def chunks(size: int) -> Iterator[torch.Tensor]:
        for s in range(0, n, size):
            y = None if labels is None else labels[s : s + size].to(device)
            yield model.generate(z[s : s + size].to(device), y).float().cpu()

    return GeneratedImages(n, chunks, labels, {**info, "conditional": bool(k), "labels": "balanced" if k else None, "latents": f"model.sample_latent(seed={seed})"})


def dataset_images(spec: str, *, n: int, seed: int, data_root: str | Path | None) -> GeneratedImages:
    """Real images as the "generated" side: ``n`` of dataset ``spec`` (a seeded random subset when
    it has more), with their labels. Compare ``mnist:train`` with the reference ``mnist:test`` to
    see what the metrics give for two samples of the same distribution."""
    from turbopix.data import load_dataset

    data = load_dataset(spec, data_root=data_root)
    index = subset_index(len(data), n, seed)
    labels = data.labels[index] if (data.labels >= 0).all() and data.num_classes else None
    info = {"kind": "dataset", "path": data.name, "size": len(data), "subset": subset_name(len(data), n, seed)}
    return data_images(data, index, labels, info)


def folder_images(path: Path, *, n: int, seed: int, classes: list[str]) -> GeneratedImages:
    """Images of a folder, read by the folder loader ``turbopix.data.load_folder`` (the one image
    decoder): all of them when at most ``n``, else a seeded random subset of ``n``. Class
    subfolders give labels when their names are classes of the reference (``3/``, ``Trouser/``)
    or class indices (``0/`` .. ``9/``)."""
    from turbopix.data import load_folder

    data = load_folder(path)
    index = subset_index(len(data), n, seed)
    labels = _map_folder_labels(data.classes, classes, data.labels[index]) if data.classes else None
    info = {"kind": "folder", "path": str(path), "images_in_folder": len(data), "subset": subset_name(len(data), n, seed),
            "labels": "class subfolders" if labels is not None else None}
    return data_images(data, index, labels, info)


def subset_index(size: int, n: int, seed: int) -> torch.Tensor:
    """All indices when ``size <= n``, else ``n`` of them drawn with ``seed``, sorted."""
    if size <= n:
        return torch.arange(size)
    return torch.randperm(size, generator=torch.Generator().manual_seed(seed))[:n].sort().values


def subset_name(size: int, n: int, seed: int) -> str:
    return f"random(seed={seed})" if size > n else "all"


def data_images(data: Any, index: torch.Tensor, labels: torch.Tensor | None, info: dict[str, Any]) -> GeneratedImages:
    """The images ``index`` names in a loaded dataset (``data.batch`` gives them in [-1, 1])."""

    def chunks(size: int) -> Iterator[torch.Tensor]:
        for s in range(0, len(index), size):
            yield data.batch(index[s : s + size])["image"]

    return GeneratedImages(len(index), chunks, labels, info)


def _map_folder_labels(folder_classes: list[str], ref_classes: list[str], labels: torch.Tensor) -> torch.Tensor | None:
    if ref_classes and all(c in ref_classes for c in folder_classes):
        mapping = [ref_classes.index(c) for c in folder_classes]
    elif all(c.isdigit() and (not ref_classes or int(c) < len(ref_classes)) for c in folder_classes):
        mapping = [int(c) for c in folder_classes]
    else:
        return None  # class names we cannot relate to the reference: treat as unlabelled
    return torch.tensor(mapping)[labels]


def onnx_images(path: Path, *, n: int, seed: int, num_classes: int) -> GeneratedImages:
    """Images from an ONNX generator: input 1 is z (B, latent), an optional input 2 the labels (B,)
    (int64 or int32); output 1 is the images (B, C, H, W) in [-1, 1]. The latent size is read from
    the input shape; z is standard normal. The class count comes from the model's metadata entry
    ``num_classes`` when present, else from the reference dataset."""
    try:
        session = onnx_session(path)
    except OnnxError as e:
        raise SourceError(str(e)) from None
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if not inputs or not outputs:
        raise SourceError(f"{path}: a generator needs inputs z [, labels] and an image output; this model has "
                          f"{len(inputs)} input(s) and {len(outputs)} output(s)")
    if inputs[0].type != "tensor(float)":
        raise SourceError(f"{path}: the first input must be z as float32 (tensor(float)), got {inputs[0].type}")
    z_shape = inputs[0].shape
    if len(z_shape) != 2 or not isinstance(z_shape[1], int):
        raise SourceError(f"{path}: the first input must be z of shape (batch, latent) with a fixed latent size, got {z_shape}")
    latent = z_shape[1]
    fixed_batch = z_shape[0] if isinstance(z_shape[0], int) else None
    label_input = inputs[1] if len(inputs) > 1 else None
    if len(inputs) > 2:
        raise SourceError(f"{path}: expected inputs z [, labels], found {len(inputs)}: {[i.name for i in inputs]}")
    meta = session.get_modelmeta().custom_metadata_map
    try:
        k = int(meta.get("num_classes", num_classes)) if label_input is not None else 0
    except ValueError:
        raise SourceError(f"{path}: metadata num_classes must be an integer, got {meta.get('num_classes')!r}") from None
    if label_input is not None:
        if label_input.type not in ("tensor(int64)", "tensor(int32)"):
            raise SourceError(f"{path}: the labels input must be int64 or int32, got {label_input.type}")
        if k < 1:
            raise SourceError(f"{path} takes labels, but neither its metadata (num_classes) nor the reference dataset gives a class count")
    label_dtype = np.int32 if label_input is not None and label_input.type == "tensor(int32)" else np.int64
    z = torch.randn(n, latent, generator=torch.Generator().manual_seed(seed))
    labels = balanced_labels(n, k) if k else None

    def run(zb: torch.Tensor, yb: torch.Tensor | None) -> torch.Tensor:
        count = zb.shape[0]
        if fixed_batch is not None and count < fixed_batch:  # pad the last chunk to the exported batch
            zb = torch.cat([zb, zb.new_zeros(fixed_batch - count, latent)])
            yb = None if yb is None else torch.cat([yb, yb.new_zeros(fixed_batch - count)])
        feed = {inputs[0].name: zb.numpy().astype(np.float32)}
        if label_input is not None and yb is not None:
            feed[label_input.name] = yb.numpy().astype(label_dtype)
        try:
            result = session.run(None, feed)[0]
        except Exception as e:  # noqa: BLE001  onnxruntime's own error types: the model does not run
            raise SourceError(f"{path}: the model failed to run on z ({type(e).__name__}: {str(e)[:200]})") from None
        try:
            out = torch.from_numpy(np.asarray(result, dtype=np.float32))[:count]
        except (TypeError, ValueError):
            raise SourceError(f"{path}: output must be images (B, C, H, W) of numbers, got {type(result).__name__}") from None
        if out.dim() != 4:
            raise SourceError(f"{path}: output must be images (B, C, H, W), got shape {tuple(out.shape)}")
        lo, hi = out.min().item(), out.max().item()
        if lo < -1 - ONNX_RANGE_SLACK or hi > 1 + ONNX_RANGE_SLACK:
            raise SourceError(f"{path}: output must be images in [-1, 1], got values in [{lo:.3g}, {hi:.3g}]")
        return out

    def chunks(size: int) -> Iterator[torch.Tensor]:
        size = fixed_batch or size
        for s in range(0, n, size):
            yield run(z[s : s + size], None if labels is None else labels[s : s + size])

    info = {"kind": "onnx", "path": str(path), "latent_dim": latent, "conditional": bool(k), "labels": "balanced" if k else None,
            "latents": f"standard normal (seed={seed})"}
    return GeneratedImages(n, chunks, labels, info)
