"""The demo's translation showcase. No translator is shipped (a useful one is too big to ship and
too slow to train here), so the demo trains a small CycleGAN on digits for a fixed number of steps:
the ``cyclegan-digits`` recipe of docs/applications.md (28 px, grey, ``g_width`` 16, 3 residual
blocks, batch 8, no augmentation) on the same two domains as ``benchmarks/translation.py``
(``data.digits.digit_domains``: scikit-learn's 8x8 digits upscaled to 28 px, and as many MNIST
train images), written as two folders and read by an ``unpaired:A,B`` spec, as
``turbopix train`` would.

It is scored as the benchmark scores it (``evaluation.translation.digit_scores``): the 360 test
digits (never trained on), upscaled to 28 px and translated a2b, are labelled by the shipped
``lenet-mnist`` classifier (class preservation = its accuracy against the digits' true labels) and
its features give FID against the first 2,000 MNIST test images; the untranslated digits are the
baseline. The picture: one test digit of each class, source above, translation below.

It needs MNIST from the data root or the cache (where the demo's own training put it); it never
downloads it, and without it the showcase is skipped with a note.
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import torch

from ..api import train
from ..data import DataError, ImageData, load_dataset
from ..data.digits import digit_domains
from ..data.folder import save_folder
from ..evaluation.translation import digit_scores, translate_all
from ..loading import load
from ..sampling import save_grid

KEY, TITLE = "translate", "Image-to-image translation: 8x8 digits to MNIST (CycleGAN trained here)"
MODEL_OPTIONS = {"image_size": 28, "channels": 1, "g_width": 16, "blocks": 3}  # docs/applications.md's cyclegan-digits
STEPS = 400  # 30 s of training on the 2-core machine (docs/demo.md)
QUICK_STEPS = 10
BATCH = 8
REFERENCE = 2000  # MNIST test images as FID's reference set, as the benchmark


def _mnist(data_root: str | Path | None) -> tuple[ImageData, ImageData] | None:
    try:
        return (load_dataset("mnist", split="train", data_root=data_root, download=False),
                load_dataset("mnist", split="test", data_root=data_root, download=False))
    except (DataError, OSError):
        return None


def run_translation(out: Path, data_root: str | Path | None, *, quick: bool = False,
                    mnist: tuple[ImageData, ImageData] | None = None) -> dict[str, Any]:
    """Train, score and picture the digits CycleGAN under ``out`` (see the module docstring);
    ``mnist`` (train, test) saves reading it again, else it is looked up without downloading."""
    mnist = mnist or _mnist(data_root)
    if mnist is None:
        return {"key": KEY, "title": TITLE, "skipped": "it needs MNIST in the data root or the cache "
                "(this showcase does not download it)"}
    t0 = time.perf_counter()
    domains = out / "cyclegan-digits-data"
    a, b = digit_domains(mnist[0])
    save_folder(a, domains / "digits8")
    save_folder(b, domains / "mnist")
    steps = QUICK_STEPS if quick else STEPS
    # quick: one thread, as the thread tuner needs more steps than these to pay off, and two threads on
    # a core another job holds can make a step of this small model 20 times slower (measured: 10 s)
    print(f"== {TITLE}: {steps} steps")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = train("cyclegan", f"unpaired:{domains / 'digits8'},{domains / 'mnist'}?augment=false",
                       out=out / "cyclegan-digits", model_options=MODEL_OPTIONS, seed=0, steps=steps, batch_size=BATCH,
                       sample_every=0, ckpt_every=0, log_every=max(1, steps // 8), threads=1 if quick else None)
    model = load(result.model_path)
    test = load_dataset("digits", split="test", image_size=MODEL_OPTIONS["image_size"])
    x, labels = test.images.float() / 127.5 - 1, test.labels
    reference = mnist[1].images[:REFERENCE].float() / 127.5 - 1
    before, after = digit_scores(x, labels, reference), digit_scores(x, labels, reference, model=model)
    first = torch.tensor([int((labels == d).nonzero()[0]) for d in range(10)])  # one test digit per class
    picture = out / f"{KEY}.png"
    save_grid(torch.cat([x[first], translate_all(model, x[first])]), picture, nrow=10)
    return {"key": KEY, "title": TITLE, "kind": "translation", "model": "cyclegan", "options": MODEL_OPTIONS,
            "steps": result.steps, "batch_size": BATCH, "train_seconds": result.seconds, "images": before["images"],
            "reference": min(REFERENCE, len(mnist[1])), "before": before, "after": after,
            "seconds": time.perf_counter() - t0, "picture": picture.name}
