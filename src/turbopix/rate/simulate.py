"""The statistics' self-check: simulated studies with a known truth (``turbopix rate simulate``).

Each repeat draws a fresh study: attentive raters whose answers follow a known model with rater
and image effects (raters differ in how sharp or lenient they are, images in how hard they are),
plus a fraction of careless raters who click at random, gold trials included. The study is
analysed exactly as a real one (gold screening, then the statistic with its 95% interval) and the
interval is checked against the truth, which is the population value the study estimates: the
average over raters *and* images drawn from the same populations, computed exactly (Gauss-Hermite
quadrature over the random effects), not from the simulated ratings.

Over many repeats a sound 95% interval covers the truth about 95% of the time; Bradley-Terry must
put the sources in their true order; every careless rater must be flagged, and hardly any attentive one.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import optimize, special

from turbopix.rate.stats import ab_preference, hype_infinity, keep_raters, mean_opinion_scores, screen_raters
from turbopix.rate.stats_bt import bradley_terry
from turbopix.rate.stats_hype_time import Staircase, hype_time, p_correct


@dataclass(frozen=True)
class Design:
    """One simulated study. Effects are normal with these standard deviations (in the model's own
    units: logits for choices, score points for MOS, ln(ms) for HYPE-time thresholds)."""

    raters: int = 24
    careless: float = 0.15  # fraction of raters who answer at random
    images: int = 60  # per source
    per_rater: int = 40  # rated trials per rater
    gold: int = 20  # gold trials per rater
    gold_lapse: float = 0.02  # an attentive rater's chance to miss a gold trial
    max_fail: float = 0.2
    rater_sd: float = 0.5
    image_sd: float = 0.7
    ties: float = 0.15  # chance an attentive rater says "tie" in a comparison
    n_boot: int = 300


@dataclass(frozen=True)
class Study:
    """One simulated study: its ratings, gold trials, raters (the careless ones known) and the true
    value of each quantity the analysis reports (in the order ``ANALYSES`` returns intervals)."""

    records: list[dict]
    gold: list[dict]
    raters: list[str]
    careless: set[str]
    truth: list[float]


@dataclass(frozen=True)
class Trial:
    """One simulated study's outcome for the report."""

    estimates: list[tuple[float, float, float]]  # (truth, low, high) per reported quantity
    order_recovered: bool | None
    careless_excluded: bool
    attentive_flagged: int


@dataclass
class SimulationReport:
    kind: str
    repeats: int
    seed: int
    design: Design
    coverage: float | None  # fraction of 95% intervals that contain the truth
    intervals: int
    mean_width: float | None
    order_recovered: float | None  # fraction of repeats with the exact true order (Bradley-Terry)
    careless_excluded: float  # fraction of repeats where every careless rater was flagged
    attentive_flagged: float  # mean number of attentive raters flagged per study
    truth: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def normal_mean(f: Callable[[np.ndarray], np.ndarray], sd: float) -> float:
    """``E f(Z)`` for ``Z ~ N(0, sd^2)`` by 64-point Gauss-Hermite quadrature."""
    return float(np.sum(HERMITE_W * f(sd * HERMITE_X)) / np.sum(HERMITE_W))


HERMITE_X, HERMITE_W = np.polynomial.hermite_e.hermegauss(64)


def _raters(rng, d: Design) -> tuple[list[dict], list[str], set[str], np.ndarray]:
    """Everyone's gold trials, the rater ids, the careless ones, and each rater's effect."""
    ids = [f"r{i:03d}" for i in range(d.raters)]
    careless = set(ids[: int(round(d.careless * d.raters))])
    gold = []
    for r in ids:
        miss = 0.5 if r in careless else d.gold_lapse
        gold += [{"rater": r, "correct": bool(rng.random() > miss)} for _ in range(d.gold)]
    return gold, ids, careless, rng.normal(0, d.rater_sd, d.raters)


def _shown(rng, d: Design, ids: list[str]):
    """(rater index, rater, image index) for each rater's ``per_rater`` distinct random images."""
    for i, r in enumerate(ids):
        for m in rng.choice(d.images, d.per_rater, replace=False):
            yield i, r, m


def _choose(rng, d: Design, careless: bool, p_a: float) -> str:
    """A comparison's answer: at random if careless, else a tie with chance ``d.ties``, else "a" with ``p_a``."""
    if careless:
        return str(rng.choice(["a", "b", "tie"]))
    return "tie" if rng.random() < d.ties else ("a" if rng.random() < p_a else "b")


