"""``turbopix accelerate`` and ``turbopix bench``: the acceleration commands of the CLI.

    turbopix accelerate runs/x/model.safetensors --recipe prune:0.5,int8 --calib mnist:train --out fast/
    turbopix bench runs/x/model.safetensors fast/ --batch 1,64,256 --json bench.json
    turbopix bench sr.safetensors sr-int8/ --batch 1 --size 256,512 --threads 2   # image-to-image sizes

The options are the fields of ``AccelerateConfig`` and ``BenchConfig`` (``turbopix.accel.config``),
turned into flags by ``add_config_args``; only the positional arguments, the output handling and
the ``--quick`` presets are written here. Handlers return an exit code; bad input raises ValueError
(or a subclass) with a message, in flag spelling, that ``turbopix.cli.main`` prints before exiting
with status 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from ..accel.config import AccelerateConfig, BenchConfig
from ..accel.recipe import __doc__ as RECIPE_DOC
from ..core.config import add_config_args, given_args

# --quick: tiny settings for smoke tests (numbers meaningless); they override the given options
QUICK_ACCELERATE = {"finetune_steps": 20, "distill_steps": 20, "calib_size": 64, "quality_n": 256}
QUICK_BENCH = {"rounds": 2, "memory": False, "target_s": 0.03}
QUICK_QUALITY_N = 256  # at most, in a quick bench


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=34, width=100)


def _batches(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes integers separated by commas, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("needs batch sizes >= 1, e.g. 1,64,256")
    return values


def _add_batches(group: Any) -> None:
    """``--batch 1,64,256``: BenchConfig's ``batches`` as one comma-separated value (the help and
    default are the field's)."""
    field = next(f for f in dataclasses.fields(BenchConfig) if f.name == "batches")
    group.add_argument("--batch", "--batches", dest="batches", type=_batches, default=None, metavar="B1,B2,...",
                       help=f"{field.metadata['help']}, comma-separated (default: {','.join(map(str, field.default))})")


def _sizes(text: str) -> list[str]:
    from ..accel.config import AccelOptionError, format_size, parse_size

    try:
        return [format_size(parse_size(v.strip())) for v in text.split(",") if v.strip()]
    except AccelOptionError:
        raise argparse.ArgumentTypeError(f"takes sizes H or HxW separated by commas, e.g. 256,512x384; got {text!r}") from None


def _add_sizes(group: Any) -> None:
    """``--size 256,512`` (or repeated): BenchConfig's ``sizes``, comma-separated."""
    field = next(f for f in dataclasses.fields(BenchConfig) if f.name == "sizes")
    group.add_argument("--size", "--sizes", dest="sizes", type=_sizes, action="extend", default=None, metavar="H[xW],...",
                       help=f"{field.metadata['help']}; comma-separated or repeated")


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "accelerate", help="make a faster artifact of a checkpoint (prune, distill, int8, ONNX Runtime, OpenVINO, compile)",
        description="Apply an acceleration recipe and write an artifact folder that 'turbopix sample' can load.\n\n" + RECIPE_DOC.split("\n", 2)[2],
        formatter_class=_formatter,
    )
    p.add_argument("checkpoint", help="a model.safetensors or training checkpoint")
    p.add_argument("--recipe", required=True, help="comma-separated steps, e.g. prune:0.5,int8 (see above)")
    p.add_argument("--out", required=True, help="artifact folder to write")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--quick", action="store_true", help="tiny settings for smoke tests (quality numbers meaningless)")
    add_config_args(p.add_argument_group("accelerate options"), AccelerateConfig)
    p.set_defaults(func=cmd_accelerate)

    p = sub.add_parser(
        "bench", help="speed, memory, FLOPs and quality cost of a checkpoint and its artifacts",
        description="Time eager fp32 of CHECKPOINT and each ARTIFACT in interleaved rounds (medians), with reference "
        "fp32/bf16/int8 matmuls in the same rounds for percent of peak; quality against eager fp32 on the same inputs.",
        formatter_class=_formatter,
    )
    p.add_argument("checkpoint", help="the source model.safetensors (eager fp32 baseline)")
    p.add_argument("artifacts", nargs="*", help="artifact folders written by 'turbopix accelerate'")
    p.add_argument("--json", help="also write the rows as JSON to this file")
    p.add_argument("--quick", action="store_true", help="2 short rounds, at most 256 inputs for quality, no memory (smoke tests)")
    g = p.add_argument_group("bench options")
    _add_batches(g)
    _add_sizes(g)
    add_config_args(g, BenchConfig, skip=("batches", "sizes"))
    g.add_argument("--default-malloc", dest="steady_malloc", action="store_const", const=False, help="same as --steady-malloc false")
    p.set_defaults(func=cmd_bench)


def cmd_accelerate(args: argparse.Namespace) -> int:
    from ..accel.artifact import read_artifact_metadata
    from ..accel.recipe import accelerate

    options = {**given_args(args, AccelerateConfig), **(QUICK_ACCELERATE if args.quick else {})}
    out = accelerate(args.checkpoint, args.recipe, args.out, overwrite=args.overwrite,
                     log=lambda s: print(s, file=sys.stderr), **options)
    checks = read_artifact_metadata(out)["checks"]
    q = checks.get("quality")
    if q is None:
        quality = "quality not measured"
    else:
        fid = "FID skipped" if q["fid"] is None else f"FID {q['fid']:.2f} vs {q['fid_eager']:.2f} eager ({100 * q['fid_delta_rel']:+.1f}%)"
        quality = f"max pixel error {q['max_abs_error']:.4f}; {fid}"
    print(f"wrote {out}: params {checks['params']:,} (source {checks['params_source']:,}), "
          f"{checks['flops_per_image'] / 1e6:.2f} MFLOP/image (source {checks['flops_per_image_source'] / 1e6:.2f}); {quality}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ..accel.bench import bench, to_markdown, write_json

    options = given_args(args, BenchConfig)
    if args.quick:
        quality_n = min(options.get("quality_n", QUICK_QUALITY_N), QUICK_QUALITY_N)
        options.update(QUICK_BENCH, quality_n=quality_n)
    rows = bench(args.checkpoint, args.artifacts, **options)
    print(to_markdown(rows))
    if args.json:
        print(f"wrote {write_json(rows, Path(args.json))}", file=sys.stderr)
    return 0
