"""``turbopix accelerate`` and ``turbopix bench``: the acceleration commands of the CLI.

    turbopix accelerate runs/x/model.safetensors --recipe prune:0.5,int8 --calib mnist:train --out fast/
    turbopix bench runs/x/model.safetensors fast/ --batch 1,64,256 --json bench.json

Handlers return an exit code; bad input raises ValueError (or a subclass) with a message that
``turbopix.cli.main`` prints before exiting with status 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..accel.recipe import __doc__ as RECIPE_DOC


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=34, width=100)


def _batches(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--batch takes integers separated by commas, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("--batch needs batch sizes >= 1, e.g. 1,64,256")
    return values


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "accelerate", help="make a faster artifact of a checkpoint (prune, distill, int8, ONNX Runtime, OpenVINO, compile)",
        description="Apply an acceleration recipe and write an artifact folder that 'turbopix sample' can load.\n\n" + RECIPE_DOC.split("\n", 2)[2],
        formatter_class=_formatter,
    )
    p.add_argument("checkpoint", help="a model.safetensors or training checkpoint")
    p.add_argument("--recipe", required=True, help="comma-separated steps, e.g. prune:0.5,int8 (see above)")
    p.add_argument("--out", required=True, help="artifact folder to write")
    p.add_argument("--calib", default="auto", help="int8 calibration data, e.g. mnist:train ('auto': the training data's train split; 'none': latent prior only)")
    p.add_argument("--ref", default="auto", help="reference set for the FID check ('auto': the training data's test split; 'none': skip FID)")
    p.add_argument("--data-root", help="dataset folder (default: $TURBOPIX_DATA)")
    p.add_argument("--finetune-steps", type=int, default=500, help="distillation steps after pruning (default: 500)")
    p.add_argument("--distill-steps", type=int, default=2000, help="distillation steps for a distill step (default: 2000)")
    p.add_argument("--calib-size", type=int, default=512, help="calibration inputs for int8 (default: 512)")
    p.add_argument("--quality-n", type=int, default=2000, help="images compared with the eager fp32 model (default: 2000)")
    p.add_argument("--quick", action="store_true", help="tiny settings for smoke tests (quality numbers meaningless)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=cmd_accelerate)

    p = sub.add_parser(
        "bench", help="speed, memory, FLOPs and quality cost of a checkpoint and its artifacts",
        description="Time eager fp32 of CHECKPOINT and each ARTIFACT in interleaved rounds (medians), with reference "
        "fp32/bf16/int8 matmuls in the same rounds for percent of peak; quality against eager fp32 on the same latents.",
        formatter_class=_formatter,
    )
    p.add_argument("checkpoint", help="the source model.safetensors (eager fp32 baseline)")
    p.add_argument("artifacts", nargs="*", help="artifact folders written by 'turbopix accelerate'")
    p.add_argument("--batch", type=_batches, default=[1, 64, 256], help="batch sizes (default: 1,64,256)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default: 5)")
    p.add_argument("--quality-n", type=int, default=2000, help="images for the quality comparison; 0 skips it (default: 2000)")
    p.add_argument("--ref", default="auto", help="FID reference ('auto': the training data's test split; 'none': skip FID)")
    p.add_argument("--data-root", help="dataset folder (default: $TURBOPIX_DATA)")
    p.add_argument("--no-memory", action="store_true", help="skip the per-variant peak-memory subprocesses")
    p.add_argument("--default-malloc", action="store_true",
                   help="keep glibc's default mmap threshold (by default it is raised: eager PyTorch at large batches swung 2x with it)")
    p.add_argument("--threads", type=int, help="CPU threads for every variant and runtime (default: torch's choice)")
    p.add_argument("--json", help="also write the rows as JSON to this file")
    p.add_argument("--quick", action="store_true", help="2 short rounds, 256 images for quality, no memory (smoke tests)")
    p.set_defaults(func=cmd_bench)


def _none(text: str | None) -> str | None:
    return None if text is None or text.lower() == "none" else text


def cmd_accelerate(args: argparse.Namespace) -> int:
    from ..accel.recipe import accelerate

    quick = dict(finetune_steps=20, distill_steps=20, calib_size=64, quality_n=256) if args.quick else {}
    out = accelerate(
        args.checkpoint, args.recipe, args.out, calib=_none(args.calib), ref=_none(args.ref), data_root=args.data_root,
        overwrite=args.overwrite, log=lambda s: print(s, file=sys.stderr),
        **{"finetune_steps": args.finetune_steps, "distill_steps": args.distill_steps, "calib_size": args.calib_size,
           "quality_n": args.quality_n, **quick},
    )
    from ..accel.artifact import read_artifact_metadata

    checks = read_artifact_metadata(out)["checks"]
    q = checks["quality"]
    fid = "FID skipped" if q["fid"] is None else f"FID {q['fid']:.2f} vs {q['fid_eager']:.2f} eager ({100 * q['fid_delta_rel']:+.1f}%)"
    print(f"wrote {out}: params {checks['params']:,} (source {checks['params_source']:,}), "
          f"{checks['flops_per_image'] / 1e6:.2f} MFLOP/image (source {checks['flops_per_image_source'] / 1e6:.2f}); "
          f"max pixel error {q['max_abs_error']:.4f}; {fid}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ..accel.bench import bench, to_markdown, write_json

    if args.rounds < 1:
        raise ValueError("--rounds must be at least 1")
    if args.threads is not None and args.threads < 1:
        raise ValueError("--threads must be at least 1")
    options = dict(rounds=args.rounds, quality_n=args.quality_n, memory=not args.no_memory, target_s=0.3)
    if args.quick:
        options.update(rounds=2, quality_n=min(args.quality_n, 256), memory=False, target_s=0.03)
    rows = bench(args.checkpoint, args.artifacts, batches=args.batch, ref=_none(args.ref), threads=args.threads, data_root=args.data_root,
                 steady_malloc=not args.default_malloc, **options)
    print(to_markdown(rows))
    if args.json:
        print(f"wrote {write_json(rows, Path(args.json))}", file=sys.stderr)
    return 0
