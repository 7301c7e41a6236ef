"""Studies of image-to-image outputs shown beside the inputs they were made from.

    kind = "ab"                 # or mos
    inputs = "set12-noisy25"    # the images the outputs were made from
    [sources]                   # folders of outputs, named like the inputs
    dncnn = "out/dncnn"
    bm3d = "out/bm3d"
    # real = "set12"            # optional: the clean originals, named like the inputs too

A file matches an input by its name without extension (``07.png`` pairs with ``07.bmp``), as
``turbopix compare`` pairs folders. Every file of a source must have an input, and every source an
output for every input: a missing or a stray file is an error naming the files, never a smaller
study. The outputs of one input must all have one size, the input's or (super-resolution) that size
times a whole number; anything else is an error rather than a silent crop or resize. Channels may
differ (a colourised output of a grey input is fine).

Item ``i`` of every source (the input under the reserved name ``input``, the outputs, ``real``) is
the ``i``-th drawn input, so a trial that takes item ``i`` of two sources compares two results of
the same input, and shows that input beside them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.images import ImageDecodeError, read_image, to_uint8
from ..evaluation.paired import CompareError, images_by_stem
from .errors import StudyError

INPUT = "input"  # reserved source name: the images the outputs were made from


def match(inputs: str, sources: dict[str, str]) -> dict[str, dict[str, Path]]:
    """``{INPUT: {stem: file}, name: {stem: file}, ...}`` for the inputs folder and each output
    folder in ``sources``, checked to hold the same stems."""
    found = {INPUT: _folder(inputs, "inputs")}
    if len(found[INPUT]) < 2:
        raise StudyError(f"inputs = {inputs} holds {len(found[INPUT])} image(s); a study needs at least 2")
    for name, spec in sources.items():
        files = found[name] = _folder(spec, f"source {name}")
        stray = sorted(files[s].name for s in files.keys() - found[INPUT].keys())
        if stray:
            raise StudyError(f"source {name} ({spec}) has files with no input of the same name in {inputs}: "
                             f"{_listing(stray)}")
        missing = sorted(found[INPUT][s].name for s in found[INPUT].keys() - files.keys())
        if missing:
            raise StudyError(f"source {name} ({spec}) has no output for these inputs in {inputs}: {_listing(missing)}; "
                             "run the method on every input, or remove the inputs it should not see")
    return found


def _folder(spec: str, what: str) -> dict[str, Path]:
    if spec.startswith("data:") or not Path(spec).is_dir():
        raise StudyError(f"{what} = {spec}: in a study with inputs, the inputs and every source must be folders of "
                         "images named alike (a checkpoint or a dataset has no outputs to pair)")
    try:
        return images_by_stem(Path(spec))
    except CompareError as e:
        raise StudyError(f"{what}: {e}") from None


def draw(stems: list[str], n: int, seed: int) -> list[str]:
    """All stems (sorted) when at most ``n``, else a seeded random ``n`` of them, sorted."""
    stems = sorted(stems)
    if len(stems) <= n:
        return stems
    pick = np.random.default_rng(seed).choice(len(stems), size=n, replace=False)
    return [stems[i] for i in sorted(pick)]


def read(files: dict[str, dict[str, Path]], stem: str) -> dict[str, np.ndarray]:
    """The images of one input stem, by source, as uint8 (H, W, C), checked for size."""
    images = {}
    for name, by_stem in files.items():
        try:
            images[name] = to_uint8(read_image(by_stem[stem]))
        except ImageDecodeError as e:
            raise StudyError(f"source {name}: {e}") from None
    source = next((n for n in images if n != INPUT), None)
    if source is None:
        return images
    h, w = images[source].shape[:2]
    for name, image in images.items():
        if name != INPUT and image.shape[:2] != (h, w):
            raise StudyError(f"{files[name][stem]} is {_size(image)} but {files[source][stem]} is {_size(images[source])}: "
                             "the outputs of one input must have one size")
    ih, iw = images[INPUT].shape[:2]
    if h % ih or w % iw or h // ih != w // iw:
        raise StudyError(f"{files[source][stem]} is {_size(images[source])} but its input {files[INPUT][stem]} is "
                         f"{_size(images[INPUT])}: an output must have its input's size (or a whole multiple of it, "
                         "for super-resolution); nothing is cropped or resized")
    return images


def _size(image: np.ndarray) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"


def _listing(names: list[str], limit: int = 8) -> str:
    return ", ".join(names[:limit]) + (f" ... and {len(names) - limit} more" if len(names) > limit else "")
