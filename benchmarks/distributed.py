"""Distributed training on this machine, and a projection to N machines.

1. images/s of ``turbopix train`` on 1 process (1 thread and all threads) and on 2 processes
   (``--nproc 2``, one thread each), every family, MNIST 28 px, default model sizes;
2. the time of one gloo all-reduce over loopback (2 processes, 127.0.0.1) for each DDP-wrapped
   network's gradient, plus a size sweep summarised as  t(S) = latency + S / bandwidth;
3. a projected table for 2, 4, 8 and 16 machines from (1) and a ring all-reduce cost model with
   stated network parameters (see ``project``).

    python benchmarks/distributed.py --steps 40 [--data mnist --data-root ../shared/data] [--models vae dcgan] [--json out.json]

The numbers depend on what else the machine runs at the time: the script prints the load average
before and after, so a reader can judge.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import turbopix
from turbopix.training.distributed import free_port

MODELS = ["vae", "conv-vae", "ae", "mlp-gan", "dcgan"]
SWEEP = [2**k for k in range(8, 25, 2)]  # float32 elements: 1 KiB .. 64 MiB
# assumed networks for the projection: (name, per-message latency s, bandwidth bytes/s)
NETWORKS = [("10 GbE", 50e-6, 1.1e9), ("1 GbE", 100e-6, 0.11e9)]
DDP_BUCKET_BYTES = 25 * 2**20  # DDP's default bucket_cap_mb: one all-reduce per bucket


def gradient_sizes(name: str, image_size: int, channels: int) -> list[int]:
    """Trainable parameters of each network DDP wraps (a GAN's two networks are reduced separately)."""
    m = turbopix.create_model(name, image_size=image_size, channels=channels)
    nets = [m.generator, m.discriminator] if m.family == "gan" else [m]
    return [sum(p.numel() for p in n.parameters() if p.requires_grad) for n in nets]


# ---------------------------------------------------------------- throughput
def _ips_from_log(run: Path) -> float:
    """Median images/s over the log windows after the first (which holds start-up and warm-up)."""
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    rates = [r["images_per_s"] for r in rows[1:]] or [rows[0]["images_per_s"]]
    return statistics.median(rates)


def throughput(model: str, data: str, steps: int, batch: int, nproc: int, threads: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "turbopix", "train", "--model", model, "--data", data, "--out", str(out),
               "--steps", str(steps), "--batch-size", str(batch), "--log-every", str(max(1, steps // 5)),
               "--sample-every", "0", "--ckpt-every", "0", "--progress", "false", "--threads", str(threads)]
        if nproc > 1:
            cmd += ["--nproc", str(nproc)]
        env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": str(threads)}
        subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        return _ips_from_log(out)


# ---------------------------------------------------------------- all-reduce over loopback
def _allreduce_worker(rank: int, world: int, port: int, sizes: list[int], reps: int, result: str) -> None:
    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    times = {}
    for n in sizes:
        t = torch.ones(n)
        for _ in range(3):  # warm-up: connections, buffers
            dist.all_reduce(t)
        samples = []
        for _ in range(reps):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(t)
            samples.append(time.perf_counter() - t0)
        times[n] = statistics.median(samples)
    if rank == 0:
        Path(result).write_text(json.dumps(times))
    dist.destroy_process_group()


def allreduce_times(sizes: list[int], reps: int) -> dict[int, float]:
    """Median seconds of one float32 all-reduce of each size, 2 processes, gloo, 127.0.0.1."""
    with tempfile.TemporaryDirectory() as tmp:
        result = str(Path(tmp) / "times.json")
        mp.spawn(_allreduce_worker, args=(2, free_port(), sorted(set(sizes)), reps, result), nprocs=2)
        return {int(k): v for k, v in json.loads(Path(result).read_text()).items()}


def fit_latency_bandwidth(times: dict[int, float]) -> tuple[float, float]:
    """(latency s, bandwidth bytes/s) of t = latency + bytes / bandwidth, from the sweep's ends.

    The smallest message is all latency, the largest nearly all bandwidth; a least-squares fit
    would let the large, noisy times of a busy machine swamp the latency.
    """
    small, large = min(times), max(times)
    latency = times[small]
    return latency, 4.0 * (large - small) / max(times[large] - latency, 1e-12)


# ---------------------------------------------------------------- projection
def ring_allreduce_s(nbytes: float, machines: int, latency: float, bandwidth: float) -> float:
    """Ring all-reduce: 2(N-1) messages in sequence, each machine sends 2(N-1)/N of the data."""
    if machines == 1:
        return 0.0
    buckets = max(1, -(-int(nbytes) // DDP_BUCKET_BYTES))
    return buckets * 2 * (machines - 1) * latency + 2 * (machines - 1) / machines * nbytes / bandwidth


def project(step_s: float, batch: int, grads: list[int], machines: int, latency: float, bandwidth: float) -> float:
    """images/s of N machines, each training ``batch`` images per step in ``step_s`` seconds.

    Assumes: weak scaling (global batch = N x batch); no overlap of communication with the backward
    pass (DDP does overlap, so this is pessimistic); each network's gradient all-reduced once per
    step plus one small all-reduce of the losses (latency only); compute time per machine as measured
    here on one process (its faster thread setting).
    """
    comm = sum(ring_allreduce_s(4.0 * n, machines, latency, bandwidth) for n in grads)
    comm += ring_allreduce_s(0, machines, latency, bandwidth)  # the logged losses
    return machines * batch / (step_s + comm)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch", type=int, default=64, help="global batch (split over processes)")
    p.add_argument("--data", default="mnist", help="dataset spec; digits needs no download (8 px)")
    p.add_argument("--data-root", help="dataset folder (default: $TURBOPIX_DATA); passed on to the training runs")
    p.add_argument("--models", nargs="+", default=MODELS)
    p.add_argument("--reps", type=int, default=20, help="all-reduce repetitions per size")
    p.add_argument("--json", help="also write all numbers to this file")
    args = p.parse_args()
    if args.data_root:
        os.environ["TURBOPIX_DATA"] = args.data_root  # read by this process and the training runs
    cores = os.cpu_count() or 1
    data = turbopix.data.load_dataset(args.data, split="train")
    print(f"# turbopix distributed benchmark: {time.strftime('%Y-%m-%d %H:%M')}, torch {torch.__version__}, "
          f"{cores} cores, load average {os.getloadavg()[0]:.1f}, {args.data} {data.image_size}px, "
          f"batch {args.batch}, {args.steps} steps per run\n", flush=True)

    rows, grads = {}, {}
    print("| model | 1 proc x 1 thread | 1 proc x %d threads | 2 procs x 1 thread | 2 procs / best 1 proc |" % cores)
    print("|---|---|---|---|---|")
    for name in args.models:
        grads[name] = gradient_sizes(name, data.image_size, data.channels)
        one = throughput(name, args.data, args.steps, args.batch, 1, 1)
        all_threads = throughput(name, args.data, args.steps, args.batch, 1, cores)
        two = throughput(name, args.data, args.steps, args.batch, 2, 1)
        rows[name] = {"1x1": one, f"1x{cores}": all_threads, "2x1": two}
        print(f"| {name} | {one:.0f} | {all_threads:.0f} | {two:.0f} | {two / max(one, all_threads):.2f} |", flush=True)

    sizes = sorted({n for g in grads.values() for n in g} | set(SWEEP))
    times = allreduce_times(sizes, args.reps)
    latency, bandwidth = fit_latency_bandwidth({n: times[n] for n in SWEEP})
    print(f"\ngloo all-reduce, 2 processes on 127.0.0.1, median of {args.reps}: t = {latency * 1e6:.0f} us + "
          f"bytes / {bandwidth / 1e9:.2f} GB/s ({4 * min(SWEEP)} B: {times[min(SWEEP)] * 1e3:.2f} ms, "
          f"{4 * max(SWEEP) / 2**20:.0f} MiB: {times[max(SWEEP)] * 1e3:.1f} ms)\n")
    print("| model | network | parameters | MB | all-reduce ms |\n|---|---|---|---|---|")
    for name, g in grads.items():
        parts = ["generator", "discriminator"] if len(g) == 2 else ["model"]
        for part, n in zip(parts, g):
            print(f"| {name} | {part} | {n:,} | {4 * n / 1e6:.2f} | {times[n] * 1e3:.2f} |")

    print(f"\nProjected images/s on N machines (weak scaling: {args.batch} images per machine per step; "
          "compute time per step from the faster 1-process column above; ring all-reduce, no overlap)\n")
    header = " | ".join(f"N={n}" for n in (1, 2, 4, 8, 16))
    print(f"| model | network | {header} | efficiency at 16 |\n|---|---|" + "---|" * 6)
    projections = {}
    for name in args.models:
        step_s = args.batch / max(rows[name]["1x1"], rows[name][f"1x{cores}"])  # one machine, its best setting
        for net, lat, bw in NETWORKS:
            ips = [project(step_s, args.batch, grads[name], n, lat, bw) for n in (1, 2, 4, 8, 16)]
            projections[f"{name} {net}"] = ips
            print(f"| {name} | {net} | " + " | ".join(f"{v:.0f}" for v in ips) + f" | {ips[-1] / (16 * ips[0]):.0%} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"throughput": rows, "gradients": grads, "allreduce_s": times,
                                               "fit": {"latency_s": latency, "bandwidth_Bps": bandwidth},
                                               "projection": projections, "networks": NETWORKS}, indent=2))


if __name__ == "__main__":
    main()
