"""The ``turbopix`` command line: a thin layer over the Python API.

Flags for model and training options are generated from the config dataclasses, so every option
and its help text is declared once (in ``config.py`` and the model files). Unknown flags are errors.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from ..core.atomic import atomic_write
from ..core.config import TrainConfig, add_config_args, given_args
from ..core.registry import MODELS, UnknownNameError
from ..training.distributed import DEFAULT_TIMEOUT_S, TIMEOUT_ENV, add_launcher_args

EPILOG = "Run 'turbopix COMMAND --help' for a command's options. Docs: README.md."
# Modules that add more subcommands: each has ``add_commands(subparsers)`` whose parsers set
# ``func`` to a handler taking the parsed args and returning an exit code.
COMMAND_MODULES: list[str] = [
    "turbopix.cli.eval",
    "turbopix.cli.accel",
]


class CLIError(Exception):
    """A user error found by the CLI itself; printed without a traceback."""


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.ArgumentDefaultsHelpFormatter(prog, max_help_position=34, width=100)


# ---------------------------------------------------------------- train
def _train_parser(sub, model_name: str | None) -> None:
    # no abbreviated flags: the launcher flags are split off the command line by their full names,
    # and a new generated flag could otherwise make an abbreviation users rely on ambiguous
    p = sub.add_parser(
        "train",
        allow_abbrev=False,
        help="train a model on a dataset",
        description="Train a generator. Model options appear below once --model is given "
        "(e.g. 'turbopix train --model dcgan --help'). Writes a run directory: samples/, checkpoints/, "
        "log.jsonl, loss_curve.png and model.safetensors.",
        epilog=f"models: {', '.join(MODELS.names())}",
    )
    p.add_argument("--model", help="registered model name (see 'turbopix list')")
    p.add_argument("--data", help="dataset: mnist, fashion-mnist, cifar10, digits or folder:PATH")
    p.add_argument("--data-root", help="folder with datasets laid out like shared/data (default: $TURBOPIX_DATA)")
    p.add_argument("--out", help="run directory to create (default: runs/MODEL-DATA)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--conditional", action="store_true", help="class-conditional model: num_classes from the data")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable images (with a warning) instead of failing")
    add_config_args(p.add_argument_group("training options"), TrainConfig)
    g = p.add_argument_group("distributed training (docs/distributed.md)")
    add_launcher_args(g)
    g.add_argument("--dist-timeout", type=float, help="seconds a collective waits for the other processes before "
                   f"failing (default: ${TIMEOUT_ENV} or {DEFAULT_TIMEOUT_S:g})")
    g.add_argument("--dist-backend", choices=["auto", "gloo", "nccl"], help="process-group backend (default: auto, "
                   "NCCL where CUDA GPUs are available, else gloo)")
    if model_name:
        entry = MODELS.entry(model_name)
        add_config_args(p.add_argument_group(f"options of model '{model_name}'"), entry.info["config"])
    p.set_defaults(func=cmd_train, model_config=MODELS.entry(model_name).info["config"] if model_name else None)


def cmd_train(args: argparse.Namespace) -> int:
    from ..api import train

    if not args.resume and not (args.model and args.data):
        raise CLIError("train needs --model and --data (or --resume --out RUN)")
    if args.resume and not args.out:
        raise CLIError("--resume needs --out: the run directory to continue")
    out = Path(args.out or f"runs/{args.model}-{args.data.replace(':', '-').replace('/', '_')}")
    if args.nproc is not None:
        return _launch_train(args, out)
    if args.nnodes != 1 or args.rdzv_endpoint or args.max_restarts:
        raise CLIError("--nnodes, --rdzv-endpoint and --max-restarts start torchrun: give --nproc too")
    model_opts = given_args(args, args.model_config) if args.model_config else {}
    result = train(
        args.model, args.data, out=out, resume=args.resume, conditional=args.conditional,
        data_root=args.data_root, skip_bad=args.skip_bad, model_options=model_opts,
        dist_timeout=args.dist_timeout, dist_backend=args.dist_backend, **given_args(args, TrainConfig),
    )
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, rank 0 speaks for the job
        print(f"trained {result.steps} steps in {result.seconds:.1f} s ({result.images_per_s:.0f} images/s)")
        print(f"model: {result.model_path}\nsamples: {out / 'samples'}\nloss curve: {out / 'loss_curve.png'}")
    return 0


def _launch_train(args: argparse.Namespace, out: Path) -> int:
    """``turbopix train --nproc N ...``: run the same command on N processes under torchrun."""
    from ..training.distributed import launch, split_launcher_args

    launch_args, worker_argv = split_launcher_args(args.raw_argv)
    code = launch(launch_args, worker_argv)
    if code != 0:
        from ..training import latest_checkpoint

        ckpt = latest_checkpoint(out)
        again = f"turbopix train --resume --out {out} --nproc {args.nproc}"
        print(f"turbopix: error: distributed training failed (torchrun exit code {code}): a worker failed, was "
              "killed or lost contact with the others; the first error is printed above. "
              + (f"The last checkpoint is {ckpt}; continue with '{again}' (any --nproc works)." if ckpt
                 else "No checkpoint was written."), file=sys.stderr)
    return code


# ---------------------------------------------------------------- sample & co
def _parse_labels(text: str | None, n: int) -> torch.Tensor | None:
    if text is None:
        return None
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CLIError(f"--label takes integers separated by commas, got {text!r}") from None
    if not values:
        raise CLIError("--label needs at least one class")
    return torch.tensor([values[i % len(values)] for i in range(n)])


def _check_out(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise CLIError(f"{path} exists; pass --overwrite to replace it")


def cmd_sample(args: argparse.Namespace) -> int:
    from ..loading import load
    from ..sampling import save_grid, save_image, to_uint8

    if args.n < 1:
        raise CLIError("-n must be at least 1")
    model = load(args.checkpoint)
    out = Path(args.out)
    _check_out(out, args.overwrite)
    labels = _parse_labels(args.label, args.n)
    images = model.sample(args.n, labels=labels, seed=args.seed)
    if args.format == "grid":
        save_grid(images, out, args.nrow)
    elif args.format == "png-dir":
        out.mkdir(parents=True, exist_ok=True)
        for i, img in enumerate(to_uint8(images)):
            save_image(img, out / f"{i:05d}.png")
    else:  # npz: uint8 (N, H, W, C) plus labels, written atomically
        arrays = {"images": to_uint8(images), "labels": (labels if labels is not None else torch.full((args.n,), -1)).numpy()}

        def write(tmp: str) -> None:
            with open(tmp, "wb") as f:  # a file object: savez would append ".npz" to a bare name
                np.savez_compressed(f, **arrays)

        atomic_write(out, write)
    print(f"wrote {args.n} samples to {out}")
    return 0


def cmd_reconstruct(args: argparse.Namespace) -> int:
    from ..loading import load
    from ..data import load_dataset
    from ..sampling import save_grid

    model = load(args.checkpoint)
    if not hasattr(model, "reconstruct"):
        raise CLIError(f"model '{model.name}' ({model.family}) has no encoder; reconstruct works for vae, conv-vae and ae")
    out = Path(args.out)
    _check_out(out, args.overwrite)
    c, s, _ = model.image_shape
    data = load_dataset(args.data, split="test", data_root=args.data_root, image_size=s, channels=c)
    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(args.seed))[: args.n]
    b = data.batch(idx)
    x, y = b["image"], b["label"]
    recon = model.reconstruct(x, y if model.num_classes else None)
    # rows of 8: originals on odd rows, reconstructions right below
    pairs = torch.stack([x.view(-1, 8, c, s, s), recon.view(-1, 8, c, s, s)], 1).flatten(0, 2) if args.n % 8 == 0 else torch.cat([x, recon])
    save_grid(pairs, out, 8 if args.n % 8 == 0 else args.n)
    print(f"wrote {args.n} originals and reconstructions to {out}")
    return 0


def cmd_interpolate(args: argparse.Namespace) -> int:
    from ..loading import load
    from ..sampling import save_grid

    model = load(args.checkpoint)
    out = Path(args.out)
    _check_out(out, args.overwrite)
    gen = torch.Generator().manual_seed(args.seed)
    ends = model.sample_latent(2 * args.rows, gen).view(args.rows, 2, -1)
    t = torch.linspace(0, 1, args.steps)[None, :, None]
    z = (ends[:, :1] * (1 - t) + ends[:, 1:] * t).flatten(0, 1)  # rows x steps latents
    labels = _parse_labels(args.label, len(z)) if model.num_classes else None
    if model.num_classes and labels is None:
        labels = torch.randint(model.num_classes, (args.rows,), generator=gen).repeat_interleave(args.steps)
    with torch.no_grad():
        save_grid(model.generate(z, labels), out, args.steps)
    print(f"wrote {args.rows} interpolations of {args.steps} steps to {out}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from .. import data  # noqa: F401  (registers the datasets)
    from ..core.registry import DATASETS

    print("models:")
    for e in MODELS:
        print(f"  {e.name:<14} {e.obj.family:<4} {e.info.get('description', '')}")
    print("datasets:")
    for e in DATASETS:
        print(f"  {e.name:<14} {e.info.get('description', '')}")
    print("  folder:PATH    any image folder (class subfolders become labels)")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from ..core.checkpoint import read_metadata

    meta = read_metadata(args.checkpoint)
    meta.pop("optimizers", None)  # internal resume state, not for reading
    print(json.dumps(meta, indent=2))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    report = run_demo(Path(args.out), data=args.data, data_root=args.data_root, quick=args.quick, overwrite=args.overwrite)
    print(f"report: {report}")
    return 0


def _common_sample_args(p: argparse.ArgumentParser, default_out: str) -> None:
    p.add_argument("checkpoint", help="a model.safetensors or a training checkpoint")
    p.add_argument("--out", default=default_out, help="output file")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")


def build_parser(model_name: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="turbopix", description="Train, sample, evaluate and accelerate small image generators.", epilog=EPILOG
    )
    from ..core.version import __version__

    parser.add_argument("--version", action="version", version=f"turbopix {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _train_parser(sub, model_name)

    p = sub.add_parser("sample", help="sample images from a checkpoint", formatter_class=_formatter)
    _common_sample_args(p, "samples.png")
    p.add_argument("-n", type=int, default=64, help="number of images")
    p.add_argument("--format", choices=["grid", "png-dir", "npz"], default="grid", help="one grid PNG, a folder of PNGs, or a .npz of uint8 arrays")
    p.add_argument("--nrow", type=int, default=None, help="images per grid row (default: square)")
    p.add_argument("--label", help="class(es) for conditional models, e.g. 3 or 0,1,2 (cycled over -n)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("reconstruct", help="encode and decode test images (vae, conv-vae, ae)", formatter_class=_formatter)
    _common_sample_args(p, "reconstructions.png")
    p.add_argument("--data", default="mnist", help="dataset to take test images from")
    p.add_argument("--data-root", help="dataset folder (default: $TURBOPIX_DATA)")
    p.add_argument("-n", type=int, default=32, help="number of images (a multiple of 8 gives paired rows)")
    p.set_defaults(func=cmd_reconstruct)

    p = sub.add_parser("interpolate", help="decode straight lines between random latents", formatter_class=_formatter)
    _common_sample_args(p, "interpolation.png")
    p.add_argument("--rows", type=int, default=8, help="number of interpolations")
    p.add_argument("--steps", type=int, default=10, help="images per interpolation")
    p.add_argument("--label", help="class(es) for conditional models")
    p.set_defaults(func=cmd_interpolate)

    p = sub.add_parser("list", help="registered models and datasets")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="print a checkpoint's metadata")
    p.add_argument("checkpoint")
    p.set_defaults(func=cmd_info)

    for module in COMMAND_MODULES:
        importlib.import_module(module).add_commands(sub)

    p = sub.add_parser("demo", help="train a small GAN and two VAEs on MNIST and write an HTML report (about 4 min on 2 cores)", formatter_class=_formatter)
    p.add_argument("--out", default="runs/demo", help="report folder")
    p.add_argument("--data-root", help="dataset folder (default: $TURBOPIX_DATA)")
    p.add_argument("--data", default="mnist", help="dataset to train on (falls back to digits if it cannot be had)")
    p.add_argument("--quick", action="store_true", help="a few steps only (a smoke test, samples will be noise)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier demo in --out")
    p.set_defaults(func=cmd_demo)
    return parser


def _model_from_argv(argv: Sequence[str]) -> str | None:
    """Pre-parse --model (or the run's model for --resume) so that model flags can be added."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--model")
    pre.add_argument("--out")
    pre.add_argument("--resume", action="store_true")
    known, _ = pre.parse_known_args(argv)
    if known.model:
        return known.model
    if known.resume and known.out and (Path(known.out) / "run.json").exists():
        return json.loads((Path(known.out) / "run.json").read_text()).get("model")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        model_name = _model_from_argv(argv[1:]) if argv[:1] == ["train"] else None
        args = build_parser(model_name).parse_args(argv)
        args.raw_argv = argv[1:]  # the launcher (train --nproc) hands these on to its workers
        handler: Callable[[argparse.Namespace], int] = args.func
        return handler(args)
    except KeyboardInterrupt:
        print("turbopix: interrupted", file=sys.stderr)
        return 130
    except (CLIError, UnknownNameError, ValueError, TypeError, FileExistsError, FileNotFoundError, RuntimeError) as e:
        # RuntimeError covers TrainingError; user-facing errors are raised with full messages.
        # TURBOPIX_DEBUG=1 shows the traceback (for bug reports).
        if os.environ.get("TURBOPIX_DEBUG"):
            raise
        print(f"turbopix: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
