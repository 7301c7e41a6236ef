"""int8 post-training quantization that really runs the transposed convolutions in int8.

Path: ONNX export (``export.py``) -> OpenVINO model -> NNCF post-training quantization
(``nncf.quantize``: activation ranges from a calibration set, per-channel symmetric int8 weights,
fast bias correction) -> an OpenVINO model whose Convolution/Deconvolution/MatMul layers are
compiled to int8 kernels (VNNI on this CPU). Why not ONNX Runtime: its QDQ quantizer leaves
ConvTranspose in fp32 between Quantize/Dequantize nodes and the model gets *slower*; OpenVINO
executes Deconvolution in int8 (measured, DESIGN.md). :func:`int8_layers` reads the compiled
model's runtime graph, so tests check what executes, not what was asked for.

Calibration data. A generator's input is a latent vector, not an image, so "calibrating on real
data" means: latents from the prior the model samples from (what deployment feeds it), labels
drawn with the real dataset's class frequencies for conditional models, and, for models with an
encoder (VAE, AE), also the codes of real images, so that reconstructions stay in range too.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..models.base import unwrap
from ..models.base import ImageGenerator
from .export import export_onnx
from .runtimes import RuntimeMissingError

INT8 = ("i8", "u8")


def calibration_batches(model: ImageGenerator, data: Any | None, *, n: int = 512, batch_size: int = 64, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Calibration inputs by name (``z``, ``labels``) in batches; see the module docstring.

    ``data`` is an ``ImageData`` (e.g. ``load_dataset("mnist:train")``) or None (prior latents,
    uniform labels).
    """
    model = unwrap(model).eval()
    gen = torch.Generator().manual_seed(seed)
    z = model.sample_latent(n, gen).float()
    labels = None
    if data is not None and hasattr(model, "encode"):  # half the set: codes of real images
        m = n // 2
        idx = torch.randperm(len(data), generator=gen)[:m]
        b = data.batch(idx)
        x, y = b["image"], b["label"]
        x = _fit_images(x, model.image_shape)
        with torch.no_grad():
            codes = model.encode(x, y if model.num_classes else None)
        codes = codes[0] if isinstance(codes, tuple) else codes  # VAE: (mu, logvar)
        z[:m] = codes.float()
    if model.num_classes:
        if data is not None and data.num_classes == model.num_classes:
            labels = data.labels[torch.randint(len(data), (n,), generator=gen)]
        else:
            labels = torch.randint(model.num_classes, (n,), generator=gen)
    batches = []
    for i in range(0, n, batch_size):
        item = {"z": z[i : i + batch_size].numpy()}
        if labels is not None:
            item["labels"] = labels[i : i + batch_size].numpy()
        batches.append(item)
    return batches


def _fit_images(x: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    from ..features.networks import to_extractor_input

    return to_extractor_input(x, shape[0], shape[1])


def quantize_int8(model: ImageGenerator, calibration: list[dict[str, np.ndarray]], *, keep_fp32: tuple[str, ...] = ()) -> Any:
    """An int8 ``openvino.Model`` of ``model.generate``, calibrated on ``calibration`` batches.

    ``keep_fp32``: names (regular expressions) of OpenVINO layers to leave in floating point, for
    a layer whose int8 error is too large (see the measured quality in the artifact metadata).
    """
    try:
        import nncf
        import openvino as ov
    except ImportError:
        raise RuntimeMissingError("int8 quantization needs nncf and openvino: pip install nncf openvino") from None
    if not calibration:
        raise ValueError("quantize_int8 needs at least one calibration batch")
    with tempfile.TemporaryDirectory() as tmp:
        onnx = export_onnx(unwrap(model), Path(tmp) / "model.onnx").path
        fp32 = ov.convert_model(str(onnx))
    ignored = nncf.IgnoredScope(patterns=list(keep_fp32), validate=False) if keep_fp32 else None
    return nncf.quantize(
        fp32, nncf.Dataset(calibration), subset_size=len(calibration),
        preset=nncf.QuantizationPreset.PERFORMANCE, target_device=nncf.TargetDevice.CPU,
        **({"ignored_scope": ignored} if ignored else {}),
    )


def save_openvino(model: Any, path: str | Path) -> Path:
    """Write an OpenVINO model as IR (``path`` .xml + .bin), weights not compressed to fp16."""
    import openvino as ov

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(model, str(path), compress_to_fp16=False)
    return path


def int8_layers(compiled: Any) -> dict[str, dict[str, int]]:
    """Per executed layer type, how many layers run in each precision, e.g.
    ``{"Deconvolution": {"i8": 1, "u8": 2}, "Eltwise": {"f32": 1}}`` (from the runtime graph)."""
    from .runtimes import runtime_precisions

    counts: dict[str, dict[str, int]] = {}
    for _, kind, precision in runtime_precisions(compiled):
        counts.setdefault(kind, {}).setdefault(precision, 0)
        counts[kind][precision] += 1
    return counts


def weight_layers_in_int8(compiled: Any) -> tuple[int, int]:
    """(int8, total) among the executed Convolution / Deconvolution / FullyConnected / MatMul layers."""
    heavy = ("Convolution", "Deconvolution", "FullyConnected", "MatMul")
    counts = int8_layers(compiled)
    total = sum(n for kind in heavy for n in counts.get(kind, {}).values())
    low = sum(n for kind in heavy for p, n in counts.get(kind, {}).items() if p in INT8)
    return low, total
