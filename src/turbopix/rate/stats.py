"""Statistics of a rating study: scores with two-way bootstrap intervals, A/B significance, gold screening.

Pure functions on plain records (one mapping per rating, ids are strings; an ``sqlite3.Row`` works).
The record kinds, by the keys each function reads:

- 2AFC (real vs generated): ``rater``, ``image`` (the generated image shown), ``correct`` (the rater
  picked the real image);
- comparison (A/B and Bradley-Terry): ``rater``, ``image`` (the content both sources rendered),
  ``a``, ``b`` (the two source names), ``choice`` in ``"a"``, ``"b"``, ``"tie"``;
- mean opinion score: ``rater``, ``image``, ``source``, ``score`` (1-5);
- gold trial (attention check): ``rater``, ``correct``.

Every interval comes from the same **two-way (crossed) bootstrap** (Owen 2007, "the pigeonhole
bootstrap"): a replicate draws the raters with replacement (R draws from the R raters) and,
independently, the images with replacement (M draws from the M images); a rating by rater r of
image m then enters the replicate ``count(r) * count(m)`` times, i.e. the replicate holds every
rating in the product of the two resampled sets. The statistic is recomputed on each replicate and
the interval is the 2.5th-97.5th percentile of the replicates. Resampling both sides makes the
interval account for the two sources of variation a study generalises over (other people, other
images); resampling ratings alone would pretend 1000 ratings by 5 raters are 1000 independent ones.
Owen shows the scheme is mildly conservative (it counts the rating-level noise three times instead
of once); docs/rating_statistics.md reports the coverage this gives in simulation.

Raters who fail the gold trials are removed first (``screen_raters``, then ``keep_raters``).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats as sps

Record = Mapping[str, object]

N_BOOT = 2000  # replicates by default: percentile ends stable to ~0.3 percentage points
LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A score with its bootstrap interval; ``n`` ratings, ``raters`` and ``images`` behind it."""

    value: float
    low: float
    high: float
    n: int
    raters: int
    images: int

    def covers(self, truth: float) -> bool:
        return self.low <= truth <= self.high

    def to_dict(self) -> dict:
        return asdict(self)


def codes(values: Iterable[object]) -> tuple[np.ndarray, list[str]]:
    """Integer codes for string ids, and the sorted ids they index."""
    values = [str(v) for v in values]
    labels = sorted(set(values))
    lookup = {v: i for i, v in enumerate(labels)}
    return np.array([lookup[v] for v in values], dtype=np.int64), labels


def crossed_bootstrap_sums(raters: Sequence[object], images: Sequence[object], columns: np.ndarray,
                           n_boot: int = N_BOOT, seed: int = 0, chunk: int = 250) -> np.ndarray:
    """``(n_boot, k)`` replicate sums ``S[b, j] = sum_i w_b(i) * columns[i, j]`` of the crossed bootstrap.

    ``w_b(i) = c_b(rater_i) * d_b(image_i)`` with ``c_b ~ Multinomial(R, 1/R)`` the times each rater
    was drawn and ``d_b ~ Multinomial(M, 1/M)`` the times each image was drawn. Every statistic here
    is a smooth function of a few such sums (a mean is a ratio of two), so the replicates cost one
    matrix product each, in chunks to bound memory.
    """
    r, r_labels = codes(raters)
    m, m_labels = codes(images)
    columns = np.asarray(columns, dtype=np.float64).reshape(len(r), -1)
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, columns.shape[1]))
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        c = _draw_counts(rng, size, len(r_labels))
        d = _draw_counts(rng, size, len(m_labels))
        # einsum, not @: no BLAS threads, which only contend on a busy 2-core machine at this size
        out[start:start + size] = np.einsum("bn,nj->bj", np.take(c, r, axis=1) * np.take(d, m, axis=1), columns)
    return out


