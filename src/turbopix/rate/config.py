"""The options of ``turbopix rate serve``, ``report`` and ``simulate``, declared once: the CLI
builds its flags from these fields (``core.config.add_config_args``) and checks the values with
``config_from_dict``, as every other command does. What a study contains is ``study.StudyConfig``
(its TOML file), not a flag."""
from __future__ import annotations

from dataclasses import dataclass

from ..core.config import opt


@dataclass
class ServeConfig:
    study: str = opt("", "the study declaration (TOML); see docs/rating.md (required)")
    host: str = opt("127.0.0.1", "address to listen on; 0.0.0.0 shares the study on the LAN")
    port: int = opt(8000, "port to listen on", min=1, max=65535)
    prepare_only: bool = opt(False, "prepare the study folder and exit")


@dataclass
class ReportConfig:
    out: str = opt("", "output folder (default: report/ beside the database)")
    boot: int = opt(2000, "bootstrap replicates for the 95-percent intervals", min=100)
    overwrite: bool = opt(False, "replace an existing report")


@dataclass
class SimulateConfig:
    kind: str = opt("all", "which statistics to check: all, or one kind (2afc, hype-time, ab, mos)")
    repeats: int = opt(200, "simulated studies per kind", min=1)
    seed: int = opt(0, "random seed", min=0)
