"""What the command modules share: the CLI's own error, the help layout, the output check."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..core.atomic import refuse_overwrite
from ..core.errors import OptionMessage


class CLIError(OptionMessage, Exception):
    """A user error found by the CLI itself; printed without a traceback, options as flags."""


def formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.ArgumentDefaultsHelpFormatter(prog, max_help_position=34, width=100)


def check_out(path: str | Path, overwrite: bool) -> Path:
    """``path``, unless it exists and ``--overwrite`` was not given."""
    return refuse_overwrite(path, overwrite)
