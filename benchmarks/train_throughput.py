"""Training images/s of turbopix's loop against a plain hand-written PyTorch loop, alone and beside
a busy process.

Part 1 (always): DCGAN 28px (g_width = d_width = 64, batch 64, Adam 2e-4/0.5, BCE) on MNIST, the
plain loop against ``turbopix.train`` for the same number of steps, in interleaved rounds (plain,
turbopix, plain, ...), medians compared, because this machine's speed drifts between runs.
turbopix's time is the whole ``turbopix.train`` call: setup, EMA, logging, the final checkpoint,
sample grid and loss plot.

Part 2 (``--contention``): the same comparison on an idle machine and beside one busy
single-threaded process (a Python spin loop, the "light background work" of a shared machine), for
DCGAN and the MNIST VAE, with three variants: the plain loop (torch's default threads), turbopix
with its thread count fixed to the cores (``threads=N``, the old default) and turbopix with the
count tuned while training (the default, ``core/threads.py``).

    python benchmarks/train_throughput.py --steps 150 --rounds 5 [--data-root ../shared/data]
    python benchmarks/train_throughput.py --contention --rounds 3 --data-root ../shared/data
    python benchmarks/train_throughput.py --precision --rounds 3 --data-root ../shared/data
    python benchmarks/train_throughput.py --precision --restorers --threads 1 --rounds 3 --data-root ../shared/data

Part 3 (``--precision``): fp32 against bf16 autocast (``precision="bf16"``) for DCGAN (BCE with
batch norm, and hinge with spectral norm), the MNIST VAE and the conv-VAE, interleaved rounds.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import torch
import torch.nn.functional as F

import turbopix
from turbopix.data import load_dataset
from turbopix.core.threads import usable_cores

MODEL = dict(image_size=28, channels=1, g_width=64, d_width=64)
VAE = dict(image_size=28, channels=1)


def plain_loop(images: torch.Tensor, steps: int, batch: int, seed: int) -> float:
    """The pytorch/examples DCGAN loop, written out by hand; returns seconds."""
    torch.manual_seed(seed)
    model = turbopix.create_model("dcgan", **MODEL)
    G, D = model.generator, model.discriminator
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    t0 = time.perf_counter()
    perm = torch.randperm(len(images))
    for step in range(steps):
        x = images[perm[step * batch : (step + 1) * batch]].float().div_(127.5).sub_(1)
        fake = G(torch.randn(batch, 100))
        loss_d = F.softplus(-D(x)).mean() + F.softplus(D(fake.detach())).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-D(fake)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        loss_d.item(), loss_g.item()  # a plain loop still looks at its losses
    return time.perf_counter() - t0


def plain_vae_loop(images: torch.Tensor, steps: int, batch: int, seed: int) -> float:
    """A tutorial VAE loop (BCE + KL, Adam 1e-3) on the same model; returns seconds."""
    torch.manual_seed(seed)
    model = turbopix.create_model("vae", **VAE)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    perm = torch.randperm(len(images))
    n = len(images) // batch
    for step in range(steps):
        i = step % n
        x = images[perm[i * batch : (i + 1) * batch]].float().div_(255)
        mu, logvar = model.encoder(x * 2 - 1, None).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = model.decoder(z, None)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / batch
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / batch
        loss = recon + kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()
    return time.perf_counter() - t0


def turbopix_run(model: str, options: dict, data, steps: int, batch: int, seed: int, threads: int | None,
                 **train_options) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        turbopix.train(model, data, out=tmp, steps=steps, batch_size=batch, seed=seed, progress=False,
                       model_options=options, threads=threads, sample_every=0, ckpt_every=0, **train_options)
        return time.perf_counter() - t0


@contextmanager
def busy_process(on: bool) -> Iterator[None]:
    """One single-threaded process spinning on a core (nothing when ``on`` is false)."""
    if not on:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        proc.kill()
        proc.wait()


def compare(variants: dict[str, Callable[[int], float]], rounds: int, label: str) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(rounds):
        for name, fn in variants.items():
            times[name].append(fn(r))
        print(f"  {label} round {r + 1}/{rounds}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()), flush=True)
    return {k: statistics.median(v) for k, v in times.items()}


def part1(data, args) -> None:
    variants = {
        "plain PyTorch loop": lambda r: plain_loop(data.images, args.steps, args.batch, r),
        "turbopix.train": lambda r: turbopix_run("dcgan", MODEL, data, args.steps, args.batch, r, None),
    }
    med = compare(variants, args.rounds, "dcgan")
    base = med["plain PyTorch loop"]
    print(f"\nDCGAN 28px, batch {args.batch}, {args.steps} steps x {args.rounds} interleaved rounds, "
          f"{usable_cores()} cores, torch {torch.__version__}\n")
    print("| loop | median s | images/s | ratio to plain |\n|---|---|---|---|")
    for name, m in med.items():
        print(f"| {name} | {m:.2f} | {args.steps * args.batch / m:.0f} | {base / m:.3f} |")


def part2(data, args) -> None:
    cores = usable_cores()
    cases = {
        "dcgan": (plain_loop, "dcgan", MODEL, args.steps, 64),
        "vae": (plain_vae_loop, "vae", VAE, args.vae_steps, 128),
    }
    rows = []
    for model_name, (plain, name, options, steps, batch) in cases.items():
        for busy in (False, True):
            variants = {  # the plain loop runs on torch's default: as many threads as cores
                "plain loop": lambda r, plain=plain, steps=steps, batch=batch:
                    torch.set_num_threads(cores) or plain(data.images, steps, batch, r),
                f"turbopix threads={cores}": lambda r, name=name, options=options, steps=steps, batch=batch:
                    turbopix_run(name, options, data, steps, batch, r, cores),
                "turbopix tuned": lambda r, name=name, options=options, steps=steps, batch=batch:
                    turbopix_run(name, options, data, steps, batch, r, None),
            }
            with busy_process(busy):
                med = compare(variants, args.rounds, f"{model_name} {'busy' if busy else 'idle'}")
            rows.append((model_name, busy, {k: steps * batch / m for k, m in med.items()}))
    print(f"\nimages/s, median of {args.rounds} interleaved rounds; 'busy' = beside one spinning "
          f"single-threaded process; {cores} cores, torch {torch.__version__}\n")
    names = list(rows[0][2])
    print("| model | machine | " + " | ".join(names) + " | tuned / fixed |")
    print("|---|---|" + "---|" * len(names) + "---|")
    for model_name, busy, ips in rows:
        ratio = ips["turbopix tuned"] / ips[f"turbopix threads={cores}"]
        print(f"| {model_name} | {'busy' if busy else 'idle'} | " + " | ".join(f"{ips[n]:.0f}" for n in names)
              + f" | {ratio:.2f} |")


def part3(data, args) -> None:
    """fp32 against bf16 autocast (``precision``), interleaved, threads fixed to the cores."""
    cores = usable_cores()
    cases = {
        "dcgan": ("dcgan", MODEL, args.steps, 64, {}),
        "dcgan sn+hinge": ("dcgan", {**MODEL, "loss": "hinge", "spectral_norm": True}, args.steps, 64, {}),
        "vae": ("vae", VAE, args.vae_steps, 128, {}),
        "conv-vae": ("conv-vae", VAE, args.steps * 2, 128, {}),
    }
    if args.restorers:  # the shipped restorers' recipes (tools/train_restorers.py), each on its own patches
        cases = {
            "dncnn 12x32, sigma 25": ("dncnn", {"depth": 12, "width": 32}, args.steps, 32,
                                      {"data": "patches:train400?patch_size=40&degrade=noise:25&colour=grey"}),
            "sr-fast x2": ("sr-fast", {"scale": 2}, args.steps * 2, 32,
                           {"data": "patches:t91?patch_size=48&degrade=bicubic:2&colour=y"}),
            "inpaint width 16": ("inpaint", {"width": 16, "channels": 3}, args.steps // 2, 16,
                                 {"data": "patches:cbsd432_train?patch_size=64&degrade=mask:any&colour=rgb"}),
        }
    rows = []
    cores = args.threads or cores
    for label, (name, options, steps, batch, extra) in cases.items():  # bf16 kernels are built on first use (~20 s)
        extra = dict(extra)
        source = load_dataset(extra.pop("data"), data_root=args.data_root) if "data" in extra else data
        turbopix_run(name, options, source, 3, batch, 0, cores, precision="bf16")
        variants = {p: (lambda r, name=name, options=options, steps=steps, batch=batch, p=p, source=source:
                        turbopix_run(name, options, source, steps, batch, r, cores, precision=p, **extra))
                    for p in ("fp32", "bf16")}
        med = compare(variants, args.rounds, label)
        rows.append((label, steps, batch, med))
    print(f"\nwhole turbopix.train calls, seconds: median of {args.rounds} interleaved rounds; {cores} threads, "
          f"torch {torch.__version__}\n")
    print("| model | steps x batch | fp32 s | bf16 s | fp32 images/s | bf16 images/s | bf16 speed-up |\n|---|---|---|---|---|---|---|")
    for label, steps, batch, med in rows:
        print(f"| {label} | {steps} x {batch} | {med['fp32']:.2f} | {med['bf16']:.2f} | {steps * batch / med['fp32']:.0f} | "
              f"{steps * batch / med['bf16']:.0f} | {med['fp32'] / med['bf16']:.2f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=150, help="DCGAN steps per run")
    p.add_argument("--vae-steps", type=int, default=2000, help="VAE steps per run (--contention)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--contention", action="store_true", help="part 2: idle vs beside a busy process")
    p.add_argument("--precision", action="store_true", help="part 3: fp32 against bf16 autocast")
    p.add_argument("--restorers", action="store_true", help="with --precision: the restorers (dncnn, sr-fast, inpaint) "
                   "on their training patches instead of the generators")
    p.add_argument("--threads", type=int, help="with --precision: torch threads (default: the usable cores)")
    p.add_argument("--data-root", default=None)
    args = p.parse_args()
    data = load_dataset("mnist", data_root=args.data_root)
    plain_loop(data.images, 5, args.batch, 0)  # warm-up (allocator, MKL-DNN primitives)
    if args.contention:
        part2(data, args)
    elif args.precision:
        part3(data, args)
    else:
        part1(data, args)


if __name__ == "__main__":
    main()
