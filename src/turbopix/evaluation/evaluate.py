"""Evaluate a generator against real data: sample, extract features, compute the metrics.

    from turbopix.evaluation.evaluate import evaluate, format_results
    result = evaluate("runs/x/model.safetensors", ref="mnist:test", n=10000)
    print(format_results(result))
    result["metrics"]["fid"]["value"], result["metrics"]["fid"]["provenance"]

What happens, in order:

1. the reference (``ref``, e.g. ``mnist:test``, ``fashion-mnist:test``, ``folder:PATH``) is loaded
   and ``n`` of its images are chosen: all when it has at most ``n``, else a random subset drawn
   with the fixed seed ``REF_SUBSET_SEED`` (not ``seed``: the same real images, and so the same
   cached features, serve every evaluation);
2. the extractor (default: the one registered for the reference dataset, ``lenet-mnist`` for MNIST,
   ``lenet-fashion`` for Fashion-MNIST) runs on them; the outputs are cached (``refcache.py``);
3. the source yields ``n`` images (``metrics/generated.py``: checkpoint, model, folder, ONNX, or
   real data ``data:DATASET:SPLIT`` for the real-vs-real floor), in chunks of ``batch_size``; features are extracted in fixed batches, and FID's mean and
   covariance are accumulated in float64 as they arrive;
4. each metric of ``metrics`` runs on the two feature sets (definitions in ``turbopix.metrics``).

Every metric entry in the result carries its provenance: extractor name and weights sha256, the
generated and reference sample counts, the reference spec, the seed and the metric's parameters.
Numbers are comparable only between evaluations with the same provenance.

CAS (metric ``cas``, conditional sources only) is computed on extractor features: a logistic
probe is trained on the generated samples' features and their conditioning labels and tested on
the labelled reference images (see ``turbopix.metrics.probes.cas``). It is not the published CAS,
which trains a ResNet on generated images.
"""
from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from turbopix.data import ImageData, load_dataset
from turbopix.metrics import distribution as dist
from turbopix.features.extractor import FeatureExtractor, default_extractor, load_extractor
from turbopix.metrics.fid import FeatureStats
from turbopix.evaluation.sources import GeneratedImages, open_source, source_path
from turbopix.metrics.prdc import DC_K, PR_K
from turbopix.evaluation.refcache import ReferenceFeatures, cache_key, load_cached, store

DEFAULT_METRICS = ("fid", "kid", "prdc", "diversity", "c2st", "is", "classes")
ALL_METRICS = (*DEFAULT_METRICS, "cas")
REF_SUBSET_SEED = 0
# Metric parameters, passed explicitly so that the provenance records exactly what was used.
KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000  # torch-fidelity's defaults; the size is clipped to the sample counts
IS_SPLITS = 10
DIVERSITY_PAIRS = 100_000
C2ST_TEST_FRACTION = 0.5
CLASS_MIN_FRACTION = 0.01


class EvaluationError(ValueError):
    """A request that cannot be evaluated as asked; the message says why and what to change."""


