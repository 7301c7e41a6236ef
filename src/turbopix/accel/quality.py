"""The quality cost of an acceleration, measured against the eager fp32 model on the same inputs.

Every variant is run on the same fixed inputs (``model.example_inputs``: latents and balanced
labels for a generator, images for an image-to-image model) as the eager fp32 reference, so the
differences are the variant's doing, not sampling noise:

* ``max_abs_error`` / ``mean_abs_error``: pixel differences to the eager images (images in [-1, 1],
  so 2/255 ~ 0.0078 is one 8-bit grey level), for every model;
* for generators only (their images are meant to look like a dataset's), ``fid`` of the variant's
  images against a real reference set (e.g. ``mnist:test``), beside the eager model's ``fid_eager``
  on the same latents, and ``fid_delta_rel`` = fid / fid_eager - 1. Features come from the shipped
  extractor for the dataset (``lenet-mnist``, ...); where none can be loaded, FID is skipped and
  ``note`` says why (pixel errors are still measured);
* for image-to-image models trained on a degradation with a standard test protocol (noise at a
  fixed sigma, bicubic downscaling; ``turbopix.data.testsets``), ``psnr`` of the variant against
  the ground truth of the real test set (Set12 / Set5 unless ``ref`` names another folder), beside
  the eager model's ``psnr_eager`` on the same inputs, and ``psnr_delta_db`` = psnr - psnr_eager:
  the accuracy cost of the acceleration in dB. Where the set or the protocol is missing, ``note``
  says why.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from ..data.testsets import RestorationPairs
from ..metrics.paired import psnr
from ..models.base import ImageGenerator, ImageModel, unwrap

RunFn = Callable[[dict[str, torch.Tensor]], torch.Tensor]  # a Runner's ``run``: named inputs -> images


@dataclass
class Quality:
    n: int
    max_abs_error: float
    mean_abs_error: float
    fid: float | None
    fid_eager: float | None
    fid_delta_rel: float | None
    extractor: str | None
    reference: str | None
    note: str = ""
    psnr: float | None = None  # dB on the test set (restorers), the variant's outputs
    psnr_eager: float | None = None
    psnr_delta_db: float | None = None
    test_set: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class QualityProbe:
    """Fixed inputs, the eager fp32 outputs for them and, when possible, FID machinery.

    Build once per source model (the reference extraction costs seconds), then :meth:`measure`
    any number of variants.
    """

    def __init__(
        self,
        model: ImageModel,
        *,
        n: int = 2000,
        ref: str | None = "auto",
        extractor: str | None = "auto",
        data_root: str | Path | None = None,
        seed: int = 0,
        batch_size: int = 250,
    ) -> None:
        model = unwrap(model).eval()
        self.n, self.batch_size = n, batch_size
        self.inputs = model.example_inputs(n, seed=seed)
        with torch.inference_mode():
            self.eager = self._images(lambda inputs: model.infer(**inputs))
        self.extractor, self.ref_stats, self.ref_spec, self.note = None, None, None, ""
        dataset = model.metadata.get("data")
        test_set_ref = ref  # for a restorer: 'auto' (the standard set of its degradation) or a folder
        if ref == "auto":
            ref = f"{dataset.split(':')[0]}:test" if dataset and not dataset.startswith("folder:") else None
        self.pairs: RestorationPairs | None = None
        self.takes_sigma = any(spec.name == "sigma" for spec in model.inputs())
        self.psnr_eager: float | None = None
        if not isinstance(model, ImageGenerator):
            self.note = "FID skipped: the model is not a generator (its images are compared with eager fp32 pixel by pixel)"
            if test_set_ref is not None:
                self._setup_test_set(model, test_set_ref, data_root)
        elif ref is None or extractor is None:
            self.note = "FID skipped: no reference dataset" if ref is None else "FID skipped: no extractor asked for"
        else:
            self._setup_fid(ref, extractor, data_root)
        self.fid_eager = self._fid(self.eager) if self.extractor is not None else None

    def _setup_fid(self, ref: str, extractor: str, data_root: str | Path | None) -> None:
        try:
            from ..data import DataError, load_dataset
            from ..features.extractor import ExtractorError, default_extractor, load_extractor
            from ..metrics.fid import FeatureStats
        except ImportError as e:
            self.note = f"FID skipped: feature extractors are not available in this turbopix ({e})"
            return
        dataset = ref.split(":")[0]
        try:
            ext = load_extractor(default_extractor(dataset) if extractor == "auto" else extractor)
            data = load_dataset(ref, data_root=data_root)
        except (ExtractorError, DataError, ValueError) as e:
            self.note = f"FID skipped: {e}"
            return
        idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[: max(self.n, 2)]
        stats = FeatureStats()
        for s in range(0, len(idx), ext.batch_size):
            stats.update(ext.extract(data.batch(idx[s : s + ext.batch_size])["image"]).features)
        self.extractor, self.ref_stats, self.ref_spec = ext, stats.compute(), ref

    def _setup_test_set(self, model: ImageModel, ref: str, data_root: str | Path | None) -> None:
        from ..data import DataError
        from ..data.testsets import standard_test_set

        try:
            self.pairs = standard_test_set(model.metadata.get("data"), ref=ref, channels=model.config.channels,
                                           scale=getattr(model.config, "scale", 1), data_root=data_root)
        except DataError as e:
            self.note += f"; test-set PSNR skipped: {e}"
            return
        with torch.inference_mode():
            self.psnr_eager = restoration_psnr(lambda inputs: model.infer(**inputs), self.pairs, takes_sigma=self.takes_sigma)

    def _images(self, run: RunFn) -> torch.Tensor:
        out = []
        for s in range(0, self.n, self.batch_size):
            out.append(run({k: v[s : s + self.batch_size] for k, v in self.inputs.items()}).float())
        return torch.cat(out)

    def _fid(self, images: torch.Tensor) -> float:
        from ..metrics.fid import fid

        feats = self.extractor.extract(images).features
        return fid(self.ref_stats, feats)

    def measure(self, run: RunFn) -> Quality:
        images = self._images(run)
        diff = (images - self.eager).abs()
        q = Quality(
            n=self.n, max_abs_error=float(diff.max()), mean_abs_error=float(diff.mean()), fid=None, fid_eager=self.fid_eager,
            fid_delta_rel=None, extractor=None if self.extractor is None else self.extractor.name, reference=self.ref_spec, note=self.note,
        )
        if self.pairs is not None:
            q.psnr, q.psnr_eager, q.test_set = restoration_psnr(run, self.pairs, takes_sigma=self.takes_sigma), self.psnr_eager, self.pairs.name
            q.psnr_delta_db = q.psnr - self.psnr_eager
        if self.extractor is not None:
            q.fid = self._fid(images)
            q.fid_delta_rel = q.fid / self.fid_eager - 1 if self.fid_eager else None
        return q


@torch.no_grad()
def restoration_psnr(run: RunFn, pairs: RestorationPairs, *, takes_sigma: bool = False) -> float:
    """Mean PSNR (dB) of ``run``'s outputs on ``pairs``, one image at a time: inputs scaled from
    0-255 to [-1, 1] as they are (noise unclipped), outputs back to 0-255, clipped and rounded to
    8 bits (what a saved file holds), scored with the pairs' border crop."""
    scores = []
    for x, target in zip(pairs.inputs, pairs.targets):
        inputs = {"image": x / 127.5 - 1}
        if takes_sigma:
            inputs["sigma"] = torch.full((x.shape[0],), float(pairs.sigma or 0.0))
        out = torch.floor(((run(inputs).float() + 1) * 127.5).clamp(0, 255) + 0.5)
        scores.append(float(psnr(out, target, data_range=255.0, crop=pairs.crop)))
    return sum(scores) / len(scores)
