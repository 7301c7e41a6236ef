"""The result of ``evaluate()`` as a plain-text table; each metric's rows are declared with it."""
from __future__ import annotations

from typing import Any

from .specs import distribution_metrics


def result_rows(result: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """``(label, formatted value, provenance)`` per number, in the order the metrics were asked for."""
    specs = distribution_metrics()
    rows = []
    for key, entry in result["metrics"].items():
        rows += [(label, value, entry["provenance"]) for label, value in specs[key].rows(entry)]
    return rows


def format_results(result: dict[str, Any]) -> str:
    """A plain-text table: each number with its extractor, sample counts, reference and seed."""
    header = ("metric", "value", "extractor", "generated", "reference", "seed")
    table = [header]
    for label, value, p in result_rows(result):
        ref = f"{p['reference']} ({p['n_reference']})"
        table.append((label, value, p["extractor"], str(p["n_generated"]), ref, str(p["seed"])))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if "nll" in result:
        n = result["nll"]
        lines.append("")
        lines.append(f"NLL (IWAE, K={n['k']}): {n['nll']:.2f} +- {n['se']:.2f} nats/image (mean +- standard error) "
                     f"on {n['data']} ({n['images']} images, seed {n['seed']})")
    src = result["source"]
    where = src.get("path") or src.get("model") or src.get("kind")
    if src.get("recipe"):
        where += f" (trained with recipe {src['recipe']})"
    lines.append("")
    lines.append(f"source: {src.get('kind')} {where}; extractor sha256 {result['extractor']['sha256'][:12]}; "
                 f"reference cache: {result['reference'].get('cache')}; {result['timing_s']['total']:.1f} s")
    return "\n".join(lines)