def _two_afc(rng, d: Design):
    mu = special.logit(0.3)  # fooled 30% of the time on average
    gold, ids, careless, a = _raters(rng, d)
    b = rng.normal(0, d.image_sd, d.images)
    records = []
    for i, r, m in _shown(rng, d, ids):
        fooled = 0.5 if r in careless else special.expit(mu + a[i] + b[m])
        records.append({"rater": r, "image": f"g{m}", "correct": bool(rng.random() > fooled)})
    truth = normal_mean(lambda z: special.expit(mu + z), math.hypot(d.rater_sd, d.image_sd))
    return Study(records, gold, ids, careless, [truth])


def _mos(rng, d: Design):
    quality = {"low": 2.2, "mid": 3.0, "high": 3.8}
    noise = 0.7
    gold, ids, careless, a = _raters(rng, d)
    b = {s: rng.normal(0, d.image_sd, d.images) for s in quality}
    records = []
    for i, r in enumerate(ids):
        for t in range(d.per_rater):
            s = list(quality)[t % len(quality)]
            m = int(rng.integers(d.images))
            latent = quality[s] + a[i] + b[s][m] + rng.normal(0, noise)
            score = int(rng.integers(1, 6)) if r in careless else min(5, max(1, round(latent)))
            records.append({"rater": r, "image": f"{s}/{m}", "source": s, "score": score})
    sd = math.sqrt(d.rater_sd**2 + d.image_sd**2 + noise**2)
    cuts = np.array([1.5, 2.5, 3.5, 4.5])
    # E[score] = 1 + sum_{k=1..4} P(score > k) = 5 - sum_k P(latent < k + 1/2), sources in name order
    truth = [5 - special.ndtr((cuts - quality[s]) / sd).sum() for s in sorted(quality)]
    return Study(records, gold, ids, careless, truth)


def _ab(rng, d: Design):
    delta = 0.3  # A's advantage in logits
    gold, ids, careless, a = _raters(rng, d)
    b = rng.normal(0, d.image_sd, d.images)
    records = []
    for i, r, m in _shown(rng, d, ids):
        choice = _choose(rng, d, r in careless, special.expit(delta + a[i] + b[m]))
        flip = rng.random() < 0.5  # randomised sides, as the server shows them
        records.append({"rater": r, "image": f"c{m}", "a": "B" if flip else "A", "b": "A" if flip else "B",
                        "choice": {"a": "b", "b": "a"}.get(choice, choice) if flip else choice})
    truth = (1 - d.ties) * normal_mean(lambda z: special.expit(delta + z), math.hypot(d.rater_sd, d.image_sd)) + d.ties / 2
    return Study(records, gold, ids, careless, [truth])


def _bt(rng, d: Design):
    strength = {f"s{k}": 0.4 * k for k in range(5)}  # s4 best, 0.4 logits apart (BT_ORDER)
    names = list(strength)
    gold, ids, careless, _ = _raters(rng, d)
    records = []
    for r in ids:
        taste = {s: rng.normal(0, 0.2) for s in names}  # raters differ a little in what they like
        for _ in range(d.per_rater * 2):
            x, y = rng.choice(len(names), 2, replace=False)
            sx, sy = names[x], names[y]
            p = special.expit(strength[sx] + taste[sx] - strength[sy] - taste[sy])
            choice = _choose(rng, d, r in careless, p)
            records.append({"rater": r, "image": f"c{rng.integers(d.images)}", "a": sx, "b": sy, "choice": choice})
    return Study(records, gold, ids, careless, [])


def _hype_time(rng, d: Design):
    centre, slope = math.log(250.0), 3.0  # raters' typical 75%-correct point ~250 ms
    gold, ids, careless, a = _raters(rng, d)
    a = a * 0.6  # threshold spread across raters, ln(ms)
    b = rng.normal(0, d.image_sd * 0.4, d.images)
    records = []
    for i, r in enumerate(ids):
        stairs = Staircase()
        for m in rng.integers(d.images, size=d.per_rater * 2):
            ms = stairs.exposure_ms
            p = 0.5 if r in careless else float(p_correct(math.log(ms), centre + a[i] + b[m], slope))
            correct = bool(rng.random() < p)
            stairs.update(correct)
            records.append({"rater": r, "image": f"g{m}", "exposure_ms": ms, "correct": correct})
    spread = math.hypot(d.rater_sd * 0.6, d.image_sd * 0.4)
    truth = math.exp(optimize.brentq(
        lambda x: normal_mean(lambda z: p_correct(x, centre + z, slope), spread) - 0.75, 0, 12))
    return Study(records, gold, ids, careless, [truth])


