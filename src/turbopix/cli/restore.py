"""``turbopix denoise``, ``deblock``, ``upscale``, ``inpaint`` and ``enhance``: restore image files or folders.

Each command picks a default model for its task (a shipped one, by noise level / scale / colour) and
hands the work to ``turbopix.pipelines.restore``; the pipeline options (tiles, overwrite, ...) are
the fields of ``RestoreConfig``, so they are declared once.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from ..core.config import add_config_args, config_from_dict, given_args
from ..pipelines.restore import DefaultMethod, RestoreConfig, RestoreReport, resolve_method, restore_files
from .common import add_files_command

EXAMPLES = {
    "denoise": "turbopix denoise noisy.png clean.png --sigma 25\n  turbopix denoise photos/ out/ --sigma 15 --model bm3d",
    "deblock": "turbopix deblock photo.jpg fixed.png --quality 20",
    "upscale": "turbopix upscale small.png big.png --scale 4 --model accurate",
    "inpaint": "turbopix inpaint photo.png --mask holes.png filled.png --model telea",
    "enhance": "turbopix enhance dark.jpg bright.png\n  turbopix enhance dark_photos/ out/ --model clahe",
}


def add_commands(sub: Any) -> None:
    help_ = {"denoise": "remove Gaussian noise from images", "deblock": "remove JPEG blocking and ringing",
             "upscale": "super-resolve images x2/x3/x4", "inpaint": "fill the masked pixels of an image",
             "enhance": "brighten low-light images (zero-dce, or classical: gamma, he, clahe, lime)"}
    for name, text in help_.items():
        p = add_files_command(sub, name, help=text, examples=EXAMPLES[name], description=text + ". Files or "
                              "folders in, 8-bit PNG out; large images run in overlapping tiles.")
        if name == "denoise":
            p.add_argument("--sigma", type=float, required=True, help="noise standard deviation on the 0-255 scale; the shipped "
                           "models: one per sigma 15, 25 and 50, and a blind (noise-level) model for any other sigma up to 55")
        if name == "deblock":
            p.add_argument("--quality", type=int, help="JPEG quality 1..100 the input was saved at: it describes "
                           "the input and compresses nothing; the shipped deblockers are one model for qualities 10-40 "
                           "(a note is printed outside that range)")
        if name == "upscale":
            p.add_argument("--scale", type=int, choices=(2, 3, 4), default=2, help="upscaling factor")
        if name == "inpaint":
            p.add_argument("--mask", required=True, help="mask image of the same size, white = missing")
        add_config_args(p.add_argument_group("restoration options"), RestoreConfig)
        p.set_defaults(func=run, task=name)


TASK_OF = {"denoise": "denoise", "deblock": "deblock", "upscale": "sr", "inpaint": "inpaint", "enhance": "enhance"}
SHIPPED_DEBLOCKERS = ("deblock-grey", "deblock-colour")  # one model each for qualities 10-40 (tools/train_restorers.py)
ALIASES = {("enhance", "zero-dce"): "enhance-zero-dce"}  # a family name standing for its shipped model


def run(args: argparse.Namespace) -> int:
    cfg = config_from_dict(RestoreConfig, given_args(args, RestoreConfig), what="restoration")
    task = TASK_OF[args.task]
    scale = getattr(args, "scale", 1) if task == "sr" else 1
    sigma = getattr(args, "sigma", None)
    if sigma is not None and not 0 <= sigma <= 255:
        raise ValueError(f"--sigma must be within 0..255; got {sigma:g}")
    quality = getattr(args, "quality", None)
    if quality is not None and not 1 <= quality <= 100:
        raise ValueError(f"--quality must be within 1..100; got {quality}")
    name = cfg.model
    if task == "sr" and name in ("fast", "accurate"):
        name = f"sr-{name}-x{scale}"
    name = ALIASES.get((task, name), name)
    # no --model: the shipped default, grey or colour per image (DefaultMethod)
    method = resolve_method(name, task, scale=scale, sigma=sigma) if name else DefaultMethod(task, scale=scale, sigma=sigma)
    if quality is not None and (name or method.name) in SHIPPED_DEBLOCKERS and not 10 <= quality <= 40:
        which = name or "the shipped deblocker"  # no --model: deblock-grey or deblock-colour, per file
        print(f"turbopix: note: {which} was trained on JPEG qualities 10-40; quality {quality} is outside them", file=sys.stderr)
    report = restore_files(method, args.input, args.output, cfg, sigma=sigma, mask=getattr(args, "mask", None))
    return report_written(report, args.output)


def report_written(report: RestoreReport, output: str) -> int:
    """Print what a files-in, files-out command wrote and what failed; the exit status."""
    for path in report.written if len(report.written) <= 3 else []:
        print(f"wrote {path}")
    if len(report.written) > 3:
        print(f"wrote {len(report.written)} images under {output}")
    for path, why in report.failed:
        print(f"turbopix: failed: {path}: {why}", file=sys.stderr)
    return 1 if report.failed else 0
