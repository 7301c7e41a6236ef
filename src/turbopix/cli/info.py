"""``turbopix list`` and ``turbopix info``: what is registered, and what a checkpoint holds."""
from __future__ import annotations

import argparse
import json
from typing import Any


def add_commands(sub: Any) -> None:
    p = sub.add_parser("list", help="registered models and datasets")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("recipes", help="training recipes: named presets for 'turbopix train --recipe NAME'",
                       description="Each recipe fixes a model, its options and the training options; any option "
                       "given to 'turbopix train' overrides the recipe's value.")
    p.set_defaults(func=cmd_recipes)

    p = sub.add_parser("info", help="print the metadata of a checkpoint or an accelerated artifact folder")
    p.add_argument("checkpoint", help="a model.safetensors, a training checkpoint or an artifact folder")
    p.set_defaults(func=cmd_info)


def cmd_list(args: argparse.Namespace) -> int:
    from .. import data  # noqa: F401  (registers the datasets)
    from ..core.registry import DATASETS, MODELS

    print("models:")
    for e in MODELS:
        print(f"  {e.name:<14} {e.obj.family:<4} {e.info.get('description', '')}")
    print("datasets:")
    for e in DATASETS:
        print(f"  {e.name:<14} {e.info.get('description', '')}")
    print("  folder:PATH    any image folder (class subfolders become labels)")
    from ..training.recipes import RECIPES

    print("training recipes (turbopix recipes shows their settings):")
    for r in RECIPES:
        print(f"  {r.name:<14} {r.obj.description}")
    return 0


def cmd_recipes(args: argparse.Namespace) -> int:
    from ..training.recipes import RECIPES, describe

    for r in RECIPES:
        print(f"{r.name}: {r.obj.description}\n  {describe(r.name)}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from ..accel.artifact import MODEL_FILE, artifact_file, is_artifact, read_artifact_metadata
    from ..core.checkpoint import read_metadata

    if is_artifact(args.checkpoint):  # artifact.json, then what its model file says
        meta = {"artifact": read_artifact_metadata(args.checkpoint),
                "model": read_metadata(artifact_file(args.checkpoint, MODEL_FILE))}
    else:
        meta = read_metadata(args.checkpoint)
        meta.pop("optimizers", None)  # internal resume state, not for reading
    print(json.dumps(meta, indent=2))
    return 0
