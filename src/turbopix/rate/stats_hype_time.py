"""HYPE-time: real-vs-generated 2AFC under a time limit, the exposure adapted per rater by a staircase.

The server shows each rater a pair for ``Staircase.exposure_ms`` milliseconds, records whether the
rater then picked the real image (``correct``), and calls ``Staircase.update``. The score is the
exposure at which raters are fooled at a fixed rate, read from a psychometric function fitted to
every timed trial of every kept rater (``hype_time``). A generator whose fakes need a long look to
be spotted scores high; a perfect one has no finite threshold (the fitted exposure runs to the top
of the tested range, where the interval says so).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from turbopix.rate.stats import LEVEL, N_BOOT, Estimate, Record, crossed_bootstrap_sums, percentile_interval

GUESS = 0.5  # a 2AFC rater who saw nothing is right half the time
LAPSE = 0.02  # and one who saw everything still slips now and then (keeps the slope finite)


@dataclass
class Staircase:
    """A ``down``-down/``up``-up staircase on a log-spaced ladder of exposures (Levitt 1970).

    The ladder has ``levels`` exposures from ``min_ms`` to ``max_ms``, equal ratios apart. The
    rater starts at ``start_ms`` (the nearest rung). After ``down`` correct answers in a row the
    exposure moves one rung shorter (harder); after ``up`` wrong answers in a row, one rung longer.
    3-down/1-up settles where ``P(correct)^3 = 1/2``, i.e. at 79.4% correct (20.6% fooled);
    2-down/1-up at 70.7%. A reversal is a change of direction; ``threshold`` is the geometric mean
    exposure at the last ``last`` reversals, a per-rater summary the admin page can show (the
    study's score is the pooled fit in ``hype_time``). Plain state, so the server can rebuild a
    rater's staircase with ``Staircase.replay(answers)``.
    """

    min_ms: float = 50.0
    max_ms: float = 1000.0
    levels: int = 14
    start_ms: float = 500.0
    down: int = 3
    up: int = 1
    ladder: np.ndarray = field(init=False, repr=False)
    rung: int = field(init=False)
    run: int = field(init=False, default=0)  # +k: k correct in a row; -k: k wrong in a row
    direction: int = field(init=False, default=0)  # -1 last moved shorter, +1 longer, 0 not yet
    reversals: list[float] = field(init=False, default_factory=list)

    def __post_init__(self):
        if not 0 < self.min_ms < self.max_ms:
            raise ValueError(f"need 0 < min_ms < max_ms, got {self.min_ms} and {self.max_ms}")
        if self.levels < 2 or self.down < 1 or self.up < 1:
            raise ValueError("a staircase needs levels >= 2, down >= 1 and up >= 1")
        self.ladder = np.geomspace(self.min_ms, self.max_ms, self.levels)
        self.rung = int(np.argmin(np.abs(np.log(self.ladder) - math.log(max(self.start_ms, 1e-9)))))

    @property
    def exposure_ms(self) -> float:
        """How long to show the next pair."""
        return float(self.ladder[self.rung])

    def update(self, correct: bool) -> float:
        """Record one answer at the current exposure; returns the next exposure."""
        self.run = max(self.run, 0) + 1 if correct else min(self.run, 0) - 1
        move = 0
        if self.run >= self.down:
            move, self.run = -1, 0
        elif -self.run >= self.up:
            move, self.run = 1, 0
        if move:
            if self.direction and move != self.direction:
                self.reversals.append(self.exposure_ms)
            self.direction = move
            self.rung = int(np.clip(self.rung + move, 0, self.levels - 1))
        return self.exposure_ms

    @classmethod
    def replay(cls, answers: Sequence[bool], **settings) -> "Staircase":
        """The staircase after ``answers`` (a rater's timed answers in the order given)."""
        stairs = cls(**settings)
        for correct in answers:
            stairs.update(bool(correct))
        return stairs

    def threshold(self, last: int = 6) -> float:
        """Geometric mean exposure (ms) of the last ``last`` reversals; NaN before two reversals."""
        if len(self.reversals) < 2:
            return math.nan
        return float(np.exp(np.mean(np.log(self.reversals[-last:]))))


def p_correct(log_ms: np.ndarray, centre: float, slope: float) -> np.ndarray:
    """The psychometric function ``P(correct | x) = GUESS + (1 - GUESS - LAPSE) sigmoid(slope (x - centre))``
    with ``x = ln(exposure in ms)``."""
    return GUESS + (1 - GUESS - LAPSE) / (1 + np.exp(-slope * (log_ms - centre)))


def fit_thresholds(log_ms: np.ndarray, correct: np.ndarray, total: np.ndarray, fooled: float = 0.25) -> np.ndarray:
    """Weighted maximum-likelihood fits of ``p_correct`` to ``correct[..., l]`` of ``total[..., l]``
    trials at exposures ``log_ms[l]``, one per leading index (bootstrap replicates); returns the
    exposures (ms) where the fitted fooled rate ``1 - P(correct)`` equals ``fooled``:
    ``exp(centre + logit(q) / slope)`` with ``q = (1 - fooled - GUESS) / (1 - GUESS - LAPSE)``.

    The maximum is found on a grid, so it cannot fail to converge and thousands of replicates fit
    at once: first a coarse grid shared by all replicates (``centre`` in steps of 0.05 ln-units from
    one below the shortest tested exposure to one above the longest, ``slope`` on 25 log-spaced
    values in [0.05, 50]; every replicate's log-likelihood at every point is one matrix product),
    then a fine grid around each replicate's best point (centre steps of 0.005, about 0.5% in ms).
    """
    q = (1 - fooled - GUESS) / (1 - GUESS - LAPSE)
    if not 0 < q < 1:
        raise ValueError(f"fooled must lie in ({LAPSE}, {1 - GUESS}), got {fooled}")
    log_ms = np.asarray(log_ms, dtype=np.float64)
    correct = np.atleast_2d(np.asarray(correct, dtype=np.float64))
    wrong = np.atleast_2d(np.asarray(total, dtype=np.float64)) - correct
    lo, hi = log_ms.min() - 1, log_ms.max() + 1
    log_slopes = np.linspace(math.log(0.05), math.log(50), 25)
    c, ls = (g.ravel() for g in np.meshgrid(np.arange(lo, hi + 1e-9, 0.05), log_slopes, indexing="ij"))
    p = p_correct(log_ms[None, :], c[:, None], np.exp(ls)[:, None])  # (grid, levels)
    best = np.argmax(correct @ np.log(p).T + wrong @ np.log1p(-p).T, axis=1)
    # fine grid around each replicate's coarse optimum: (replicates, fine points)
    fc, fls = (g.ravel() for g in np.meshgrid(np.linspace(-0.05, 0.05, 21), np.linspace(-0.15, 0.15, 11), indexing="ij"))
    c = np.clip(c[best, None] + fc, lo, hi)
    ls = np.clip(ls[best, None] + fls, log_slopes[0], log_slopes[-1])
    p = p_correct(log_ms, c[..., None], np.exp(ls)[..., None])  # (replicates, fine, levels)
    ll = np.einsum("bl,bgl->bg", correct, np.log(p)) + np.einsum("bl,bgl->bg", wrong, np.log1p(-p))
    pick = np.argmax(ll, axis=1)[:, None]
    centre, slope = np.take_along_axis(c, pick, 1)[:, 0], np.exp(np.take_along_axis(ls, pick, 1)[:, 0])
    return np.exp(centre + math.log(q / (1 - q)) / slope)


def hype_time(records: Sequence[Record], fooled: float = 0.25, n_boot: int = N_BOOT, seed: int = 0,
              level: float = LEVEL) -> Estimate:
    """HYPE-time score: the exposure (ms) at which raters are fooled ``fooled`` of the time.

    Records: ``rater``, ``image``, ``exposure_ms``, ``correct``. One psychometric function
    (``p_correct``) is fitted to all trials pooled (``fit_thresholds``); the default 25% fooled
    (75% correct) sits halfway between chance and perfect. Interval: the crossed bootstrap, the
    function refitted to each replicate's weighted counts per exposure.
    """
    if not len(records):
        raise ValueError("no timed ratings to summarise (were all raters excluded by the gold trials?)")
    exposure = np.array([float(rec["exposure_ms"]) for rec in records])
    if np.any(exposure <= 0):
        raise ValueError("exposure_ms must be positive")
    correct = np.array([1.0 if rec["correct"] else 0.0 for rec in records])
    levels, at = np.unique(exposure, return_inverse=True)
    onehot = np.eye(len(levels))[at]
    columns = np.concatenate([onehot * correct[:, None], onehot], 1)
    log_ms = np.log(levels)
    value = float(fit_thresholds(log_ms, columns[:, :len(levels)].sum(0), onehot.sum(0), fooled)[0])
    sums = crossed_bootstrap_sums([rec["rater"] for rec in records], [rec["image"] for rec in records],
                                  columns, n_boot, seed)
    replicates = fit_thresholds(log_ms, sums[:, :len(levels)], sums[:, len(levels):], fooled)
    low, high = percentile_interval(replicates, level)
    return Estimate(value, low, high, len(records), len({rec["rater"] for rec in records}),
                    len({rec["image"] for rec in records}))
