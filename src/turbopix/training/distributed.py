"""Data-parallel training on torch.distributed: process-group setup, rank helpers, DDP, launcher.

How a distributed run stays equal to a single-process one
---------------------------------------------------------
``schedule.py`` deals each rank its images with PyTorch's ``DistributedSampler`` (rank r of W gets
positions r, r+W, ... of the epoch's permutation, which depends on (seed, epoch) alone) and draws
the latent noise for the *global* batch from (seed, step), of which rank r takes the same rows
r::W; so the W ranks of a step see exactly one process's global batch and noise.
DistributedDataParallel averages gradients over ranks; every Task's loss is a per-sample mean over
its shard (the VAE's is summed over pixels and averaged over images), and the shards are equal in
size, so that average is the gradient of the global-batch loss. What remains is batch norm, whose
statistics are per process unless ``sync_bn`` turns it into SyncBatchNorm over the global batch.

Processes are started by ``torchrun`` (or by ``turbopix train --nproc N``, which runs torchrun for
the user); a process learns its rank from torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR, MASTER_PORT). Without that environment everything here is a no-op: one process, no
process group, no wrappers, no extra collectives.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any, Callable, Iterator, Literal, Optional, Sequence, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from ..core.config import add_config_args, config_from_dict, given_args, opt
from .errors import TrainingOptionError

T = TypeVar("T")

# Seconds a collective may wait for the other processes before it fails. A dead worker is noticed
# at once (its sockets close and torchrun's monitor sees it exit); the timeout is the backstop for a
# worker that hangs without dying. It must cover the slowest rank's dataset loading (the first
# collective waits for it), hence minutes, not seconds.
DEFAULT_TIMEOUT_S = 180.0
TIMEOUT_ENV, BACKEND_ENV = "TURBOPIX_DIST_TIMEOUT", "TURBOPIX_DIST_BACKEND"


@dataclass(frozen=True)
class Dist:
    """This process's place in the job. ``Dist()`` is the single-process case."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    restart: int = 0  # how many times torchrun has restarted the workers (TORCHELASTIC_RESTART_COUNT)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes logs, samples and checkpoints."""
        return self.rank == 0

    def check_batch(self, global_batch: int) -> int:
        """Images per rank for a global batch; a clear error when it does not split evenly."""
        if global_batch % self.world_size:
            lo, hi = global_batch - global_batch % self.world_size, global_batch + (-global_batch) % self.world_size
            raise TrainingOptionError(
                f"{{option:batch_size}} {global_batch} is the global batch, split evenly over {self.world_size} processes; "
                f"it does not divide by {self.world_size}: use {lo or hi} or {hi}"
            )
        return global_batch // self.world_size

    def wrap(self, module: nn.Module) -> nn.Module:
        """``module`` in DistributedDataParallel (gradients averaged over ranks); itself on one process."""
        if not self.enabled or not any(p.requires_grad for p in module.parameters()):
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        # broadcast_buffers (the default) copies rank 0's buffers (batch-norm running statistics, an
        # autoencoder's code statistics) to every rank at each forward, so all ranks hold what rank 0
        # checkpoints. No parameter is ever unused in a forward, so find_unused_parameters stays off.
        return nn.parallel.DistributedDataParallel(module, device_ids=ids)

    def on_main(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on rank 0 only and give every rank its result (or raise its exception everywhere).

        Used for everything that touches the run directory, so that other machines need no access
        to it and all ranks stop together when rank 0 refuses (e.g. the directory holds a run).
        """
        if not self.enabled:
            return fn()
        box: list[Any] = [None]
        if self.is_main:
            try:
                box[0] = ("ok", fn())
            except Exception as e:  # noqa: BLE001 - re-raised on every rank below
                box[0] = ("error", e)
        dist.broadcast_object_list(box, src=0, device=self.device if self.device.type == "cuda" else None)
        kind, value = box[0]
        if kind == "error":
            raise value
        return value

    def mean(self, t: torch.Tensor) -> torch.Tensor:
        """Mean of ``t`` over ranks (gloo has no AVG reduction: sum, then divide)."""
        if not self.enabled:
            return t
        t = t.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.div_(self.world_size)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def current() -> Dist:
    """The job this process belongs to, from the initialised process group (or ``Dist()``)."""
    restart = _env_int("TORCHELASTIC_RESTART_COUNT", 0)
    if not (dist.is_available() and dist.is_initialized()):
        return Dist(restart=restart)
    local_rank = _env_int("LOCAL_RANK", 0)
    nccl = dist.get_backend() == "nccl"
    device = torch.device("cuda", local_rank) if nccl else torch.device("cpu")
    return Dist(dist.get_rank(), dist.get_world_size(), local_rank, restart, device)


def resolve_backend(backend: str | None) -> str:
    """'auto' (the default): NCCL where CUDA GPUs are available, else gloo."""
    backend = backend or os.environ.get(BACKEND_ENV) or "auto"
    if backend == "auto":
        return "nccl" if torch.cuda.is_available() else "gloo"
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"distributed backend must be auto, gloo or nccl; got {backend!r}")
    if backend == "nccl" and not torch.cuda.is_available():
        raise ValueError("the nccl backend needs CUDA GPUs and none is available here: use gloo")
    return backend


@contextmanager
def session(*, timeout: float | None = None, backend: str | None = None) -> Iterator[Dist]:
    """Join the job torchrun started (WORLD_SIZE > 1) for the duration of the block.

    On one process this yields ``Dist()`` and does nothing. A process group someone else
    initialised is used as it is and left open.
    """
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1 or dist.is_initialized():
        yield current()
        return
    if not dist.is_available():
        raise RuntimeError("this PyTorch build has no torch.distributed; it cannot train on several processes")
    name = resolve_backend(backend)
    seconds = float(timeout if timeout is not None else os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S))
    if name == "nccl":
        torch.cuda.set_device(_env_int("LOCAL_RANK", 0))
    store, rank, world = next(dist.rendezvous("env://", timeout=timedelta(seconds=seconds)))
    # torchrun keeps its store when it restarts the workers (--max-restarts): without a prefix per
    # attempt, restarted workers can read the failed attempt's addresses and fail to connect
    store = dist.PrefixStore(f"turbopix/attempt_{_env_int('TORCHELASTIC_RESTART_COUNT', 0)}", store)
    dist.init_process_group(name, store=store, rank=rank, world_size=world, timeout=timedelta(seconds=seconds))
    try:
        yield current()
    finally:
        dist.destroy_process_group()


# gloo reports a dead peer or a timeout as a plain RuntimeError; these words identify them
_COLLECTIVE_FAILURE_WORDS = ("gloo", "nccl", "connection closed", "connection reset", "timed out", "timeout", "processgroup")


def is_collective_failure(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, dist.DistError) or any(w in text for w in _COLLECTIVE_FAILURE_WORDS)


def explain(error: BaseException, ctx: Dist, step: int) -> str:
    """A message for a failed collective: which rank noticed, where, and what to do."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (
        f"rank {ctx.rank} of {ctx.world_size} lost contact with the other processes at step {step}: "
        f"another worker died, hung past the collective timeout, or the network failed ({first}). "
        "Training stopped; continue from the last checkpoint with {option:resume=True} (on any number of processes)."
    )


