"""ONNX Runtime sessions, created in one place (extractors, ONNX generators, runners, export checks).

onnxruntime is an optional dependency (the ``accel`` extra): it is imported here, when a session is
first needed, and its absence or a file it cannot read becomes an :class:`OnnxError` naming the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


class OnnxError(RuntimeError):
    """onnxruntime is missing, or cannot load the file; the message names the file and the fix."""


def onnx_session(path: str | Path, *, threads: int | None = None, optimize: bool = False) -> Any:
    """A CPU ``onnxruntime.InferenceSession`` for ``path``.

    ``threads``: intra-op threads (default: torch's, so ONNX work shares the CPU budget torch was
    given); inter-op parallelism is off (one graph at a time on a small CPU). ``optimize`` turns on
    every graph optimization (what the accelerated runner wants; extractors keep the defaults).
    """
    try:
        import onnxruntime as ort
    except ImportError:
        raise OnnxError(f"running {path} needs onnxruntime: pip install onnxruntime (or turbopix[accel])") from None
    path = Path(path)
    if not path.is_file():
        raise OnnxError(f"ONNX file not found: {path}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or torch.get_num_threads()
    opts.inter_op_num_threads = 1
    if optimize:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3  # errors only
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types for bad files
        raise OnnxError(f"{path}: onnxruntime cannot load it ({type(e).__name__}: {e})") from None


def onnxruntime_version() -> str | None:
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    return ort.__version__
