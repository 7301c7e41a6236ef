"""The report of a study: a text table, JSON and CSV exports, and an HTML page with a plot.

    turbopix rate report study/study.db            # writes study/report/{results.json,ratings.csv,report.html}

The numbers come from ``analysis.summarise``; this module only lays them out. The plot (scores with
their 95% intervals, one row per source) is a matplotlib PNG embedded in the page, so the page is
one self-contained file that can be mailed around.
"""
from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from pathlib import Path
from typing import Any

from ..core.atomic import atomic_write_text, refuse_overwrite
from . import db
from .study import stored_config

CSV_FIELDS = ["rater", "trial", "seq", "gold", "left_source", "left_item", "left_image", "right_source", "right_item",
              "right_image", "exposure_ms", "answer", "choice", "correct", "rt_ms", "created"]
OUTPUTS = ("results.json", "ratings.csv", "report.html")


def report(db_path: str | Path, out: str | Path | None = None, *, overwrite: bool = False,
           n_boot: int = 2000) -> tuple[dict[str, Any], Path]:
    """Read the study database (read-only), compute the summary, write the three files into ``out``
    (default: ``report/`` beside the database). Returns the summary and the folder."""
    from .analysis import summarise

    db_path = Path(db_path)
    out = Path(out) if out else db_path.parent / "report"
    refuse_overwrite(out, overwrite, exists=any((out / name).exists() for name in OUTPUTS), what="a rating report", folder=True)
    conn = db.connect(db_path, readonly=True)
    try:
        cfg = stored_config(conn)
        records = db.records(conn)
    finally:
        conn.close()
    summary = summarise(cfg, records, n_boot=n_boot)
    atomic_write_text(out / "results.json", json.dumps(_jsonable(summary), indent=2) + "\n")
    atomic_write_text(out / "ratings.csv", to_csv(records))
    atomic_write_text(out / "report.html", render_html(summary))
    return summary, out


def _jsonable(x: Any) -> Any:
    """NaN (a score that cannot be computed yet) as null: JSON has no NaN."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in x]
    return x


def to_csv(records: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buf.getvalue()


def _fmt(x: Any, digits: int = 3) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{digits}g}"


def table(summary: dict[str, Any]) -> str:
    """The summary as plain text for the terminal."""
    c = summary["counts"]
    lines = [f"{summary['study']} ({summary['kind']}): {c['ratings']} ratings ({c['gold']} attention checks) "
             f"from {c['raters']} raters; {c['raters_kept']} kept, {len(summary['screen']['flagged'])} flagged"]
    lines += [summary[k] for k in ("paired", "note") if summary.get(k)]
    if summary["scores"]:
        width = max(len(s["source"]) for s in summary["scores"])
        lines.append(f"{'source':<{width}}  {'score':>8}  {'95% interval':>19}  {'n':>5}  {'raters':>6}  metric")
        for s in summary["scores"]:
            ci = f"[{_fmt(s['low'])}, {_fmt(s['high'])}]"
            lines.append(f"{s['source']:<{width}}  {_fmt(s['value']):>8}  {ci:>19}  {s.get('n', 0):>5}  "
                         f"{s.get('raters', 0):>6}  {s['metric']}")
    lines += [p["statement"] for p in summary["preferences"]]
    if summary["agreement"]:
        lines.append("agreement: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in summary["agreement"].items()))
    for rater, acc in summary["screen"]["flagged"].items():
        lines.append(f"flagged rater {rater[:8]}: {100 * acc:.0f}% of attention checks passed (excluded)")
    return "\n".join(lines)


def plot_png(summary: dict[str, Any]) -> bytes | None:
    """Scores with their 95% intervals, one panel per metric; None when there is nothing to plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = sorted({s["metric"] for s in summary["scores"]})
    if not metrics:
        return None
    fig, axes = plt.subplots(len(metrics), 1, figsize=(6.4, 0.5 + 1.6 * len(metrics) + 0.3 * len(summary["scores"])),
                             squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics):
        rows = [s for s in summary["scores"] if s["metric"] == metric]
        y = range(len(rows))
        vals = [s["value"] for s in rows]
        lo = [max(0.0, s["value"] - s["low"]) if math.isfinite(s["low"]) else 0 for s in rows]
        hi = [max(0.0, s["high"] - s["value"]) if math.isfinite(s["high"]) else 0 for s in rows]
        ax.errorbar(vals, list(y), xerr=[lo, hi], fmt="o", capsize=4, color="#2a6")
        if "error rate" in metric:
            ax.axvline(0.5, color="#999", ls="--", lw=1)
            ax.set_xlim(0, max(0.6, max(s["high"] for s in rows if math.isfinite(s["high"])) + 0.05) if any(
                math.isfinite(s["high"]) for s in rows) else (0, 0.6))
        ax.set_yticks(list(y), [s["source"] for s in rows])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_title(metric + " with 95% bootstrap intervals", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def render_html(summary: dict[str, Any]) -> str:
    e = html.escape
    png = plot_png(summary)
    img = f'<img alt="scores with 95% intervals" src="data:image/png;base64,{base64.b64encode(png).decode()}">' if png else ""
    rows = "".join(
        f"<tr><td>{e(s['source'])}</td><td>{e(s['metric'])}</td><td>{_fmt(s['value'])}</td>"
        f"<td>[{_fmt(s['low'])}, {_fmt(s['high'])}]</td><td>{s.get('n', '')}</td><td>{s.get('raters', '')}</td>"
        f"<td>{s.get('images', '')}</td></tr>" for s in summary["scores"])
    prefs = "".join(f"<p>{e(p['statement'])}</p>" for p in summary["preferences"])
    agree = ", ".join(f"{e(k)} = {_fmt(v)}" for k, v in summary["agreement"].items())
    flagged = "".join(f"<li><code>{e(r[:8])}</code>: {100 * a:.0f}% of attention checks passed</li>"
                      for r, a in summary["screen"]["flagged"].items())
    c = summary["counts"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(summary['study'])}: results</title>
<style>body{{font-family:system-ui,sans-serif;max-width:50rem;margin:1rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2rem .5rem}}img{{max-width:100%}}</style>
</head><body>
<h1>{e(summary['study'])}</h1>
<p>{e(summary['kind'])} study: {c['ratings']} ratings ({c['gold']} attention checks) from {c['raters']} raters;
{c['raters_kept']} raters kept, {len(summary['screen']['flagged'])} excluded for failing attention checks.
Intervals: 95% bootstrap resampling both raters and images.</p>
{"".join(f"<p>{e(summary[k])}</p>" for k in ("paired", "note") if summary.get(k))}
{img}
<table><tr><th>source</th><th>metric</th><th>score</th><th>95% interval</th><th>ratings</th><th>raters</th><th>images</th></tr>
{rows}</table>
{prefs}
{f"<p>Agreement between raters: {agree}.</p>" if agree else ""}
{f"<h2>Excluded raters</h2><ul>{flagged}</ul>" if flagged else ""}
</body></html>
"""
