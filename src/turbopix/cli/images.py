"""``turbopix sample``, ``reconstruct`` and ``interpolate``: pictures from a trained model.

The pictures and their options come from the library (``turbopix.sampling``: ``SampleConfig``,
``ReconstructConfig``, ``InterpolateConfig``, each option declared once with its range); these
commands build the flags from them, load the model, and write the files. Every output is checked
(not overwritten without ``--overwrite``, a format its extension names, a folder we can write in)
before the model is loaded.
"""
from __future__ import annotations

import argparse
from typing import Any

import torch

from ..core.config import add_config_args, config_from_dict, given_args
from ..sampling import InterpolateConfig, ReconstructConfig, SampleConfig
from .common import check_out


def add_commands(sub: Any) -> None:
    p = sub.add_parser("sample", help="sample images from a checkpoint",
                       description="Sample images, in chunks of --chunk (memory stays bounded for any -n). "
                       "--format png-dir with --overwrite replaces the whole folder (written beside it, then "
                       "swapped in), so no image of an earlier sample is left behind.")
    _common_args(p, "samples.png", SampleConfig)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("reconstruct", help="encode and decode test images (vae, conv-vae, ae)")
    _common_args(p, "reconstructions.png", ReconstructConfig)
    p.set_defaults(func=cmd_reconstruct)

    p = sub.add_parser("interpolate", help="decode straight lines between random latents")
    _common_args(p, "interpolation.png", InterpolateConfig)
    p.set_defaults(func=cmd_interpolate)


def _common_args(p: argparse.ArgumentParser, default_out: str, config: type) -> None:
    p.add_argument("checkpoint", help="a model.safetensors, a training checkpoint or an accelerated artifact folder")
    p.add_argument("--out", default=default_out, help="output file (its extension picks the image format: "
                   f".png, .jpg, .bmp, .webp, .tif) or, for --format png-dir, folder (default: {default_out})")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    add_config_args(p, config)
    if any(f == "n" for f in config.__dataclass_fields__):
        p.add_argument("-n", dest="n", type=int, default=None, help=argparse.SUPPRESS)  # short for --n
    p.set_defaults(config=config)


def _config(args: argparse.Namespace) -> Any:
    return config_from_dict(args.config, given_args(args, args.config), what=args.command)


def cmd_sample(args: argparse.Namespace) -> int:
    from ..loading import load
    from ..sampling import check_sample_output, write_samples

    cfg = _config(args)
    check_sample_output(args.out, cfg, args.overwrite)  # before the model is loaded
    model = load(args.checkpoint)
    out = write_samples(model, args.out, cfg, overwrite=args.overwrite)
    print(f"wrote {cfg.n} samples to {out}")
    return 0


def _grid_command(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The config, the checked output path (its format and overwrite) and the model of a grid command;
    the output is checked before the model is loaded."""
    from ..loading import load
    from ..sampling import image_format

    cfg = _config(args)
    image_format(args.out)
    out = check_out(args.out, args.overwrite)
    return cfg, out, load(args.checkpoint)


def cmd_reconstruct(args: argparse.Namespace) -> int:
    from ..data import load_dataset
    from ..sampling import check_reconstructs, reconstruction_grid, save_grid

    cfg, out, model = _grid_command(args)
    check_reconstructs(model)  # before loading any data
    c, s, _ = model.image_shape
    data = load_dataset(cfg.data, split="test", data_root=cfg.data_root, image_size=s, channels=c)
    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(cfg.seed))[: cfg.n]
    batch = data.batch(idx)
    images, nrow = reconstruction_grid(model, batch["image"], batch["label"])
    save_grid(images, out, nrow)
    print(f"wrote {len(idx)} originals and reconstructions to {out}")
    return 0


def cmd_interpolate(args: argparse.Namespace) -> int:
    from ..sampling import interpolation_grid, parse_labels, save_grid

    cfg, out, model = _grid_command(args)
    labels = parse_labels(cfg.label, cfg.rows * cfg.steps) if model.num_classes else None
    images, nrow = interpolation_grid(model, rows=cfg.rows, steps=cfg.steps, seed=cfg.seed, labels=labels)
    save_grid(images, out, nrow)
    print(f"wrote {cfg.rows} interpolations of {cfg.steps} steps to {out}")
    return 0
