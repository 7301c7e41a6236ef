"""The errors training raises; their messages name options as ``{option:NAME}`` (see
``turbopix.core.errors``), so the CLI shows them as flags and Python callers as keywords."""
from __future__ import annotations

from ..core.errors import OptionMessage


class TrainingError(OptionMessage, RuntimeError):
    """Training cannot go on (a diverged loss, a run directory in the way); the message says why."""


class TrainingOptionError(OptionMessage, ValueError):
    """The model, data and options cannot train together; raised before anything is written."""
