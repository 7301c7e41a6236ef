"""ONNX export of a generator's sampling forward, ``model.generate(z, labels)``, with a dynamic batch.

The exported graph has inputs ``z`` (float32, (B, latent_dim)) and, for class-conditional models,
``labels`` (int64, (B,)); one output ``images`` (float32, (B, C, H, W) in [-1, 1]). Every export
is checked: the ONNX model is run at batch sizes other than the one it was traced with and compared
with PyTorch, so a batch dimension that was baked in as a constant fails here, not in production.

Two exporters (``torch.onnx.export``): ``"torchscript"`` (the default here) traces in under a
second; ``"dynamo"`` (torch's default since 2.9, built on torch.export) needs onnxscript and took
3-15 s per model on a 2-core machine. The generators are plain feed-forward networks, which both
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

from ..models.base import unwrap

Exporter = Literal["torchscript", "dynamo"]
DEFAULT_OPSET = 17  # ConvTranspose, Gemm and QDQ ops as every current runtime reads them
CHECK_BATCHES = (1, 5)  # deliberately not the traced batch (2)


class ExportError(RuntimeError):
    """The model could not be exported, or the exported graph disagrees with PyTorch."""


@dataclass
class ExportReport:
    path: Path
    input_names: list[str]
    max_abs_error: float  # worst |onnx - torch| over the checked batches; nan if not checked
    checked_batches: list[int] = field(default_factory=list)
    checked_with: str = ""  # the runtime that ran the ONNX model for the check

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path.name, "inputs": self.input_names, "max_abs_error": self.max_abs_error,
                "checked_batches": self.checked_batches, "checked_with": self.checked_with}


class GenerateModule(nn.Module):
    """``forward(z[, labels]) = model.generate(z, labels)``: what exporters and compilers trace."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.conditional = bool(model.num_classes)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.generate(z, labels if self.conditional else None)


def example_inputs(model: nn.Module, batch: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
    """Inputs by name for ``model`` (latents from its own prior, labels cycling over the classes)."""
    gen = torch.Generator().manual_seed(seed)
    inputs = {"z": model.sample_latent(batch, gen).float()}
    if model.num_classes:
        inputs["labels"] = torch.arange(batch, dtype=torch.long) % model.num_classes
    return inputs


def export_onnx(
    model: nn.Module,
    path: str | Path,
    *,
    opset: int = DEFAULT_OPSET,
    exporter: Exporter = "torchscript",
    check: bool = True,
    atol: float = 1e-4,
) -> ExportReport:
    """Write ``model.generate`` as an ONNX file with a dynamic batch; check it against PyTorch.

    ``model`` is not modified (a copy is put in eval mode: batch norm must use its running
    statistics). Raises :class:`ExportError` when the exported model's outputs differ from
    PyTorch's by more than ``atol`` (images are in [-1, 1]).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = copy.deepcopy(unwrap(model)).float().eval()
    wrapper = GenerateModule(model).eval()
    inputs = example_inputs(model, 2)
    names = list(inputs)
    try:
        with torch.no_grad():
            if exporter == "torchscript":
                with warnings.catch_warnings():  # its deprecation notice: see the module docstring
                    warnings.simplefilter("ignore")
                    torch.onnx.export(
                        wrapper, tuple(inputs.values()), str(path), input_names=names, output_names=["images"],
                        dynamic_axes={n: {0: "batch"} for n in [*names, "images"]}, opset_version=opset, dynamo=False,
                    )
            elif exporter == "dynamo":
                batch = torch.export.Dim("batch", min=1)
                program = torch.onnx.export(
                    wrapper, tuple(inputs.values()), None, input_names=names, output_names=["images"],
                    dynamic_shapes={n: {0: batch} for n in names}, opset_version=opset, dynamo=True, verbose=False,
                )
                program.save(str(path), external_data=False)
            else:
                raise ValueError(f"exporter must be 'torchscript' or 'dynamo', got {exporter!r}")
    except ExportError:
        raise
    except Exception as e:  # exporters raise many types; name the model and the exporter
        raise ExportError(f"exporting '{getattr(model, 'name', type(model).__name__)}' to ONNX with the {exporter} exporter failed: {e}") from e
    report = ExportReport(path, names, float("nan"))
    if check:
        _check_against_torch(wrapper, report, atol)
    return report


def _check_against_torch(wrapper: GenerateModule, report: ExportReport, atol: float) -> None:
    run, runtime = _onnx_executor(report.path)
    worst = 0.0
    for batch in CHECK_BATCHES:
        inputs = example_inputs(wrapper.model, batch, seed=batch)
        with torch.no_grad():
            expected = wrapper(*inputs.values()).numpy()
        got = run({k: v.numpy() for k, v in inputs.items()})
        if got.shape != expected.shape:
            raise ExportError(f"{report.path}: at batch {batch} the ONNX model gives shape {got.shape}, PyTorch {expected.shape}")
        worst = max(worst, float(np.abs(got - expected).max()))
    report.max_abs_error, report.checked_batches, report.checked_with = worst, list(CHECK_BATCHES), runtime
    if not worst <= atol:  # also catches nan
        raise ExportError(f"{report.path}: ONNX outputs differ from PyTorch by up to {worst:.3g} (> atol {atol:g})")


def _onnx_executor(path: Path):
    """A function inputs -> images running the ONNX file, with onnxruntime or else OpenVINO."""
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    if ort is not None:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return (lambda feeds: session.run(None, feeds)[0]), f"onnxruntime {ort.__version__}"
    try:
        import openvino as ov
    except ImportError:
        raise ExportError("checking an ONNX export needs onnxruntime or openvino: pip install onnxruntime "
                          "(or pass check=False)") from None
    compiled = ov.Core().compile_model(str(path), "CPU")
    return (lambda feeds: compiled(feeds)[0]), f"openvino {ov.__version__}"
