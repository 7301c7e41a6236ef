"""Distributed training: N processes train exactly what one process trains, and failures end the job.

The multi-process tests start real torchrun jobs (gloo, 127.0.0.1 only) on the bundled digits with
tiny models; each job takes 10-30 s on a busy 2-core machine, so every job is shared by the tests
that can read it.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch import nn

import turbopix
from turbopix.core.checkpoint import read_checkpoint
from turbopix.core.errors import render
from turbopix.cli.main import main
from turbopix.data import load_dataset
from turbopix.training.distributed import Dist, free_port, split_launcher_args, torchrun_command
from turbopix.training.sync_bn import GlobalBatchNorm, convert

pytestmark = pytest.mark.skipif(not dist.is_available() or sys.platform != "linux", reason="needs torch.distributed on Linux")

TOL = 1e-4  # max abs difference allowed between a 2-process and a 1-process run (the bar)
STEPS = 20
TRAIN = dict(batch_size=32, log_every=5, sample_every=0, ckpt_every=10, keep_ckpts=5, progress=False, threads=1, seed=3)
VAE = dict(hidden=(64,))
DCGAN = dict(g_width=8, d_width=8)
WORKER = Path(__file__).with_name("dist_worker.py")


def _flags(options: dict) -> list[str]:
    out = []
    for k, v in options.items():
        flag = "--" + k.replace("_", "-")
        out += [flag, *map(str, v)] if isinstance(v, tuple) else [flag, str(v).lower() if isinstance(v, bool) else str(v)]
    return out


def _env() -> dict[str, str]:
    # gloo on the loopback interface only; one thread per worker on the 2-core machine
    return {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}


def _torchrun(script: list[str], nproc: int = 2, extra: list[str] = (), env: dict | None = None, **popen) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(nproc), *extra, *script]
    return subprocess.Popen(cmd, env=env or _env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def _finish(proc: subprocess.Popen, timeout: float = 150) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-4000:]
    return out


def _train_args(model: str, out: Path, model_opts: dict, steps: int = STEPS, **extra) -> list[str]:
    return ["train", "--model", model, "--data", "digits", "--out", str(out), *_flags({**TRAIN, **model_opts, **extra}), "--steps", str(steps)]


def _max_diff(a_path: Path, b_path: Path) -> float:
    """Max abs difference over every tensor of two checkpoints (weights, EMA, Adam moments)."""
    a, _ = read_checkpoint(a_path)
    b, _ = read_checkpoint(b_path)
    assert a.keys() == b.keys()
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


def _ckpt(run: Path, step: int) -> Path:
    return run / "checkpoints" / f"step_{step:06d}.safetensors"


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(c) for c in (task / "children").read_text().split()]
    return kids


def _workers(pid: int) -> list[int]:
    """The leaves of the process tree under ``pid``: the training workers."""
    kids = _children(pid)
    return [pid] if not kids else [leaf for k in kids for leaf in _workers(k)]


# ---------------------------------------------------------------- reference runs, on one process
@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", split="train")


@pytest.fixture(scope="module")
def ref(digits, tmp_path_factory):
    root = tmp_path_factory.mktemp("ref")
    turbopix.train("vae", digits, out=root / "vae", steps=30, model_options=VAE, **TRAIN)
    turbopix.train("dcgan", digits, out=root / "dcgan", steps=STEPS, model_options=DCGAN, **TRAIN)
    return root


@pytest.fixture(scope="module")
def vae_2proc(tmp_path_factory):
    """A VAE trained for 20 steps on 2 processes under torchrun."""
    out = tmp_path_factory.mktemp("vae2") / "run"
    port = free_port()
    _finish(_torchrun(["-m", "turbopix", *_train_args("vae", out, VAE)], extra=["--master-addr", "127.0.0.1", "--master-port", str(port)]))
    return out


# ---------------------------------------------------------------- equivalence
def test_vae_on_two_processes_equals_one(ref, vae_2proc):
    diff = _max_diff(_ckpt(ref / "vae", STEPS), _ckpt(vae_2proc, STEPS))
    print(f"vae 2 processes vs 1: max abs diff {diff:.3g}")
    assert diff < TOL
    # the logged losses are global-batch means, as on one process
    rows = lambda run: [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]  # noqa: E731
    for a, b in zip(rows(ref / "vae"), rows(vae_2proc)):
        assert a["step"] == b["step"] and abs(a["loss"] - b["loss"]) < 1e-3 * abs(a["loss"])


def test_dcgan_sync_bn_on_two_processes_equals_one(ref, tmp_path):
    """Through the launcher: ``turbopix train --nproc 2 ... --sync-bn true``."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "turbopix", *_train_args("dcgan", out, DCGAN, sync_bn=True), "--nproc", "2"]
    result = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=150)
    assert result.returncode == 0, result.stderr[-4000:]
    diff = _max_diff(_ckpt(ref / "dcgan", STEPS), _ckpt(out, STEPS))
    print(f"dcgan --sync-bn 2 processes vs 1: max abs diff {diff:.3g}")
    assert diff < TOL