BT_ORDER = ["s4", "s3", "s2", "s1", "s0"]

# kind -> (simulate a study, analyse its kept ratings: the intervals in Study.truth's order, or the ranking)
KINDS: dict[str, tuple[Callable, Callable]] = {
    "2afc": (_two_afc, lambda kept, n_boot, seed: [hype_infinity(kept, n_boot, seed)]),
    "mos": (_mos, lambda kept, n_boot, seed: [e for _, e in sorted(mean_opinion_scores(kept, n_boot, seed).items())]),
    "ab": (_ab, lambda kept, n_boot, seed: [ab_preference(kept, "A", "B", n_boot, seed).share]),
    "bt": (_bt, lambda kept, n_boot, seed: bradley_terry(kept, n_boot=n_boot, seed=seed).order),
    "hype_time": (_hype_time, lambda kept, n_boot, seed: [hype_time(kept, n_boot=n_boot, seed=seed)]),
}


def run_simulation(kind: str, repeats: int = 200, seed: int = 0, design: Design | None = None,
                   progress: Callable[[int], None] | None = None) -> SimulationReport:
    """Simulate ``repeats`` studies of ``kind`` (one of ``KINDS``) and score the statistics on them.

    ``coverage`` is the fraction of 95% intervals that contain the truth (one per study, one per
    source for MOS); ``order_recovered`` (Bradley-Terry only) the fraction of studies ranking all
    five sources in their true order; ``careless_excluded`` the fraction of studies where the gold
    trials flagged every careless rater. ``progress(k)`` is called after each study.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown simulation kind {kind!r}; choose from {sorted(KINDS)}")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    d = design or Design()
    simulate, analyse = KINDS[kind]
    rng = np.random.default_rng(seed)
    trials = []
    for k in range(repeats):
        study = simulate(rng, d)
        screen = screen_raters(study.gold, study.raters, d.max_fail)
        result = analyse(keep_raters(study.records, screen), d.n_boot, int(rng.integers(2**31)))
        flagged = set(screen.flagged)
        if kind == "bt":
            estimates, order = [], result == BT_ORDER
        else:
            estimates, order = [(t, e.low, e.high) for t, e in zip(study.truth, result)], None
        trials.append(Trial(estimates, order, study.careless <= flagged, len(flagged - study.careless)))
        if progress:
            progress(k + 1)
    intervals = [e for t in trials for e in t.estimates]
    covered = [lo <= truth <= hi for truth, lo, hi in intervals]
    orders = [t.order_recovered for t in trials if t.order_recovered is not None]
    return SimulationReport(
        kind, repeats, seed, d,
        coverage=float(np.mean(covered)) if covered else None,
        intervals=len(intervals),
        mean_width=float(np.mean([hi - lo for _, lo, hi in intervals])) if intervals else None,
        order_recovered=float(np.mean(orders)) if orders else None,
        careless_excluded=float(np.mean([t.careless_excluded for t in trials])),
        attentive_flagged=float(np.mean([t.attentive_flagged for t in trials])),
        truth=sorted({round(t, 6) for t, _, _ in intervals}),
    )


def format_simulation(reports: SimulationReport | list[SimulationReport]) -> str:
    """A plain-text table of simulation reports, one row per kind."""
    reports = [reports] if isinstance(reports, SimulationReport) else list(reports)
    pct = lambda x: "-" if x is None else f"{100 * x:.1f}%"  # noqa: E731
    rows = [("kind", "repeats", "95% CI coverage", "intervals", "mean width", "true order",
             "careless flagged", "attentive flagged")]
    for r in reports:
        rows.append((r.kind, str(r.repeats), pct(r.coverage), str(r.intervals or "-"),
                     "-" if r.mean_width is None else f"{r.mean_width:.3g}", pct(r.order_recovered),
                     pct(r.careless_excluded), f"{r.attentive_flagged:.2f}/study"))
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    d = reports[0].design if reports else Design()
    lines.append(f"\n{d.raters} raters ({100 * d.careless:.0f}% careless), {d.images} images per source, "
                 f"{d.per_rater} trials + {d.gold} gold trials per rater, {d.n_boot} bootstrap replicates; "
                 "coverage should be near 95%")
    return "\n".join(lines)
