"""What ``resume`` may change, and the check that it changed nothing else.

A run directory's ``run.json`` and every checkpoint record the model (name and config), the data
spec and the training options. Continuing a run with another batch size, learning rate, seed,
dataset or model config would produce a model that no record describes, so resuming refuses it and
names the option. The options declared ``resumable`` in :class:`~turbopix.core.config.TrainConfig`
(how long to train, and how often to log, sample and checkpoint, threads, progress bar) may change;
``steps`` may grow but not fall below the step the run has reached.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ..core.config import TrainConfig, config_from_dict, config_to_dict
from ..models.base import unwrap
from .errors import TrainingError, TrainingOptionError

RESUMABLE = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.metadata.get("resumable"))
FIXED_HINT = ("it is part of the run's record; start a new run in another {option:out} to change it "
              f"(on resume only {', '.join('{option:' + name + '}' for name in RESUMABLE)} may change)")


def check_resume(meta: dict[str, Any], cfg: TrainConfig, model: Any, data_spec: str, where: str) -> None:
    """Refuse to continue the run recorded in ``meta`` (a checkpoint's metadata, from ``where``)
    with another model, data or non-resumable training option."""
    try:
        old = config_from_dict(TrainConfig, meta["train"], what="the checkpoint's training options")
        old_model, old_config, old_data = meta["model"], meta["config"], meta["data"]
    except (KeyError, TypeError, ValueError) as e:
        raise TrainingError(f"{where}: the checkpoint's record of its run is damaged ({e}); it cannot be resumed") from None
    for f in dataclasses.fields(TrainConfig):
        before, now = getattr(old, f.name), getattr(cfg, f.name)
        if not f.metadata.get("resumable") and before != now:
            raise TrainingOptionError(f"{{option:resume=True}}: {{option:{f.name}}} was {before} in this run, "
                                      f"now {now}; {FIXED_HINT}")
    base = unwrap(model)
    if old_model != base.name:
        raise TrainingOptionError(f"{{option:resume=True}}: the run trains {old_model}, not {{option:model={base.name}}}; {FIXED_HINT}")
    config = config_to_dict(base.config)
    if isinstance(old_config, dict):
        for name in sorted(set(config) | set(old_config)):
            if old_config.get(name) != config.get(name):
                raise TrainingOptionError(f"{{option:resume=True}}: model option {{option:{name}}} was "
                                          f"{old_config.get(name)} in this run, now {config.get(name)}; {FIXED_HINT}")
    if old_data != data_spec:
        raise TrainingOptionError(f"{{option:resume=True}}: the run trains on {old_data}, not "
                                  f"{{option:data={data_spec}}}; {FIXED_HINT}")
    step = meta.get("step")
    if isinstance(step, int) and cfg.steps < step:
        raise TrainingOptionError(f"{{option:resume=True}}: the run is at step {step} already; "
                                  f"{{option:steps={cfg.steps}}} would end it before that: give {{option:steps}} >= {step}")
