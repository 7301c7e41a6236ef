"""Feature extractors: images in [-1, 1] -> feature vectors (and class logits) for the metrics.

Shipped extractors, registered in ``turbopix.core.registry.FEATURES``:

* ``lenet-mnist``: :class:`~turbopix.features.networks.LeNet` trained by turbopix on the MNIST
  training set (``benchmarks/train_feature_extractors.py``; accuracy and recipe in
  ``docs/feature_extractors.md``);
* ``lenet-fashion``: the same architecture trained on Fashion-MNIST.

Both give 128-D features (the hidden layer before its ReLU, see ``LeNet``) and 10 class logits,
for 1x28x28 input: other images are converted first (BT.601 luma, center crop, antialiased resize;
see ``extractors.to_extractor_input``). Their weights are safetensors files inside the package
(``turbopix/weights/``), read without unpickling anything.

Any other extractor plugs in through :func:`load_extractor`:

* a name registered in ``FEATURES`` whose object is a zero-argument factory returning an
  ``nn.Module`` (``forward(x)`` -> features, or (features, logits)) or a :class:`FeatureExtractor`;
  registry info ``channels`` and ``input_size`` say what input the module expects (default: the
  module's ``in_channels`` / ``image_size`` attributes);
* ``path/to/model.onnx``: run with onnxruntime; the first output is the features, a second one
  (optional) the logits, and the input shape (N, C, H, W) gives channels and size;
* ``ARCH:path/to/weights.safetensors``: weights for an architecture registered in
  ``extractors.ARCHITECTURES``; a file written by :func:`save_extractor` names its architecture in
  its metadata, so its plain path is enough.

Numbers must not depend on how the caller batches its images: extraction always runs in eval mode
(no dropout, BatchNorm with its stored statistics), in chunks of a fixed size (``batch_size``,
500 unless the extractor fixes its own), whatever sizes the caller's chunks have.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from turbopix.core.atomic import atomic_write
from turbopix.core.errors import OptionMessage
from turbopix.core.hashing import sha256_file, sha256_tensors
from turbopix.core.onnx import OnnxError
from turbopix.core.onnx import onnx_session as core_onnx_session
from turbopix.features.networks import ARCHITECTURES, to_extractor_input
from turbopix.core.registry import FEATURES, UnknownNameError

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
META_KEY = "turbopix_extractor"  # safetensors metadata entry: JSON describing the extractor
EXTRACT_BATCH_SIZE = 500


class ExtractorError(OptionMessage, ValueError):
    """An extractor that cannot be found, loaded or run; the message says which and why."""


@dataclass
class Extracted:
    """Outputs for N images: features float32 (N, D) and logits float32 (N, K), or None."""

    features: np.ndarray
    logits: np.ndarray | None


def sha256_state(module: nn.Module) -> str:
    """A digest of a module's parameters and buffers (names, dtypes, shapes and values)."""
    return sha256_tensors(sorted(module.state_dict().items()))


