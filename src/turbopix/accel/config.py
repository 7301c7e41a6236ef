"""The options of ``accelerate`` and ``bench``, each declared once with its default and help.

``turbopix accelerate`` / ``turbopix bench`` build their flags from these dataclasses
(``add_config_args``); the Python functions take a config, or the same options as keywords, which
are checked here (unknown names, types, ranges). Errors name options as ``{option:NAME}``
(``turbopix.core.errors``), so each caller sees them in its own spelling.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Optional, TypeVar

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
    ref: Optional[str] = opt("auto", "FID reference set, for generators ('auto': the test split of the training data; 'none': skip FID)")
    data_root: Optional[str] = opt(None, "dataset folder; None: $TURBOPIX_DATA")

    def __post_init__(self) -> None:
        self.ref = _none(self.ref)
        check_fields(self, AccelOptionError)


@dataclass
class AccelerateConfig(QualityOptions):
    calib: Optional[str] = opt("auto", "int8 calibration data, e.g. mnist:train ('auto': the training data's train split; "
                                       "'none': the model's example inputs only)")
    calib_size: int = opt(512, "calibration inputs for int8", min=1)
    finetune_steps: int = opt(500, "distillation steps after pruning (0: no recovery)", min=0)
    distill_steps: int = opt(2000, "distillation steps of a distill step", min=1)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.calib = _none(self.calib)


@dataclass
class BenchConfig(QualityOptions):
    batches: tuple[int, ...] = opt((1, 64, 256), "batch sizes to time", min=1)
    rounds: int = opt(5, "interleaved timing rounds (medians are reported)", min=1)
    target_s: float = opt(0.3, "seconds each (variant, batch) is timed per round", above=0)
    memory: bool = opt(True, "measure peak memory, in one subprocess per variant")
    steady_malloc: bool = opt(True, "raise glibc's mmap threshold first (eager PyTorch at large batches swung 2x without it)")
    threads: Optional[int] = opt(None, "CPU threads for every variant and runtime; None: torch's choice", min=1)

    def __post_init__(self) -> None:
        self.batches = tuple(self.batches)
        if not self.batches:
            raise AccelOptionError("{option:batches} needs at least one batch size")
        super().__post_init__()


def resolve(cls: type[C], config: C | None, options: dict[str, Any]) -> C:
    """``config`` (or the defaults) with keyword ``options`` on top, checked like any config."""
    values = config_to_dict(config) if config is not None else {}
    values.update({k: str(v) if isinstance(v, PurePath) else v for k, v in options.items()})
    return config_from_dict(cls, values, what=cls.__name__)
