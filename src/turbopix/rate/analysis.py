"""The one place the application meets the statistics: stored ratings -> scores with intervals.

``db.records`` gives one row per rating in the application's terms (left/right images and sources,
the chosen side); the statistics modules (``stats*.py``) take plain records in theirs (2AFC:
``image, correct``; comparisons: ``a, b, choice`` in a/b/tie; MOS: ``source, score``; gold:
``correct``). This module converts, screens raters on the attention checks, and calls them.
"""
from __future__ import annotations

import math
from typing import Any

from .study import REAL, StudyConfig

N_BOOT = 2000


def next_exposure(answers: list[bool]) -> float:
    """HYPE-time: the exposure (ms) for a rater's next timed trial, given their answers so far
    (True: picked the real image), by replaying the staircase."""
    from .stats_hype_time import Staircase

    return float(Staircase.replay(answers).exposure_ms)


def two_afc(rec: dict[str, Any]) -> dict[str, Any]:
    """A real-vs-generated rating: the generated image shown, its source, whether the real one was picked."""
    fake_left = rec["left_source"] != REAL
    return {"rater": rec["rater"], "image": rec["left_image"] if fake_left else rec["right_image"],
            "source": rec["left_source"] if fake_left else rec["right_source"],
            "correct": bool(rec["correct"]), "exposure_ms": rec["exposure_ms"]}


def comparison(rec: dict[str, Any]) -> dict[str, Any]:
    """An A/B rating, sources in name order (a < b) so that the same pair always reads the same way."""
    left, right = rec["left_source"], rec["right_source"]
    choice = {"left": "a", "right": "b", "tie": "tie"}[rec["choice"]]
    if right < left:
        left, right = right, left
        choice = {"a": "b", "b": "a", "tie": "tie"}[choice]
    return {"rater": rec["rater"], "image": f"{left}/{right}/{rec['left_item']}", "a": left, "b": right, "choice": choice}


def opinion(rec: dict[str, Any]) -> dict[str, Any]:
    return {"rater": rec["rater"], "image": rec["left_image"], "source": rec["left_source"], "score": int(rec["choice"])}


def summarise(cfg: StudyConfig, records: list[dict[str, Any]], *, n_boot: int = N_BOOT, seed: int = 0) -> dict[str, Any]:
    """Everything the report shows, as JSON-ready data: counts, the attention-check screen,
    one score per source with its 95% interval, A/B tests, the Bradley-Terry ranking, agreement."""
    from .stats import hype_infinity, keep_raters, mean_opinion_scores, screen_raters

    gold = [{"rater": r["rater"], "correct": bool(r["correct"])} for r in records if r["gold"]]
    screen = screen_raters(gold, {r["rater"] for r in records})
    kept = keep_raters([r for r in records if not r["gold"]], screen)
    out: dict[str, Any] = {
        "study": cfg.name, "kind": cfg.kind,
        "counts": {"ratings": len(records), "gold": len(gold), "raters": len({r["rater"] for r in records}),
                   "raters_kept": len({r["rater"] for r in kept}), "ratings_kept": len(kept)},
        "screen": screen.to_dict(), "scores": [], "preferences": [], "ranking": None, "agreement": {},
        "paired": paired_note(cfg),
    }
    if not kept:
        out["note"] = "no ratings from kept raters yet"
        return out
    if cfg.kind in ("2afc", "hype-time"):
        recs = [two_afc(r) for r in kept]
        for source in sorted({r["source"] for r in recs}):
            mine = [r for r in recs if r["source"] == source]
            out["scores"].append(_score(source, "HYPE-infinity error rate (0.5 = indistinguishable)",
                                        hype_infinity(mine, n_boot, seed)))
            if cfg.kind == "hype-time":
                from .stats_hype_time import hype_time

                out["scores"].append(_guarded(source, "HYPE-time exposure (ms) at 25% fooled",
                                              lambda: hype_time(mine, n_boot=n_boot, seed=seed)))
        out["agreement"] = _agreement(recs, "correct", "nominal")
    elif cfg.kind == "ab":
        from .stats import ab_preference
        from .stats_bt import bradley_terry

        recs = [comparison(r) for r in kept]
        pairs = sorted({(r["a"], r["b"]) for r in recs})
        out["preferences"] = [ab_preference(recs, a, b, n_boot, seed).to_dict() for a, b in pairs]
        ranking = bradley_terry(recs, n_boot=n_boot, seed=seed)
        out["ranking"] = ranking.to_dict()
        out["scores"] = [_score(s, "Bradley-Terry rating (Elo scale)", ranking.ratings[s]) for s in ranking.order]
        out["agreement"] = _agreement(recs, "choice", "nominal")
    else:  # mos
        recs = [opinion(r) for r in kept]
        out["scores"] = [_score(s, "mean opinion score (1-5)", e) for s, e in mean_opinion_scores(recs, n_boot, seed).items()]
        out["agreement"] = _agreement(recs, "score", "interval")
    return out


def paired_note(cfg: StudyConfig) -> str | None:
    """What the report says of a study with inputs (the statistics are the same as without)."""
    if not cfg.inputs:
        return None
    shown = "two results of the same input, beside it" if cfg.kind == "ab" else "each result beside its input"
    return f"Paired with inputs: raters saw {shown} (inputs from {cfg.inputs}, matched by file name)."


def _score(source: str, metric: str, estimate: Any) -> dict[str, Any]:
    return {"source": source, "metric": metric, **estimate.to_dict()}


def _guarded(source: str, metric: str, compute: Any) -> dict[str, Any]:
    """A score that may not exist yet (too few timed trials to fit): reported as missing, with why."""
    try:
        return _score(source, metric, compute())
    except ValueError as e:
        return {"source": source, "metric": metric, "value": math.nan, "low": math.nan, "high": math.nan, "note": str(e)}


def _agreement(recs: list[dict[str, Any]], value: str, metric: str) -> dict[str, float]:
    """Krippendorff's alpha over the images rated by two or more raters, and split-half reliability."""
    from .stats_agreement import krippendorff_alpha, split_half

    out = {}
    for name, compute in (("krippendorff_alpha", lambda: krippendorff_alpha(recs, value=value, metric=metric)),
                          ("split_half", lambda: split_half(recs, value=value))):
        try:
            out[name] = float(compute())
        except (ValueError, ZeroDivisionError):
            out[name] = math.nan  # too few overlapping ratings so far
    return out
