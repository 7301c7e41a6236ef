"""Reference kernels that measure what this machine can do right now: the "peak" in % of peak.

Published peaks mean little on a shared 2-core machine whose speed swings with its neighbours, so
``bench`` times these references in the same interleaved rounds as the models and reports each
model's achieved FLOP rate as a fraction of the reference of its precision:

* ``fp32``: a 1024^3 float32 matmul, in PyTorch (MKL / oneDNN) and in OpenVINO; the faster counts;
* ``bf16``: the same matmul in bfloat16 (AVX-512 bf16);
* ``int8``: a 1024^3 int8 matmul (VNNI) as OpenVINO's CPU plugin runs it, made from a float32
  MatMul quantized by NNCF, exactly how the int8 models are made; it needs openvino + nncf.

Each reference is a zero-argument callable plus the operations one call performs (2 M N K).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

SIZE = 1024


@dataclass
class PeakReference:
    precision: str  # "fp32", "bf16" or "int8"
    label: str
    ops: float  # operations per call (a multiply-add counts 2)
    call: Callable[[], object]


def torch_matmul(dtype: torch.dtype, precision: str) -> PeakReference:
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(SIZE, SIZE, generator=gen).to(dtype)
    b = torch.randn(SIZE, SIZE, generator=gen).to(dtype)

    def call() -> object:
        with torch.inference_mode():
            return a @ b

    return PeakReference(precision, f"torch {precision} matmul {SIZE}^3", 2.0 * SIZE**3, call)


def _openvino_matmul(int8: bool) -> PeakReference | None:
    """A float32 or int8 FullyConnected layer in OpenVINO, or None without openvino (+ nncf for int8)."""
    try:
        import openvino as ov
        from openvino import opset13 as ops

        if int8:
            import nncf
    except ImportError:
        return None
    from .runtimes import openvino_core, runtime_precisions

    rng = np.random.default_rng(0)
    x = ops.parameter([SIZE, SIZE], np.float32, name="x")
    w = ops.constant(rng.standard_normal((SIZE, SIZE)).astype(np.float32))
    model = ov.Model([ops.matmul(x, w, False, False)], [x])
    data = rng.standard_normal((SIZE, SIZE)).astype(np.float32)
    if int8:
        model = nncf.quantize(model, nncf.Dataset([data]), subset_size=1)
    config = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": torch.get_num_threads()}
    compiled = openvino_core().compile_model(model, "CPU", config)
    want = "i8" if int8 else "f32"
    if not any(kind in ("FullyConnected", "MatMul") and p == want for _, kind, p in runtime_precisions(compiled)):
        return None  # OpenVINO did not pick the kernel we meant to measure: no honest reference
    request = compiled.create_infer_request()
    precision = "int8" if int8 else "fp32"
    return PeakReference(precision, f"openvino {precision} matmul {SIZE}^3", 2.0 * SIZE**3, lambda: request.infer({0: data}))


def peak_references() -> list[PeakReference]:
    """Every reference available here. Where a precision has several (fp32: PyTorch and
    OpenVINO, whose fp32 matmul ran ~2x faster than PyTorch's here), ``bench`` takes the fastest
    as that precision's peak: a peak that a model can beat is no peak."""
    refs = [torch_matmul(torch.float32, "fp32"), torch_matmul(torch.bfloat16, "bf16")]
    return refs + [r for r in (_openvino_matmul(False), _openvino_matmul(True)) if r is not None]
