"""ONNX export of a model's inference forward, ``model.infer(**inputs)``, with dynamic shapes.

The graph's inputs are the model's declared inputs (``model.inputs()``, one ``InputSpec`` each, in
that order, e.g. ``z`` (float32, (B, latent_dim)) and ``labels`` (int64, (B,)) for a conditional
generator, or ``image`` (float32, (B, C, H, W)) for an image-to-image model); one output
``images`` (float32, (B, C, H, W) in [-1, 1]). The batch dimension is always dynamic, and so is
every dimension an ``InputSpec`` leaves free (``None``: the height and width of an image input);
the output's spatial dimensions then follow.

Every export is checked: the ONNX model is run at batch sizes other than the one it was traced with
(and, where an input has free dimensions, at twice the traced size) and compared with PyTorch, so a
dimension that was baked in as a constant fails here, not in production.

Two exporters (``torch.onnx.export``): ``"torchscript"`` (the default here) traces in under a
second; ``"dynamo"`` (torch's default since 2.9, built on torch.export) needs onnxscript and took
3-15 s per model on a 2-core machine. The models are plain feed-forward networks, which both
handle; the fast one keeps tests and ``turbopix accelerate`` quick.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from ..core.onnx import onnx_session, onnxruntime_version
from ..models.base import ImageModel, InputSpec, unwrap
from .runtimes import RuntimeMissingError, openvino_core

Exporter = Literal["torchscript", "dynamo"]
DEFAULT_OPSET = 17  # ConvTranspose, Gemm and QDQ ops as every current runtime reads them
TRACE_BATCH = 2
CHECKS = ((1, 2), (5, 1))  # (batch, scale of the free dimensions): neither batch is the traced one
OUTPUT = "images"


class ExportError(RuntimeError):
    """The model could not be exported, or the exported graph disagrees with PyTorch."""


@dataclass
class ExportReport:
    path: Path
    input_names: list[str]
    max_abs_error: float  # worst |onnx - torch| over the checks; nan if not checked
    checked_batches: list[int] = field(default_factory=list)
    checked_shapes: list[dict[str, list[int]]] = field(default_factory=list)  # the inputs' shapes per check
    checked_with: str = ""  # the runtime that ran the ONNX model for the check
    dynamic_axes: dict[str, dict[int, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path.name, "inputs": self.input_names, "max_abs_error": self.max_abs_error,
                "checked_batches": self.checked_batches, "checked_shapes": self.checked_shapes,
                "checked_with": self.checked_with, "dynamic_axes": self.dynamic_axes}


class InferModule(nn.Module):
    """``forward(*inputs) = model.infer(**inputs)``, the inputs positional in declared order:
    what exporters and compilers trace."""

    def __init__(self, model: ImageModel) -> None:
        super().__init__()
        self.model = model
        self.names = [spec.name for spec in model.inputs()]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model.infer(**dict(zip(self.names, inputs)))

    def positional(self, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        missing = [n for n in self.names if n not in inputs]
        if missing:
            raise ValueError(f"model '{self.model.name}' needs input(s) {', '.join(missing)}; got {', '.join(inputs) or 'none'}")
        return tuple(inputs[n] for n in self.names)


def dynamic_axes(specs: list[InputSpec]) -> dict[str, dict[int, str]]:
    """Per graph input and output, its dynamic dimensions: the batch, and every free (None) one."""
    axes = {s.name: {0: "batch", **{i + 1: f"{s.name}_{i + 1}" for i, d in enumerate(s.shape) if d is None}} for s in specs}
    free = any(len(a) > 1 for a in axes.values())
    axes[OUTPUT] = {0: "batch", **({2: "height", 3: "width"} if free else {})}
    return axes


def resize_free_dims(model: ImageModel, inputs: dict[str, torch.Tensor], scale: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
    """``inputs`` with every free dimension of a float input ``scale`` times as large (fresh uniform
    values in [-1, 1], the range of images): inputs of a size the traced graph has not seen."""
    if scale == 1:
        return inputs
    gen = torch.Generator().manual_seed(seed)
    out = dict(inputs)
    for spec in model.inputs():
        if None in spec.shape and spec.is_float:
            x = inputs[spec.name]
            shape = [x.shape[0], *(x.shape[i + 1] * (scale if d is None else 1) for i, d in enumerate(spec.shape))]
            out[spec.name] = torch.rand(shape, generator=gen).mul_(2).sub_(1).to(x.dtype)
    return out


def export_onnx(
    model: nn.Module,
    path: str | Path,
    *,
    opset: int = DEFAULT_OPSET,
    exporter: Exporter = "torchscript",
    check: bool = True,
    atol: float = 1e-4,
) -> ExportReport:
    """Write ``model.infer`` as an ONNX file with dynamic batch (and free) dimensions; check it.

    ``model`` is not modified (a copy is put in eval mode: batch norm must use its running
    statistics). Raises :class:`ExportError` when the exported model's outputs differ from
    PyTorch's by more than ``atol`` (images are in [-1, 1]).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = copy.deepcopy(unwrap(model)).float().eval()
    wrapper = InferModule(model).eval()
    args = wrapper.positional(model.example_inputs(TRACE_BATCH))
    names, axes = wrapper.names, dynamic_axes(model.inputs())
    try:
        with torch.no_grad():
            if exporter == "torchscript":
                with warnings.catch_warnings():  # its deprecation notice: see the module docstring
                    warnings.simplefilter("ignore")
                    torch.onnx.export(wrapper, args, str(path), input_names=names, output_names=[OUTPUT],
                                      dynamic_axes=axes, opset_version=opset, dynamo=False)
            elif exporter == "dynamo":
                batch = torch.export.Dim("batch", min=1)
                # forward(*inputs): torch.export binds the positional inputs to the one name "inputs"
                shapes = {"inputs": tuple({k: batch if k == 0 else torch.export.Dim.AUTO for k in axes[n]} for n in names)}
                program = torch.onnx.export(wrapper, args, None, input_names=names, output_names=[OUTPUT],
                                            dynamic_shapes=shapes, opset_version=opset, dynamo=True, verbose=False)
                program.save(str(path), external_data=False)
            else:
                raise ValueError(f"exporter must be 'torchscript' or 'dynamo', got {exporter!r}")
    except ExportError:
        raise
    except Exception as e:  # exporters raise many types; name the model and the exporter
        raise ExportError(f"exporting '{model.name or type(model).__name__}' to ONNX with the {exporter} exporter failed: {e}") from e
    report = ExportReport(path, names, float("nan"), dynamic_axes=axes)
    if check:
        _check_against_torch(wrapper, report, atol)
    return report


