"""``turbopix sample``, ``reconstruct`` and ``interpolate``: pictures from a trained model.

The pictures themselves come from the library (``turbopix.sampling``); these commands parse the
flags, load the model and data, and write the files.
"""
from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch

from ..core.atomic import atomic_write
from ..core.config import check_range
from .common import CLIError, check_out, formatter


def add_commands(sub: Any) -> None:
    p = sub.add_parser("sample", help="sample images from a checkpoint", formatter_class=formatter)
    _common_args(p, "samples.png")
    p.add_argument("-n", "--n", type=int, default=64, help="number of images")
    p.add_argument("--format", choices=["grid", "png-dir", "npz"], default="grid",
                   help="one grid PNG, a folder of PNGs, or a .npz of uint8 arrays")
    p.add_argument("--nrow", type=int, default=None, help="images per grid row (default: square)")
    p.add_argument("--label", help="class(es) for conditional models, e.g. 3 or 0,1,2 (cycled over -n)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("reconstruct", help="encode and decode test images (vae, conv-vae, ae)", formatter_class=formatter)
    _common_args(p, "reconstructions.png")
    p.add_argument("--data", default="mnist", help="dataset to take test images from")
    p.add_argument("--data-root", help="dataset folder (default: $TURBOPIX_DATA)")
    p.add_argument("-n", "--n", type=int, default=32, help="number of images (a multiple of 8 gives paired rows)")
    p.set_defaults(func=cmd_reconstruct)

    p = sub.add_parser("interpolate", help="decode straight lines between random latents", formatter_class=formatter)
    _common_args(p, "interpolation.png")
    p.add_argument("--rows", type=int, default=8, help="number of interpolations")
    p.add_argument("--steps", type=int, default=10, help="images per interpolation")
    p.add_argument("--label", help="class(es) for conditional models")
    p.set_defaults(func=cmd_interpolate)


def _common_args(p: argparse.ArgumentParser, default_out: str) -> None:
    p.add_argument("checkpoint", help="a model.safetensors or a training checkpoint")
    p.add_argument("--out", default=default_out, help="output file")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")


def _parse_labels(text: str | None, n: int) -> torch.Tensor | None:
    """``--label 0,1,2`` cycled over ``n`` images (None when not given)."""
    if text is None:
        return None
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CLIError(f"{{option:label}} takes integers separated by commas, got {text!r}") from None
    if not values:
        raise CLIError("{option:label} needs at least one class")
    return torch.tensor([values[i % len(values)] for i in range(n)])


def cmd_sample(args: argparse.Namespace) -> int:
    from ..loading import load
    from ..sampling import save_grid, save_image, to_uint8

    check_range("n", args.n, {"min": 1})
    model = load(args.checkpoint)
    out = check_out(args.out, args.overwrite)
    labels = _parse_labels(args.label, args.n)
    images = model.sample(args.n, labels=labels, seed=args.seed)
    if args.format == "grid":
        save_grid(images, out, args.nrow)
    elif args.format == "png-dir":
        out.mkdir(parents=True, exist_ok=True)
        for i, img in enumerate(to_uint8(images)):
            save_image(img, out / f"{i:05d}.png")
    else:  # npz: uint8 (N, H, W, C) plus labels, written atomically
        arrays = {"images": to_uint8(images),
                  "labels": (labels if labels is not None else torch.full((args.n,), -1)).numpy()}

        def write(tmp: str) -> None:
            with open(tmp, "wb") as f:  # a file object: savez would append ".npz" to a bare name
                np.savez_compressed(f, **arrays)

        atomic_write(out, write)
    print(f"wrote {args.n} samples to {out}")
    return 0


def cmd_reconstruct(args: argparse.Namespace) -> int:
    from ..data import load_dataset
    from ..loading import load
    from ..sampling import check_reconstructs, reconstruction_grid, save_grid

    check_range("n", args.n, {"min": 1})
    model = load(args.checkpoint)
    check_reconstructs(model)  # before loading any data
    out = check_out(args.out, args.overwrite)
    c, s, _ = model.image_shape
    data = load_dataset(args.data, split="test", data_root=args.data_root, image_size=s, channels=c)
    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(args.seed))[: args.n]
    batch = data.batch(idx)
    images, nrow = reconstruction_grid(model, batch["image"], batch["label"])
    save_grid(images, out, nrow)
    print(f"wrote {args.n} originals and reconstructions to {out}")
    return 0


def cmd_interpolate(args: argparse.Namespace) -> int:
    from ..loading import load
    from ..sampling import interpolation_grid, save_grid

    model = load(args.checkpoint)
    out = check_out(args.out, args.overwrite)
    labels = _parse_labels(args.label, args.rows * args.steps) if model.num_classes else None
    images, nrow = interpolation_grid(model, rows=args.rows, steps=args.steps, seed=args.seed, labels=labels)
    save_grid(images, out, nrow)
    print(f"wrote {args.rows} interpolations of {args.steps} steps to {out}")
    return 0
