"""``turbopix eval`` and ``turbopix compare``: the evaluation commands of the CLI.

    turbopix eval runs/x/model.safetensors --ref mnist:test --n 10000 --json eval.json
    turbopix eval samples/ --ref fashion-mnist:test --metrics fid,kid,prdc
    turbopix compare restored/ ground_truth/ --metrics psnr,ssim --y-channel --crop 4

The flags are built from ``EvalConfig`` and ``CompareConfig`` (``turbopix.evaluation.config``),
where every option and its help is declared once. Handlers return an exit code; bad input raises
an error whose message ``turbopix.cli.main`` prints before exiting with status 2. Library errors
name options as templates; they are rendered here as flags (``{option:n}`` -> ``--n``).
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from turbopix.core.atomic import atomic_write, refuse_overwrite
from turbopix.core.config import add_config_args, given_args
from .common import CLIError


def _formatter(prog: str) -> argparse.HelpFormatter:
    # defaults are in the help texts already (add_config_args writes them), so no Defaults formatter
    return argparse.HelpFormatter(prog, max_help_position=34, width=100)


def add_commands(sub: Any) -> None:
    """Add ``eval`` and ``compare`` to the ``turbopix`` subparsers."""
    from turbopix.evaluation.config import CompareConfig, EvalConfig

    p = sub.add_parser(
        "eval",
        help="distribution metrics (FID, KID, PRDC, ...) of a generator against real data",
        description="Sample N images from SOURCE (a turbopix checkpoint, a folder of images, an ONNX "
        "generator or real data), extract features with a classifier trained on the reference data, and compare them "
        "with N reference images. Reference features are cached.",
        formatter_class=_formatter,
    )
    p.add_argument("source", help="checkpoint .safetensors, image folder, .onnx generator (input z [, labels]), "
                   "or data:DATASET:SPLIT (real images: the metrics' real-vs-real floor)")
    add_config_args(p, EvalConfig)
    p.add_argument("-n", dest="n", type=int, default=None, help=argparse.SUPPRESS)  # short for --n
    p.add_argument("--json", help="also write the full result, with provenance, to this JSON file")
    p.add_argument("--overwrite", action="store_true", help="replace the --json file if it exists")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "compare",
        help="paired metrics (PSNR, SSIM, MS-SSIM) between two folders of images",
        description="Compare images of folder A with the images of the same name (extension aside) in folder B.",
        formatter_class=_formatter,
    )
    p.add_argument("a", help="folder of images (e.g. restored)")
    p.add_argument("b", help="folder of reference images with the same names")
    add_config_args(p, CompareConfig)
    p.add_argument("--summary", action="store_true", help="print only the mean row, not one row per image")
    p.add_argument("--json", help="also write the result (per image and mean) to this JSON file")
    p.add_argument("--overwrite", action="store_true", help="replace the --json file if it exists")
    p.set_defaults(func=cmd_compare)


def cmd_eval(args: argparse.Namespace) -> int:
    from turbopix.evaluation.config import EvalConfig
    from turbopix.evaluation.evaluate import evaluate, format_results, parse_metrics

    options = given_args(args, EvalConfig)
    if "metrics" in options:
        parse_metrics(options["metrics"])  # fail on a typo before minutes of work
    out = _check_output(args.json, args.overwrite)
    result = evaluate(args.source, **options)
    print(format_results(result))
    if out is not None:
        write_json(result, out, overwrite=args.overwrite)
        print(f"wrote {out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from turbopix.evaluation.config import CompareConfig
    from turbopix.evaluation.paired import compare_folders, format_table

    out = _check_output(args.json, args.overwrite)
    result = compare_folders(args.a, args.b, **given_args(args, CompareConfig))
    print(format_table(result, per_image=not args.summary), end="")
    if out is not None:
        write_json(result, out, overwrite=args.overwrite)
        print(f"wrote {out}")
    return 0


def _check_output(path: str | None, overwrite: bool) -> Path | None:
    if path is None:
        return None
    out = Path(path)
    if out.is_dir():
        raise CLIError(f"{out} is a folder; {{option:json}} needs a file name")
    return refuse_overwrite(out, overwrite)


def _json_safe(value: Any) -> Any:
    """Non-finite floats as the strings "inf", "-inf", "nan": JSON has no such numbers (PSNR of
    identical images is +inf), and strict readers reject Python's Infinity extension."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_json(result: dict[str, Any], path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``result`` as JSON atomically (temporary file, then rename); refuse to replace an
    existing file unless ``overwrite`` (``core.atomic.OutputExistsError``)."""
    path = refuse_overwrite(path, overwrite)
    text = json.dumps(_json_safe(result), indent=2, allow_nan=False) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))
