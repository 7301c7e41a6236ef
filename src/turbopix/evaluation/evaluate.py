"""Evaluate a generator against real data: sample, extract features, compute the metrics.

    from turbopix.evaluation.evaluate import evaluate, format_results
    result = evaluate("runs/x/model.safetensors", ref="mnist:test", n=10000)  # or evaluate(src, EvalConfig(...))
    print(format_results(result))
    result["metrics"]["fid"]["value"], result["metrics"]["fid"]["provenance"]

What happens, in order:

1. the reference (``ref``, e.g. ``mnist:test``, ``fashion-mnist:test``, ``folder:PATH``) is loaded
   and ``n`` of its images are chosen: all when it has at most ``n``, else a random subset drawn
   with the fixed seed ``REF_SUBSET_SEED`` (not ``seed``: the same real images, and so the same
   cached features, serve every evaluation);
2. the extractor (default: the one registered for the reference dataset, ``lenet-mnist`` for MNIST,
   ``lenet-fashion`` for Fashion-MNIST) runs on them; the outputs are cached (``refcache.py``);
3. the source yields ``n`` images (``sources.py``: checkpoint, model, folder, ONNX, or real data
   ``data:DATASET:SPLIT`` for the real-vs-real floor), in chunks of ``batch_size``; features are
   extracted in fixed batches, and FID's mean and covariance are accumulated in float64 as they
   arrive; the images themselves are kept (in [0, 1]) only when a metric reads them
   (``ms-ssim-diversity``);
4. each metric of ``metrics`` runs on the two sample sets, fed and reported as its registration
   in ``turbopix.metrics`` declares (``specs.py``).

Options are the fields of :class:`~turbopix.evaluation.config.EvalConfig`, given as a config, as
keywords, or both (keywords win).

Every metric entry in the result carries its provenance: extractor name and weights sha256, the
generated and reference sample counts, the reference spec, the seed and the metric's parameters.
Numbers are comparable only between evaluations with the same provenance.

``ms-ssim-diversity`` (not a default) is the mean MS-SSIM of 1,000 pairs of generated images drawn
with ``seed`` (all pairs when there are at most 1,000, i.e. n <= 45); lower is more diverse. For
the scale of real data, evaluate real images as the source (``data:mnist:train``). See
``turbopix.metrics.diversity.ms_ssim_diversity``.

CAS (metric ``cas``, conditional sources only) is computed on extractor features: a logistic
probe is trained on the generated samples' features and their conditioning labels and tested on
the labelled reference images (see ``turbopix.metrics.probes.cas``). It is not the published CAS,
which trains a ResNet on generated images.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from turbopix.data import ImageData, load_dataset
from turbopix.evaluation.config import EvalConfig, build_config
from turbopix.evaluation.refcache import ReferenceFeatures, cache_key, load_cached, store
from turbopix.evaluation.report import format_results
from turbopix.evaluation.sources import GeneratedImages, data_images, open_source, source_path, subset_index, subset_name
from turbopix.evaluation.specs import EvaluationError, MetricSpec, default_metric_keys, distribution_metrics, metric_keys, parse_metrics
from turbopix.features.extractor import FeatureExtractor, default_extractor, load_extractor
from turbopix.metrics.fid import FeatureStats

REF_SUBSET_SEED = 0

# Kept for callers of the former constants: both come from the METRICS registry.
DEFAULT_METRICS = tuple(default_metric_keys())
ALL_METRICS = tuple(metric_keys())

__all__ = ["ALL_METRICS", "DEFAULT_METRICS", "EvalConfig", "EvaluationError", "evaluate", "format_results", "parse_metrics"]


@dataclass
class SampleSet:
    """One side of an evaluation (generated or reference), with the fields metric inputs name."""

    n: int
    features: np.ndarray  # float32 (n, D)
    stats: Any  # FeatureStats, or (mu, sigma, n) from the reference cache
    logits: np.ndarray | None  # float32 (n, K)
    labels: Any  # (n,) classes, None when unknown
    images: torch.Tensor | None = None  # (n, C, H, W) in [0, 1], only when a metric reads them

    @property
    def predicted_classes(self) -> np.ndarray | None:
        return None if self.logits is None else self.logits.argmax(axis=1)


def evaluate(source: str | Path | nn.Module, config: EvalConfig | None = None, **options: Any) -> dict[str, Any]:
    """Evaluate ``source`` (checkpoint, turbopix model, image folder, .onnx generator, or
    ``data:DATASET:SPLIT``) against ``ref``; see the module docstring. ``options`` are
    :class:`EvalConfig` fields; ``extractor`` may also be a loaded ``FeatureExtractor`` or an
    ``nn.Module``. Returns a JSON-serialisable dict with ``metrics`` (per metric: values and
    ``provenance``), ``source``, ``reference``, ``extractor``, ``seed`` and ``timing_s``.
    ``batch_size`` only sets how many images are generated at once (memory); it does not change
    the numbers beyond float rounding."""
    loaded = options.get("extractor")
    if isinstance(loaded, (FeatureExtractor, nn.Module)):  # an object, not a config value
        options = {k: v for k, v in options.items() if k != "extractor"}
    else:
        loaded = None
    cfg = build_config(EvalConfig, config, options, what="evaluate()")
    specs = [distribution_metrics()[key] for key in parse_metrics(cfg.metrics)]
    if not isinstance(source, nn.Module):
        source_path(source)  # a typo in the source path fails now, not after the reference is extracted
    timing: dict[str, float] = {}
    t0 = time.perf_counter()

    ref_spec, dataset, split = _parse_ref(cfg.ref)
    ref_data = load_dataset(ref_spec, data_root=cfg.data_root)
    which = loaded if loaded is not None else cfg.extractor if cfg.extractor is not None else default_extractor(dataset)
    ext = load_extractor(which, device=cfg.device)
    _check_requirements(specs, ext, ref_data)

    ref_feats, ref_info = _reference_features(ref_data, ref_spec, dataset, split, ext, cfg.n, cache=cfg.cache, progress=cfg.progress)
    reference = _reference_set(ref_feats, ref_data if any(s.needs("reference_images") for s in specs) else None)
    timing["reference"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    gen = open_source(source, n=cfg.n, seed=cfg.seed, classes=ref_data.classes, data_root=cfg.data_root, device=cfg.device)
    for spec in specs:
        if spec.needs("generated_labels") and gen.labels is None:
            raise EvaluationError(
                f"metric '{spec.key}' needs class-conditional samples; the source ({gen.info.get('kind')}) has no labels"
            )
    keep_images = any(s.needs("generated_images") for s in specs)
    generated = _extract_generated(gen, ext, cfg.batch_size, cfg.progress, keep_images)
    timing["generate_and_extract"] = time.perf_counter() - t1

    common = {
        "extractor": ext.name,
        "extractor_sha256": ext.sha256,
        "n_generated": generated.n,
        "n_reference": reference.n,
        "reference": ref_spec,
        "seed": cfg.seed,
    }
    sets = {"generated": generated, "reference": reference}
    results: dict[str, Any] = {}
    for spec in tqdm(specs, desc="metrics", disable=not cfg.progress, leave=False):
        t = time.perf_counter()
        values, params = spec.compute(sets, ext.num_classes, cfg.seed)
        results[spec.key] = {**values, "provenance": {**common, "params": params}}
        timing[spec.key] = time.perf_counter() - t
    likelihood = None
    if cfg.nll_k:
        t = time.perf_counter()
        likelihood = _likelihood(source, cfg, ref_spec)
        timing["nll"] = time.perf_counter() - t
    timing["total"] = time.perf_counter() - t0

    from turbopix.core.version import __version__

    return {
        "metrics": results,
        **({"nll": likelihood} if likelihood is not None else {}),
        "source": gen.info | {"n": gen.n},
        "reference": ref_info,
        "extractor": ext.info(),
        "seed": cfg.seed,
        "timing_s": {k: round(v, 3) for k, v in timing.items()},
        "turbopix_version": __version__,
    }


# ------------------------------------------------------------------ steps


def _likelihood(source: str | Path | nn.Module, cfg: EvalConfig, ref_spec: str) -> dict[str, Any]:
    """The IWAE negative log-likelihood of a VAE source (``likelihood.py``) and what it was computed on."""
    from turbopix.evaluation.likelihood import evaluate_nll
    from turbopix.loading import load

    model = source if isinstance(source, nn.Module) else load(source)
    if getattr(model, "family", None) != "vae":
        raise EvaluationError(f"{{option:nll_k}} needs a VAE source; this one is a {getattr(model, 'family', 'non-model')}")
    spec = cfg.nll_data
    if spec is None:  # a model trained on binarised digits is scored on a fixed binarisation of the reference
        trained_on = str((getattr(model, "metadata", None) or {}).get("data", ""))
        spec = f"{ref_spec}?binarize=fixed" if "binarize=" in trained_on else ref_spec
    data = load_dataset(spec, data_root=cfg.data_root)
    return evaluate_nll(model, data, k=cfg.nll_k, seed=cfg.seed, progress=cfg.progress) | {"data": spec}



def _parse_ref(ref: str) -> tuple[str, str, str]:
    """``(spec, dataset, split)``: ``mnist`` -> ``mnist:test`` (evaluations compare with held-out data)."""
    ref = ref.strip()
    if ref.startswith("folder:"):
        return ref, ref, ""
    dataset, _, split = ref.lower().partition(":")
    split = split or "test"
    return f"{dataset}:{split}", dataset, split


def _check_requirements(specs: list[MetricSpec], ext: FeatureExtractor, ref: ImageData) -> None:
    """Refuse, before any sampling, metrics that this extractor or reference cannot give."""
    for spec in specs:
        if spec.needs_logits() and not ext.num_classes:
            raise EvaluationError(
                f"metric '{spec.key}' needs class logits; extractor '{ext.name}' gives features only "
                "(choose another {option:extractor}, or leave it out of {option:metrics})"
            )
        if spec.needs("reference_labels") and (not ref.num_classes or (ref.labels < 0).any()):
            raise EvaluationError(f"metric '{spec.key}' needs a labelled reference; '{ref.name}' has no labels")


def _reference_features(
    data: ImageData, spec: str, dataset: str, split: str, ext: FeatureExtractor, n: int, *, cache: bool, progress: bool
) -> tuple[ReferenceFeatures, dict[str, Any]]:
    index = subset_index(len(data), n, REF_SUBSET_SEED)
    n_ref, subset = len(index), subset_name(len(data), n, REF_SUBSET_SEED)
    info: dict[str, Any] = {"spec": spec, "dataset": dataset, "split": split, "n": n_ref, "size": len(data), "subset": subset}
    cacheable = cache and not spec.startswith("folder:")
    key = cache_key(dataset=dataset, split=split, extractor=ext.name, extractor_sha256=ext.sha256, n=n_ref, subset=subset)
    if cacheable and (hit := load_cached(key)) is not None:
        return hit, info | {"cache": "hit"}

    chunks = data_images(data, index, None, {}).chunks(ext.batch_size)
    feats, logits, stats = _extract(ext, chunks, n_ref, f"reference {spec}", progress)
    mu, sigma = stats.compute()
    ref = ReferenceFeatures(
        features=feats,
        logits=logits,
        labels=data.labels[index].numpy().astype(np.int64),
        index=index.numpy().astype(np.int64),
        mu=mu,
        sigma=sigma,
    )
    if not cacheable:
        return ref, info | {"cache": "off" if not spec.startswith("folder:") else "not cached (folder)"}
    path = store(key, ref)
    return ref, info | {"cache": "miss", "cache_file": str(path)}


def _unit(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] as [0, 1] for the image metrics (clamped: a linear ONNX output may overshoot)."""
    return ((images.float() + 1) / 2).clamp(0, 1)


