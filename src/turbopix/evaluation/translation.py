"""Scores of image-to-image translators on held-out data (benchmarks/translation.py prints them).

``paired_scores``: a translator run over the test split of a paired spec (e.g. facades label maps ->
photos), every output scored against its ground truth: L1 (mean absolute error, [0, 1] scale), PSNR
(dB, all channels) and SSIM (``turbopix.metrics.paired``, the same functions as ``turbopix
compare``), averaged over images. With a ``segmenter`` (a labels-from-photo translator, e.g. a
pix2pix model trained photo -> label map with ``gan_weight=0``) it also gives pix2pix's
segmentation score (``turbopix.metrics.segmentation``): the segmenter labels each *generated* photo,
its colours are mapped to classes by the nearest palette colour, and the labels are compared with
the input label map's; the same on the *real* photos gives the ceiling a perfect translator would
reach with this segmenter.

``digit_scores``: translated digits scored by a digit classifier of the target domain (the shipped
``lenet-mnist`` for MNIST): class preservation (its accuracy against the source images' labels)
and FID between its features of the translated digits and of real target-domain digits.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data import load_dataset
from ..features import load_extractor
from ..metrics.fid import fid
from ..metrics.paired import psnr, ssim
from ..metrics.segmentation import CMP_FACADES, class_preservation, palette_indices, segmentation_scores

BATCH = 16


def _unit(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(-1, 1) + 1) / 2


@torch.no_grad()
def translate_all(model: Any, images: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
    """``images`` (N, C, H, W) in [-1, 1] translated in batches; a model without directions (an
    accelerated artifact) runs ``infer``."""
    run = (lambda x: model.translate(x, direction)) if hasattr(model, "translate") else (lambda x: model.infer(image=x))
    return torch.cat([run(images[i : i + BATCH]) for i in range(0, len(images), BATCH)])


@torch.no_grad()
def paired_scores(model: Any, spec: str, *, direction: str = "a2b", segmenter: Any = None,
                  palette: torch.Tensor = CMP_FACADES, data_root: Any = None, limit: int | None = None) -> dict[str, Any]:
    """Scores of ``model`` on the test split of the paired dataset ``spec`` (see the module docstring)."""
    test = load_dataset(spec, split="test", data_root=data_root)
    n = len(test) if limit is None else min(limit, len(test))
    l1s, psnrs, ssims, generated, real, label_maps = [], [], [], [], [], []
    for start in range(0, n, BATCH):
        b = test.batch(torch.arange(start, min(start + BATCH, n)))
        out, target = _unit(translate_all(model, b["image"], direction)), _unit(b["target"])
        l1s.append((out - target).abs().flatten(1).mean(1))
        psnrs.append(psnr(out, target, reduction="none"))
        ssims.append(ssim(out, target, reduction="none"))
        if segmenter is not None:
            generated.append(out)
            real.append(target)
            label_maps.append(_unit(b["image"]))
    result: dict[str, Any] = {"data": test.name, "images": n, "l1": float(torch.cat(l1s).mean()),
                              "psnr": float(torch.cat(psnrs).mean()), "ssim": float(torch.cat(ssims).mean())}
    if segmenter is not None:
        truth = palette_indices(torch.cat(label_maps) * 255, palette)
        for key, photos in (("segmentation", generated), ("segmentation_real", real)):
            labels = palette_indices(_unit(translate_all(segmenter, torch.cat(photos) * 2 - 1)) * 255, palette)
            result[key] = segmentation_scores(labels, truth, len(palette))
    return result


@torch.no_grad()
def digit_scores(images: torch.Tensor, labels: torch.Tensor, reference: torch.Tensor, *, model: Any = None,
                 direction: str = "a2b", extractor: str = "lenet-mnist") -> dict[str, float]:
    """Class preservation and FID of ``images`` (N, 1, H, W) in [-1, 1] of known ``labels``, translated
    by ``model`` (None: scored as they are, the untranslated baseline), against ``reference`` images
    of the target domain, with the classifier ``extractor``."""
    out = images if model is None else translate_all(model, images, direction)
    ext = load_extractor(extractor)
    got, ref = ext.extract(out), ext.extract(reference)
    return {"class_preservation": class_preservation(torch.from_numpy(np.asarray(got.logits)), labels),
            "fid": fid(ref.features, got.features), "images": len(out)}
