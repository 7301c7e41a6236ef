"""What a rater sees next, and what their answer means.

A trial is created when it is first shown and stays the rater's pending trial until rated, so
reloading the page shows the same trial again (no skipping to a more convenient one) and a rating
can only name a trial its rater was shown. Sides are drawn at random per trial; every
``gold_every``-th trial is an attention check: a real (or generated) image against pure noise.

    2afc, hype-time  left/right: which image is real; ``answer`` is the real image's side
    ab               left/right/tie: which is better; both images have the same item number (the
                     same seed and latent for two models of the same architecture)
    mos              "1".."5" for one image; a gold trial shows noise and expects 1 or 2

In a study with inputs every image of a trial is item ``i`` of its source, and ``input_image`` is
item ``i`` of the inputs: two results of one input (or one result, in mos) beside that input.
"""
from __future__ import annotations

import random
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any

from . import db
from .study import INPUT, NOISE, REAL, StudyConfig

SIDES = ("left", "right")
CHOICES = {"2afc": SIDES, "hype-time": SIDES, "ab": (*SIDES, "tie"), "mos": ("1", "2", "3", "4", "5")}
MOS_GOLD_MAX = 2  # noise rated at most this passes the attention check
GOLD_MIN_EXPOSURE_MS = 500.0  # an attention check is shown long enough to be fair at any staircase level


@dataclass
class Pool:
    """The study's images by source: ``{source: [image ids ordered by item]}``."""

    images: dict[str, list[str]]

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> "Pool":
        out: dict[str, list[str]] = {}
        for row in conn.execute("SELECT id, source FROM images ORDER BY source, item"):
            out.setdefault(row["source"], []).append(row["id"])
        return cls(out)

    @property
    def generated(self) -> list[str]:
        return sorted(s for s in self.images if s not in (REAL, NOISE, INPUT))

    @property
    def rated(self) -> list[str]:
        """The sources a mos study scores: the generated ones and the real images."""
        return sorted(s for s in self.images if s not in (NOISE, INPUT))


def pending_or_new(conn: sqlite3.Connection, cfg: StudyConfig, pool: Pool, rater: str,
                   rng: random.Random) -> tuple[sqlite3.Row | None, int]:
    """The rater's unrated trial, else a new one (None when they are done), and how many they
    have rated."""
    with db.transaction(conn):
        done = conn.execute("SELECT COUNT(*) FROM ratings WHERE rater = ?", (rater,)).fetchone()[0]
        row = conn.execute(
            "SELECT t.* FROM trials t LEFT JOIN ratings r ON r.trial = t.id WHERE t.rater = ? AND r.trial IS NULL",
            (rater,),
        ).fetchone()
        if row is not None or done >= cfg.trials_per_rater:
            return row, done
        seq = conn.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM trials WHERE rater = ?", (rater,)).fetchone()[0]
        trial = (_draw_paired if INPUT in pool.images else _draw)(conn, cfg, pool, rater, seq, rng)
        conn.execute(
            "INSERT INTO trials(id, rater, seq, gold, left_image, right_image, answer, exposure_ms, shown, input_image) "
            "VALUES (:id, :rater, :seq, :gold, :left_image, :right_image, :answer, :exposure_ms, :shown, :input_image)",
            trial)
        return conn.execute("SELECT * FROM trials WHERE id = ?", (trial["id"],)).fetchone(), done


