"""The one training loop, for every family.

A run directory holds everything a run writes:
  run.json                 model, config, training options and data (written at the start)
  log.jsonl                one line per ``log_every`` steps: step, mean losses, images/s, time
  samples/step_NNNNNN.png  the Task's preview grid every ``sample_every`` steps (EMA weights)
  checkpoints/step_NNNNNN.safetensors   model + EMA + optimizers + step, every ``ckpt_every``
  model.safetensors        the final model (EMA weights) for ``turbopix.load`` / ``turbopix sample``
  best.safetensors         Tasks with a validation score (``Task.best_metric``, e.g. restoration's
                           val_psnr on the held-out split): the model of the best score so far,
                           its metadata's ``best`` saying which metric, value and step
  loss_curve.png           the logged losses, drawn at the end

The loop knows nothing of any family or dataset: the model's Task (``tasks.py``, chosen by
``model.family``) checks the data, trains on each batch (a dict of tensors from any ``Dataset``),
draws the preview grids and says what to try when the loss diverges.

On several processes (see ``distributed.py``) only rank 0 reads or writes the run directory; the
other ranks get what they need from it (whether to resume, the checkpoint) through rank 0.
"""
from __future__ import annotations

import json
import math
import time
import warnings
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..core.atomic import atomic_write_text, remove_orphans
from ..core.checkpoint import read_metadata
from ..models.io import model_metadata, save
from ..core.config import TrainConfig, config_to_dict, parse_duration
from ..data.base import Dataset
from ..sampling import save_grid
from . import distributed, sync_bn
from .distributed import Dist
from .ema import EMA
from .errors import TrainingError, TrainingOptionError
from .schedule import BatchOrder, StepNoise, lr_factor, set_learning_rates, step_generator
from .provenance import check_resume
from .state import read_training_checkpoint, restore_training_state, save_training_checkpoint
from .tasks import TASKS
from ..core.threads import thread_policy


@dataclass
class TrainResult:
    out: Path
    model_path: Path
    steps: int
    seconds: float  # wall time of this invocation's steps (excluding a resumed run's earlier part)
    images_per_s: float
    last_losses: dict[str, float]
    stopped_by: str = ""  # "time budget" when time_budget ended the run before ``steps``


def _budget_seconds(cfg: TrainConfig) -> float | None:
    if cfg.time_budget is None:
        return None
    try:
        return parse_duration(cfg.time_budget)
    except ValueError as e:
        raise TrainingOptionError(f"{{option:time_budget}}: {e}") from None


def _step_name(step: int) -> str:
    return f"step_{step:06d}"


def latest_checkpoint(out: Path) -> Path | None:
    ckpts = sorted((out / "checkpoints").glob("step_*.safetensors"))
    return ckpts[-1] if ckpts else None


def _prepare_out(out: Path, resume: bool, restarted: bool = False) -> Path | None:
    """The checkpoint to resume from, after refusing to write over an earlier run.

    ``restarted``: torchrun restarted the workers after a failure (``--max-restarts``); the run
    continues from the failed attempt's last checkpoint, or starts over if it wrote none. A run
    that died before its first checkpoint is started over the same way on ``resume``, saying so.
    """
    if restarted:
        return latest_checkpoint(out)
    ckpt = latest_checkpoint(out)
    if resume:
        if ckpt is None:
            if not (out / "run.json").exists():
                raise TrainingError(f"{{option:resume=True}}: {out} holds no run (no run.json, no checkpoint)")
            warnings.warn(f"{out}: the run stopped before its first checkpoint; starting it over from step 0 "
                          "with the options in its run.json", stacklevel=3)
        return ckpt
    if (out / "run.json").exists():
        if ckpt is None and not (out / "model.safetensors").exists():
            raise TrainingError(f"{out} holds a run that stopped before its first checkpoint: pass "
                                "{option:resume=True} to start it over with the options in its run.json, "
                                "or choose another {option:out}")
        raise TrainingError(f"{out} already holds a run: pass {{option:resume=True}} to continue it, or choose another {{option:out}}")
    return None


def _write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2))


BEST_MODEL = "best.safetensors"  # the model of the best validation score so far (Task.best_metric)


def _best_so_far(path: Path, key: str | None) -> float | None:
    """On resume: the score of the run's best.safetensors (the file, not the log, whose lines after
    the resumed checkpoint were dropped: a later model is only replaced by a better one)."""
    if key is None or not path.is_file():
        return None
    best = read_metadata(path).get("best") or {}
    value = best.get("value") if isinstance(best, dict) and best.get("metric") == key else None
    return float(value) if isinstance(value, (int, float)) else None