def parse_metrics(metrics: str | Sequence[str]) -> list[str]:
    """Metric names from a list or a comma-separated string, checked, duplicates dropped."""
    names = [m.strip().lower() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
    if not names:
        raise EvaluationError(f"no metrics given; choose from: {', '.join(ALL_METRICS)}")
    unknown = [m for m in names if m not in ALL_METRICS]
    if unknown:
        raise EvaluationError(f"unknown metric(s): {', '.join(unknown)}; choose from: {', '.join(ALL_METRICS)}")
    return list(dict.fromkeys(names))


def evaluate(
    source: str | Path | nn.Module,
    *,
    ref: str = "mnist:test",
    metrics: str | Sequence[str] = DEFAULT_METRICS,
    n: int = 10000,
    extractor: str | Path | FeatureExtractor | nn.Module | None = None,
    seed: int = 0,
    data_root: str | Path | None = None,
    batch_size: int = 500,
    cache: bool = True,
    progress: bool = True,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Evaluate ``source`` (checkpoint, turbopix model, image folder, .onnx generator, or
    ``data:DATASET:SPLIT``) against ``ref``; see the module docstring. Returns a JSON-serialisable dict with ``metrics`` (per
    metric: values and ``provenance``), ``source``, ``reference``, ``extractor``, ``seed`` and
    ``timing_s``. ``batch_size`` only sets how many images are generated at once (memory); it does
    not change the numbers beyond float rounding."""
    names = parse_metrics(metrics)
    if n < 2:
        raise EvaluationError(f"n must be at least 2 (the metrics compare sample sets), got {n}")
    if batch_size < 1:
        raise EvaluationError(f"batch_size must be at least 1, got {batch_size}")
    if not isinstance(source, nn.Module):
        source_path(source)  # a typo in the source path fails now, not after the reference is extracted
    timing: dict[str, float] = {}
    t0 = time.perf_counter()

    ref_spec, dataset, split = _parse_ref(ref)
    ref_data = load_dataset(ref_spec, data_root=data_root)
    ext = load_extractor(extractor if extractor is not None else default_extractor(dataset), device=device)
    _check_requirements(names, ext, ref_data)

    ref_feats, ref_info = _reference_features(ref_data, ref_spec, dataset, split, ext, n, cache=cache, progress=progress)
    timing["reference"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    gen = open_source(source, n=n, seed=seed, classes=ref_data.classes, data_root=data_root, device=device)
    if "cas" in names and gen.labels is None:
        raise EvaluationError(
            f"metric 'cas' needs class-conditional samples; the source ({gen.info.get('kind')}) has no labels"
        )
    fake_feats, fake_logits, fake_stats = _extract_generated(gen, ext, batch_size, progress)
    timing["generate_and_extract"] = time.perf_counter() - t1

    common = {
        "extractor": ext.name,
        "extractor_sha256": ext.sha256,
        "n_generated": gen.n,
        "n_reference": int(ref_feats.features.shape[0]),
        "reference": ref_spec,
        "seed": seed,
    }
    results: dict[str, Any] = {}
    for name in tqdm(names, desc="metrics", disable=not progress, leave=False):
        t = time.perf_counter()
        values, params = METRIC_FUNCTIONS[name](ref_feats, fake_feats, fake_logits, fake_stats, gen, seed)
        results[name] = {**values, "provenance": {**common, "params": params}}
        timing[name] = time.perf_counter() - t
    timing["total"] = time.perf_counter() - t0

    from turbopix.core.version import __version__

    return {
        "metrics": results,
        "source": gen.info | {"n": gen.n},
        "reference": ref_info,
        "extractor": ext.info(),
        "seed": seed,
        "timing_s": {k: round(v, 3) for k, v in timing.items()},
        "turbopix_version": __version__,
    }


# ------------------------------------------------------------------ steps


def _parse_ref(ref: str) -> tuple[str, str, str]:
    """``(spec, dataset, split)``: ``mnist`` -> ``mnist:test`` (evaluations compare with held-out data)."""
    ref = ref.strip()
    if ref.startswith("folder:"):
        return ref, ref, ""
    dataset, _, split = ref.lower().partition(":")
    split = split or "test"
    return f"{dataset}:{split}", dataset, split


def _check_requirements(names: list[str], ext: FeatureExtractor, ref: ImageData) -> None:
    """Refuse, before any sampling, metrics that this extractor or reference cannot give."""
    for name in ("is", "classes"):
        if name in names and not ext.num_classes:
            raise EvaluationError(f"metric '{name}' needs class logits; extractor '{ext.name}' gives features only")
    if "cas" in names:
        if not ref.num_classes or (ref.labels < 0).any():
            raise EvaluationError(f"metric 'cas' needs a labelled reference; '{ref.name}' has no labels")


def _reference_features(
    data: ImageData, spec: str, dataset: str, split: str, ext: FeatureExtractor, n: int, *, cache: bool, progress: bool
) -> tuple[ReferenceFeatures, dict[str, Any]]:
    n_ref = min(n, len(data))
    if n_ref < len(data):
        index = torch.randperm(len(data), generator=torch.Generator().manual_seed(REF_SUBSET_SEED))[:n_ref].sort().values
        subset = f"random(seed={REF_SUBSET_SEED})"
    else:
        index, subset = torch.arange(len(data)), "all"
    info: dict[str, Any] = {"spec": spec, "dataset": dataset, "split": split, "n": n_ref, "size": len(data), "subset": subset}
    cacheable = cache and not spec.startswith("folder:")
    key = cache_key(dataset=dataset, split=split, extractor=ext.name, extractor_sha256=ext.sha256, n=n_ref, subset=subset)
    if cacheable and (hit := load_cached(key)) is not None:
        return hit, info | {"cache": "hit"}

    stats = FeatureStats()
    feats, logits = [], []
    chunks = (data.batch(index[s : s + ext.batch_size])["image"] for s in range(0, n_ref, ext.batch_size))
    with tqdm(total=n_ref, desc=f"reference {spec}", unit="img", disable=not progress, leave=False) as bar:
        for count, out in ext.iter_batches(chunks):
            stats.update(out.features)
            feats.append(out.features)
            if out.logits is not None:
                logits.append(out.logits)
            bar.update(count)
    mu, sigma = _stats(stats)
    ref = ReferenceFeatures(
        features=np.concatenate(feats),
        logits=np.concatenate(logits) if logits else None,
        labels=data.labels[index].numpy().astype(np.int64),
        index=index.numpy().astype(np.int64),
        mu=mu,
        sigma=sigma,
    )
    if not cacheable:
        return ref, info | {"cache": "off" if not spec.startswith("folder:") else "not cached (folder)"}
    path = store(key, ref)
    return ref, info | {"cache": "miss", "cache_file": str(path)}


def _stats(stats: FeatureStats) -> tuple[np.ndarray, np.ndarray]:
    if stats.n < 2:
        raise EvaluationError(f"need at least 2 images for feature statistics, got {stats.n}")
    return stats.compute()


def _extract_generated(
    gen: GeneratedImages, ext: FeatureExtractor, batch_size: int, progress: bool
) -> tuple[np.ndarray, np.ndarray | None, FeatureStats]:
    stats = FeatureStats()
    feats, logits = [], []
    with tqdm(total=gen.n, desc="generate + extract", unit="img", disable=not progress, leave=False) as bar:
        for count, out in ext.iter_batches(gen.chunks(batch_size)):
            stats.update(out.features)  # float64, merged batch by batch
            feats.append(out.features)
            if out.logits is not None:
                logits.append(out.logits)
            bar.update(count)
    if stats.n != gen.n:
        raise EvaluationError(f"the source yielded {stats.n} images, expected {gen.n}")
    return np.concatenate(feats), (np.concatenate(logits) if logits else None), stats


# ------------------------------------------------------------------ metrics
# Each returns (values, params): plain floats/ints/lists (JSON). Metrics of the generated samples
# alone (diversity, IS) also give the reference's value (``reference_value``) as the scale to read
# them against, so every metric uses the reference samples counted in its provenance.

MetricOut = tuple[dict[str, Any], dict[str, Any]]
MetricFn = Callable[[ReferenceFeatures, np.ndarray, Any, FeatureStats, GeneratedImages, int], MetricOut]


def _fid(ref: ReferenceFeatures, fake: np.ndarray, logits: Any, stats: FeatureStats, gen: GeneratedImages, seed: int) -> MetricOut:
    d = fake.shape[1]
    small = min(stats.n, ref.features.shape[0])
    if small <= d:
        warnings.warn(f"FID with {small} samples for {d}-D features: covariance is singular, FID strongly biased", stacklevel=3)
    mu, sigma = stats.compute()
    return {"value": dist.frechet_distance(ref.mu, ref.sigma, mu, sigma)}, {"stats": "float64 mean, covariance ddof=1"}


def _kid(ref: ReferenceFeatures, fake: np.ndarray, logits: Any, stats: FeatureStats, gen: GeneratedImages, seed: int) -> MetricOut:
    size = min(KID_SUBSET_SIZE, ref.features.shape[0], fake.shape[0])
    mean, std = dist.kid(ref.features, fake, subsets=KID_SUBSETS, subset_size=size, seed=seed)
    return {"value": mean, "std": std}, {"subsets": KID_SUBSETS, "subset_size": size, "kernel": "(x.y/D + 1)^3"}


def _prdc(ref: ReferenceFeatures, fake: np.ndarray, logits: Any, stats: FeatureStats, gen: GeneratedImages, seed: int) -> MetricOut:
    return dist.prdc(ref.features, fake), {"k_precision_recall": PR_K, "k_density_coverage": DC_K}


def _diversity(ref: ReferenceFeatures, fake: np.ndarray, logits: Any, stats: FeatureStats, gen: GeneratedImages, seed: int) -> MetricOut:
    # the reference's own diversity, same pairs budget, gives the scale to read the value against
    values = {
        "value": dist.diversity(fake, pairs=DIVERSITY_PAIRS, seed=seed),
        "reference_value": dist.diversity(ref.features, pairs=DIVERSITY_PAIRS, seed=seed),
    }
    return values, {"pairs": DIVERSITY_PAIRS, "distance": "L2 in feature space"}


def _c2st(ref: ReferenceFeatures, fake: np.ndarray, logits: Any, stats: FeatureStats, gen: GeneratedImages, seed: int) -> MetricOut:
    out = dist.c2st(ref.features, fake, seed=seed, test_fraction=C2ST_TEST_FRACTION, classifier="logistic")
    return out, {"classifier": "standardize + logistic regression", "test_fraction": C2ST_TEST_FRACTION}


def _is(ref: ReferenceFeatures, fake: np.ndarray, logits: Any, stats: FeatureStats, gen: GeneratedImages, seed: int) -> MetricOut:
    splits = min(IS_SPLITS, fake.shape[0])
    mean, std = dist.inception_score(logits, splits, inputs="logits", seed=seed)
    ref_mean, _ = dist.inception_score(ref.logits, min(IS_SPLITS, ref.logits.shape[0]), inputs="logits", seed=seed)
    return {"value": mean, "std": std, "reference_value": ref_mean}, {"splits": splits, "classifier": "extractor logits"}


def _classes(ref: ReferenceFeatures, fake: np.ndarray, logits: Any, stats: FeatureStats, gen: GeneratedImages, seed: int) -> MetricOut:
    k = logits.shape[1]
    # Both histograms come from the extractor's predictions, so its own errors cancel in the KL.
    out = dist.class_mode_coverage(logits, k, real_labels=ref.logits.argmax(axis=1), min_fraction=CLASS_MIN_FRACTION)
    params = {"classifier": "extractor logits", "min_fraction": CLASS_MIN_FRACTION, "kl_reference": "predicted classes of the reference"}
    return {**out, "num_classes": k}, params


def _cas(ref: ReferenceFeatures, fake: np.ndarray, logits: Any, stats: FeatureStats, gen: GeneratedImages, seed: int) -> MetricOut:
    out = dist.cas(fake, gen.labels, ref.features, ref.labels, seed=seed, classifier="logistic")
    out["per_class_accuracy"] = [None if math.isnan(v) else v for v in out["per_class_accuracy"]]
    return out, {"classifier": "standardize + logistic regression on extractor features", "train": "generated", "test": "reference"}


METRIC_FUNCTIONS: dict[str, MetricFn] = {
    "fid": _fid, "kid": _kid, "prdc": _prdc, "diversity": _diversity, "c2st": _c2st, "is": _is, "classes": _classes, "cas": _cas,
}


# ------------------------------------------------------------------ presentation


def result_rows(result: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """``(label, formatted value, provenance)`` per number, in the order the metrics were asked for."""
    rows = []
    for name, entry in result["metrics"].items():
        p = entry["provenance"]
        if name == "fid":
            rows.append(("FID", f"{entry['value']:.3f}", p))
        elif name == "kid":
            rows.append(("KID", f"{entry['value']:.5f} ± {entry['std']:.5f}", p))
        elif name == "prdc":
            rows += [(k, f"{entry[k]:.4f}", p) for k in ("precision", "recall", "density", "coverage")]
        elif name == "diversity":
            rows.append(("diversity", f"{entry['value']:.3f} (real {entry['reference_value']:.3f})", p))
        elif name == "c2st":
            rows.append(("C2ST accuracy", f"{entry['accuracy']:.4f} (p={entry['p_value']:.2g})", p))
        elif name == "is":
            rows.append(("IS", f"{entry['value']:.3f} ± {entry['std']:.3f} (real {entry['reference_value']:.3f})", p))
        elif name == "classes":
            rows.append(("class coverage", f"{entry['covered_classes']}/{entry['num_classes']}", p))
            rows.append(("class KL", f"{entry['kl']:.4f}", p))
        elif name == "cas":
            rows.append(("CAS accuracy", f"{entry['accuracy']:.4f}", p))
    return rows


def format_results(result: dict[str, Any]) -> str:
    """A plain-text table: each number with its extractor, sample counts, reference and seed."""
    header = ("metric", "value", "extractor", "generated", "reference", "seed")
    table = [header]
    for label, value, p in result_rows(result):
        ref = f"{p['reference']} ({p['n_reference']})"
        table.append((label, value, p["extractor"], str(p["n_generated"]), ref, str(p["seed"])))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    src = result["source"]
    where = src.get("path") or src.get("model") or src.get("kind")
    lines.append("")
    lines.append(f"source: {src.get('kind')} {where}; extractor sha256 {result['extractor']['sha256'][:12]}; "
                 f"reference cache: {result['reference'].get('cache')}; {result['timing_s']['total']:.1f} s")
    return "\n".join(lines)