def _reference_set(ref: ReferenceFeatures, data: ImageData | None) -> SampleSet:
    """The reference side; with ``data``, its images too (never cached: only image metrics read them)."""
    n = int(ref.features.shape[0])
    images = None
    if data is not None:
        chunks = data_images(data, torch.from_numpy(ref.index), None, {}).chunks(500)
        images = torch.cat([_unit(chunk) for chunk in chunks])
    return SampleSet(n, ref.features, (ref.mu, ref.sigma, n), ref.logits, ref.labels, images)


def _extract_generated(gen: GeneratedImages, ext: FeatureExtractor, batch_size: int, progress: bool, keep_images: bool) -> SampleSet:
    kept: list[torch.Tensor] = []

    def chunks() -> Iterator[torch.Tensor]:
        for chunk in gen.chunks(batch_size):
            if keep_images:
                kept.append(_unit(chunk))
            yield chunk

    feats, logits, stats = _extract(ext, chunks(), gen.n, "generate + extract", progress)
    return SampleSet(gen.n, feats, stats, logits, gen.labels, torch.cat(kept) if kept else None)


def _extract(
    ext: FeatureExtractor, chunks: Iterator[torch.Tensor], total: int, desc: str, progress: bool
) -> tuple[np.ndarray, np.ndarray | None, FeatureStats]:
    """Features, logits (None without) and their running float64 statistics, batch by batch."""
    stats = FeatureStats()
    feats, logits = [], []
    with tqdm(total=total, desc=desc, unit="img", disable=not progress, leave=False) as bar:
        for count, out in ext.iter_batches(chunks):
            stats.update(out.features)
            feats.append(out.features)
            if out.logits is not None:
                logits.append(out.logits)
            bar.update(count)
    if stats.n != total:  # only a source can fall short: a dataset always has what its index names
        raise EvaluationError(f"the source yielded {stats.n} images, expected {total}")
    if stats.n < 2:
        raise EvaluationError(f"need at least 2 images for feature statistics, got {stats.n}")
    return np.concatenate(feats), (np.concatenate(logits) if logits else None), stats
