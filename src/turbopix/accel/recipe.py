"""Recipes: ``"prune:0.5,int8"`` -> an artifact folder, with the quality cost measured and recorded.

A recipe is a comma-separated list of steps, applied left to right:

model steps (PyTorch model -> smaller PyTorch model; any number, first)
    ``prune[:AMOUNT]``    structured channel pruning (default 0.5 of the channels) + distillation
                          recovery from the unpruned model (``prune.py``)
    ``distill[:WIDTH]``   a student WIDTH times as wide (default 0.5) trained from scratch by
                          distillation (``distill.py``)
runtime steps (how the final model is executed; at most one of the first three)
    ``int8``              NNCF int8 post-training quantization, run by OpenVINO (``quantize.py``)
    ``openvino[:bf16]``   OpenVINO fp32 (or bf16) from the ONNX export
    ``onnxruntime``       ONNX Runtime fp32 (alias ``ort``)
    ``channels_last``, ``bf16``, ``compile``
                          PyTorch paths, combinable (``torch_paths.py``)
    ``eager``             plain PyTorch (the default when no runtime step is given)
modifier
    ``nolower``           with int8 / openvino / onnxruntime: export the layers as they are. By
                          default the exported model is first rewritten exactly (``lower.py``: batch
                          norm folded, 1x1-input and thin transposed convolutions turned into dense
                          kernels); this step keeps the plain export, for comparison
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.atomic import OutputError, refuse_overwrite
from ..core.hashing import sha256_file
from ..models.base import ImageModel, unwrap
from ..models.io import load_model_file, save
from .artifact import ARTIFACT_FILE, ARTIFACT_FORMAT, ARTIFACT_VERSION, MODEL_FILE, build_runner
from .config import AccelerateConfig, resolve
from .flops import count_flops, count_params

MODEL_STEPS = {"prune": 0.5, "distill": 0.5}  # name -> default argument
EXCLUSIVE_RUNTIMES = ("int8", "openvino", "onnxruntime")
TORCH_FLAGS = ("channels_last", "bf16", "compile")
MODIFIERS = ("nolower",)
ALIASES = {"ort": "onnxruntime", "onnx": "onnxruntime", "ov": "openvino", "channels-last": "channels_last"}


class RecipeError(ValueError):
    """A recipe string that cannot be applied; the message lists the valid steps."""


@dataclass
class Step:
    name: str
    arg: str | None = None

    def __str__(self) -> str:
        return self.name if self.arg is None else f"{self.name}:{self.arg}"


def parse_recipe(text: str) -> list[Step]:
    """Steps of a recipe, validated (see the module docstring for the grammar)."""
    valid = ", ".join([*MODEL_STEPS, *EXCLUSIVE_RUNTIMES, *TORCH_FLAGS, "eager", *MODIFIERS])
    steps: list[Step] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, arg = part.partition(":")
        name = ALIASES.get(name.lower(), name.lower())
        steps.append(Step(name, arg or None))
    if not steps:
        raise RecipeError(f"empty recipe; steps: {valid}")
    seen_runtime = False
    runtimes = []
    for step in steps:
        if step.name in MODEL_STEPS:
            if seen_runtime:
                raise RecipeError(f"recipe '{text}': model step '{step}' must come before runtime steps")
            value = float(step.arg) if step.arg is not None else MODEL_STEPS[step.name]
            if not 0 < value < 1:
                raise RecipeError(f"recipe '{text}': {step.name} takes a fraction in (0, 1), got {step.arg}")
        elif step.name in MODIFIERS:
            if step.arg is not None:
                raise RecipeError(f"recipe '{text}': step '{step.name}' takes no argument")
        elif step.name in (*EXCLUSIVE_RUNTIMES, *TORCH_FLAGS, "eager"):
            seen_runtime = True
            runtimes.append(step.name)
            if step.arg is not None and not (step.name == "openvino" and step.arg in ("f32", "bf16")):
                raise RecipeError(f"recipe '{text}': step '{step.name}' takes no argument (openvino takes f32 or bf16)")
        else:
            raise RecipeError(f"recipe '{text}': unknown step '{step.name}'; steps: {valid}")
    exclusive = [r for r in runtimes if r in EXCLUSIVE_RUNTIMES]
    torch_flags = [r for r in runtimes if r in TORCH_FLAGS]
    if len(exclusive) > 1 or (exclusive and torch_flags) or (len(runtimes) > 1 and "eager" in runtimes):
        raise RecipeError(f"recipe '{text}': pick one runtime: one of {', '.join(EXCLUSIVE_RUNTIMES)}, eager, or PyTorch flags {', '.join(TORCH_FLAGS)}")
    if any(s.name == "nolower" for s in steps) and not exclusive:
        raise RecipeError(f"recipe '{text}': 'nolower' only applies to the exported runtimes {', '.join(EXCLUSIVE_RUNTIMES)}")
    return steps


def _load_source(source: str | Path | ImageModel) -> tuple[ImageModel, dict[str, Any]]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            raise RecipeError(f"{path} is a folder; accelerate takes a checkpoint file (an artifact is already accelerated)")
        model = load_model_file(path)
        info = {"path": str(path), "sha256": sha256_file(path)}
    else:
        model = unwrap(source).eval()
        info = {"path": None, "sha256": None}
    return model, {**info, "model": model.name, "step": model.metadata.get("step"), "data": model.metadata.get("data")}


def accelerate(
    source: str | Path | ImageModel,
    recipe: str,
    out: str | Path,
    config: AccelerateConfig | None = None,
    *,
    overwrite: bool = False,
    log: Any = print,
    **options: Any,
) -> Path:
    """Apply ``recipe`` to a checkpoint (or model) and write an artifact folder to ``out``.

    Options (``config``, or the same names as keywords on top of it) are those of
    :class:`~turbopix.accel.config.AccelerateConfig`: int8 calibration data (``calib``: ``"auto"``,
    the training split of the data the model was trained on; None, the model's example inputs
    only), distillation steps, and the quality check: ``quality_n`` inputs are run through the
    artifact and the eager fp32 source and compared (pixel errors; for a generator, FID against
    ``ref``, ``"auto"`` = the test split of the training data, when a feature extractor is
    available). The folder is built in a temporary sibling and renamed into place, so ``out`` is
    never half-written.
    """
    from .quality import QualityProbe

    cfg = resolve(AccelerateConfig, config, options)
    out = refuse_overwrite(out, overwrite, what="an artifact" if (Path(out) / ARTIFACT_FILE).exists() else "", folder=True)
    if Path(out).is_dir() and not (Path(out) / ARTIFACT_FILE).exists() and any(Path(out).iterdir()):
        # an overwrite replaces the whole folder: never a folder that is not an artifact
        raise OutputError(f"{out} is a folder with other files, not an artifact; {{option:overwrite}} only "
                          "replaces artifacts: choose a new {option:out}")
    steps = parse_recipe(recipe)
    start = time.perf_counter()
    teacher, source_info = _load_source(source)
    model: ImageModel = teacher
    checks: dict[str, Any] = {"params_source": count_params(teacher), "flops_per_image_source": count_flops(teacher)}
    applied: list[dict[str, Any]] = []
    for step in steps:
        if step.name == "prune":
            from .prune import prune

            log(f"pruning {step.arg or MODEL_STEPS['prune']} of the channels, then {cfg.finetune_steps} distillation steps ...")
            model, report = prune(model, float(step.arg or MODEL_STEPS["prune"]), finetune_steps=cfg.finetune_steps)
            applied.append({"step": str(step), **report.to_json()})
        elif step.name == "distill":
            from .distill import distill_student

            log(f"distilling into a student {step.arg or MODEL_STEPS['distill']} as wide, {cfg.distill_steps} steps ...")
            model, report = distill_student(model, float(step.arg or MODEL_STEPS["distill"]), steps=cfg.distill_steps)
            applied.append({"step": str(step), **report.to_json()})

    runtime_names = [s for s in steps if s.name not in MODEL_STEPS]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        save(model, tmp / MODEL_FILE, accelerated_from=source_info, data=source_info["data"])
        runtime = _build_runtime(model, runtime_names, tmp, checks, cfg, log=log)
        runner = build_runner(model, runtime, tmp)
        if cfg.quality_n:
            log(f"measuring quality against the eager fp32 source on {cfg.quality_n} inputs ...")
            probe = QualityProbe(teacher, n=cfg.quality_n, ref=cfg.ref, data_root=cfg.data_root)
            checks["quality"] = probe.measure(runner.run).to_json()
        checks["params"], checks["flops_per_image"] = count_params(model), count_flops(model)
        meta = {
            "format": ARTIFACT_FORMAT, "format_version": ARTIFACT_VERSION, "recipe": ",".join(map(str, steps)),
            "source": source_info, "model": model.name, "family": model.family, "runtime": runtime,
            "steps": applied, "checks": checks, "seconds": round(time.perf_counter() - start, 1),
            "library_version": _version(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (tmp / ARTIFACT_FILE).write_text(json.dumps(meta, indent=2, default=_json_default) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _build_runtime(model: ImageModel, steps: list[Step], folder: Path, checks: dict[str, Any], cfg: AccelerateConfig, *,
                   log: Any) -> dict[str, Any]:
    """Write the runtime's files into ``folder``; return artifact.json's ``runtime`` entry."""
    names = [s.name for s in steps]
    exported = model  # what goes to ONNX: the model, or its exact rewrite for inference kernels
    if any(n in EXCLUSIVE_RUNTIMES for n in names) and "nolower" not in names:
        from .lower import lower_for_inference

        exported, checks["lowering"] = lower_for_inference(model)
    if "int8" in names:
        from .quantize import calibration_batches, int8_layers, quantize_int8, save_openvino, weight_layers_in_int8
        from .runtimes import OpenVINORunner

        data, spec = calibration_data(model, cfg.calib, cfg.data_root)
        keep, bias = int8_choice(model, cfg)
        log(f"quantizing to int8 with NNCF, calibrated on {cfg.calib_size} inputs ({spec or 'example inputs only'}); "
            f"fp32 layers: {', '.join(keep) or 'none'}; bias correction: {bias} ...")
        qmodel = quantize_int8(exported, calibration_batches(model, data, n=cfg.calib_size), keep_fp32=keep, bias_correction=bias)
        save_openvino(qmodel, folder / "model.xml")
        compiled = OpenVINORunner(folder / "model.xml", chunk=0).compiled
        low, total = weight_layers_in_int8(compiled)
        checks["int8_weight_layers"] = {"int8": low, "total": total}
        checks["openvino_layer_precisions"] = int8_layers(compiled)
        checks["calibration"] = {"data": spec, "n": cfg.calib_size, "bias_correction": bias, "keep_fp32": list(keep)}
        return {"kind": "openvino", "file": "model.xml", "precision": "f32", "int8": True, "label": "openvino-int8"}
    if "openvino" in names or "onnxruntime" in names:
        from .export import export_onnx

        report = export_onnx(exported, folder / "model.onnx")
        checks["onnx_export"] = report.to_json()
        if "onnxruntime" in names:
            return {"kind": "onnxruntime", "file": "model.onnx", "label": "onnxruntime"}
        precision = next(s.arg for s in steps if s.name == "openvino") or "f32"
        from .quantize import int8_layers
        from .runtimes import OpenVINORunner

        # what OpenVINO really runs: on this Zen 4 CPU a bf16 hint still ran Deconvolution in f32
        checks["openvino_layer_precisions"] = int8_layers(OpenVINORunner(folder / "model.onnx", precision=precision, chunk=0).compiled)
        return {"kind": "openvino", "file": "model.onnx", "precision": precision, "label": f"openvino-{precision}"}
    flags = {f: f in names for f in TORCH_FLAGS}
    label = "+".join(f for f in TORCH_FLAGS if flags[f]) or "eager"
    return {"kind": "torch", **flags, "label": f"torch-{label}"}


def int8_choice(model: ImageModel, cfg: AccelerateConfig) -> tuple[tuple[str, ...], str]:
    """``keep_fp32`` and ``bias_correction`` for int8: the user's, or where 'auto' the model
    family's ``int8_settings`` (chosen on training data). ``keep_fp32=('none',)`` keeps nothing."""
    family = type(unwrap(model)).int8_settings
    keep = tuple(family["keep_fp32"]) if cfg.keep_fp32 == ("auto",) else cfg.keep_fp32
    if keep == ("none",):
        keep = ()
    if "auto" in keep or "none" in keep:
        raise RecipeError(f"keep_fp32 'auto' and 'none' stand alone; got {', '.join(cfg.keep_fp32)}")
    bias = family["bias_correction"] if cfg.bias_correction == "auto" else cfg.bias_correction
    return keep, bias


def calibration_data(model: ImageModel, calib: str | None, data_root: str | Path | None) -> tuple[Any, str | None]:
    """The calibration dataset, shaped like the images the model reads, and its spec (None: none)."""
    from .quantize import image_input

    from ..data.specs import KINDS

    spec = image_input(model)
    if calib == "auto":  # a lazy spec (patches:train400?...) is its own train split; mnist -> mnist:train
        data = model.metadata.get("data")
        calib = (data if data.startswith("folder:") or data.partition(":")[0] in KINDS else f"{data.split(':')[0]}:train") if data else None
    if calib is None or spec is None:
        return None, None
    from ..data import load_dataset

    if calib.partition(":")[0] in KINDS:  # the spec sets patch size and colour (e.g. colour=y, which channels=1 would contradict)
        return load_dataset(calib, data_root=data_root), calib
    return load_dataset(calib, data_root=data_root, image_size=spec.shape[-1], channels=spec.shape[0]), calib


def _version() -> str:
    from ..core.version import __version__

    return __version__


def _json_default(x: Any) -> Any:
    if hasattr(x, "item"):
        return x.item()
    if isinstance(x, (set, tuple)):
        return list(x)
    raise TypeError(f"not JSON-serialisable: {type(x).__name__}")
