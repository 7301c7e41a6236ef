"""Datasets of image files read lazily, cropped, augmented and degraded per batch.

Each example is a few aligned *views* (``crops.py``) under the batch keys they become: ``image`` for
a plain patch dataset, ``target`` (then degraded into ``image``) for a restoration dataset, ``image``
and ``target`` for paired data. An unpaired dataset adds, for each example of domain A, a random
example of domain B as ``domain_b``.

Randomness and determinism: a batch draws one 62-bit seed from the ``generator`` the training loop
derives from (seed, step), and each example gets a numpy Generator seeded with (that seed, its
dataset index). Everything random about the example (crop, dihedral transform, degradation, the
domain-B partner) comes from it, so a batch is a pure function of (generator seed, index): a resumed
run sees bit-identical batches, and an example gets the same crop whichever process or batch
position it lands in (distributed training splits a step's indices across processes). The same
index twice in one batch gives the same example twice; the training sampler never does that.

A *fixed* dataset (the validation split) ignores the generator: centre crops, no augmentation, and
degradations seeded by (``VAL_SEED``, index), so it is the same on every call.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..core.colour import convert_colour
from .base import Batch
from .crops import DIHEDRAL, View, crop_window, dihedral
from .degrade import Degradations
from .errors import DataError

VAL_SEED = 20250  # base seed of the fixed (validation) examples' degradations
IMAGE_KEYS = ("image", "target", "domain_b")  # pixel keys, scaled to [-1, 1] in the batch


@dataclass(frozen=True)
class Example:
    views: dict[str, View]  # batch key -> view
    grid: tuple[int, int]  # the unit grid (height, width) shared by the views
    label: int | None = None  # class index for labelled patch datasets
    key: str = ""  # a stable name (the first view's file), used to hold out validation examples


@dataclass
class LazyDataset:
    """A ``Dataset`` (``base.py``) over ``examples``; see the module docstring."""

    name: str  # a spec that rebuilds this dataset (``specs.canonical_spec``), with ``split``
    split: str
    examples: list[Example]
    colour: str  # "rgb", "grey" or "y"
    patch_size: int | None = None  # the side of the crop of the target (or the image without one)
    augment: bool = True  # a random one of the 8 dihedral transforms per training example
    degrade: Degradations | None = None
    fixed: bool = False  # validation: centre crops, no augmentation, seeds independent of the generator
    partners: list[Example] | None = None  # unpaired: domain B
    classes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.examples:
            raise DataError(f"dataset {self.name!r} has no images")
        first = self.examples[0]
        self.sizing_key = "target" if "target" in first.views else "image"
        self.unit_patch = self._unit_patch()

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def channels(self) -> int:
        return 3 if self.colour == "rgb" else 1

    @property
    def image_size(self) -> int | None:
        return self.patch_size

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def _unit_patch(self) -> int | None:
        """The crop side on the unit grid; checks that every example is large enough for it."""
        if self.patch_size is None:
            return None
        factor = self.examples[0].views[self.sizing_key].factor
        if self.patch_size % factor:
            raise DataError(f"{{option:patch_size}} {self.patch_size} of {self.name} must be a multiple of the "
                            f"scale factor {factor} (so the input crop has whole pixels)")
        unit = self.patch_size // factor
        for ex in self.examples + (self.partners or []):
            if min(ex.grid) < unit:
                view = next(iter(ex.views.values()))
                h, w = (g * view.factor for g in ex.grid)
                raise DataError(f"{{option:patch_size}} {self.patch_size} is larger than {view.files.path(view.file)} "
                                f"({w}x{h} usable pixels); use a smaller patch size or remove the image")
        return unit

    def batch(self, index: torch.Tensor, generator: torch.Generator | None = None) -> Batch:
        """The examples at ``index``, stacked; pixel keys in [-1, 1] (see ``base.py`` for the keys)."""
        base = VAL_SEED if self.fixed else int(torch.randint(0, 2**62, (1,), generator=generator))
        items = [self.example(int(i), np.random.default_rng([base, int(i)])) for i in index.reshape(-1)]
        return _stack(items, self.name)

    def example(self, i: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        ex = self.examples[i]
        out = self._read(ex, rng)
        if self.partners is not None:
            j = i % len(self.partners) if self.fixed else int(rng.integers(len(self.partners)))
            out["domain_b"] = self._read(self.partners[j], rng)["image"]
        if self.degrade is not None:
            clean = out["image"] if "image" in out else out["target"]
            out["image"], extras = self.degrade(clean, rng)
            out.update(extras)
        if ex.label is not None:
            out["label"] = torch.tensor(ex.label, dtype=torch.int64)
        return out

    def _read(self, ex: Example, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """Each view's crop, transformed alike, as (C, H, W) float32 on the 0-255 scale."""
        window = crop_window(ex.grid, self.unit_patch, None if self.fixed else rng)
        k = int(rng.integers(DIHEDRAL)) if self.augment and not self.fixed else 0
        return {key: self._pixels(dihedral(view.cut(window), k)) for key, view in ex.views.items()}

    def _pixels(self, array: np.ndarray) -> torch.Tensor:
        # one copy, in the file's integer type: out of the cache (never written), strided crop and
        # rotation included, straight into (C, H, W) order
        x = torch.from_numpy(np.array(array.transpose(2, 0, 1), order="C")).float()
        if array.dtype == np.uint16:
            x = x.mul_(255.0 / 65535.0)
        return convert_colour(x, self.colour, data_range=255.0).contiguous()


def _stack(items: list[dict[str, torch.Tensor]], name: str) -> Batch:
    out: Batch = {}
    for key in items[0]:
        values = [item[key] for item in items]
        shapes = {tuple(v.shape) for v in values}
        if len(shapes) > 1:
            raise DataError(f"{name}: the images of one batch differ in size ({key}: "
                            f"{', '.join(str(s) for s in sorted(shapes)[:3])}); set {{option:patch_size}} to crop "
                            "them alike, or use a batch size of 1")
        if key in IMAGE_KEYS:  # per image: small tensors stay on one thread, which is faster here
            values = [v.div(127.5).sub_(1.0) for v in values]
        out[key] = torch.stack(values)
    return out
