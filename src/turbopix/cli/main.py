"""The ``turbopix`` entry point: builds the parser from the command modules and runs one command.

This is the only layer that speaks in ``--flags``. Library errors name options as templates
(``core.errors``); :func:`main` prints them rendered as flags and exits with status 2, without a
traceback unless ``--debug`` (or ``TURBOPIX_DEBUG=1``) asks for one.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from typing import Callable, Sequence

from ..core.errors import OptionMessage, render
from ..core.registry import UnknownNameError
from . import train
from .common import CLIError

EPILOG = "Run 'turbopix COMMAND --help' for a command's options. Docs: README.md."
# Modules that add more subcommands, in the order --help lists them: each has
# ``add_commands(subparsers)`` whose parsers set ``func`` to a handler taking the parsed args and
# returning an exit code. ``train`` comes first and is added apart: its flags depend on --model.
COMMAND_MODULES: list[str] = [
    "turbopix.cli.images",
    "turbopix.cli.info",
    "turbopix.cli.eval",
    "turbopix.cli.accel",
    "turbopix.cli.demo",
    "turbopix.cli.rate",
    "turbopix.cli.restore",
    "turbopix.cli.stylize",
    "turbopix.cli.translate",
]
# What a user can cause (bad flags, missing files, a diverged run): a message, no traceback.
# RuntimeError covers TrainingError; OSError covers missing, existing and unwritable files.
USER_ERRORS = (OptionMessage, CLIError, UnknownNameError, ValueError, TypeError, OSError, RuntimeError)
DEBUG_HELP = "on an error, show the traceback (for bug reports); also TURBOPIX_DEBUG=1"


def build_parser(model_name: str | None = None) -> argparse.ArgumentParser:
    from ..core.version import __version__

    parser = argparse.ArgumentParser(
        prog="turbopix", description="Train, sample, evaluate and accelerate small image generators.", epilog=EPILOG
    )
    parser.add_argument("--version", action="version", version=f"turbopix {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    train.add_command(sub, model_name)
    for module in COMMAND_MODULES:
        importlib.import_module(module).add_commands(sub)
    for command in sub.choices.values():  # --debug after the command name works too
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return parser


def _command(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """The command name and the arguments after it (global flags such as --debug come before)."""
    for i, word in enumerate(argv):
        if not word.startswith("-"):
            return word, list(argv[i + 1 :])
    return None, []


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Warnings as one line in the CLI's voice (the source line is for ``--debug``)."""
    print(f"turbopix: warning: {render(message, 'cli') if isinstance(message, Exception) else message}",
          file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or bool(os.environ.get("TURBOPIX_DEBUG"))
    shown = warnings.showwarning
    if not debug:
        warnings.showwarning = _show_warning
    try:
        return _run(argv, debug)
    finally:
        warnings.showwarning = shown


def _run(argv: list[str], debug: bool) -> int:
    try:
        command, rest = _command(argv)
        args = build_parser(train.model_from_argv(rest) if command == "train" else None).parse_args(argv)
        args.raw_argv = rest  # the launcher (train --nproc) hands these on to its workers
        handler: Callable[[argparse.Namespace], int] = args.func
        return handler(args)
    except KeyboardInterrupt:
        print("turbopix: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as e:
        if debug:
            raise
        print(f"turbopix: error: {render(e, 'cli')}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
