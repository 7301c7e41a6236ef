"""A list of image files read lazily: headers up front, pixels on demand, recent decodes cached.

Large datasets of big photos (BSDS, DIV2K, ...) do not fit in memory decoded, and only a crop of
each image is used per step, so images are decoded when a batch needs them. The headers are read
at once (Pillow reads only the first bytes) so that sizes are known before training starts: a patch
size larger than an image, or a mismatched pair, is reported before the first step, naming the file.

Decoding a 481x321 PNG costs a few milliseconds, so a batch of 64 crops from 64 files would cost
hundreds of milliseconds uncached; the decoded images are kept in a least-recently-used cache with a
byte budget (``cache_mb``), which holds whole training sets such as train400 (13 MB) or T91.
"""
from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .errors import CorruptFileError
from .images import ImageDecodeError, read_header, read_image

_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N"})


class ImageFiles:
    """The image files ``names`` (relative to ``folder``) with their sizes and a decoded-image cache."""

    def __init__(self, folder: Path, names: list[str], *, cache_mb: float = 512, skip_bad: bool = False,
                 shrink: int = 1) -> None:
        self.folder = folder
        self.shrink = shrink  # decoded images are box-averaged down by this integer factor
        self.names: list[str] = []
        self.sizes: list[tuple[int, int]] = []  # (width, height)
        self.grey: list[bool] = []
        bad = []
        for name in names:
            try:
                size, mode = read_header(folder / name)  # the one decoder's checks, header only
            except ImageDecodeError as e:
                if not skip_bad:
                    raise CorruptFileError(
                        f"{e}. Fix or remove the file, or pass {{option:skip_bad=True}} to skip unreadable images."
                    ) from None
                bad.append(name)
                continue
            self.names.append(name)
            self.sizes.append((size[0] // shrink, size[1] // shrink))
            self.grey.append(mode in _GREY_MODES)
        if bad:
            warnings.warn(f"skipped {len(bad)} unreadable image(s) in {folder}: {', '.join(bad[:3])}", stacklevel=3)
        self.cache_bytes = int(cache_mb * 2**20)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cached_bytes = 0

    def __len__(self) -> int:
        return len(self.names)

    def path(self, i: int) -> Path:
        return self.folder / self.names[i]

    def load(self, i: int) -> np.ndarray:
        """Image ``i`` as (H, W, C), uint8 or uint16, C in {1, 3}, through the cache."""
        image = self._cache.get(i)
        if image is not None:
            self._cache.move_to_end(i)
            return image
        image = box_shrink(read_image(self.path(i), alpha="drop", on_drop=_warn_alpha), self.shrink)
        if image.shape[1::-1] != self.sizes[i]:
            raise ImageDecodeError(f"{self.path(i)}: changed on disk while in use (its size differs from its header's)")
        if image.nbytes <= self.cache_bytes:
            self._cache[i] = image
            self._cached_bytes += image.nbytes
            while self._cached_bytes > self.cache_bytes:
                self._cached_bytes -= self._cache.popitem(last=False)[1].nbytes
        return image


def box_shrink(image: np.ndarray, factor: int) -> np.ndarray:
    """(H, W, C) integer image averaged over factor x factor blocks (the area / box filter, which
    aliases nothing: what training at a fraction of a dataset's resolution wants), rounded; the
    last H % factor rows and W % factor columns are dropped."""
    if factor == 1:
        return image
    h, w, c = image.shape
    h, w = h // factor, w // factor
    blocks = image[: h * factor, : w * factor].reshape(h, factor, w, factor, c).astype(np.float32)
    return np.floor(blocks.mean(axis=(1, 3)) + 0.5).astype(image.dtype)


def _warn_alpha(name: str) -> None:
    warnings.warn(f"dropped the transparency of {os.path.basename(name)} ({name}): its colour under the alpha was kept",
                  stacklevel=4)
