"""Comparing two folders of images with the paired metrics (``turbopix compare``).

Pairs images by file stem, decodes them with the one decoder (``turbopix.data.images``), and runs
the paired metrics of ``turbopix.metrics.paired`` on each pair; ``format_table`` prints the result.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..core.errors import OptionMessage
from ..core.registry import METRICS
from ..data.images import IMAGE_EXTENSIONS, ImageDecodeError, read_image, to_unit_float
from ..metrics.paired import ImageTooSmallError  # importing it also registers the paired metrics
from .config import CompareConfig, build_config, paired_metric_names
from .specs import split_names


class CompareError(OptionMessage, ValueError):
    """Base of the errors ``compare_folders`` raises for bad input; the message names the files."""


class NoMatchingImagesError(CompareError):
    """The two folders share no image name."""


class UnpairedImagesError(CompareError):
    """Some images exist on one side only; ``only_a`` and ``only_b`` list their file names."""

    def __init__(self, message: str, only_a: list[str], only_b: list[str]) -> None:
        super().__init__(message)
        self.only_a, self.only_b = only_a, only_b


class AmbiguousNameError(CompareError):
    """One folder holds two images with the same stem (e.g. x.png and x.jpg)."""


class ImageSizeMismatchError(CompareError):
    """The two images of a pair differ in size or channel count."""


class UnreadableImageError(CompareError):
    """A file could not be decoded as an image (or has transparency we will not guess about)."""


def load_image(path: str | Path) -> torch.Tensor:
    """Read an image file as a float32 tensor (C, H, W) in [0, 1]; C is 1 (grayscale) or 3 (RGB).

    Decoded by ``turbopix.data.images`` (the one decoder): 8-bit images are divided by 255, 16-bit
    grayscale by 65535; transparency raises ``UnreadableImageError``.
    """
    try:
        array = to_unit_float(read_image(path, alpha="error"))
    except ImageDecodeError as err:
        raise UnreadableImageError(str(err)) from err
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def images_by_stem(folder: Path) -> dict[str, Path]:
    """The image files directly in ``folder`` by name without extension (hidden files, other files and
    subfolders ignored); two images with one stem are an error. Also pairs a rating study's outputs
    with their inputs (``rate/paired.py``)."""
    if not folder.is_dir():
        raise CompareError(f"'{folder}' is not a folder")
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or p.is_dir() or p.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        if p.stem in found:
            raise AmbiguousNameError(
                f"'{folder}' holds two images named '{p.stem}': {found[p.stem].name} and {p.name}"
            )
        found[p.stem] = p
    return found


def _listing(names: list[str], limit: int = 10) -> str:
    more = f" ... and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _paired_metric(name: str) -> Callable[..., torch.Tensor]:
    entry = METRICS.entry(name)  # unknown names raise UnknownNameError listing the valid ones
    if entry.info.get("kind") != "paired":
        raise CompareError(f"'{name}' is not a paired metric; {{option:metrics}} takes: {', '.join(paired_metric_names())}")
    return entry.obj


def compare_folders(a: str | Path, b: str | Path, config: CompareConfig | None = None, **options: Any) -> dict[str, Any]:
    """Compute paired metrics between images of folder ``a`` and folder ``b`` with the same stem.

    Options are :class:`~turbopix.evaluation.config.CompareConfig` fields (``metrics``,
    ``y_channel``, ``crop``, ``data_range``), as a config, keywords, or both (keywords win).

    Files match by name without extension (``a/baby.png`` pairs with ``b/baby.bmp``); non-image files,
    hidden files and subfolders are ignored. Images load through ``load_image`` as [0, 1], so keep
    ``data_range=1.0`` unless you mean a different peak value. Every image must have a partner, or
    ``UnpairedImagesError`` lists the missing ones. Errors are ``CompareError`` (a ``ValueError``).

    Returns a JSON-serialisable dict::

        {"settings": {"a": ..., "b": ..., "metrics": [...], "y_channel": ..., "crop": ..., "data_range": ...},
         "files": {stem: [file in a, file in b]},
         "per_image": {stem: {metric: value}},        # stems sorted
         "mean": {metric: mean over images},          # PSNR mean is inf if any pair is identical
         "count": number of pairs}
    """
    cfg = build_config(CompareConfig, config, options, what="compare_folders()")
    folder_a, folder_b = Path(a), Path(b)
    functions = {name: _paired_metric(name) for name in split_names(cfg.metrics)}
    if not functions:
        raise CompareError("{option:metrics} is empty; name at least one paired metric")
    images_a, images_b = images_by_stem(folder_a), images_by_stem(folder_b)
    common = sorted(images_a.keys() & images_b.keys())
    only_a = sorted(images_a[s].name for s in images_a.keys() - images_b.keys())
    only_b = sorted(images_b[s].name for s in images_b.keys() - images_a.keys())
    if not common:
        raise NoMatchingImagesError(
            "no image names in common between "
            f"'{folder_a}' ({len(images_a)} images: {_listing(only_a, 5) or 'none'}) and "
            f"'{folder_b}' ({len(images_b)} images: {_listing(only_b, 5) or 'none'})"
        )
    if only_a or only_b:
        sides = ((folder_a, only_a), (folder_b, only_b))
        parts = [f"only in '{folder}': {_listing(names)}" for folder, names in sides if names]
        raise UnpairedImagesError("images without a partner: " + "; ".join(parts), only_a, only_b)

    per_image: dict[str, dict[str, float]] = {}
    for stem in common:
        path_a, path_b = images_a[stem], images_b[stem]
        img_a, img_b = load_image(path_a), load_image(path_b)
        if img_a.shape != img_b.shape:
            raise ImageSizeMismatchError(
                f"'{path_a}' is {_describe(img_a)} but '{path_b}' is {_describe(img_b)}"
            )
        values = {}
        for name, fn in functions.items():
            try:
                value = fn(img_a, img_b, data_range=cfg.data_range, y_channel=cfg.y_channel, crop=cfg.crop)
            except ImageTooSmallError as err:
                raise ImageTooSmallError(f"{name} of '{path_a}' vs '{path_b}': {err}") from err
            values[name] = float(value)
        per_image[stem] = values

    return {
        "settings": {"a": str(folder_a), "b": str(folder_b), "metrics": list(functions),
                     "y_channel": cfg.y_channel, "crop": cfg.crop, "data_range": cfg.data_range},
        "files": {s: [images_a[s].name, images_b[s].name] for s in common},
        "per_image": per_image,
        "mean": {m: float(np.mean([v[m] for v in per_image.values()])) for m in functions},
        "count": len(common),
    }


def _describe(img: torch.Tensor) -> str:
    c, h, w = img.shape
    kind = {1: "grayscale", 3: "RGB"}.get(c, f"{c}-channel")
    return f"{w}x{h} {kind}"


def format_table(result: dict[str, Any], *, per_image: bool = True) -> str:
    """A markdown table (readable as plain text) of a ``compare_folders`` result, mean row last.

    PSNR is shown with 2 decimals (dB), the similarity indices with 4.
    """
    metrics = result["settings"]["metrics"]
    rows = list(result["per_image"].items()) if per_image else []
    rows.append((f"mean ({result['count']} images)", result["mean"]))

    def fmt(metric: str, value: float) -> str:
        if math.isinf(value):
            return "inf"
        return f"{value:.2f}" if metric == "psnr" else f"{value:.4f}"

    table = [["image", *metrics]] + [[name, *(fmt(m, v[m]) for m in metrics)] for name, v in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for i, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("| " + " | ".join(cells) + " |")
        if i == 0:
            lines.append("|" + "|".join(["-" * (widths[0] + 2)] + ["-" * (w + 1) + ":" for w in widths[1:]]) + "|")
    settings = result["settings"]
    note = f"y_channel={settings['y_channel']}, crop={settings['crop']}, data_range={settings['data_range']}"
    return "\n".join(lines) + f"\n\n{note}\n"
