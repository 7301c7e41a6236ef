"""The demo's digit completion: each generator it trained fills box holes in test digits by latent
search (``pipelines/complete.py``, as ``turbopix inpaint --model RUN``), beside scikit-image's
biharmonic inpainting (the best classical method of ``benchmarks/digit_completion.py``).

The first ``COMPLETE_N`` test images, one box mask each from ``default_rng([0, i])``
(``turbopix.data.masks.box_mask``); outputs rounded to 8 bits; hole PSNR pooled over all the holes
(``pooled_masked_psnr``). The picture: rows original, damaged (hole black), biharmonic, the model.
"""
from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

import torch

from ..data import ImageData
from ..data.masks import seeded_masks
from ..metrics.paired import pooled_masked_psnr
from ..pipelines.classical import CLASSICAL
from ..pipelines.complete import CompletionConfig, complete
from ..sampling import save_grid, to_uint8

COMPLETE_N = 16
QUICK_SEARCH_STEPS = 10


def _255(x: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(to_uint8(x)).permute(0, 3, 1, 2).float()


def run_completion(model: torch.nn.Module, test: ImageData, out: Path, *, quick: bool) -> dict[str, Any]:
    n = min(COMPLETE_N, len(test))
    clean = test.images[:n].float() / 127.5 - 1
    h, w = clean.shape[-2:]
    missing = torch.from_numpy(seeded_masks(n, h, w, "box", 0))[:, None]
    cfg = CompletionConfig(steps=QUICK_SEARCH_STEPS if quick else CompletionConfig.steps)
    start = time.perf_counter()
    filled = complete(model, clean, missing, cfg).images
    seconds = time.perf_counter() - start
    biharmonic = CLASSICAL.entry("biharmonic").obj()
    classical = torch.cat([biharmonic.run(clean[i:i + 1], mask=missing[i:i + 1]) for i in range(n)])
    damaged = clean * (1 - missing) - missing
    save_grid(torch.cat([clean, damaged, classical, filled]), out / "completion.png", nrow=n)
    target = _255(clean)
    return {"n": n, "hole_fraction": float(missing.mean()), "steps": cfg.steps, "seconds": seconds,
            "psnr": pooled_masked_psnr(_255(filled), target, missing),
            "psnr_biharmonic": pooled_masked_psnr(_255(classical), target, missing),
            "psnr_black": pooled_masked_psnr(_255(damaged), target, missing)}


def completion_html(runs: list[dict[str, Any]]) -> list[str]:
    done = [r for r in runs if "completion" in r]
    if not done:
        return []
    c0 = done[0]["completion"]
    parts = [f"<h2>Completing digits</h2><p>Each generator fills box holes ({100 * c0['hole_fraction']:.0f}% of the "
             f"pixels) in the first {c0['n']} test images by latent search ({c0['steps']} steps; "
             "<code>turbopix inpaint digit.png --mask hole.png out.png --model RUN</code>), beside scikit-image's "
             "biharmonic inpainting. PSNR on the holes only, pooled over all of them (docs/digit_completion.md). "
             "Rows: original, damaged, biharmonic, the model.</p>",
             "<table><tr><th>model</th><th>hole PSNR (dB)</th><th>biharmonic</th><th>hole left black</th><th>search (s)</th></tr>"]
    for r in done:
        c = r["completion"]
        parts.append(f"<tr><td style='text-align:left'>{html.escape(r['title'])}</td><td>{c['psnr']:.2f}</td><td>{c['psnr_biharmonic']:.2f}</td>"
                     f"<td>{c['psnr_black']:.2f}</td><td>{c['seconds']:.1f}</td></tr>")
    parts.append("</table>")
    parts += [f"<p>{html.escape(r['title'])}:<br><img src='{r['model']}/completion.png' width='720'></p>" for r in done]
    return parts
