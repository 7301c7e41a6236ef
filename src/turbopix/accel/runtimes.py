"""Runners: one small interface, ``run(z, labels) -> images``, over every way of executing a generator.

* :class:`TorchRunner`: any module with ``generate`` (eager, channels_last, bf16, compiled; see
  ``torch_paths.py``);
* :class:`OnnxRuntimeRunner`: an ONNX file (``export.py``) in an ONNX Runtime CPU session;
* :class:`OpenVINORunner`: an ONNX file, an OpenVINO IR (``.xml``) or an in-memory ``ov.Model``,
  compiled for the CPU. fp32 unless told otherwise: on CPUs with bf16 instructions (this machine)
  OpenVINO's own default is bf16, which would silently change the numbers.

All runners take and return torch tensors on the CPU, so they are interchangeable in ``bench`` and
behind :class:`~turbopix.accel.artifact.AcceleratedGenerator`. Runtime packages are imported
only when a runner that needs them is built.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import torch


class RuntimeMissingError(ImportError):
    """An optional runtime package is not installed; the message says what to install."""


@runtime_checkable
class Runner(Protocol):
    name: str  # a short label for tables, e.g. "openvino-int8"

    def run(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images (B, C, H, W) float32 in [-1, 1] from latents (B, latent_dim) and labels (B,)."""
        ...


def _threads() -> int:
    return torch.get_num_threads()  # every runtime gets the CPU budget torch was given


class TorchRunner:
    """A PyTorch module exposing ``generate(z, labels)`` (or a callable ``f(z, labels)``)."""

    def __init__(self, module: Any, name: str = "torch") -> None:
        self.module, self.name = module, name
        self._fn = module.generate if hasattr(module, "generate") else module

    @torch.inference_mode()
    def run(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self._fn(z, labels).float()


def _feeds(input_names: list[str], z: torch.Tensor, labels: torch.Tensor | None) -> dict[str, np.ndarray]:
    # contiguous arrays: runtimes that read inputs in place (OpenVINO with share_inputs) need them
    feeds = {"z": np.ascontiguousarray(z.detach().cpu().float().numpy())}
    if "labels" in input_names:
        if labels is None:
            raise ValueError("this model is class-conditional: labels are required")
        feeds["labels"] = np.ascontiguousarray(labels.detach().cpu().long().numpy())
    return feeds


class OnnxRuntimeRunner:
    """An ONNX model in an ONNX Runtime CPU session (all graph optimizations on)."""

    def __init__(self, path: str | Path, name: str = "onnxruntime") -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise RuntimeMissingError("the ONNX Runtime runner needs onnxruntime: pip install onnxruntime") from None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = _threads()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.name = name

    def run(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        out = self.session.run(None, _feeds(self.input_names, z, labels))[0]
        return torch.from_numpy(out)


Precision = Literal["f32", "bf16"]


def openvino_core() -> Any:
    try:
        import openvino as ov
    except ImportError:
        raise RuntimeMissingError("the OpenVINO runner needs openvino: pip install openvino") from None
    return ov.Core()


class OpenVINORunner:
    """An OpenVINO model (``ov.Model``, IR ``.xml`` or ``.onnx`` path) compiled for the CPU.

    ``precision`` is OpenVINO's inference precision for the layers that are not quantized: "f32"
    (the default) or "bf16". An int8 model's quantized layers run in int8 either way.

    Two compiled copies serve two regimes. A batch of at most ``chunk`` images runs as one
    synchronous request using every thread (the latency setting). A larger batch is cut into
    chunks of ``chunk`` images that run asynchronously on ``streams`` single-threaded streams:
    single-threaded streams never wait on each other at barriers, which matters on a shared,
    oversubscribed machine (measured under load: +8-14% at batch 256 over one two-thread request).
    On an idle machine the two were equal at chunk 128 and chunks of 64 or fewer were slower
    (int8 28 px DCGAN at batch 256: 69k images/s one request, 69k chunk 128, 67k chunk 64, 55k
    chunk 16), hence the default of 128. ``chunk=0`` turns chunking off.
    """

    def __init__(self, model: Any, *, precision: Precision = "f32", name: str = "openvino", chunk: int = 128, streams: int | None = None) -> None:
        if precision not in ("f32", "bf16"):
            raise ValueError(f"precision must be 'f32' or 'bf16', got {precision!r}")
        core = openvino_core()
        threads = _threads()
        source = str(model) if isinstance(model, (str, Path)) else model
        base = {"INFERENCE_PRECISION_HINT": precision}
        self.compiled = core.compile_model(source, "CPU", {**base, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads})
        self.request = self.compiled.create_infer_request()
        self.input_names = [i.get_any_name() for i in self.compiled.inputs]
        self.name, self.chunk = name, chunk
        self.streams = streams or threads
        self._requests: list[Any] = []
        if chunk:
            self.compiled_streams = core.compile_model(
                source, "CPU", {**base, "PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": self.streams, "INFERENCE_NUM_THREADS": threads}
            )
            self._requests = [self.compiled_streams.create_infer_request() for _ in range(self.streams)]

    def run(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        feeds = _feeds(self.input_names, z, labels)
        n = z.shape[0]
        if not self._requests or n <= self.chunk:
            # share_inputs: OpenVINO reads the numpy arrays in place; copying them in cost ~40 us
            # per call here, more than the 28 px DCGAN's whole int8 compute at batch 1
            self.request.infer(feeds, share_inputs=True)
            # the output buffer belongs to the request and is reused by the next call: copy it out
            return torch.from_numpy(self.request.get_output_tensor(0).data.copy())
        # Round-robin over the stream requests, collecting each one's result before reusing it.
        # No completion callbacks: a Python callback needs the GIL from an OpenVINO thread, and
        # an AsyncInferQueue with callbacks deadlocked here under load.
        out: np.ndarray | None = None
        pending: dict[int, int] = {}  # request index -> first image of the chunk it is computing

        def collect(k: int) -> None:
            nonlocal out
            self._requests[k].wait()
            images = self._requests[k].get_output_tensor(0).data
            if out is None:
                out = np.empty((n, *images.shape[1:]), dtype=images.dtype)
            start = pending.pop(k)
            out[start : start + images.shape[0]] = images

        for i, start in enumerate(range(0, n, self.chunk)):
            k = i % len(self._requests)
            if k in pending:
                collect(k)
            # shared, not copied: the slices are views of ``feeds``, which outlives every request
            self._requests[k].start_async({name: v[start : start + self.chunk] for name, v in feeds.items()}, share_inputs=True)
            pending[k] = start
        for k in list(pending):
            collect(k)
        return torch.from_numpy(out)

    def runtime_precisions(self) -> list[tuple[str, str, str]]:
        """(layer name, layer type, runtime precision) of every executed layer of the compiled model."""
        return runtime_precisions(self.compiled)


def runtime_precisions(compiled: Any) -> list[tuple[str, str, str]]:
    """What OpenVINO actually executes: (name, type, precision) per layer of a compiled model.

    Read from the runtime (execution) graph, after OpenVINO's own fusions, so a layer reported as
    ``Deconvolution`` with precision ``i8``/``u8`` really runs an int8 kernel.
    """
    rows = []
    for op in compiled.get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()
        kind = info["layerType"].astype(str)
        if kind not in ("Const", "Constant", "Input", "Output", "Parameter", "Result"):
            rows.append((op.get_friendly_name(), kind, info["runtimePrecision"].astype(str)))
    return rows