def test_sync_bn_is_a_no_op_on_one_process(ref, digits, tmp_path):
    turbopix.train("dcgan", digits, out=tmp_path / "run", steps=STEPS, model_options=DCGAN, sync_bn=True, **TRAIN)
    a, _ = read_checkpoint(_ckpt(ref / "dcgan", STEPS))
    b, _ = read_checkpoint(_ckpt(tmp_path / "run", STEPS))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_global_batch_norm_matches_batch_norm(monkeypatch):
    """On a (one-process) gloo group GlobalBatchNorm takes its synchronised path: same outputs,
    gradients and running statistics as nn.BatchNorm2d."""
    monkeypatch.setenv("GLOO_SOCKET_IFNAME", "lo")
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    nn.init.normal_(bn.weight)
    x = torch.randn(8, 3, 5, 5) * 3 + 1
    mine = convert(nn.Sequential(bn.__class__(3)))[0]
    mine.load_state_dict(bn.state_dict())
    assert isinstance(mine, GlobalBatchNorm)
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        ya, yb = bn(xa), mine(xb)
        g = torch.randn_like(ya)
        (ya * g).sum().backward()
        (yb * g).sum().backward()
    finally:
        dist.destroy_process_group()
    torch.testing.assert_close(yb, ya, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(xb.grad, xa.grad, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(mine.weight.grad, bn.weight.grad, atol=1e-5, rtol=1e-5)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        torch.testing.assert_close(getattr(mine, name), getattr(bn, name))


# ---------------------------------------------------------------- what a 2-process run writes
def test_two_processes_write_one_set_of_files(ref, vae_2proc):
    files = sorted(str(p.relative_to(vae_2proc)) for p in vae_2proc.rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(ref / "vae")) for p in (ref / "vae").rglob("*")
                           if p.is_file() and "step_000030" not in p.name), "unexpected or missing files"
    assert [json.loads(line)["step"] for line in (vae_2proc / "log.jsonl").read_text().splitlines()] == [5, 10, 15, 20]
    # the same checkpoint format as one process: same keys, and the same metadata apart from timing
    a, meta_a = read_checkpoint(_ckpt(ref / "vae", STEPS))
    b, meta_b = read_checkpoint(_ckpt(vae_2proc, STEPS))
    assert a.keys() == b.keys() and meta_a.keys() == meta_b.keys() and meta_a["optimizers"] == meta_b["optimizers"]


def test_a_two_process_checkpoint_resumes_on_one_process(ref, vae_2proc, tmp_path):
    run = tmp_path / "run"
    subprocess.run(["cp", "-r", str(vae_2proc), str(run)], check=True)
    turbopix.train(None, None, out=run, resume=True, steps=30)
    assert _max_diff(_ckpt(ref / "vae", 30), _ckpt(run, 30)) < TOL


def test_two_nodes_on_loopback(ref, tmp_path):
    """Two torchrun invocations, one per 'machine', meeting at a master address and port."""
    port = free_port()
    node = lambda rank, out: _torchrun(  # noqa: E731
        ["-m", "turbopix", *_train_args("vae", out, VAE)], nproc=1,
        extra=["--nnodes", "2", "--node-rank", str(rank), "--master-addr", "127.0.0.1", "--master-port", str(port)])
    procs = [node(0, tmp_path / "node0"), node(1, tmp_path / "node1")]
    for p in procs:
        _finish(p)
    assert _max_diff(_ckpt(ref / "vae", STEPS), _ckpt(tmp_path / "node0", STEPS)) < TOL
    assert not (tmp_path / "node1").exists(), "only rank 0 touches the run directory"


# ---------------------------------------------------------------- failures
def test_a_killed_worker_ends_the_job(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "turbopix", *_train_args("vae", out, VAE, steps=10**6, ckpt_every=0), "--nproc", "2"]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        log, deadline = out / "log.jsonl", time.monotonic() + 120
        while not (log.exists() and log.stat().st_size) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[0][-3000:]
            time.sleep(0.2)
        workers = _workers(proc.pid)
        assert len(workers) == 2
        os.kill(workers[-1], signal.SIGKILL)
        killed_at = time.monotonic()
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    took = time.monotonic() - killed_at
    print(f"job ended {took:.1f} s after a worker was killed")
    assert proc.returncode != 0
    assert took < 30
    assert "distributed training failed" in output and "SIGKILL" in output


def test_restarted_workers_resume_from_the_last_checkpoint(ref, tmp_path):
    """--max-restarts: rank 1 dies before step 15; torchrun restarts both workers, which continue
    from the step-10 checkpoint and end with the weights of an uninterrupted run."""
    out = tmp_path / "run"
    env = {**_env(), "KILL_RANK": "1", "KILL_STEP": "15"}
    # the c10d rendezvous (what `turbopix train --nproc` uses): torchrun's static one cannot restart
    rdzv = ["--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{free_port()}", "--rdzv-id", "test"]
    proc = _torchrun([str(WORKER), *_train_args("vae", out, VAE, steps=30)], env=env, extra=["--max-restarts", "1", *rdzv])
    output = _finish(proc, timeout=150)
    assert re.search(r"exitcode: -9|SIGKILL|Signal 9", output), "the first attempt should have lost rank 1"
    assert _max_diff(_ckpt(ref / "vae", 30), _ckpt(out, 30)) < TOL
    steps = [json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines()]
    assert steps == [5, 10, 15, 20, 25, 30]


# ---------------------------------------------------------------- no processes needed
def test_the_global_batch_is_split_evenly():
    assert [Dist(rank=r, world_size=4).check_batch(64) for r in range(4)] == [16] * 4
    assert Dist().check_batch(30) == 30
    with pytest.raises(ValueError, match="global batch.*use 28 or 32"):
        Dist(rank=0, world_size=4).check_batch(30)


def test_launcher_flags_are_split_off_and_passed_to_torchrun():
    launch, rest = split_launcher_args(["--model", "vae", "--nproc", "2", "--nnodes=2", "--node-rank", "1",
                                        "--master-addr", "10.0.0.1", "--steps", "5"])
    assert rest == ["--model", "vae", "--steps", "5"]
    cmd = torchrun_command(launch, rest)
    assert cmd[cmd.index("--master-port") + 1] == "29500"  # fixed when several machines must agree
    joined = " ".join(cmd)
    assert "--nnodes 2 --nproc-per-node 2 --max-restarts 0 --node-rank 1 --master-addr 10.0.0.1" in joined
    assert joined.endswith("-m turbopix train --model vae --steps 5")
    launch, rest = split_launcher_args(["--nproc", "4", "--nnodes", "3", "--rdzv-endpoint", "127.0.0.1:29400"])
    assert "--rdzv-backend c10d --rdzv-endpoint 127.0.0.1:29400" in " ".join(torchrun_command(launch, rest))
    # one machine: a c10d rendezvous on a free loopback port (it supports restarts)
    launch, rest = split_launcher_args(["--nproc", "2", "--master-port", "29411"])
    assert "--rdzv-backend c10d --rdzv-endpoint 127.0.0.1:29411" in " ".join(torchrun_command(launch, rest))
    launch, rest = split_launcher_args(["--nproc", "1", "--nnodes", "2", "--max-restarts", "1"])
    with pytest.raises(ValueError, match="needs rdzv_endpoint") as info:
        torchrun_command(launch, rest)
    assert "needs --rdzv-endpoint" in render(info.value, "cli")  # the library names options, the CLI flags


def test_launcher_flags_need_nproc(capsys):
    assert main(["train", "--model", "vae", "--data", "digits", "--nnodes", "2"]) == 2
    assert "give --nproc" in capsys.readouterr().err
