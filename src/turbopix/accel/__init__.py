"""Acceleration: plain functions ``model -> model`` or ``model -> runtime artifact``, one file per concern.

    export.py       ONNX export of ``generate`` with a dynamic batch, checked against PyTorch
    runtimes.py     Runner interface over PyTorch, ONNX Runtime and OpenVINO
    torch_paths.py  channels_last, bf16 autocast, torch.compile with freezing
    quantize.py     int8 post-training quantization (NNCF -> OpenVINO), calibration inputs
    prune.py        structured channel pruning (ConvTranspose/BatchNorm/Linear) + distillation recovery
    distill.py      distillation into a narrower student
    flops.py        FLOPs and parameters, counted
    quality.py      quality cost against eager fp32 (pixel error, FID delta)
    recipe.py       "prune:0.5,int8" -> artifact folder (``accelerate``)
    artifact.py     artifact folders -> AcceleratedGenerator (``load_artifact``; ``turbopix.load`` opens them too)
    peaks.py        reference matmuls for percent-of-peak
    bench.py        interleaved benchmark of variants (``turbopix bench``)

Optional runtimes (onnxruntime, openvino, nncf) are imported inside the functions that need them.
"""
from .artifact import AcceleratedGenerator, load_artifact
from .distill import distill, distill_student, make_student
from .export import export_onnx
from .flops import count_flops, count_params
from .prune import prune, prune_channels
from .quality import QualityProbe
from .recipe import accelerate, parse_recipe
from .runtimes import OnnxRuntimeRunner, OpenVINORunner, Runner, TorchRunner
from .torch_paths import bf16_autocast, channels_last, compile_for_inference

__all__ = [
    "AcceleratedGenerator", "OnnxRuntimeRunner", "OpenVINORunner", "QualityProbe", "Runner", "TorchRunner",
    "accelerate", "bf16_autocast", "channels_last", "compile_for_inference", "count_flops", "count_params",
    "distill", "distill_student", "export_onnx", "load_artifact", "make_student",
    "parse_recipe", "prune", "prune_channels",
]
