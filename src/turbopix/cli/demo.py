"""``turbopix demo``: train the demo recipes and write the report (``turbopix.demo``)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import formatter


def add_commands(sub: Any) -> None:
    p = sub.add_parser("demo", help="train a small GAN and two VAEs on MNIST, show the shipped image-to-image "
                       "models and a digits translator, and write an HTML report (4-7 min on 2 cores)",
                       formatter_class=formatter)
    p.add_argument("--out", default="runs/demo", help="report folder")
    p.add_argument("--data-root", help="dataset folder (default: $TURBOPIX_DATA)")
    p.add_argument("--data", default="mnist", help="dataset to train on (falls back to digits if it cannot be had)")
    p.add_argument("--quick", action="store_true", help="a few steps only (a smoke test, samples will be noise)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier demo in --out")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    report = run_demo(Path(args.out), data=args.data, data_root=args.data_root, quick=args.quick,
                      overwrite=args.overwrite)
    print(f"report: {report}")
    return 0
