"""Aligned crops and the 8 dihedral transforms, for one image or several that must stay aligned.

The sides of an example (an input and its target, or one image) are *views*: a region of a decoded
image file, with ``factor`` pixels per pixel of a shared *unit grid*. Equal-size pairs have factor 1
on both sides; an SR pair with a stored x3 low-resolution image has factor 1 on the LR side and 3 on
the HR side. A crop is chosen once on the unit grid and cut from every view at its own scale, so the
sides stay aligned pixel for pixel; the same dihedral transform is then applied to every side. A
high-resolution side that is not an exact multiple of the unit grid is read from its top-left corner
(MATLAB's ``modcrop``, how SR test sets are paired).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .files import ImageFiles

DIHEDRAL = 8  # 4 rotations x (flipped or not)


@dataclass(frozen=True)
class View:
    files: ImageFiles
    file: int  # index into files
    left: int  # the region's top-left corner in the decoded image
    top: int
    factor: int = 1  # region pixels per unit-grid pixel

    def cut(self, window: tuple[int, int, int, int]) -> np.ndarray:
        """The pixels under ``window`` = (top, left, height, width) on the unit grid: (H, W, C)."""
        y, x, h, w = (v * self.factor for v in window)
        image = self.files.load(self.file)
        return image[self.top + y : self.top + y + h, self.left + x : self.left + x + w]


def crop_window(grid: tuple[int, int], patch: int | None, rng: np.random.Generator | None) -> tuple[int, int, int, int]:
    """A (top, left, height, width) window of side ``patch`` on a unit grid of (height, width):
    uniformly random with ``rng``, else the centre one (validation); the whole grid if patch is None."""
    h, w = grid
    if patch is None:
        return 0, 0, h, w
    if rng is None:
        return (h - patch) // 2, (w - patch) // 2, patch, patch
    return int(rng.integers(0, h - patch + 1)), int(rng.integers(0, w - patch + 1)), patch, patch


def dihedral(image: np.ndarray, k: int) -> np.ndarray:
    """Transform ``k`` in 0..7 of an (H, W, C) image: rotate by k*90 degrees (k mod 4), then flip
    left-right when k >= 4. k = 0 is the identity."""
    out = np.rot90(image, k % 4, axes=(0, 1))
    return out[:, ::-1] if k >= 4 else out
