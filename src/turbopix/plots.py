"""Plots written by training and reports (matplotlib, headless)."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402

from .core.atomic import atomic_write  # noqa: E402

_NOT_LOSSES = {"step", "images_per_s", "threads", "time", "lr"}


def plot_losses(log_path: str | Path, out_png: str | Path, title: str = "") -> Path | None:
    """One panel per logged quantity against step; returns None when the log is empty."""
    rows = [json.loads(line) for line in Path(log_path).read_text().splitlines() if line.strip()]
    if not rows:
        return None
    keys = [k for k in rows[0] if k not in _NOT_LOSSES]
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.8), squeeze=False)
    steps = [r["step"] for r in rows]
    for ax, key in zip(axes[0], keys):
        ax.plot(steps, [r.get(key, float("nan")) for r in rows], lw=1.2)
        ax.set_title(key, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    try:
        return atomic_write(out_png, lambda tmp: fig.savefig(tmp, dpi=90, format="png"))
    finally:
        plt.close(fig)
