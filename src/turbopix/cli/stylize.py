"""``turbopix stylize CONTENT OUT --style NAME|STYLE.jpg``: stylise image files or folders.

A shipped style name (or a style-transfer model file / artifact folder) runs the fast model; a style
image runs the optimisation-based reference. The work is ``turbopix.pipelines.stylize``; the file
options (overwrite, skip_bad, ...) are ``RestoreConfig``'s, the style options ``StylizeConfig``'s,
so each is declared once.
"""
from __future__ import annotations

import argparse
from typing import Any

from ..core.config import add_config_args, config_from_dict, given_args
from ..pipelines.restore import RestoreConfig, restore_files
from ..pipelines.stylize import StylizeConfig, resolve_style
from .common import add_files_command
from .restore import report_written

EXAMPLES = ("turbopix stylize photo.jpg out.png --style candy\n"
            "  turbopix stylize photos/ out/ --style mosaic\n"
            "  turbopix stylize photo.jpg out.png --style my_painting.jpg --iterations 100")
NOT_HERE = ("model", "tile", "overlap")  # restoration options that do not apply (whole images, --style picks)


def add_commands(sub: Any) -> None:
    text = "apply a painting's style to photos"
    p = add_files_command(sub, "stylize", help=text, examples=EXAMPLES, description=text + ": a shipped fast model by "
                          "name, or the slow optimisation (Gatys et al.) towards any style image. Files or folders in, "
                          "8-bit PNG out.")
    p.add_argument("--style", required=True, help="a shipped style (candy, mosaic), a style-transfer model file or "
                   "artifact folder, or a style image file (runs the optimisation)")
    add_config_args(p.add_argument_group("style options"), StylizeConfig)
    add_config_args(p.add_argument_group("file options"), RestoreConfig, skip=NOT_HERE)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    files = config_from_dict(RestoreConfig, given_args(args, RestoreConfig), what="stylize")
    cfg = config_from_dict(StylizeConfig, given_args(args, StylizeConfig), what="stylize")
    method = resolve_style(args.style, cfg, progress=files.progress)
    return report_written(restore_files(method, args.input, args.output, files), args.output)
