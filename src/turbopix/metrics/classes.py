"""Metrics computed from a classifier's outputs on generated images: Inception Score and mode coverage.

Any classifier trained on the real data works (e.g. a small MNIST CNN); numbers are comparable only
between runs that use the same classifier.
"""
from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from scipy.special import rel_entr, softmax

from turbopix.core.registry import METRICS


def _as_array(x: Any, dtype: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def class_probabilities(logits_or_probs: Any, inputs: Literal["auto", "logits", "probs"] = "auto") -> np.ndarray:
    """(N, C) class probabilities in float64.

    ``inputs="auto"`` treats the array as probabilities when every entry is in [0, 1] and every row
    sums to 1 within 1e-3 (true of float32 softmax outputs), and as logits otherwise.
    """
    a = _as_array(logits_or_probs, np.float64)
    if a.ndim != 2 or a.shape[1] < 2:
        raise ValueError(f"expected (N, C) logits or probabilities with C >= 2, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("logits/probabilities contain NaN or infinite values")
    if inputs == "auto":
        looks_like_probs = a.min() >= 0 and a.max() <= 1 and np.allclose(a.sum(axis=1), 1, atol=1e-3)
        inputs = "probs" if looks_like_probs else "logits"
    if inputs == "logits":
        return softmax(a, axis=1)
    if inputs == "probs":
        if a.min() < 0:
            raise ValueError("probabilities must be non-negative")
        return a / a.sum(axis=1, keepdims=True)  # remove float32 rounding drift
    raise ValueError(f"inputs must be 'auto', 'logits' or 'probs', got {inputs!r}")


@METRICS.register(
    "inception_score",
    kind="distribution",
    higher_is_better=True,
    description="Inception Score from any classifier: exp(E_x KL(p(y|x) || p(y))), mean/std over splits.",
    key="is",
    order=6,
    default=True,
    inputs=("generated_logits",),
    params={"inputs": "logits"},
    at_most_samples=("splits",),
    reference_value=True,
    notes={"classifier": "extractor logits"},
    rows=(("IS", "{value:.3f} ± {std:.3f} (real {reference_value:.3f})"),),
)
def inception_score(
    logits_or_probs: Any,
    splits: int = 10,
    *,
    inputs: Literal["auto", "logits", "probs"] = "auto",
    shuffle: bool = True,
    seed: int = 0,
) -> tuple[float, float]:
    """``(mean, std)`` of IS = exp( (1/n) sum_x KL(p(y|x) || p(y)) ) over ``splits`` parts.

    Reference: Salimans et al. 2016. Within each part p(y) is the mean of p(y|x) over that part;
    mean and population std (ddof=0) are over parts, as in the original code. It ranges from 1
    (every sample gets the same class distribution) to C (confident predictions spread evenly over
    all C classes). Unlike the original, samples are shuffled (with ``seed``) before splitting:
    class-conditional generators often emit samples grouped by class, and contiguous parts would
    then each see few classes and give a meaninglessly low score. Parts differ in size by at most 1.
    """
    p = class_probabilities(logits_or_probs, inputs)
    n = p.shape[0]
    if not 1 <= splits <= n:
        raise ValueError(f"splits must be between 1 and the number of samples ({n}), got {splits}")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    scores = []
    for part in np.array_split(order, splits):
        pp = p[part]
        p_y = pp.mean(axis=0, keepdims=True)
        kl = rel_entr(pp, p_y).sum(axis=1)  # rel_entr(0, q) = 0: confident rows are fine
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


@METRICS.register(
    "class_mode_coverage",
    kind="distribution",
    higher_is_better=True,
    description="Fraction of classes the generator produces (higher is better) and KL of its class "
    "histogram to the real one (lower is better).",
    key="classes",
    order=7,
    default=True,
    # Both histograms come from the extractor's predictions, so its own errors cancel in the KL.
    inputs=("generated_logits", "num_classes", "reference_predicted_classes"),
    notes={"classifier": "extractor logits", "kl_reference": "predicted classes of the reference"},
    rows=(("class coverage", "{covered_classes}/{num_classes}"), ("class KL", "{kl:.4f}")),
)
def class_mode_coverage(
    pred_labels: Any,
    num_classes: int,
    real_labels: Any = None,
    *,
    min_fraction: float = 0.01,
    eps: float = 1e-6,
) -> dict[str, float]:
    """Mode coverage of generated samples, from a classifier's predicted labels.

    ``pred_labels`` are ints in [0, num_classes), or (N, C) logits/probabilities (argmax is taken).

    * ``coverage``: fraction of the ``num_classes`` classes produced. A class counts as produced when
      it has at least max(1, min_fraction * N / num_classes) samples, i.e. by default at least 1% of
      an even share: a single misclassified sample does not make a class "covered".
    * ``kl``: KL(p_gen || p_ref) in nats between the generated class histogram and the histogram of
      ``real_labels`` (uniform when not given). Both are smoothed as p' = (p + eps) / (1 + C eps)
      so that a class absent on either side gives a large but finite value (with eps=1e-6, about
      13.8 * p_gen(c) nats for a generated class the reference never has) instead of infinity.
    * ``covered_classes``: the count behind ``coverage``, and ``num_classes``: out of how many.
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    gen = _labels(pred_labels, num_classes, "pred_labels")
    counts = np.bincount(gen, minlength=num_classes)
    threshold = max(1.0, min_fraction * gen.size / num_classes)
    covered = int((counts >= threshold).sum())

    p = counts / counts.sum()
    if real_labels is None:
        q = np.full(num_classes, 1.0 / num_classes)
    else:
        real = _labels(real_labels, num_classes, "real_labels")
        q = np.bincount(real, minlength=num_classes) / real.size
    p, q = (p + eps) / (1 + num_classes * eps), (q + eps) / (1 + num_classes * eps)
    kl = float(rel_entr(p, q).sum())
    return {"coverage": covered / num_classes, "kl": kl, "covered_classes": covered, "num_classes": num_classes}


def _labels(x: Any, num_classes: int, name: str) -> np.ndarray:
    a = _as_array(x, None)
    if a.ndim == 2:  # logits or probabilities: the predicted class
        a = a.argmax(axis=1)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of class indices, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        if not np.all(a == np.round(a)):
            raise ValueError(f"{name} must hold integer class indices")
        a = a.astype(np.int64)
    if a.min() < 0 or a.max() >= num_classes:
        raise ValueError(f"{name} must be in [0, {num_classes}), got values in [{a.min()}, {a.max()}]")
    return a