def _draw_counts(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """``(size, n)`` times each of n items was drawn in n draws with replacement (a Multinomial(n,
    1/n) per row), counted with one bincount."""
    draws = rng.integers(n, size=(size, n)) + n * np.arange(size)[:, None]
    return np.bincount(draws.ravel(), minlength=size * n).reshape(size, n).astype(np.float64)


def percentile_interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` percentile interval of the replicates (undefined replicates, NaN, are dropped)."""
    tail = (1 - level) / 2 * 100
    finite = replicates[np.isfinite(replicates)]
    if not len(finite):
        return math.nan, math.nan
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def mean_replicates(records: Sequence[Record], value: np.ndarray, n_boot: int = N_BOOT, seed: int = 0) -> np.ndarray:
    """Crossed-bootstrap replicates of the mean of ``value``: ``sum_i w_i y_i / sum_i w_i``."""
    if not len(records):
        raise ValueError("no ratings to summarise (were all raters excluded by the gold trials?)")
    value = np.asarray(value, dtype=np.float64)
    sums = crossed_bootstrap_sums([rec["rater"] for rec in records], [rec["image"] for rec in records],
                                  np.stack([value, np.ones_like(value)], 1), n_boot, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums[:, 0] / sums[:, 1]


def weighted_mean(records: Sequence[Record], value: np.ndarray, n_boot: int = N_BOOT, seed: int = 0,
                  level: float = LEVEL, replicates: np.ndarray | None = None) -> Estimate:
    """Mean of ``value`` over the ratings, ``sum(y) / n``, with its crossed-bootstrap interval
    (``mean_replicates``, or the ``replicates`` given)."""
    if replicates is None:
        replicates = mean_replicates(records, value, n_boot, seed)
    low, high = percentile_interval(replicates, level)
    return Estimate(float(np.mean(value)), low, high, len(records), len({rec["rater"] for rec in records}),
                    len({rec["image"] for rec in records}))


# --- real vs generated -------------------------------------------------------------------------


def hype_infinity(records: Sequence[Record], n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> Estimate:
    """HYPE-infinity (Zhou et al. 2019): the raters' error rate on untimed real-vs-generated 2AFC.

    ``score = (1/n) * sum_i [not correct_i]``, the fraction of trials where the generated image was
    taken for the real one: 0 means every fake was spotted, 0.5 means raters cannot tell (chance),
    above 0.5 means the fakes look more real than the real images. Interval: crossed bootstrap.
    """
    fooled = np.array([0.0 if rec["correct"] else 1.0 for rec in records])
    return weighted_mean(records, fooled, n_boot, seed, level)


# --- mean opinion score ------------------------------------------------------------------------


def mean_opinion_scores(records: Sequence[Record], n_boot: int = N_BOOT, seed: int = 0,
                        level: float = LEVEL) -> dict[str, Estimate]:
    """Mean opinion score per source: ``MOS_s = (1/n_s) * sum_{i: source_i = s} score_i``.

    One crossed bootstrap over all ratings (raters and images drawn once per replicate, for every
    source together), replicate ``MOS_s = sum_i w_i score_i [s_i = s] / sum_i w_i [s_i = s]``. A
    replicate where no image of a source was drawn has no MOS for it and is left out of that
    source's percentiles.
    """
    if not len(records):
        raise ValueError("no ratings to summarise (were all raters excluded by the gold trials?)")
    score = np.array([float(rec["score"]) for rec in records])
    if np.any((score < 1) | (score > 5)):
        raise ValueError(f"opinion scores must lie in 1-5, got {sorted(set(score[(score < 1) | (score > 5)]))}")
    source, names = codes(rec["source"] for rec in records)
    onehot = np.eye(len(names))[source]
    sums = crossed_bootstrap_sums([rec["rater"] for rec in records], [rec["image"] for rec in records],
                                  np.concatenate([onehot * score[:, None], onehot], 1), n_boot, seed)
    out = {}
    for j, name in enumerate(names):
        mine = [rec for rec, s in zip(records, source) if s == j]
        with np.errstate(invalid="ignore", divide="ignore"):
            low, high = percentile_interval(sums[:, j] / sums[:, len(names) + j], level)
        out[name] = Estimate(float(score[source == j].mean()), low, high, len(mine),
                             len({r["rater"] for r in mine}), len({r["image"] for r in mine}))
    return out


# --- A vs B preference ---------------------------------------------------------------------------


def oriented(records: Sequence[Record], first: str, second: str) -> tuple[list[Record], np.ndarray]:
    """The comparisons of ``first`` with ``second`` (either side), and each one's outcome for
    ``first``: 1 won, 0 lost, 0.5 tie."""
    mine, outcome = [], []
    for rec in records:
        a, b, choice = str(rec["a"]), str(rec["b"]), rec["choice"]
        if {a, b} != {first, second} or a == b:
            continue
        if choice not in ("a", "b", "tie"):
            raise ValueError(f"a comparison's choice must be 'a', 'b' or 'tie', got {choice!r}")
        mine.append(rec)
        outcome.append(0.5 if choice == "tie" else float((choice == "a") == (a == first)))
    return mine, np.array(outcome)


@dataclass(frozen=True)
class Preference:
    """``first`` vs ``second``: the preference share with its interval, counts, and the tests."""

    first: str
    second: str
    share: Estimate
    wins: int
    losses: int
    ties: int
    p_value: float  # two-way bootstrap test (the statement's; agrees with the interval)
    p_value_raters: float  # sign-flip test clustered by rater (these images taken as fixed)
    p_value_sign_test: float  # exact binomial sign test, every rating taken as independent
    statement: str = field(default="")

    def to_dict(self) -> dict:
        return asdict(self)


def bootstrap_p_value(replicates: np.ndarray, null: float = 0.5) -> float:
    """Two-sided percentile-bootstrap test of ``statistic = null``:
    ``p = min(1, 2 * min(#(rep <= null), #(rep >= null)) / B)``, floored at ``1/B``. It is the
    smallest ``1 - level`` at which the percentile interval excludes ``null``, so "significant at
    0.05" and "the 95% interval excludes 0.5" always agree."""
    finite = replicates[np.isfinite(replicates)]
    tail = min(np.sum(finite <= null), np.sum(finite >= null))
    return float(min(1.0, max(2 * tail, 1) / len(finite)))


def sign_flip_p_value(raters: Sequence[object], outcome: np.ndarray, n_perm: int = 20000, seed: int = 0) -> float:
    """Two-sided permutation test of "no preference", clustered by rater.

    Statistic ``T = sum_r d_r`` with ``d_r = wins_r - losses_r`` of rater r (ties count 0). Under the
    null each rater is as likely to favour either source, so every rater's whole ``d_r`` may flip
    sign: ``p = P(|sum_r s_r d_r| >= |T|)`` over independent signs ``s_r = +-1``, enumerated exactly
    for up to 16 raters, else estimated from ``n_perm`` random sign vectors (counting the observed
    one, so p >= 1/(n_perm+1)). Flipping whole raters keeps one rater's ratings together, so a
    single enthusiastic rater cannot make a difference significant; the images are taken as fixed.
    """
    r, labels = codes(raters)
    d = np.bincount(r, weights=np.sign(outcome - 0.5), minlength=len(labels))
    observed = abs(d.sum())
    if observed == 0:
        return 1.0
    if len(d) <= 16:
        signs = 1 - 2 * ((np.arange(2 ** len(d))[:, None] >> np.arange(len(d))) & 1)
        return float(np.mean(np.abs(signs @ d) >= observed - 1e-9))
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n_perm, len(d)))
    return float((np.sum(np.abs(signs @ d) >= observed - 1e-9) + 1) / (n_perm + 1))


def ab_preference(records: Sequence[Record], first: str, second: str, n_boot: int = N_BOOT, seed: int = 0,
                  level: float = LEVEL, alpha: float = 0.05) -> Preference:
    """How often ``first`` is preferred to ``second``, ties allowed.

    ``share = (wins + ties / 2) / n`` (0.5: no preference), with its crossed-bootstrap interval.
    Significance, in the statement: the two-way bootstrap test of share = 0.5
    (``bootstrap_p_value``), which generalises over raters and images like the interval and agrees
    with it. Also reported: the rater-clustered sign-flip test (``sign_flip_p_value``: other raters,
    these images) and the exact two-sided binomial sign test
    ``P(Binomial(wins + losses, 1/2) as extreme as wins)``, which drops ties and treats every
    rating as independent (too optimistic when raters or images differ).
    """
    mine, outcome = oriented(records, first, second)
    if not mine:
        raise ValueError(f"no comparisons of {first!r} with {second!r}")
    replicates = mean_replicates(mine, outcome, n_boot, seed)
    share = weighted_mean(mine, outcome, level=level, replicates=replicates)
    wins, losses = int(np.sum(outcome == 1)), int(np.sum(outcome == 0))
    ties = len(outcome) - wins - losses
    p = bootstrap_p_value(replicates)
    p_raters = sign_flip_p_value([rec["rater"] for rec in mine], outcome, seed=seed)
    p_sign = float(sps.binomtest(wins, wins + losses, 0.5).pvalue) if wins + losses else 1.0
    pct = f"{100 * share.value:.1f}% (95% CI {100 * share.low:.1f}-{100 * share.high:.1f}%)"
    counts = f"{wins} wins, {losses} losses, {ties} ties from {share.raters} raters on {share.images} images"
    if p < alpha:
        leader = first if share.value > 0.5 else second
        verdict = f"raters prefer {leader}: the difference is significant (p = {p:.3g} < {alpha})"
    else:
        verdict = f"no significant preference (p = {p:.3g} >= {alpha}): this study cannot say which one raters prefer"
    statement = (f"{first} was preferred to {second} in {pct} of comparisons, ties counting half "
                 f"({counts}); {verdict}, by a two-sided bootstrap test over raters and images.")
    return Preference(first, second, share, wins, losses, ties, p, p_raters, p_sign, statement)


# --- attention checks --------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """The outcome of the gold trials: raters kept, raters flagged (with their gold accuracy), and
    raters with no gold trial at all (kept: nothing speaks against them)."""

    kept: frozenset[str]
    flagged: dict[str, float]
    accuracy: dict[str, float]
    unchecked: frozenset[str]
    max_fail: float

    def to_dict(self) -> dict:
        return {"kept": sorted(self.kept), "flagged": self.flagged, "accuracy": self.accuracy,
                "unchecked": sorted(self.unchecked), "max_fail": self.max_fail}


def screen_raters(gold: Sequence[Record], raters: Iterable[object] = (), max_fail: float = 0.2) -> Screen:
    """Flag the raters who failed more than ``max_fail`` of their gold trials.

    ``accuracy_r = (1/g_r) * sum [correct]`` over rater r's ``g_r`` gold trials; r is flagged when
    ``1 - accuracy_r > max_fail``. ``raters`` lists everyone who rated anything, so that raters who
    saw no gold trial are reported as ``unchecked`` (and kept).
    """
    if not 0 <= max_fail < 1:
        raise ValueError(f"max_fail is a fraction of gold trials in [0, 1), got {max_fail}")
    right: dict[str, list[bool]] = {}
    for rec in gold:
        right.setdefault(str(rec["rater"]), []).append(bool(rec["correct"]))
    accuracy = {r: float(np.mean(v)) for r, v in sorted(right.items())}
    flagged = {r: a for r, a in accuracy.items() if 1 - a > max_fail + 1e-12}
    everyone = set(accuracy) | {str(r) for r in raters}
    return Screen(frozenset(everyone - set(flagged)), flagged, accuracy,
                  frozenset(everyone - set(accuracy)), max_fail)


def keep_raters(records: Iterable[Record], screen: Screen) -> list[Record]:
    """The records of every rater the screen did not flag (every statistic is computed on these;
    a rater with no gold trial stays)."""
    return [rec for rec in records if str(rec["rater"]) not in screen.flagged]
