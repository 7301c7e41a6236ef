"""int8 post-training quantization that really runs the transposed convolutions in int8.

Path: ONNX export (``export.py``) -> OpenVINO model -> NNCF post-training quantization
(``nncf.quantize``: activation ranges from a calibration set, per-channel symmetric int8 weights,
fast bias correction) -> an OpenVINO model whose Convolution/Deconvolution/MatMul layers are
compiled to int8 kernels (VNNI on this CPU). Why not ONNX Runtime: its QDQ quantizer leaves
ConvTranspose in fp32 between Quantize/Dequantize nodes and the model gets *slower*; OpenVINO
executes Deconvolution in int8 (measured, DESIGN.md). :func:`int8_layers` reads the compiled
model's runtime graph, so tests check what executes, not what was asked for.

Calibration data: the model's own ``example_inputs`` (valid inputs of every declared input), with
real data put in where it is given and fits. An input whose name is a key of the dataset's batches
(``image`` for an image-to-image model) takes real images, brought to the input's channels (and
size, where the input fixes it). A generator's input is a latent vector, not an image, so there
"calibrating on real data" means: latents from the prior the model samples from (what deployment
feeds it), labels drawn with the real dataset's class frequencies for conditional models, and, for
generators with an encoder (VAE, AE), also the codes of real images, so that reconstructions stay
in range too.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from ..models.base import ImageGenerator, ImageModel, InputSpec, unwrap
from .export import export_onnx
from .runtimes import RuntimeMissingError

INT8 = ("i8", "u8")


@runtime_checkable
class Encoder(Protocol):
    """A generator that maps images to its latent space (VAE, AE): ``encode(x, labels)`` gives the
    codes (or a tuple whose first element is the mean code)."""

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> Any: ...


def calibration_batches(model: ImageModel, data: Any | None, *, n: int = 512, batch_size: int = 64, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Calibration inputs by name, in batches; see the module docstring.

    ``data`` is a dataset (e.g. ``load_dataset("mnist:train")``) or None (``example_inputs`` only:
    prior latents and balanced labels for a generator, random images for an image model).
    """
    model = unwrap(model).eval()
    inputs = model.example_inputs(n, seed=seed)
    if data is not None:
        inputs.update(_real_inputs(model, data, n, seed))
    return [{k: v[i : i + batch_size].numpy() for k, v in inputs.items()} for i in range(0, n, batch_size)]


def _real_inputs(model: ImageModel, data: Any, n: int, seed: int) -> dict[str, torch.Tensor]:
    """The inputs that real examples from ``data`` provide (see the module docstring)."""
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    if isinstance(model, ImageGenerator):
        z = model.example_inputs(n, seed=seed)["z"]
        if isinstance(model, Encoder):  # half the set: codes of real images
            m = n // 2
            b = data.batch(torch.randperm(len(data), generator=gen)[:m])
            x = fit_images(b["image"], image_input(model))
            with torch.no_grad():
                codes = model.encode(x, b["label"] if model.num_classes else None)
            z[:m] = (codes[0] if isinstance(codes, tuple) else codes).float()  # VAE: (mu, logvar)
            out["z"] = z
        if model.num_classes and data.num_classes == model.num_classes:
            out["labels"] = data.labels[torch.randint(len(data), (n,), generator=gen)]
        return out
    b = data.batch(torch.randint(len(data), (n,), generator=gen))
    return {s.name: fit_images(b[s.name], s) for s in model.inputs() if _is_image(s) and s.name in b}


def _is_image(spec: InputSpec) -> bool:
    return spec.is_float and len(spec.shape) == 3


def image_input(model: ImageModel) -> InputSpec | None:
    """The images real calibration data must be shaped like: a generator's output (what its
    encoder reads), else the model's first image input; None for a model that takes no images."""
    if isinstance(model, ImageGenerator):
        return InputSpec("image", model.image_shape)
    return next((s for s in model.inputs() if _is_image(s)), None)


def fit_images(x: torch.Tensor, spec: InputSpec) -> torch.Tensor:
    """Images (N, C, H, W) in [-1, 1] brought to ``spec``'s channels, and to its size where it fixes one."""
    from ..features.networks import to_extractor_input

    channels, size = spec.shape[0], spec.shape[-1]
    if size is None:  # free size: keep the data's (to_extractor_input crops to a square)
        size = min(x.shape[-2:])
    return to_extractor_input(x, channels, size)


WEIGHT_OPS = ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "MatMul")


def quantize_int8(model: ImageModel, calibration: list[dict[str, np.ndarray]], *, keep_fp32: tuple[str, ...] = (),
                  bias_correction: str = "fast") -> Any:
    """An int8 ``openvino.Model`` of ``model.infer``, calibrated on ``calibration`` batches.

    ``keep_fp32``: layers to leave in floating point, for a layer whose int8 error is too large
    (see the measured quality in the artifact metadata): ``"first"`` / ``"last"`` (the first or
    last layer with weights in the graph: an image model's input and output convolutions, where
    an error reaches the pixels undamped) or regular expressions of OpenVINO layer names.
    ``bias_correction``: NNCF's ``"fast"`` (its default) or ``"full"`` (layer by layer).
    """
    try:
        import nncf
        import openvino as ov
    except ImportError:
        raise RuntimeMissingError("int8 quantization needs nncf and openvino: pip install nncf openvino") from None
    if not calibration:
        raise ValueError("quantize_int8 needs at least one calibration batch")
    if bias_correction not in ("fast", "full"):
        raise ValueError(f"bias_correction must be 'fast' or 'full', got {bias_correction!r}")
    with tempfile.TemporaryDirectory() as tmp:
        onnx = export_onnx(unwrap(model), Path(tmp) / "model.onnx").path
        fp32 = ov.convert_model(str(onnx))
    patterns = fp32_patterns(fp32, keep_fp32)
    ignored = nncf.IgnoredScope(patterns=patterns, validate=False) if patterns else None
    return nncf.quantize(
        fp32, nncf.Dataset(calibration), subset_size=len(calibration),
        preset=nncf.QuantizationPreset.PERFORMANCE, target_device=nncf.TargetDevice.CPU,
        fast_bias_correction=bias_correction == "fast",
        **({"ignored_scope": ignored} if ignored else {}),
    )


def fp32_patterns(model: Any, keep: tuple[str, ...]) -> list[str]:
    """``keep_fp32`` of :func:`quantize_int8` as name patterns of ``model`` (an ``openvino.Model``):
    'first' / 'last' become the exact names of its first / last weight layer. A pattern that is not
    a regular expression, or matches no layer (NNCF would silently quantize everything), is refused."""
    import re

    from .config import AccelOptionError

    ops = model.get_ordered_ops()
    weights = [op.get_friendly_name() for op in ops if op.get_type_name() in WEIGHT_OPS]
    picks = {"first": weights[:1], "last": weights[-1:]}
    names = [op.get_friendly_name() for op in ops]
    for k in keep:
        if k in picks:
            continue
        try:
            pattern = re.compile(k)
        except re.error as e:
            raise AccelOptionError(f"{{option:keep_fp32}} {k!r} is not a regular expression ({e})") from None
        if not any(pattern.match(n) for n in names):  # NNCF matches patterns with re.match
            raise AccelOptionError(f"{{option:keep_fp32}} {k!r} matches no layer of the model; use 'first', 'last' "
                                   f"or a pattern of its layer names, e.g. {weights[0]!r}" if weights else
                                   f"{{option:keep_fp32}} {k!r} matches no layer of the model")
    return [re.escape(name) for k in keep if k in picks for name in picks[k]] + [k for k in keep if k not in picks]


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