# ---------------------------------------------------------------- launcher: turbopix train --nproc N
@dataclass(frozen=True)
class LaunchConfig:
    """How ``turbopix train`` runs on several processes; the CLI's launcher flags are built from it.

    The launcher options start torchrun and are not handed to the workers; the ``WORKER_OPTIONS``
    (collective timeout and backend) are read by every worker, which joins the job with them.
    """

    nproc: Optional[int] = opt(None, "launch this many training processes on this machine (via torchrun); "
                               "{option:batch_size} stays the global batch, split evenly over all processes", min=1)
    nnodes: int = opt(1, "number of machines in the job (one launch per machine)", min=1)
    node_rank: int = opt(0, "this machine's index, from 0 to {option:nnodes} - 1 (static rendezvous)", min=0)
    master_addr: str = opt("127.0.0.1", "address of the node-rank-0 machine (static rendezvous)")
    master_port: Optional[int] = opt(None, "free TCP port on the master (default: 29500 for several machines, "
                                     "a free port on one machine)", min=1, max=65535)
    rdzv_endpoint: Optional[str] = opt(None, "HOST:PORT of a c10d rendezvous instead of {option:master_addr}/"
                                       "{option:node_rank}: node ranks are assigned by the rendezvous (so "
                                       "{option:out} must be shared storage) and {option:max_restarts} works "
                                       "across machines")
    rdzv_id: str = opt("turbopix", "job id shared by all machines of an {option:rdzv_endpoint} job")
    max_restarts: int = opt(0, "restart all workers up to this many times after a failure; restarted workers "
                            "resume from the run's last checkpoint", min=0)
    dist_timeout: Optional[float] = opt(None, "seconds a collective waits for the other processes before failing "
                                        f"(default: ${TIMEOUT_ENV} or {DEFAULT_TIMEOUT_S:g})", above=0)
    dist_backend: Optional[Literal["auto", "gloo", "nccl"]] = opt(
        None, f"process-group backend (default: ${BACKEND_ENV} or auto: NCCL where CUDA GPUs are available, else gloo)")


