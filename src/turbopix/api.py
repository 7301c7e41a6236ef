"""The one-call Python API behind ``turbopix train`` (the CLI is a thin layer over it)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from .core.config import TrainConfig, config_from_dict, config_to_dict
from .data import ImageData, load_dataset
from .models import ImageGenerator, create_model
from .training import TrainingError, TrainingOptionError, TrainResult
from .training import distributed
from .training.provenance import FIXED_HINT
from .training.recipes import apply_recipe
from .training.state import load_initial_weights
from .training import train as _train_loop


def train(
    model: str | ImageGenerator | None,
    data: str | ImageData | None,
    *,
    out: str | Path,
    resume: bool = False,
    conditional: bool = False,
    data_root: str | Path | None = None,
    skip_bad: bool = False,
    model_options: dict[str, Any] | None = None,
    dist_timeout: float | None = None,
    dist_backend: str | None = None,
    **train_options: Any,
) -> TrainResult:
    """Train a model (a registered name or an instance) on a dataset (a spec such as ``"mnist"``).

    ``model_options`` override the model config (``image_size`` and ``channels`` default to the
    data's; ``conditional=True`` sets ``num_classes`` from the data). ``train_options`` are
    :class:`~turbopix.core.config.TrainConfig` fields (``steps``, ``batch_size``, ``lr``, ...).
    With ``resume=True``, model and data may be None: they are read from ``out/run.json``, and
    ``train_options`` may only extend the run (e.g. a larger ``steps``).

    Started by torchrun (``turbopix train --nproc N``), each process joins the job for the length
    of the call: ``dist_timeout`` seconds bound every collective (default $TURBOPIX_DIST_TIMEOUT or
    180), ``dist_backend`` is auto (NCCL with GPUs, else gloo), gloo or nccl. See docs/distributed.md.
    """
    with distributed.session(timeout=dist_timeout, backend=dist_backend) as dist:
        return _train(model, data, out, resume, conditional, data_root, skip_bad, model_options, train_options, dist)


def _train(
    model: str | ImageGenerator | None, data: str | ImageData | None, out: str | Path, resume: bool, conditional: bool,
    data_root: str | Path | None, skip_bad: bool, model_options: dict[str, Any] | None, train_options: dict[str, Any],
    dist: distributed.Dist,
) -> TrainResult:
    out = Path(out)
    model_options = dict(model_options or {})
    if resume:
        run = dist.on_main(lambda: _read_run(out))  # rank 0's run directory: other machines need none
        # before any data is loaded (the loop checks the rest against the checkpoint)
        for name, given, recorded in (("model", model, run["model"]), ("data", data, run["data"])):
            if isinstance(given, str) and given != recorded:
                raise TrainingOptionError(f"{{option:resume=True}}: the run in {out} has {{option:{name}={recorded}}}, "
                                          f"not {given}; {FIXED_HINT}")
        model = model if model is not None else run["model"]
        data = data if data is not None else run["data"]
        model_options = {**run["config"], **model_options}
        train_options = {**run["train"], **train_options}
    elif train_options.get("recipe") is not None:  # on resume the run's record already holds the recipe's values
        if not (model is None or isinstance(model, str)):
            raise TrainingOptionError("{option:recipe} builds its own model: give the model by name, or none")
        model, model_options, train_options, conditional = apply_recipe(
            train_options["recipe"], model, model_options, train_options, conditional)
    if model is None or data is None:
        raise TrainingOptionError("{option:model} and {option:data} are required "
                                  "(unless {option:resume=True} continues the run in {option:out})")
    cfg = config_from_dict(TrainConfig, train_options, what="training")

    spec = data if isinstance(data, str) else data.name
    if isinstance(data, str):
        size = model_options.get("image_size")
        data = load_dataset(data, split="train", data_root=data_root, image_size=size,
                            channels=model_options.get("channels"), skip_bad=skip_bad)
    if isinstance(model, str):
        if data.image_size is not None:  # None: whole images of any size (a fully convolutional restorer)
            model_options.setdefault("image_size", data.image_size)
        model_options.setdefault("channels", data.channels)
        if conditional:
            if not data.num_classes:
                raise TrainingOptionError(f"{{option:conditional=True}} needs labelled data; {data.name} has no classes")
            model_options["num_classes"] = data.num_classes
        torch.manual_seed(cfg.seed)  # weight initialisation is part of what the seed fixes
        model = create_model(model, **model_options)
    if cfg.init_from is not None and not resume:  # a resumed run's weights come from its checkpoint
        load_initial_weights(model, cfg.init_from)
    return _train_loop(model, data, cfg, out, resume=resume, data_spec=spec, dist=dist)


def _read_run(out: Path) -> dict[str, Any]:
    path = out / "run.json"
    if not path.is_file():
        raise TrainingError(f"{{option:resume=True}}: {path} not found; is {out} a turbopix run directory?")
    try:
        run = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise TrainingError(f"{path}: damaged run record ({e}); it cannot be resumed") from None
    types = {"model": str, "data": str, "config": dict, "train": dict}
    wrong = [k for k, t in types.items() if not isinstance(run, dict) or not isinstance(run.get(k), t)]
    if wrong:
        raise TrainingError(f"{path}: damaged run record ({', '.join(wrong)} missing or of the wrong type); "
                            "it cannot be resumed")
    return run


__all__ = ["train", "config_to_dict"]
