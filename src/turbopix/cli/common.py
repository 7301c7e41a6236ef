"""What the command modules share: the CLI's own error, the help layout, the output check."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core.atomic import refuse_overwrite
from ..core.errors import OptionMessage


class CLIError(OptionMessage, Exception):
    """A user error found by the CLI itself; printed without a traceback, options as flags."""


def formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.ArgumentDefaultsHelpFormatter(prog, max_help_position=34, width=100)


def check_out(path: str | Path, overwrite: bool) -> Path:
    """``path``, unless it exists and ``--overwrite`` was not given."""
    return refuse_overwrite(path, overwrite)


def add_files_command(sub: Any, name: str, *, help: str, description: str, examples: str) -> argparse.ArgumentParser:
    """A files-in, files-out command (``INPUT OUTPUT``, a file or a folder each) with its examples:
    the restore commands, ``enhance``, ``stylize`` and ``translate``."""
    p = sub.add_parser(name, help=help, description=description, epilog="examples:\n  " + examples,
                       formatter_class=lambda prog: argparse.RawDescriptionHelpFormatter(prog, max_help_position=34, width=100))
    p.add_argument("input", help="an image file or a folder of images")
    p.add_argument("output", help="the output file, or a folder (created) for a folder input")
    return p