WORKER_OPTIONS = ("dist_timeout", "dist_backend")  # passed on to each worker (api.train's keywords)
LAUNCH_FLAGS = tuple(f.name for f in fields(LaunchConfig) if f.name not in WORKER_OPTIONS)


class LaunchError(TrainingOptionError):
    """The launcher options do not describe a job torchrun can run."""


def split_launcher_args(argv: Sequence[str]) -> tuple[LaunchConfig, list[str]]:
    """(launcher options, the rest of ``argv`` in order): the rest is what each worker runs."""
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_config_args(pre, LaunchConfig, skip=WORKER_OPTIONS)
    ns, rest = pre.parse_known_args(list(argv))
    return config_from_dict(LaunchConfig, given_args(ns, LaunchConfig), what="the launcher"), rest


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def torchrun_command(launch: LaunchConfig, worker_argv: Sequence[str]) -> list[str]:
    """The torchrun command line that runs ``turbopix train WORKER_ARGV`` on ``launch.nproc`` processes."""
    if launch.nproc is None:
        raise LaunchError("the launcher needs {option:nproc}: the number of processes on this machine")
    if not launch.node_rank < launch.nnodes:
        raise LaunchError(f"{{option:node_rank}} must be in 0..{launch.nnodes - 1} ({{option:nnodes={launch.nnodes}}})")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", str(launch.nnodes),
           "--nproc-per-node", str(launch.nproc), "--max-restarts", str(launch.max_restarts)]
    if launch.rdzv_endpoint or launch.nnodes == 1:
        # c10d rendezvous (as torchrun --standalone, but on the loopback address): all machines'
        # agents restart their workers together after a failure
        port = launch.master_port if launch.master_port is not None else free_port(launch.master_addr)
        endpoint = launch.rdzv_endpoint or f"{launch.master_addr}:{port}"
        cmd += ["--rdzv-backend", "c10d", "--rdzv-endpoint", endpoint, "--rdzv-id", launch.rdzv_id]
    else:
        if launch.max_restarts:
            raise LaunchError("{option:max_restarts} on several machines needs {option:rdzv_endpoint}: with the static "
                              "rendezvous of {option:node_rank}/{option:master_addr} each machine would restart on its own")
        port = launch.master_port if launch.master_port is not None else 29500  # all machines must agree on it
        cmd += ["--node-rank", str(launch.node_rank), "--master-addr", launch.master_addr, "--master-port", str(port)]
    return [*cmd, "-m", "turbopix", "train", *worker_argv]


def launch(launch_args: LaunchConfig, worker_argv: Sequence[str]) -> int:
    """Run torchrun in a subprocess and wait for it; returns its exit code (0 when every worker succeeded)."""
    if "LOCAL_RANK" in os.environ and "TORCHELASTIC_RUN_ID" in os.environ:
        raise LaunchError("{option:nproc} starts torchrun, but this process already is a torchrun worker: "
                          "drop {option:nproc}")
    cmd = torchrun_command(launch_args, worker_argv)
    env = dict(os.environ)
    if "OMP_NUM_THREADS" not in env:
        # each worker gets its share of the cores (torchrun would otherwise force 1 and warn)
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // launch_args.nproc))
    print(f"turbopix: launching {launch_args.nproc} process(es) on node {launch_args.node_rank} of "
          f"{launch_args.nnodes}: {' '.join(cmd)}", file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # torchrun got the same Ctrl-C (same process group) and is stopping its workers: let it,
        # rather than kill it and orphan them
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