def _trim_log(log_path: Path, step: int) -> None:
    """On resume, drop log lines written after the checkpoint we continue from."""
    if log_path.exists():
        keep = [line for line in log_path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
        atomic_write_text(log_path, "".join(line + "\n" for line in keep))


def train(
    model: torch.nn.Module, data: Dataset, cfg: TrainConfig, out: str | Path, *, resume: bool = False,
    data_spec: str = "", dist: Dist | None = None,
) -> TrainResult:
    """Train ``model`` on ``data`` into the run directory ``out`` (see the module docstring).

    ``dist``: this process's rank in a distributed job; by default the initialised process group's
    (see ``distributed.session``), or a single process.
    """
    before = torch.get_num_threads()
    try:
        return _train(model, data, cfg, out, resume=resume, data_spec=data_spec, dist=dist)
    finally:
        torch.set_num_threads(before)  # the count chosen for training is not left behind for the caller


def _train(
    model: torch.nn.Module, data: Dataset, cfg: TrainConfig, out: str | Path, *, resume: bool = False,
    data_spec: str = "", dist: Dist | None = None,
) -> TrainResult:
    out = Path(out)
    dist = dist or distributed.current()
    dist.check_batch(cfg.batch_size)
    budget = _budget_seconds(cfg)
    task_type = TASKS.get(model.family)
    task_type.check_data(model, data)
    # this rank's examples (a DistributedSampler shard); validates the batch size before anything is written
    order = BatchOrder(len(data), cfg.batch_size, cfg.seed, dist.rank, dist.world_size)
    resume_from = dist.on_main(lambda: _prepare_out(out, resume, restarted=dist.restart > 0))
    threads = thread_policy(cfg.threads, distributed=dist.enabled)  # tuned while training unless given
    run_meta = {"train": config_to_dict(cfg), "data": data_spec or data.name}
    checkpoint_state = None
    if resume_from is not None:  # checked before anything is written
        checkpoint_state = dist.on_main(lambda: read_training_checkpoint(resume_from))
        check_resume(checkpoint_state[1], cfg, model, run_meta["data"], str(resume_from))
    if dist.is_main:
        out.mkdir(parents=True, exist_ok=True)
        remove_orphans(out / "checkpoints")  # temporaries of checkpoint writes a kill interrupted
        # on resume: the record now says how far the run goes (only resumable options may differ)
        _write_json(out / "run.json", model_metadata(model, **run_meta))

    if dist.device.type != "cpu":
        model.to(dist.device)
    if dist.enabled and cfg.sync_bn:
        model = sync_bn.convert(model)  # before the optimizers see the weights
    model.train()
    task = task_type(model, cfg, wrap=dist.wrap)
    # the EMA is only sampled and checkpointed, both by rank 0, so the other ranks skip it
    ema = EMA(model, cfg.ema_decay) if cfg.ema_decay > 0 and dist.is_main else None
    step = 0
    if checkpoint_state is not None:
        step = restore_training_state(*checkpoint_state, model, ema, task.optimizers, where=str(resume_from))
    log_path = out / "log.jsonl"
    if dist.is_main:
        _trim_log(log_path, step)
    best_path, best_key = out / BEST_MODEL, task.best_metric
    best = {"value": _best_so_far(best_path, best_key) if resume_from is not None else None}

    sums: dict[str, float] = {}
    window_start, window_steps, t_start, start_step = time.perf_counter(), 0, time.perf_counter(), step
    stop_early = False
    last: dict[str, float] = {}

    def checkpoint(at: int) -> Path:
        path = save_training_checkpoint(out / "checkpoints" / f"{_step_name(at)}.safetensors", model, ema, task.optimizers, at, run_meta)
        for old in sorted((out / "checkpoints").glob("step_*.safetensors"))[: -max(cfg.keep_ckpts, 1)]:
            old.unlink()
        return path

    def sample_grid(name: str) -> None:
        sampler = ema.module if ema is not None else model
        was_training = sampler.training
        sampler.eval()
        with torch.no_grad():
            grid = task.preview(sampler, data)
        save_grid(grid.images, out / "samples" / f"{name}.png", grid.nrow)
        sampler.train(was_training)

    def validate(at: int, log) -> None:
        sampler = ema.module if ema is not None else model
        was_training = sampler.training
        sampler.eval()
        with torch.no_grad():
            metrics = task.validate(sampler, data)
        sampler.train(was_training)
        if metrics:
            log.write(json.dumps({"step": at, **metrics}) + "\n")
            log.flush()
        value = metrics.get(best_key) if best_key else None
        if value is not None and math.isfinite(value) and (best["value"] is None or value > best["value"]):
            best["value"] = value
            save(ema.full_model(model) if ema is not None else model, best_path, overwrite=True, step=at,
                 best={"metric": best_key, "value": value, "step": at}, **run_meta)

    # bf16: the forward and backward passes of a step run in bfloat16 where autocast allows; the
    # weights, their gradients, Adam's state and the EMA stay fp32 (no loss scaling is needed: bf16
    # has fp32's exponent range)
    autocast = torch.autocast(dist.device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16")
    bar = tqdm(total=cfg.steps, initial=step, disable=not (cfg.progress and dist.is_main), unit="step", dynamic_ncols=True)
    with ExitStack() as stack:
        stack.enter_context(bar)
        log = stack.enter_context(log_path.open("a")) if dist.is_main else None
        while step < cfg.steps:
            try:
                with threads.step():  # timed, for the thread tuner
                    batch = data.batch(order.indices(step), step_generator(cfg.seed, step, stream=1))
                    if dist.device.type != "cpu":
                        batch = {k: v.to(dist.device, non_blocking=True) for k, v in batch.items()}
                    noise = StepNoise(cfg.seed, step, cfg.batch_size, dist.rank, dist.world_size)
                    set_learning_rates(task.optimizers, lr_factor(cfg.lr_schedule, step, cfg.steps))
                    with autocast:
                        losses = task.step(batch, noise)
                    # on several processes: global-batch means, so the log matches one process and a
                    # non-finite loss stops every rank at the same step
                    values = dist.mean(torch.stack(list(losses.values()))).tolist()
            except RuntimeError as e:
                if dist.enabled and distributed.is_collective_failure(e):
                    raise TrainingError(distributed.explain(e, dist, step)) from e
                raise
            if not all(math.isfinite(v) for v in values):
                bad = {k: v for k, v in zip(losses, values)}
                kept = latest_checkpoint(out) if dist.is_main else None
                raise TrainingError(
                    f"loss became non-finite at step {step}: {bad}. Training stopped; the last good "
                    f"checkpoint is {kept if kept else 'none (no checkpoint was written yet)'}. {task.divergence_hint}"
                )
            if ema is not None:
                ema.update(step)
            step += 1
            window_steps += 1
            for k, v in zip(losses, values):
                sums[k] = sums.get(k, 0.0) + v
            bar.update(1)
            if budget is not None:  # every rank stops at the same step: the first one out of time decides
                over = float(time.perf_counter() - t_start >= budget)
                stop_early = (dist.mean(torch.tensor([over])).item() if dist.enabled else over) > 0

            if step % cfg.log_every == 0 or step == cfg.steps or stop_early:
                elapsed = time.perf_counter() - window_start
                last = {k: v / window_steps for k, v in sums.items()}
                ips = window_steps * cfg.batch_size / max(elapsed, 1e-9)  # the global batch: all ranks' images
                if log is not None:
                    lr = next(iter(task.optimizers.values())).param_groups[0]["lr"] if task.optimizers else None
                    log.write(json.dumps({"step": step, **last, "images_per_s": ips, "threads": threads.current,
                                          "time": time.perf_counter() - t_start, "lr": lr}) + "\n")
                    log.flush()
                bar.set_postfix({**{k: f"{v:.3g}" for k, v in last.items()}, "img/s": f"{ips:.0f}"}, refresh=False)
                sums, window_steps, window_start = {}, 0, time.perf_counter()
            if dist.is_main and cfg.sample_every and step % cfg.sample_every == 0:
                sample_grid(_step_name(step))
            if dist.is_main and cfg.ckpt_every and step % cfg.ckpt_every == 0:
                checkpoint(step)
            if dist.is_main and ((cfg.ckpt_every and step % cfg.ckpt_every == 0) or step == cfg.steps or stop_early):
                validate(step, log)
            if stop_early:
                break

    seconds = time.perf_counter() - t_start
    model_path = out / "model.safetensors"
    if dist.is_main:
        if latest_checkpoint(out) != out / "checkpoints" / f"{_step_name(step)}.safetensors":
            checkpoint(step)
        sample_grid("final")
        final_model = ema.full_model(model) if ema is not None else model
        model_path = save(final_model, model_path, overwrite=True, step=step, **run_meta)
        from ..plots import plot_losses

        plot_losses(log_path, out / "loss_curve.png", title=f"{model.name} on {run_meta['data']}")
    done = step - start_step
    return TrainResult(out, model_path, step, seconds, done * cfg.batch_size / max(seconds, 1e-9), last,
                       "time budget" if stop_early and step < cfg.steps else "")
