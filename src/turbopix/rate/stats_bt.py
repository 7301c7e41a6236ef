"""Bradley-Terry ranking of many sources from pairwise comparisons, on an Elo-like scale.

Model: source i has a strength ``p_i = exp(beta_i)`` and ``P(i preferred to j) = p_i / (p_i + p_j)
= sigmoid(beta_i - beta_j)``. A tie counts as half a win for each side (so a study where raters
often say "tie" gives strengths closer together, never a different order).

Fit: maximum likelihood (Newton's method, ``fit_strengths``) with a weak prior that keeps every
strength finite: each source also plays ``prior`` virtual games (default 1) against a virtual
source of strength 1 (beta = 0), winning half. Without it, a source that never wins (or never
loses), common in a small bootstrap replicate, has no finite MLE (Hunter 2004 requires the
comparison graph to be strongly connected). With ``W_ij`` the (weighted) times i beat j and
``N_ij = W_ij + W_ji``, the fixed point is Hunter's MM equation
``p_i = (W_i + prior/2) / (sum_j N_ij / (p_i + p_j) + prior / (p_i + 1))``; the tests check it.

Scale: ``Elo_i = anchor + 400 / ln(10) * (beta_i - centre)``, so 400 points mean 10:1 odds (as in
chess); ``centre`` is the mean beta (the mean rating is ``anchor`` = 1000) or a reference source's
beta (it sits at 1000). Intervals: the crossed bootstrap of ``stats.crossed_bootstrap_sums``, the
model refitted on each replicate's weighted win matrix (all replicates at once, vectorised).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from turbopix.rate.stats import LEVEL, N_BOOT, Estimate, Record, codes, crossed_bootstrap_sums, percentile_interval

ELO_PER_LOGIT = 400 / math.log(10)
ANCHOR = 1000.0


def fit_strengths(wins: np.ndarray, prior: float = 1.0, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    """Log-strengths ``beta`` maximising the penalised Bradley-Terry log-likelihood

        L(beta) = sum_ij W_ij log sigmoid(beta_i - beta_j) + prior * sum_i (beta_i / 2 - log(1 + e^beta_i))

    (module docstring) by Newton's method: gradient ``g_i = W_i - sum_j N_ij s_ij + prior (1/2 -
    s_i)`` and Hessian ``H_ij = N_ij s_ij (1 - s_ij)`` off the diagonal, ``H_ii = -sum_j N_ij s_ij
    (1 - s_ij) - prior s_i (1 - s_i)``, with ``s_ij = sigmoid(beta_i - beta_j)``, ``s_i =
    sigmoid(beta_i)``. L is strictly concave (the prior term), so the maximum is unique; steps are
    capped at 2 logits per source so a replicate with a source that never wins cannot overshoot.

    ``wins[..., i, j]`` is the (weighted) number of times i was preferred to j; leading axes are
    independent problems (bootstrap replicates) solved together.
    """
    wins = np.asarray(wins, dtype=np.float64)
    if prior <= 0:
        raise ValueError(f"the prior must be positive (it keeps strengths finite), got {prior}")
    games = wins + np.swapaxes(wins, -1, -2)
    won = wins.sum(-1)
    beta = np.zeros(wins.shape[:-1])
    for _ in range(max_iter):
        s = 1 / (1 + np.exp(beta[..., None, :] - beta[..., :, None]))  # s[i, j] = sigmoid(b_i - b_j)
        si = 1 / (1 + np.exp(-beta))
        grad = won - (games * s).sum(-1) + prior * (0.5 - si)
        curv = games * s * (1 - s)
        hess = curv - np.eye(beta.shape[-1]) * (curv.sum(-1) + prior * si * (1 - si))[..., None]
        step = np.clip(np.linalg.solve(hess, grad[..., None])[..., 0], -2, 2)
        beta = beta - step
        if np.max(np.abs(step)) < tol:
            break
    return beta


def elo(beta: np.ndarray, reference: int | None = None) -> np.ndarray:
    """Elo-like ratings from log-strengths (last axis): mean 1000, or ``reference`` at 1000."""
    centre = beta.mean(-1, keepdims=True) if reference is None else beta[..., reference:reference + 1]
    return ANCHOR + ELO_PER_LOGIT * (beta - centre)


@dataclass(frozen=True)
class Ranking:
    """Sources best first, each with its Elo-like rating and interval; ``beta`` in logits."""

    ratings: dict[str, Estimate]
    beta: dict[str, float]
    reference: str | None

    @property
    def order(self) -> list[str]:
        return sorted(self.ratings, key=lambda s: -self.ratings[s].value)

    def to_dict(self) -> dict:
        return {"order": self.order, "reference": self.reference, "beta": self.beta,
                "ratings": {s: self.ratings[s].to_dict() for s in self.order}}


def bradley_terry(records: Sequence[Record], reference: str | None = None, prior: float = 1.0,
                  n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> Ranking:
    """Rank every source in the comparison records (keys ``rater, image, a, b, choice``) by
    Bradley-Terry, with crossed-bootstrap intervals of the Elo-like ratings."""
    records = [rec for rec in records if str(rec["a"]) != str(rec["b"])]
    if not records:
        raise ValueError("no comparisons between two different sources")
    a, names = codes([rec["a"] for rec in records] + [rec["b"] for rec in records])
    a, b = a[:len(records)], a[len(records):]
    if reference is not None and reference not in names:
        raise ValueError(f"reference source {reference!r} is not among the compared sources {names}")
    k = len(names)
    choice = [rec["choice"] for rec in records]
    if bad := sorted({c for c in choice if c not in ("a", "b", "tie")}):
        raise ValueError(f"a comparison's choice must be 'a', 'b' or 'tie', got {bad}")
    outcome = np.array([0.5 if c == "tie" else float(c == "a") for c in choice])  # for a
    columns = np.zeros((len(records), k * k))  # row i: what rating i adds to the win matrix
    rows = np.arange(len(records))
    columns[rows, a * k + b] += outcome
    columns[rows, b * k + a] += 1 - outcome
    ref = None if reference is None else names.index(reference)
    beta = fit_strengths(columns.sum(0).reshape(k, k), prior)
    point = elo(beta, ref)
    sums = crossed_bootstrap_sums([rec["rater"] for rec in records], [rec["image"] for rec in records],
                                  columns, n_boot, seed)
    replicates = elo(fit_strengths(sums.reshape(n_boot, k, k), prior), ref)
    ratings = {}
    for j, name in enumerate(names):
        mine = [rec for rec, x, y in zip(records, a, b) if j in (x, y)]
        low, high = percentile_interval(replicates[:, j], level)
        ratings[name] = Estimate(float(point[j]), low, high, len(mine), len({r["rater"] for r in mine}),
                                 len({r["image"] for r in mine}))
    return Ranking(ratings, {n: float(x) for n, x in zip(names, beta)}, reference)
