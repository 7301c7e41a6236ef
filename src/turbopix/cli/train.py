"""``turbopix train``: flags generated from TrainConfig, the model's config and LaunchConfig.

With ``--nproc N`` the command starts torchrun, which runs the same command line (less the launcher
flags) on N processes; each of them lands here again without ``--nproc`` and trains its share.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from ..core.config import TrainConfig, add_config_args, config_from_dict, given_args
from ..core.errors import render_text
from ..core.registry import MODELS
from ..training.distributed import LAUNCH_FLAGS, LaunchConfig
from ..training.recipes import RECIPES
from .common import CLIError


def add_command(sub: Any, model_name: str | None) -> None:
    """The ``train`` parser; the options of ``model_name`` (pre-parsed from argv) are added too."""
    # no abbreviated flags: the launcher flags are split off the command line by their full names,
    # and a new generated flag could otherwise make an abbreviation users rely on ambiguous
    p = sub.add_parser(
        "train",
        allow_abbrev=False,
        help="train a model on a dataset",
        description="Train a generator. Model options appear below once --model is given "
        "(e.g. 'turbopix train --model dcgan --help'). Writes a run directory: samples/, checkpoints/, "
        "log.jsonl, loss_curve.png and model.safetensors.",
        epilog=f"models: {', '.join(MODELS.names())}; recipes (--recipe, see 'turbopix recipes'): {', '.join(RECIPES.names())}",
    )
    p.add_argument("--model", help="registered model name (see 'turbopix list')")
    p.add_argument("--data", help="dataset: mnist, fashion-mnist, cifar10, digits or folder:PATH")
    p.add_argument("--data-root", help="folder with datasets laid out like shared/data (default: $TURBOPIX_DATA)")
    p.add_argument("--out", help="run directory to create (default: runs/MODEL-DATA)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint "
                   "(one that stopped before its first checkpoint starts over); only --steps and the logging, "
                   "sampling, checkpoint, thread and progress options may change")
    p.add_argument("--conditional", action="store_true", help="class-conditional model: num_classes from the data")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable images (with a warning) instead of failing")
    add_config_args(p.add_argument_group("training options"), TrainConfig)
    add_config_args(p.add_argument_group("distributed training (docs/distributed.md)"), LaunchConfig)
    config = MODELS.entry(model_name).info["config"] if model_name else None
    if config:
        add_config_args(p.add_argument_group(f"options of model '{model_name}'"), config)
    p.set_defaults(func=run, model_config=config)


def model_from_argv(argv: Sequence[str]) -> str | None:
    """Pre-parse --model (or the run's model for --resume) so that model flags can be added."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--model")
    pre.add_argument("--out")
    pre.add_argument("--resume", action="store_true")
    pre.add_argument("--recipe")
    known, _ = pre.parse_known_args(argv)
    if known.model:
        return known.model
    if known.recipe:
        return RECIPES.get(known.recipe).model if known.recipe in RECIPES else None  # else the library names it
    if known.resume and known.out:
        try:
            model = json.loads((Path(known.out) / "run.json").read_text()).get("model")
        except (OSError, ValueError, AttributeError):
            return None  # the library reports a missing or damaged run.json, naming it
        return model if isinstance(model, str) and model in MODELS.names() else None
    return None


def run(args: argparse.Namespace) -> int:
    from ..api import train as train_model

    if not args.resume and not ((args.model or args.recipe) and args.data):
        raise CLIError("train needs {option:model} and {option:data} ({option:recipe} NAME may replace "
                       "{option:model}; {option:resume} {option:out} RUN replaces both)")
    if args.resume and not args.out:
        raise CLIError("{option:resume} needs {option:out}: the run directory to continue")
    out = Path(args.out or f"runs/{args.recipe or args.model}-{args.data.replace(':', '-').replace('/', '_')}")
    given = given_args(args, LaunchConfig)
    launch = config_from_dict(LaunchConfig, given, what="the launcher")  # ranges checked before anything starts
    if launch.nproc is not None:
        return _launch(args, out)
    stray = [name for name in given if name in LAUNCH_FLAGS]
    if stray:
        names = ", ".join(f"{{option:{name}}}" for name in stray)
        raise CLIError(f"launcher option(s) {names} have no effect without {{option:nproc}}: give {{option:nproc}} too")
    model_opts = given_args(args, args.model_config) if args.model_config else {}
    result = train_model(
        args.model, args.data, out=out, resume=args.resume, conditional=args.conditional,
        data_root=args.data_root, skip_bad=args.skip_bad, model_options=model_opts,
        dist_timeout=launch.dist_timeout, dist_backend=launch.dist_backend, **given_args(args, TrainConfig),
    )
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, rank 0 speaks for the job
        print(f"trained {result.steps} steps in {result.seconds:.1f} s ({result.images_per_s:.0f} images/s)"
              + (f"; stopped by the time budget (continue with --resume --out {result.out})" if result.stopped_by else ""))
        print(f"model: {result.model_path}\nsamples: {out / 'samples'}\nloss curve: {out / 'loss_curve.png'}")
    return 0


def _launch(args: argparse.Namespace, out: Path) -> int:
    """``turbopix train --nproc N ...``: run the same command on N processes under torchrun."""
    from ..training import latest_checkpoint
    from ..training.distributed import launch, split_launcher_args

    launch_config, worker_argv = split_launcher_args(args.raw_argv)
    code = launch(launch_config, worker_argv)
    if code != 0:
        ckpt = latest_checkpoint(out)
        again = f"turbopix train {{option:resume}} {{option:out={out}}} {{option:nproc={args.nproc}}}"
        message = (f"distributed training failed (torchrun exit code {code}): a worker failed, was killed or lost "
                   "contact with the others; the first error is printed above. "
                   + (f"The last checkpoint is {ckpt}; continue with '{again}' (any {{option:nproc}} works)."
                      if ckpt else "No checkpoint was written."))
        print(f"turbopix: error: {render_text(message, 'cli')}", file=sys.stderr)
    return code
