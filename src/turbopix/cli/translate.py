"""``turbopix translate IN OUT --model CKPT [--direction a2b|b2a]``: image-to-image translation of
files or folders with a pix2pix or CycleGAN model (``turbopix.pipelines.translate``). The model
options are ``TranslateConfig``'s, the file options (overwrite, skip_bad, ...) ``RestoreConfig``'s,
so each is declared once."""
from __future__ import annotations

import argparse
from typing import Any

from ..core.config import add_config_args, config_from_dict, given_args
from ..pipelines.restore import RestoreConfig
from ..pipelines.translate import TranslateConfig, translate_files
from .common import add_files_command
from .restore import report_written

EXAMPLES = ("turbopix translate labels.png photo.png --model runs/facades/model.safetensors\n"
            "  turbopix translate day/ night/ --model runs/day2night/model.safetensors --direction a2b\n"
            "  turbopix translate night/ day/ --model runs/day2night/model.safetensors --direction b2a")

NOT_HERE = ("model", "tile", "overlap")  # restoration options that do not apply (whole images; --model is the translator)


def add_commands(sub: Any) -> None:
    text = "translate images from one domain to another (pix2pix, CycleGAN)"
    p = add_files_command(sub, "translate", help=text, examples=EXAMPLES, description=text + ". Files or folders in, "
                          "8-bit PNG out; each image is translated at the model's training resolution and resized "
                          "back to its own size.")
    add_config_args(p.add_argument_group("translation options"), TranslateConfig)
    add_config_args(p.add_argument_group("file options"), RestoreConfig, skip=NOT_HERE)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_dict(TranslateConfig, given_args(args, TranslateConfig), what="translation")
    files = config_from_dict(RestoreConfig, given_args(args, RestoreConfig), what="translation")
    return report_written(translate_files(args.input, args.output, cfg, files=files), args.output)