class FeatureExtractor(ABC):
    """Images (N, C, H, W) in [-1, 1] -> features (N, feature_dim) and logits (N, num_classes).

    Subclasses implement :meth:`_run` on one batch of already converted input; this class does the
    conversion, the fixed-size batching and the bookkeeping. ``sha256`` identifies the weights: it
    is part of every cache key and of every result's provenance.
    """

    name: str
    feature_dim: int
    num_classes: int  # 0: the extractor gives no logits
    channels: int  # input the network expects: channels x input_size x input_size
    input_size: int
    sha256: str
    batch_size: int = EXTRACT_BATCH_SIZE
    pad_batches: bool = False  # True for networks that only accept exactly batch_size images

    @abstractmethod
    def _run(self, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        """Features and logits (float32 numpy) of one converted batch."""

    def info(self) -> dict[str, Any]:
        """What identifies this extractor, for provenance and cache keys."""
        return {
            "name": self.name,
            "sha256": self.sha256,
            "feature_dim": self.feature_dim,
            "num_classes": self.num_classes,
            "input": [self.channels, self.input_size, self.input_size],
        }

    def _run_fixed(self, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        n = x.shape[0]
        if self.pad_batches and n < self.batch_size:  # last partial batch of a fixed-batch network
            x = torch.cat([x, x.new_zeros((self.batch_size - n, *x.shape[1:]))])
        feats, logits = self._run(x)
        feats = np.asarray(feats, dtype=np.float32)[:n]
        if feats.shape != (n, self.feature_dim):
            raise ExtractorError(f"extractor '{self.name}' returned features of shape {feats.shape}, expected ({n}, {self.feature_dim})")
        return feats, None if logits is None else np.asarray(logits, dtype=np.float32)[:n]

    def iter_batches(self, chunks: Iterable[torch.Tensor]) -> Iterator[tuple[int, Extracted]]:
        """Stream: for images arriving in chunks of any sizes, yield ``(n_images, Extracted)`` per
        fixed-size batch of ``batch_size`` images (the last one may be smaller)."""
        pending: list[torch.Tensor] = []
        count = 0
        for chunk in chunks:
            pending.append(to_extractor_input(chunk, self.channels, self.input_size).cpu())
            count += chunk.shape[0]
            while count >= self.batch_size:
                batch = torch.cat(pending)
                head, rest = batch[: self.batch_size], batch[self.batch_size :]
                pending, count = ([rest] if rest.shape[0] else []), rest.shape[0]
                yield self.batch_size, Extracted(*self._run_fixed(head))
        if count:
            yield count, Extracted(*self._run_fixed(torch.cat(pending)))

    def extract(self, images: torch.Tensor | Iterable[torch.Tensor]) -> Extracted:
        """Features (and logits) of all images: one (N, C, H, W) tensor or an iterable of chunks."""
        chunks = [images] if isinstance(images, torch.Tensor) else images
        parts = [e for _, e in self.iter_batches(chunks)]
        if not parts:
            raise ExtractorError("no images to extract features from")
        logits = None if parts[0].logits is None else np.concatenate([p.logits for p in parts])  # type: ignore[misc]
        return Extracted(np.concatenate([p.features for p in parts]), logits)


class TorchExtractor(FeatureExtractor):
    """Any ``nn.Module`` whose ``forward(x)`` returns features, or ``(features, logits)``."""

    def __init__(
        self,
        module: nn.Module,
        *,
        name: str,
        channels: int | None = None,
        input_size: int | None = None,
        sha256: str | None = None,
        device: str | torch.device = "cpu",
        batch_size: int = EXTRACT_BATCH_SIZE,
    ) -> None:
        self.module = module.to(device).eval()  # eval: no dropout, BatchNorm uses stored statistics
        self.device = torch.device(device)
        self.name, self.batch_size = name, batch_size
        channels = channels or getattr(module, "in_channels", None)
        input_size = input_size or getattr(module, "image_size", None)
        if not (isinstance(channels, int) and isinstance(input_size, int)):
            raise ExtractorError(
                f"extractor '{name}': cannot tell what input the module expects; give channels= and "
                "input_size= (registry info for a registered factory), or set module.in_channels / .image_size"
            )
        self.channels, self.input_size = channels, input_size
        self.sha256 = sha256 or sha256_state(module)
        if isinstance(getattr(module, "feature_dim", None), int):  # a turbopix architecture says so itself
            self.feature_dim, self.num_classes = module.feature_dim, int(getattr(module, "num_classes", 0))
            return
        probe_feats, probe_logits = self._run(torch.zeros(2, channels, input_size, input_size))  # any other module: ask it
        self.feature_dim = probe_feats.shape[1]
        self.num_classes = 0 if probe_logits is None else probe_logits.shape[1]

    @torch.no_grad()
    def _run(self, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        out = self.module(x.to(self.device))
        feats, logits = (out[0], out[1]) if isinstance(out, (tuple, list)) else (out, None)
        feats = feats.flatten(1)  # e.g. (N, D, 1, 1) from a global pool
        return feats.float().cpu().numpy(), None if logits is None else logits.float().cpu().numpy()


class OnnxExtractor(FeatureExtractor):
    """An ONNX model run with onnxruntime: input (N, C, H, W) float32, outputs features[, logits]."""

    def __init__(self, path: str | Path, *, name: str | None = None) -> None:
        session = onnx_session(path)
        inp = session.get_inputs()[0]
        shape = inp.shape
        if len(shape) != 4 or not all(isinstance(d, int) for d in shape[1:]):
            raise ExtractorError(f"{path}: ONNX extractor input must be (N, C, H, W) with fixed C, H, W; got {shape}")
        _, c, h, w = shape
        if h != w:
            raise ExtractorError(f"{path}: ONNX extractor input must be square, got {h}x{w}")
        self.session, self.input_name = session, inp.name
        self.name = name or Path(path).name
        self.channels, self.input_size = c, h
        self.sha256 = sha256_file(path)
        if isinstance(shape[0], int):  # exported with a fixed batch: pad the last batch to it
            self.batch_size, self.pad_batches = shape[0], True
        self.n_outputs = len(session.get_outputs())
        feats, logits = self._probe()
        self.feature_dim = feats.shape[1]
        self.num_classes = 0 if logits is None else logits.shape[1]

    def _probe(self) -> tuple[np.ndarray, np.ndarray | None]:
        n = self.batch_size if self.pad_batches else 2
        return self._run(torch.zeros(n, self.channels, self.input_size, self.input_size))

    def _run(self, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        outs = self.session.run(None, {self.input_name: x.numpy().astype(np.float32)})
        feats = outs[0].reshape(outs[0].shape[0], -1)
        return feats, (outs[1] if self.n_outputs > 1 else None)


def onnx_session(path: str | Path) -> Any:
    """An onnxruntime session for an extractor file (``turbopix.core.onnx``), errors as ExtractorError."""
    try:
        return core_onnx_session(path)
    except OnnxError as e:
        raise ExtractorError(str(e)) from None


# ------------------------------------------------------------------ safetensors weights


def save_extractor(module: nn.Module, path: str | Path, *, architecture: str, config: dict[str, Any], **info: Any) -> Path:
    """Write a module's weights and a description (architecture, its config, ``info``) to a
    safetensors file, atomically (temporary file, then rename). ``info`` must be JSON-serialisable."""
    ARCHITECTURES.entry(architecture)  # fail early on a name that could not be loaded back
    tensors = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    meta = {META_KEY: json.dumps({"architecture": architecture, "config": config, **info}, sort_keys=True)}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))


def read_extractor_file(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and the description (``{}`` if the file has none) of a safetensors weights file."""
    from turbopix.core.checkpoint import read_safetensors

    tensors, header = read_safetensors(path, what="extractor weights file", error=ExtractorError)
    try:
        return tensors, json.loads(header[META_KEY]) if META_KEY in header else {}
    except json.JSONDecodeError as e:
        raise ExtractorError(f"{path}: corrupt extractor metadata ({e})") from None


def load_weights_file(
    path: str | Path, *, architecture: str | None = None, name: str | None = None, device: str | torch.device = "cpu"
) -> TorchExtractor:
    """An extractor from a safetensors file: the architecture from ``architecture`` or the file's
    metadata, its constructor arguments from the metadata's ``config`` (defaults without one)."""
    tensors, meta = read_extractor_file(path)
    arch = architecture or meta.get("architecture")
    if not arch:
        raise ExtractorError(
            f"{path} does not say which architecture it holds weights for; use 'ARCH:{path}' with ARCH one of: "
            f"{', '.join(ARCHITECTURES.names())}"
        )
    try:
        cls = ARCHITECTURES.get(arch)
        module = cls(**meta.get("config", {}))
        module.load_state_dict(tensors, strict=True)
    except UnknownNameError as e:
        raise ExtractorError(str(e)) from None
    except (TypeError, RuntimeError) as e:
        raise ExtractorError(f"{path}: weights do not fit architecture '{arch}' ({e})") from None
    return TorchExtractor(module, name=name or Path(path).name, sha256=sha256_file(path), device=device)


# ------------------------------------------------------------------ registry and lookup


def _shipped(name: str) -> Callable[[], TorchExtractor]:
    def factory() -> TorchExtractor:
        path = WEIGHTS_DIR / f"{name}.safetensors"
        if not path.is_file():
            raise ExtractorError(
                f"the weights of '{name}' are missing from the installed package ({path}); reinstall turbopix, "
                "or recreate them with benchmarks/train_feature_extractors.py"
            )
        return load_weights_file(path, name=name)

    factory.__name__ = f"load_{name.replace('-', '_')}"
    return factory


FEATURES.register(
    "lenet-mnist", default_for="mnist", feature_dim=128, num_classes=10,
    description="LeNet-style CNN trained on MNIST: 128-D penultimate features, 10 digit logits",
)(_shipped("lenet-mnist"))
FEATURES.register(
    "lenet-fashion", default_for="fashion-mnist", feature_dim=128, num_classes=10,
    description="LeNet-style CNN trained on Fashion-MNIST: 128-D penultimate features, 10 class logits",
)(_shipped("lenet-fashion"))


def default_extractor(dataset: str) -> str:
    """The registered extractor trained on ``dataset`` (a registered dataset name), or an error."""
    for entry in FEATURES:
        if entry.info.get("default_for") == dataset:
            return entry.name
    raise ExtractorError(
        f"no default feature extractor for reference dataset '{dataset}'; name one with {{option:extractor}}: a registered name "
        f"({', '.join(FEATURES.names())}), a .onnx file, or ARCH:weights.safetensors"
    )


def load_extractor(spec: str | Path | FeatureExtractor | nn.Module, *, device: str | torch.device = "cpu") -> FeatureExtractor:
    """A ready extractor from a registered name, a file (``.onnx``, ``[ARCH:]weights.safetensors``),
    an ``nn.Module`` or an existing :class:`FeatureExtractor` (returned as is)."""
    if isinstance(spec, FeatureExtractor):
        return spec
    if isinstance(spec, nn.Module):
        return TorchExtractor(spec, name=type(spec).__name__, device=device)
    text = str(spec)
    if text in FEATURES:
        entry = FEATURES.entry(text)
        made = entry.obj()
        if isinstance(made, FeatureExtractor):
            return made
        if not isinstance(made, nn.Module):
            raise ExtractorError(f"factory of extractor '{text}' returned {type(made).__name__}, not an nn.Module or FeatureExtractor")
        return TorchExtractor(made, name=text, channels=entry.info.get("channels"), input_size=entry.info.get("input_size"), device=device)
    arch, sep, rest = text.partition(":")
    if sep and arch in ARCHITECTURES:
        return load_weights_file(rest, architecture=arch, device=device)
    if text.lower().endswith(".onnx"):
        return OnnxExtractor(text)
    if text.lower().endswith(".safetensors"):
        return load_weights_file(text, device=device)
    raise ExtractorError(
        f"unknown feature extractor '{text}'. Use a registered name ({', '.join(FEATURES.names())}), a .onnx file, "
        f"or ARCH:weights.safetensors with ARCH one of: {', '.join(ARCHITECTURES.names())}"
    )