def _check_against_torch(wrapper: InferModule, report: ExportReport, atol: float) -> None:
    run, runtime = _onnx_executor(report.path)
    worst = 0.0
    for batch, scale in CHECKS:
        inputs = resize_free_dims(wrapper.model, wrapper.model.example_inputs(batch, seed=batch), scale, seed=batch)
        with torch.no_grad():
            expected = wrapper(*wrapper.positional(inputs)).numpy()
        got = run({k: v.numpy() for k, v in inputs.items() if k in wrapper.names})
        if got.shape != expected.shape:
            raise ExportError(f"{report.path}: at batch {batch} the ONNX model gives shape {got.shape}, PyTorch {expected.shape}")
        worst = max(worst, float(np.abs(got - expected).max()))
        report.checked_batches.append(batch)
        report.checked_shapes.append({k: list(v.shape) for k, v in inputs.items()})
    report.max_abs_error, report.checked_with = worst, runtime
    if not worst <= atol:  # also catches nan
        raise ExportError(f"{report.path}: ONNX outputs differ from PyTorch by up to {worst:.3g} (> atol {atol:g})")


def _onnx_executor(path: Path):
    """A function inputs -> images running the ONNX file, with onnxruntime or else OpenVINO."""
    version = onnxruntime_version()
    if version is not None:
        session = onnx_session(path)
        return (lambda feeds: session.run(None, feeds)[0]), f"onnxruntime {version}"
    try:
        core = openvino_core()
    except RuntimeMissingError:
        raise ExportError("checking an ONNX export needs onnxruntime or openvino: pip install onnxruntime "
                          "(or pass check=False)") from None
    compiled = core.compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    import openvino as ov

    return (lambda feeds: compiled(feeds)[0]), f"openvino {ov.__version__}"
