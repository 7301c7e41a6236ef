"""Choose int8 settings for a shipped restoration model on TRAINING photos, never on a test set.

The PSNR cost of NNCF int8 quantization depends on two settings of ``turbopix accelerate --recipe
int8``: ``--bias-correction fast|full`` and ``--keep-fp32`` (layers left in fp32). This script
scores each combination on the first N photos of a training set and prints the cost against eager
fp32, so the choice is made without looking at a test set; the chosen setting is then measured once
on the test set by ``turbopix accelerate`` / ``turbopix bench`` (docs/restoration.md).

The training pairs follow the model's own test protocol (``turbopix.data.testsets``), on training
photos instead of test ones: super-resolution on cbsd432_train (Y, MATLAB bicubic down by the
scale, border crop = scale); denoisers and deblockers by ``standard_test_set`` with the folder
swapped for the model's own training folder (from its data spec; noise seed 0; a range of levels at
its middle level). Outputs are rounded to 8 bits, as in the test-set cost of ``turbopix bench``.

    TURBOPIX_DATA=../shared/data python benchmarks/int8_settings.py --model sr-fast-x2
    TURBOPIX_DATA=../shared/data python benchmarks/int8_settings.py --model denoise-colour-s25 --images 12
"""
from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import torch

import turbopix
from turbopix.accel.lower import lower_for_inference
from turbopix.accel.quality import restoration_psnr
from turbopix.accel.quantize import calibration_batches, quantize_int8
from turbopix.accel.recipe import calibration_data
from turbopix.accel.runtimes import OpenVINORunner
from turbopix.data.resize import imresize
from turbopix.data.sources import resolve_folder
from turbopix.data.testsets import RestorationPairs, load_255, standard_test_set
from turbopix.models.base import ImageModel

SETTINGS = [((), "fast"), ((), "full"), (("first",), "full"), (("last",), "fast"), (("last",), "full"), (("first", "last"), "fast"),
            (("first", "last"), "full")]


def training_pairs(model: ImageModel, n: int) -> RestorationPairs:
    """The first ``n`` training photos, degraded as the model's test protocol degrades test photos."""
    scale = getattr(model.config, "scale", 1)
    if scale >= 2:
        return sr_training_pairs(scale, n)
    spec = model.metadata.get("data") or ""
    trained_on = re.match(r"(?:patches:)?([\w-]+)\?", spec)  # e.g. patches:cbsd432_train?patch_size=48&...
    folder = trained_on.group(1) if trained_on else ("cbsd432_train" if model.config.channels == 3 else "train400")
    pairs = standard_test_set(spec, ref=folder, channels=model.config.channels)
    pairs.inputs, pairs.targets, pairs.names = pairs.inputs[:n], pairs.targets[:n], pairs.names[:n]
    return pairs


def sr_training_pairs(scale: int, n: int) -> RestorationPairs:
    files = sorted(p for p in resolve_folder("cbsd432_train", None).iterdir()
                   if p.suffix.lower() in (".png", ".jpg", ".bmp"))[:n]
    pairs = RestorationPairs("cbsd432_train", f"first {n} photos, Y, MATLAB bicubic x{scale}", crop=scale)
    for f in files:
        hr = load_255(Path(f), "y")
        h, w = hr.shape[-2] // scale * scale, hr.shape[-1] // scale * scale
        hr = hr[..., :h, :w]
        pairs.inputs.append(imresize(hr, 1 / scale, round_output=True))
        pairs.targets.append(hr)
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="sr-fast-x2", help="a shipped restoration model (super-resolution, denoiser, deblocker)")
    ap.add_argument("--images", type=int, default=24, help="cbsd432_train photos to score on")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = turbopix.load(args.model).eval()
    exported, _ = lower_for_inference(model)
    data, spec = calibration_data(model, "auto", None)
    pairs = training_pairs(model, args.images)
    sigma = bool(getattr(model, "takes_sigma", False))
    with torch.no_grad():
        base = restoration_psnr(lambda i: model.infer(**i), pairs, takes_sigma=sigma)
    print(f"{args.model}: calibration {spec} (512 inputs); eager fp32 PSNR {base:.4f} dB on {pairs.how}")
    print("| keep fp32 | bias correction | PSNR | cost vs eager | seconds |\n|---|---|---:|---:|---:|")
    for keep, bias in SETTINGS:
        t = time.perf_counter()
        q = quantize_int8(exported, calibration_batches(model, data, n=512), keep_fp32=keep, bias_correction=bias)
        p = restoration_psnr(OpenVINORunner(q, chunk=0).run, pairs, takes_sigma=sigma)
        print(f"| {', '.join(keep) or '-'} | {bias} | {p:.4f} | {p - base:+.4f} dB | {time.perf_counter() - t:.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
