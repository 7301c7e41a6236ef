"""The options of ``accelerate`` and ``bench``, each declared once with its default and help.

``turbopix accelerate`` / ``turbopix bench`` build their flags from these dataclasses
(``add_config_args``); the Python functions take a config, or the same options as keywords, which
are checked here (unknown names, types, ranges). Errors name options as ``{option:NAME}``
(``turbopix.core.errors``), so each caller sees them in its own spelling.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal, Optional, TypeVar

from ..core.config import check_fields, config_from_dict, config_to_dict, opt
from ..core.errors import OptionMessage

C = TypeVar("C")


class AccelOptionError(OptionMessage, ValueError):
    """An option of accelerate / bench out of range; the message names the option."""


def _none(text: Optional[str]) -> Optional[str]:
    """'none' (any case) turns a dataset option off, as None does."""
    return None if text is None or text.lower() == "none" else text


@dataclass
class QualityOptions:
    """How the quality cost against eager fp32 is measured (both commands)."""

    quality_n: int = opt(2000, "inputs run through the variant and eager fp32 to compare their images; 0 skips the comparison",
                         min=0)
    ref: Optional[str] = opt("auto", "reference set: for generators the FID reference ('auto': the test split of the training data); "
                                     "for restorers the test set scored by PSNR against its ground truth ('auto': set12 for a "
                                     "grey denoiser, cbsd68 for a colour one, set5 for super-resolution, live1 for JPEG; a model "
                                     "trained on a range is scored at sigma 25 / quality 20; or a folder of the same layout); "
                                     "'none': skip")
    data_root: Optional[str] = opt(None, "dataset folder; None: $TURBOPIX_DATA")

    def __post_init__(self) -> None:
        self.ref = _none(self.ref)
        check_fields(self, AccelOptionError)


@dataclass
class AccelerateConfig(QualityOptions):
    calib: Optional[str] = opt("auto", "int8 calibration data, e.g. mnist:train ('auto': the training data's train split; "
                                       "'none': the model's example inputs only)")
    calib_size: int = opt(512, "calibration inputs for int8", min=1)
    bias_correction: Literal["auto", "fast", "full"] = opt(
        "auto", "int8: NNCF's bias correction after quantizing: 'fast' (NNCF's default) or 'full' (layer by layer "
                "on the calibration set; slower to build); 'auto': the model family's measured choice (full for the "
                "DnCNN denoisers and deblockers and the SR models, fast otherwise; benchmarks/int8_settings.py)")
    keep_fp32: tuple[str, ...] = opt(("auto",), "int8: layers left in fp32: 'first' and/or 'last' (the first or last "
                                                "convolution or matrix multiply of the graph) or regular expressions of "
                                                "OpenVINO layer names; 'none': every layer int8; 'auto': the model "
                                                "family's measured choice ('last' for the DnCNN denoisers and deblockers: "
                                                "CBSD68 cost -0.39 dB instead of -4.06; 'first', 'last' for the SR "
                                                "models; none otherwise)")
    finetune_steps: int = opt(500, "distillation steps after pruning (0: no recovery)", min=0)
    distill_steps: int = opt(2000, "distillation steps of a distill step", min=1)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.calib = _none(self.calib)
        self.keep_fp32 = tuple(self.keep_fp32)


@dataclass
class BenchConfig(QualityOptions):
    batches: tuple[int, ...] = opt((1, 64, 256), "batch sizes to time", min=1)
    rounds: int = opt(5, "interleaved timing rounds (medians are reported)", min=1)
    target_s: float = opt(0.3, "seconds each (variant, batch) is timed per round", above=0)
    memory: bool = opt(True, "measure peak memory, in one subprocess per variant")
    steady_malloc: bool = opt(True, "raise glibc's mmap threshold first (eager PyTorch at large batches swung 2x without it)")
    threads: Optional[int] = opt(None, "CPU threads for every variant and runtime; None: torch's choice", min=1)
    sizes: tuple[str, ...] = opt((), "input sizes H or HxW to time image-to-image models at (e.g. 256, 512x384); "
                                     "none: the size of the model's example inputs")

    def __post_init__(self) -> None:
        self.batches = tuple(self.batches)
        if not self.batches:
            raise AccelOptionError("{option:batches} needs at least one batch size")
        self.sizes = tuple(format_size(parse_size(s)) for s in self.sizes)
        super().__post_init__()


def parse_size(text: str | int) -> tuple[int, int]:
    """'256' -> (256, 256); '512x384' -> (512, 384) (height x width)."""
    parts = str(text).lower().split("x")
    try:
        h, w = (int(parts[0]), int(parts[-1])) if len(parts) in (1, 2) else (0, 0)
    except ValueError:
        h = w = 0
    if h < 1 or w < 1:
        raise AccelOptionError(f"{{option:sizes}} takes H or HxW with positive integers, e.g. 256 or 512x384; got {text!r}")
    return h, w


def format_size(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def resolve(cls: type[C], config: C | None, options: dict[str, Any]) -> C:
    """``config`` (or the defaults) with keyword ``options`` on top, checked like any config."""
    values = config_to_dict(config) if config is not None else {}
    values.update({k: str(v) if isinstance(v, PurePath) else v for k, v in options.items()})
    return config_from_dict(cls, values, what=cls.__name__)
