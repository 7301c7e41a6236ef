"""A plain DCGAN for MNIST / Fashion-MNIST, written the way the PyTorch examples tutorial writes it.

This is the *reference* that ``benchmarks/quality.py`` sets beside turbopix: what a user gets by
copying pytorch/examples/dcgan and adapting it to 28x28 grey images. It deliberately does not import
turbopix: it reads the IDX files itself, trains with the tutorial's recipe (BCE on a sigmoid
output, Adam lr 2e-4 beta1 0.5, batch 64, nz 100, ngf = ndf = 64, N(0, 0.02) init, batch norm in
both networks, no EMA) for a given wall time, and writes ``--n`` samples as PNG files.

    python benchmarks/plain_dcgan.py --data-root ../shared/data --dataset mnist --minutes 10 --out runs/plain/mnist
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import struct
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

FOLDERS = {"mnist": "mnist", "fashion-mnist": "fashion_mnist"}


def read_idx_images(path: Path) -> np.ndarray:
    """An IDX3 file (gzip or not) as a uint8 array (N, 28, 28)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, f"{path} is not an IDX3 image file"
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(n, rows, cols)


def find_train_images(data_root: Path, dataset: str) -> Path:
    folder = data_root / FOLDERS[dataset]
    for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"):
        if (folder / name).exists():
            return folder / name
    raise SystemExit(f"no train-images-idx3-ubyte[.gz] in {folder}")


class Generator(nn.Module):
    def __init__(self, nz: int, ngf: int, nc: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            # input is Z, going into a convolution
            nn.ConvTranspose2d(nz, ngf * 2, 7, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 7 x 7
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 14 x 14
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
            # state size. (nc) x 28 x 28
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, ndf: int, nc: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            # input is (nc) x 28 x 28
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 14 x 14
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 7 x 7
            nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


# custom weights initialization called on netG and netD
def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=os.environ.get("TURBOPIX_DATA", "data"), help="folder holding mnist/ and fashion_mnist/")
    parser.add_argument("--dataset", default="mnist", choices=sorted(FOLDERS))
    parser.add_argument("--minutes", type=float, default=10.0, help="wall time of training")
    parser.add_argument("--max-steps", type=int, default=0, help="stop earlier after this many steps (0: no limit)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--nz", type=int, default=100)
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--ndf", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.0002)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=10000, help="samples written as PNG files")
    parser.add_argument("--out", required=True, help="folder for the samples (OUT/samples) and OUT/train.json")
    opt = parser.parse_args()

    torch.manual_seed(opt.seed)
    images = read_idx_images(find_train_images(Path(opt.data_root), opt.dataset))
    data = torch.from_numpy(images.copy()).float().div(127.5).sub(1).unsqueeze(1)  # (N, 1, 28, 28) in [-1, 1]

    netG = Generator(opt.nz, opt.ngf, 1)
    netG.apply(weights_init)
    netD = Discriminator(opt.ndf, 1)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
    real_label, fake_label = 1.0, 0.0

    budget = opt.minutes * 60
    start = time.perf_counter()
    step, epoch = 0, 0
    done = False
    while not done:
        perm = torch.randperm(len(data))
        for i in range(len(data) // opt.batch_size):
            real = data[perm[i * opt.batch_size:(i + 1) * opt.batch_size]]
            b = real.size(0)
            ############################
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            ###########################
            netD.zero_grad()
            label = torch.full((b,), real_label)
            errD_real = criterion(netD(real), label)
            errD_real.backward()
            noise = torch.randn(b, opt.nz, 1, 1)
            fake = netG(noise)
            label.fill_(fake_label)
            errD_fake = criterion(netD(fake.detach()), label)
            errD_fake.backward()
            errD = errD_real + errD_fake
            optimizerD.step()
            ############################
            # (2) Update G network: maximize log(D(G(z)))
            ###########################
            netG.zero_grad()
            label.fill_(real_label)  # fake labels are real for generator cost
            errG = criterion(netD(fake), label)
            errG.backward()
            optimizerG.step()
            step += 1
            if step % 500 == 0:
                print(f"[{epoch}][{step}] Loss_D: {errD.item():.4f} Loss_G: {errG.item():.4f} "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)
            if time.perf_counter() - start >= budget or (opt.max_steps and step >= opt.max_steps):
                done = True
                break
        epoch += 1
    seconds = time.perf_counter() - start

    out = Path(opt.out)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    # sampled as the tutorial shows its fake images: the generator as trained (batch norm on batch
    # statistics), no eval() switch
    g = torch.Generator().manual_seed(opt.seed)
    with torch.no_grad():
        for s in range(0, opt.n, 500):
            z = torch.randn(min(500, opt.n - s), opt.nz, 1, 1, generator=g)
            batch = ((netG(z) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)[:, 0].numpy()
            for j, img in enumerate(batch):
                Image.fromarray(img, mode="L").save(out / "samples" / f"{s + j:05d}.png")
    summary = {"dataset": opt.dataset, "steps": step, "epochs": epoch, "seconds": seconds,
               "images_per_s": step * opt.batch_size / seconds, "options": vars(opt)}
    (out / "train.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"trained {step} steps in {seconds:.1f} s ({summary['images_per_s']:.0f} images/s); {opt.n} samples in {out / 'samples'}")


if __name__ == "__main__":
    main()