def _draw(conn: sqlite3.Connection, cfg: StudyConfig, pool: Pool, rater: str, seq: int, rng: random.Random) -> dict[str, Any]:
    seen = {i for row in conn.execute("SELECT left_image, right_image FROM trials WHERE rater = ?", (rater,)) for i in row}
    gold = bool(cfg.gold_every) and NOISE in pool.images and seq % cfg.gold_every == cfg.gold_every - 1
    pick = lambda source: _fresh(pool.images[source], seen, rng)  # noqa: E731
    answer: str | None = None
    right: str | None
    if cfg.kind == "mos":
        left = pick(NOISE) if gold else pick(rng.choice(pool.rated))
        right, answer = None, "low" if gold else None
    else:
        if gold:
            good = pick(REAL if REAL in pool.images else rng.choice(pool.generated))
            pair = (good, pick(NOISE))
        elif cfg.kind == "ab":
            a, b = rng.sample(pool.generated, 2)
            item = rng.randrange(min(len(pool.images[a]), len(pool.images[b])))
            pair = (pool.images[a][item], pool.images[b][item])
        else:  # 2afc, hype-time: a real image against a generated one
            pair = (pick(REAL), pick(rng.choice(pool.generated)))
        flip = rng.random() < 0.5
        left, right = (pair[1], pair[0]) if flip else pair
        if gold or cfg.kind != "ab":
            answer = "right" if flip else "left"  # the side of the real (or non-noise) image
    exposure = _exposure(conn, rater, gold) if cfg.kind == "hype-time" else None
    return {"id": secrets.token_hex(16), "rater": rater, "seq": seq, "gold": int(gold), "left_image": left,
            "right_image": right, "answer": answer, "exposure_ms": exposure, "shown": db.now(), "input_image": None}


def _draw_paired(conn: sqlite3.Connection, cfg: StudyConfig, pool: Pool, rater: str, seq: int,
                 rng: random.Random) -> dict[str, Any]:
    """A trial of a study with inputs: one input (by item) and its results. Gold trials use the
    inputs that have a noise image (the first few items)."""
    seen = {row[0] for row in conn.execute("SELECT input_image FROM trials WHERE rater = ?", (rater,))}
    gold = bool(cfg.gold_every) and NOISE in pool.images and seq % cfg.gold_every == cfg.gold_every - 1
    inputs = pool.images[INPUT][:len(pool.images[NOISE])] if gold else pool.images[INPUT]
    item = inputs.index(_fresh(inputs, seen, rng))
    answer: str | None = None
    right: str | None
    if cfg.kind == "mos":
        left = pool.images[NOISE if gold else rng.choice(pool.rated)][item]
        right, answer = None, "low" if gold else None
    else:
        a, b = (REAL if REAL in pool.images else rng.choice(pool.generated), NOISE) if gold else rng.sample(pool.generated, 2)
        flip = rng.random() < 0.5
        left, right = pool.images[b if flip else a][item], pool.images[a if flip else b][item]
        if gold:
            answer = "right" if flip else "left"  # the side of the non-noise image
    return {"id": secrets.token_hex(16), "rater": rater, "seq": seq, "gold": int(gold), "left_image": left,
            "right_image": right, "answer": answer, "exposure_ms": None, "shown": db.now(),
            "input_image": pool.images[INPUT][item]}


def _fresh(ids: list[str], seen: set[str], rng: random.Random) -> str:
    """An image this rater has not seen yet, when there is one."""
    unseen = [i for i in ids if i not in seen]
    return rng.choice(unseen or ids)


def _exposure(conn: sqlite3.Connection, rater: str, gold: bool) -> float:
    """HYPE-time: the staircase's next exposure from this rater's non-gold answers so far."""
    from .analysis import next_exposure

    answers = [bool(row[0]) for row in conn.execute(
        "SELECT r.correct FROM trials t JOIN ratings r ON r.trial = t.id "
        "WHERE t.rater = ? AND t.gold = 0 ORDER BY t.seq", (rater,))]
    ms = next_exposure(answers)
    return max(ms, GOLD_MIN_EXPOSURE_MS) if gold else ms


def score(cfg: StudyConfig, trial: sqlite3.Row, choice: str) -> int | None:
    """1/0 when the answer can be right or wrong (2afc, hype-time, gold trials), else None."""
    if trial["answer"] is None:
        return None
    if trial["answer"] == "low":
        return int(int(choice) <= MOS_GOLD_MAX)
    return int(choice == trial["answer"])
