"""Runners: one small interface, ``run(inputs) -> images``, over every way of executing a model.

``inputs`` is a dict of tensors named as the model declares them (``model.inputs()``: ``z`` and
``labels`` for a generator, ``image`` for an image-to-image model), exactly what
``model.example_inputs`` builds and what the exported ONNX graph takes.

* :class:`TorchRunner`: any object with ``infer(**inputs)`` (a model, or one of the inference
  paths of ``torch_paths.py``: channels_last, bf16, compiled);
* :class:`OnnxRuntimeRunner`: an ONNX file (``export.py``) in an ONNX Runtime CPU session
  (``turbopix.core.onnx.onnx_session``, the one place sessions are made);
* :class:`OpenVINORunner`: an ONNX file, an OpenVINO IR (``.xml``) or an in-memory ``ov.Model``,
  compiled for the CPU. fp32 unless told otherwise: on CPUs with bf16 instructions (this machine)
  OpenVINO's own default is bf16, which would silently change the numbers.

All runners take and return torch tensors on the CPU, so they are interchangeable in ``bench`` and
behind :class:`~turbopix.accel.artifact.AcceleratedModel`. Runtime packages are imported only when
a runner that needs them is built.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import torch

from ..core.onnx import onnx_session, onnxruntime_version

Inputs = dict[str, torch.Tensor]


class RuntimeMissingError(ImportError):
    """An optional runtime package is not installed; the message says what to install."""


@runtime_checkable
class Runner(Protocol):
    name: str  # a short label for tables, e.g. "openvino-int8"

    def run(self, inputs: Inputs) -> torch.Tensor:
        """Images (B, C, H, W) float32 in [-1, 1] from the model's named inputs."""
        ...


def _threads() -> int:
    return torch.get_num_threads()  # every runtime gets the CPU budget torch was given


class TorchRunner:
    """A PyTorch model, or an inference path of it, run through its ``infer(**inputs)``."""

    def __init__(self, module: Any, name: str = "torch") -> None:
        self.module, self.name = module, name

    @torch.inference_mode()
    def run(self, inputs: Inputs) -> torch.Tensor:
        return self.module.infer(**inputs).float()


def _feeds(input_names: list[str], inputs: Inputs) -> dict[str, np.ndarray]:
    """The graph's inputs as numpy arrays (float32 / int64); inputs the graph lacks are ignored."""
    missing = [n for n in input_names if n not in inputs]
    if missing:
        raise ValueError(f"this model needs input(s) {', '.join(missing)} (got {', '.join(inputs) or 'none'})")
    # contiguous arrays: runtimes that read inputs in place (OpenVINO with share_inputs) need them
    feeds = {}
    for name in input_names:
        x = inputs[name].detach().cpu()
        feeds[name] = np.ascontiguousarray((x.float() if x.is_floating_point() else x.long()).numpy())
    return feeds


class OnnxRuntimeRunner:
    """An ONNX model in an ONNX Runtime CPU session (all graph optimizations on)."""

    def __init__(self, path: str | Path, name: str = "onnxruntime") -> None:
        if onnxruntime_version() is None:
            raise RuntimeMissingError("the ONNX Runtime runner needs onnxruntime: pip install onnxruntime")
        self.session = onnx_session(path, optimize=True)
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.name = name

    def run(self, inputs: Inputs) -> torch.Tensor:
        return torch.from_numpy(self.session.run(None, _feeds(self.input_names, inputs))[0])


Precision = Literal["f32", "bf16"]


def openvino_core() -> Any:
    """The ``openvino.Core`` every OpenVINO model here is compiled with (runners, export checks, peaks)."""
    try:
        import openvino as ov
    except ImportError:
        raise RuntimeMissingError("running a model with OpenVINO needs openvino: pip install openvino") from None
    return ov.Core()


def input_name(port: Any) -> str:
    """The name a caller feeds an OpenVINO input by: the ONNX graph input's name.

    After conversion (and more so after NNCF) an input's tensor can carry extra names: the
    blind denoiser's ``sigma`` also answers to ``/model/Cast_output_0``, the node that read it,
    and ``get_any_name()`` may return either. torch.onnx names its internal tensors with a
    leading '/', graph inputs without, so the name without one is the input's.
    """
    names = sorted(port.get_names())
    public = [n for n in names if not n.startswith("/")]
    return (public or names)[0]


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
        self.input_names = [input_name(i) for i in self.compiled.inputs]
        self.name, self.chunk = name, chunk
        self.streams = streams or threads
        self._requests: list[Any] = []
        if chunk:
            self.compiled_streams = core.compile_model(
                source, "CPU", {**base, "PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": self.streams, "INFERENCE_NUM_THREADS": threads}
            )
            self._requests = [self.compiled_streams.create_infer_request() for _ in range(self.streams)]

    def run(self, inputs: Inputs) -> torch.Tensor:
        feeds = _feeds(self.input_names, inputs)
        n = next(iter(feeds.values())).shape[0]
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
