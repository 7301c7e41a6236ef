"""Acceleration: plain functions ``model -> model`` or ``model -> runtime artifact``, one file per concern.

Every part reads what a model declares (``turbopix.models.base``: ``inputs()``,
``example_inputs()``, ``infer(**inputs)``, ``inference_network()``, ``width_fields``,
``metadata``/``pruning``), so a new model family, image-to-image included, is accelerated,
benchmarked and measured without changes here.

    config.py       AccelerateConfig and BenchConfig: every option of accelerate / bench, once
    export.py       ONNX export of ``infer`` with dynamic batch and free dimensions, checked against PyTorch
    runtimes.py     Runner interface (named inputs -> images) over PyTorch, ONNX Runtime and OpenVINO
    torch_paths.py  channels_last, bf16 autocast, torch.compile with freezing
    quantize.py     int8 post-training quantization (NNCF -> OpenVINO), calibration inputs
    lower.py        exact rewrites for inference kernels (batch norm folding, sub-pixel convolutions)
    prune.py        structured channel pruning of the inference network + distillation recovery
    distill.py      distillation into a narrower student (``width_fields``)
    flops.py        FLOPs and parameters, counted
    quality.py      quality cost against eager fp32 (pixel error; FID delta for generators)
    recipe.py       "prune:0.5,int8" -> artifact folder (``accelerate``)
    artifact.py     artifact folders -> AcceleratedModel / AcceleratedGenerator (``load_artifact``;
                    ``turbopix.load`` opens them too)
    peaks.py        reference matmuls for percent-of-peak
    bench.py        interleaved benchmark of variants (``turbopix bench``)

Optional runtimes (onnxruntime, openvino, nncf) are imported inside the functions that need them.
"""
from .artifact import AcceleratedGenerator, AcceleratedModel, load_artifact
from .config import AccelerateConfig, BenchConfig
from .distill import distill, distill_student, make_student
from .export import export_onnx
from .flops import count_flops, count_params
from .prune import prune, prune_channels
from .quality import QualityProbe
from .recipe import accelerate, parse_recipe
from .runtimes import OnnxRuntimeRunner, OpenVINORunner, Runner, TorchRunner
from .torch_paths import bf16_autocast, channels_last, compile_for_inference

__all__ = [
    "AccelerateConfig", "AcceleratedGenerator", "AcceleratedModel", "BenchConfig", "OnnxRuntimeRunner", "OpenVINORunner",
    "QualityProbe", "Runner", "TorchRunner", "accelerate", "bf16_autocast", "channels_last", "compile_for_inference",
    "count_flops", "count_params", "distill", "distill_student", "export_onnx", "load_artifact", "make_student",
    "parse_recipe", "prune", "prune_channels",
]
