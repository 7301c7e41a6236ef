"""Rater agreement: Krippendorff's alpha, and split-half reliability with Spearman-Brown.

Agreement says whether the raters measure the same thing: a MOS of 3.2 from raters who agree is a
property of the images; from raters who disagree it is mostly a property of who showed up.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from turbopix.rate.stats import Record, codes

METRICS = ("nominal", "ordinal", "interval")


def krippendorff_alpha(records: Sequence[Record], unit: str = "image", value: str = "score",
                       metric: str = "interval") -> float:
    """Krippendorff's alpha over the units rated by at least two raters (Krippendorff 2011,
    "Computing Krippendorff's alpha-reliability", section C).

    With ``m_u`` values in unit u, the coincidence matrix is ``o_ck = sum_u (number of ordered
    pairs of values (c, k) from different raters in u) / (m_u - 1)``, ``n_c = sum_k o_ck`` and
    ``n = sum_c n_c``. Then

        alpha = 1 - (n - 1) * sum_ck o_ck delta2_ck / sum_ck n_c n_k delta2_ck

    with the difference ``delta2_ck``: nominal ``[c != k]`` (2AFC ``correct``, A/B ``choice``),
    interval ``(c - k)^2`` (MOS as numbers), ordinal ``(sum_{g=c..k} n_g - (n_c + n_k)/2)^2`` (MOS
    as ranks). 1 is perfect agreement, 0 agreement by chance, below 0 systematic disagreement; NaN
    when no unit has two ratings or all values are equal. ``unit`` and ``value`` name the record
    keys: e.g. ``unit="image"``, ``value="correct"``, ``metric="nominal"`` for 2AFC.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    units: dict[str, list[object]] = {}
    for rec in records:
        units.setdefault(str(rec[unit]), []).append(rec[value])
    pairable = [v for v in units.values() if len(v) >= 2]
    if not pairable:
        return math.nan
    flat = [x for v in pairable for x in v]
    if metric == "nominal":
        idx, labels = codes(flat)
        numbers = None
    else:
        numbers = np.array(sorted({float(x) for x in flat}))
        lookup = {x: i for i, x in enumerate(numbers)}
        idx = np.array([lookup[float(x)] for x in flat])
        labels = list(numbers)
    k = len(labels)
    o = np.zeros((k, k))
    start = 0
    for v in pairable:
        c = np.bincount(idx[start:start + len(v)], minlength=k).astype(float)
        o += (np.outer(c, c) - np.diag(c)) / (len(v) - 1)
        start += len(v)
    n_c = o.sum(1)
    n = n_c.sum()
    delta2 = _delta2(metric, numbers, n_c)
    expected = np.outer(n_c, n_c) * delta2
    if expected.sum() == 0:
        return math.nan
    return float(1 - (n - 1) * (o * delta2).sum() / expected.sum())


def _delta2(metric: str, numbers: np.ndarray | None, n_c: np.ndarray) -> np.ndarray:
    k = len(n_c)
    if metric == "nominal":
        return 1 - np.eye(k)
    if metric == "interval":
        return (numbers[:, None] - numbers[None, :]) ** 2
    cum = np.concatenate([[0], np.cumsum(n_c)])  # ordinal: sum_{g=c..k} n_g = cum[k+1] - cum[c]
    lo = np.minimum.outer(np.arange(k), np.arange(k))
    hi = np.maximum.outer(np.arange(k), np.arange(k))
    return (cum[hi + 1] - cum[lo] - (n_c[:, None] + n_c[None, :]) / 2) ** 2


def split_half(records: Sequence[Record], unit: str = "image", value: str = "score", splits: int = 200,
               seed: int = 0) -> float:
    """Split-half reliability of the per-unit mean, corrected by Spearman-Brown.

    The raters are split at random into two halves; each half gives a mean ``value`` per unit
    (units both halves rated); ``r`` is the Pearson correlation of the two halves' means across
    units, and ``2 r / (1 + r)`` (Spearman-Brown) estimates the reliability of the mean over all
    raters. Averaged over ``splits`` random splits. NaN with fewer than two raters or three units
    rated by both halves.
    """
    rater, raters = codes(rec["rater"] for rec in records)
    unit_idx, units = codes(rec[unit] for rec in records)
    y = np.array([float(rec[value]) for rec in records])
    if len(raters) < 2:
        return math.nan
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(splits):
        half = rng.permutation(len(raters)) < len(raters) // 2
        means = []
        for side in (half[rater], ~half[rater]):
            count = np.bincount(unit_idx[side], minlength=len(units))
            with np.errstate(invalid="ignore", divide="ignore"):
                means.append(np.bincount(unit_idx[side], y[side], minlength=len(units)) / count)
        both = np.isfinite(means[0]) & np.isfinite(means[1])
        if both.sum() < 3 or np.std(means[0][both]) == 0 or np.std(means[1][both]) == 0:
            continue
        r = np.corrcoef(means[0][both], means[1][both])[0, 1]
        out.append(2 * r / (1 + r))
    return float(np.mean(out)) if out else math.nan
