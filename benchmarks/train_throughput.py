"""Training images/s of turbopix's loop against a plain hand-written PyTorch loop, same model.

Both train DCGAN 28px (g_width = d_width = 64, batch 64, Adam 2e-4/0.5, BCE) on MNIST for the
same number of steps. Rounds are interleaved (plain, turbopix, plain, ...) and the medians are
compared, because this machine's speed drifts between runs. turbopix's time is the whole
``turbopix.train`` call: setup, EMA, logging, the final checkpoint, sample grid and loss plot.

    python benchmarks/train_throughput.py --steps 150 --rounds 5 [--data-root ../shared/data]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

import turbopix
from turbopix.data import load_dataset

MODEL = dict(image_size=28, channels=1, g_width=64, d_width=64)


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


def turbopix_loop(data, steps: int, batch: int, seed: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        turbopix.train("dcgan", data, out=tmp, steps=steps, batch_size=batch, seed=seed, progress=False, model_options=MODEL)
        return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--data-root", default=None)
    args = p.parse_args()
    data = load_dataset("mnist", data_root=args.data_root)
    plain_loop(data.images, 5, args.batch, 0)  # warm-up (allocator, MKL-DNN primitives)
    times: dict[str, list[float]] = {"plain PyTorch loop": [], "turbopix.train": []}
    for r in range(args.rounds):
        times["plain PyTorch loop"].append(plain_loop(data.images, args.steps, args.batch, r))
        times["turbopix.train"].append(turbopix_loop(data, args.steps, args.batch, r))
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()), flush=True)
    base = statistics.median(times["plain PyTorch loop"])
    print(f"\nDCGAN 28px, batch {args.batch}, {args.steps} steps x {args.rounds} interleaved rounds, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}\n")
    print("| loop | median s | images/s | ratio to plain |\n|---|---|---|---|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name} | {med:.2f} | {args.steps * args.batch / med:.0f} | {base / med:.3f} |")


if __name__ == "__main__":
    main()
