"""``turbopix eval`` and ``turbopix compare``: the evaluation commands of the CLI.

    turbopix eval runs/x/model.safetensors --ref mnist:test --n 10000 --json eval.json
    turbopix eval samples/ --ref fashion-mnist:test --metrics fid,kid,prdc
    turbopix compare restored/ ground_truth/ --metrics psnr,ssim --y-channel --crop 4

Handlers return an exit code; bad input raises ValueError (or a subclass) with a message that
``turbopix.cli.main`` prints before exiting with status 2.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from turbopix.core.atomic import atomic_write


class OutputExistsError(ValueError):
    """The output file exists and --overwrite was not given."""


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: X)" only for real defaults, not for unset options and off switches."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=34, width=100)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:  # identity: a default of 0 is still shown
            return action.help
        return super()._get_help_string(action)


def add_commands(sub: Any) -> None:
    """Add ``eval`` and ``compare`` to the ``turbopix`` subparsers."""
    from turbopix.evaluation.evaluate import ALL_METRICS, DEFAULT_METRICS

    p = sub.add_parser(
        "eval",
        help="distribution metrics (FID, KID, PRDC, ...) of a generator against real data",
        description="Sample N images from SOURCE (a turbopix checkpoint, a folder of images, an ONNX "
        "generator or real data), extract features with a classifier trained on the reference data, and compare them "
        "with N reference images. Reference features are cached.",
        formatter_class=_Formatter,
    )
    p.add_argument("source", help="checkpoint .safetensors, image folder, .onnx generator (input z [, labels]), "
                   "or data:DATASET:SPLIT (real images: the metrics' real-vs-real floor)")
    p.add_argument("--ref", default="mnist:test", help="reference data: DATASET[:SPLIT] or folder:PATH")
    p.add_argument("--metrics", default=",".join(DEFAULT_METRICS), help=f"comma-separated, from: {','.join(ALL_METRICS)}")
    p.add_argument("--n", "-n", type=int, default=10000, help="generated images, and reference images (fewer if the reference is smaller)")
    p.add_argument("--extractor", help="registered extractor name, .onnx file or ARCH:weights.safetensors (default: the one for --ref)")
    p.add_argument("--seed", type=int, default=0, help="seed for sampling and for the metrics' random draws")
    p.add_argument("--data-root", help="dataset folder (default: $TURBOPIX_DATA)")
    p.add_argument("--batch-size", type=int, default=500, help="images generated at once (memory only; results do not change)")
    p.add_argument("--json", help="also write the full result, with provenance, to this JSON file")
    p.add_argument("--overwrite", action="store_true", help="replace the --json file if it exists")
    p.add_argument("--no-cache", action="store_true", help="recompute the reference features instead of using the cache")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "compare",
        help="paired metrics (PSNR, SSIM, MS-SSIM) between two folders of images",
        description="Compare images of folder A with the images of the same name (extension aside) in folder B.",
        formatter_class=_Formatter,
    )
    p.add_argument("a", help="folder of images (e.g. restored)")
    p.add_argument("b", help="folder of reference images with the same names")
    p.add_argument("--metrics", default="psnr,ssim,ms-ssim", help="comma-separated paired metrics")
    p.add_argument("--y-channel", action="store_true", help="compute on the BT.601 Y channel, 0-255 range (super-resolution convention)")
    p.add_argument("--crop", type=int, default=0, help="pixels removed from each border before computing")
    p.add_argument("--summary", action="store_true", help="print only the mean row, not one row per image")
    p.add_argument("--json", help="also write the result (per image and mean) to this JSON file")
    p.add_argument("--overwrite", action="store_true", help="replace the --json file if it exists")
    p.set_defaults(func=cmd_compare)


def cmd_eval(args: argparse.Namespace) -> int:
    from turbopix.evaluation.evaluate import evaluate, format_results, parse_metrics

    metrics = parse_metrics(args.metrics)  # fail on a typo before minutes of work
    out = _check_output(args.json, args.overwrite)
    result = evaluate(
        args.source, ref=args.ref, metrics=metrics, n=args.n, extractor=args.extractor, seed=args.seed,
        data_root=args.data_root, batch_size=args.batch_size, cache=not args.no_cache, progress=not args.no_progress,
    )
    print(format_results(result))
    if out is not None:
        write_json(result, out, overwrite=args.overwrite)
        print(f"wrote {out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from turbopix.evaluation.paired import compare_folders, format_table

    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if args.crop < 0:
        raise ValueError(f"--crop must be >= 0, got {args.crop}")
    out = _check_output(args.json, args.overwrite)
    result = compare_folders(args.a, args.b, metrics=metrics, y_channel=args.y_channel, crop=args.crop)
    print(format_table(result, per_image=not args.summary), end="")
    if out is not None:
        write_json(result, out, overwrite=args.overwrite)
        print(f"wrote {out}")
    return 0


def _check_output(path: str | None, overwrite: bool) -> Path | None:
    if path is None:
        return None
    out = Path(path)
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{out} exists; pass --overwrite to replace it")
    if out.is_dir():
        raise OutputExistsError(f"{out} is a folder; --json needs a file name")
    return out


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
    existing file unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass --overwrite to replace it")
    text = json.dumps(_json_safe(result), indent=2, allow_nan=False) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))
