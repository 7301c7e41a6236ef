"""The lazy dataset kinds of ``load_dataset``: spec forms, their options, pairing and validation.

    patches:PATH              crops of the images under PATH (``image``), or with a degradation
                              ``target`` = clean crop and ``image`` = degraded crop
    paired:DIR_A,DIR_B        ``image`` from DIR_A, ``target`` from DIR_B, matched by file name
    pairs:PATH                one folder of side-by-side pairs (pix2pix layout): left | right
    unpaired:DIR_A,DIR_B      ``image`` from DIR_A, ``domain_b`` from DIR_B drawn independently

Options (:class:`ImageOptions`) come as keyword arguments of ``load_dataset`` or after a ``?`` in the
spec, ``&``-separated, so that a spec string alone (e.g. what a run records) rebuilds the dataset:

    patches:train400?patch_size=40&degrade=noise:0-55&colour=grey
    pairs:facades?direction=BtoA&downscale=4      (256 px label maps -> photos, read at 64 px)

A dataset's ``name`` is its spec with every option that is not the default (``canonical_spec``), so
``load_dataset(data.name, split=...)`` rebuilds it, whichever way the options were given.

Pairing by name: files match when their names without extension (and subfolder) are equal; failing
that, after removing the prefix and suffix that all names of a folder share (so ``babyx2.png`` in a
Set5 ``X2`` folder matches ``baby.png``). Sides of equal size are cropped alike; sides whose sizes
differ by an integer factor s (SR data with stored low-resolution images: ``W_hr // s == W_lr``)
are cropped at matching places, the larger side's crop s times larger. Anything else is an error
naming the files.

Splits: ``train`` is the training data; ``test`` is a fixed validation set (centre crops, no
augmentation, degradations seeded per image). It comes from, in order: a ``test`` (or ``val``)
subfolder when PATH has one beside ``train`` (the pix2pix layout: ``pairs:facades``), the folder(s)
named by the ``val`` option, or the ``val_split`` fraction of examples held out of ``train``
(chosen by a hash of the file name, so the same files whatever the seed).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.colour import COLOURS
from .crops import View
from .degrade import parse_degradations
from .errors import DataError
from .files import ImageFiles
from .folder import list_images
from .images import IMAGE_EXTENSIONS
from .lazy import Example, LazyDataset
from .sources import resolve_folder

KINDS = ("patches", "paired", "pairs", "unpaired")  # the lazy spec forms, KIND:PATHS
DIRECTIONS = ("AtoB", "BtoA")


@dataclass(frozen=True)
class ImageOptions:
    """Options of the lazy dataset kinds (keyword arguments of ``load_dataset``, or ``?NAME=VALUE``)."""

    patch_size: int | None = None  # crop side of the target (SR: the high-resolution side); None: whole images
    degrade: str | None = None  # degradation spec, e.g. "noise:0-55" or "blur:1.2,bicubic:4" (degrade.py)
    colour: str | None = None  # "rgb", "grey" or "y" (MATLAB Y); None: grey if every file is grey, else rgb
    augment: bool = True  # random flips/rotations (8 dihedral transforms) of training crops
    val_split: float = 0.0  # fraction of examples held out of train as the fixed test split
    val: str | None = None  # folder(s) of the test split, in the same form as the spec's PATH
    direction: str = "AtoB"  # paired data: "BtoA" swaps input and target
    downscale: int = 1  # shrink every image by this integer factor (box average) as it is read, before cropping
    cache_mb: float = 512.0  # budget of the decoded-image cache


_FIELDS = {f.name: f for f in dataclasses.fields(ImageOptions)}


def parse_options(text: str, given: dict[str, Any], spec: str) -> ImageOptions:
    """Options from the spec's ``?`` part and keyword arguments (the same option in both must agree)."""
    values: dict[str, Any] = {}
    hints = typing.get_type_hints(ImageOptions)
    for item in filter(None, text.split("&")):
        name, eq, value = item.partition("=")
        _check_name(name, spec)
        if not eq:
            raise DataError(f"option {name!r} in {spec!r} needs a value: {name}=VALUE")
        values[name] = _convert(name, value, hints[name])
    for name, value in given.items():
        _check_name(name, spec)
        if value is None:
            continue
        if name in values and values[name] != value:
            raise DataError(f"{{option:{name}}} is {value!r} but {spec!r} says {values[name]!r}; give it once")
        values[name] = value
    options = ImageOptions(**values)
    if options.colour is not None and options.colour not in COLOURS:
        raise DataError(f"{{option:colour}} must be one of {', '.join(COLOURS)}; got {options.colour!r}")
    if options.direction not in DIRECTIONS:
        raise DataError(f"{{option:direction}} must be AtoB or BtoA; got {options.direction!r}")
    if not 0 <= options.val_split < 1:
        raise DataError(f"{{option:val_split}} must be in [0, 1); got {options.val_split}")
    if options.downscale < 1:
        raise DataError(f"{{option:downscale}} must be a positive integer; got {options.downscale}")
    if options.patch_size is not None and options.patch_size < 1:
        raise DataError(f"{{option:patch_size}} must be a positive integer; got {options.patch_size}")
    return options


def _check_name(name: str, spec: str) -> None:
    if name not in _FIELDS:
        raise DataError(f"unknown option {name!r} for {spec!r}; the options are {', '.join(_FIELDS)}")


def _convert(name: str, value: str, hint: Any) -> Any:
    kinds = [t for t in typing.get_args(hint) or (hint,) if t is not type(None)]
    kind = kinds[0]
    try:
        if kind is bool:
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return value.lower() in ("true", "1", "yes")
        return kind(value)
    except ValueError:
        raise DataError(f"option {name}={value!r}: expected {kind.__name__}") from None


def load_lazy(spec: str, split: str, *, data_root, image_size: int | None, channels: int | None, skip_bad: bool,
              options: dict[str, Any]) -> LazyDataset:
    """``load_dataset`` for the lazy kinds. ``image_size`` and ``channels``, the in-memory loaders'
    options (``api.train`` passes them from the model's options), mean patch_size and colour here."""
    kind, _, rest = spec.partition(":")
    paths, _, text = rest.partition("?")
    options = {k: v for k, v in options.items() if v is not None}
    for name, value in (("patch_size", image_size), ("colour", {1: "grey", 3: "rgb"}.get(channels or 0))):
        if value is not None and options.setdefault(name, value) != value:
            raise DataError(f"{spec}: image_size / channels disagree with {{option:{name}}}={options[name]!r}; give one")
    parsed = parse_options(text, options, spec)
    return build(kind, paths, split, parsed, data_root=data_root, skip_bad=skip_bad, name=canonical_spec(kind, paths, parsed))


def canonical_spec(kind: str, paths: str, options: ImageOptions) -> str:
    """The spec with every option that differs from its default: it rebuilds the same dataset, so
    it is what a run records (the dataset's ``name``)."""
    changed = [f"{f.name}={_text(getattr(options, f.name))}" for f in _FIELDS.values()
               if getattr(options, f.name) != f.default]
    return f"{kind}:{paths}" + ("?" + "&".join(changed) if changed else "")


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else f"{value:g}" if isinstance(value, float) else str(value)


def build(kind: str, paths: str, split: str, options: ImageOptions, *, data_root, skip_bad: bool, name: str) -> LazyDataset:
    """The dataset ``kind:paths`` for ``split`` (see the module docstring)."""
    degrade = parse_degradations(options.degrade)
    if kind == "unpaired" and degrade is not None:
        raise DataError(f"{name}: unpaired data takes no {{option:degrade}} (domain B is the other side)")
    if kind == "paired" and degrade is not None and degrade.scale != 1:
        raise DataError(f"{name}: paired data already has its targets; a resizing {{option:degrade}} "
                        f"({options.degrade}) would misalign them")
    by_split = _has_split_folders(_paths(kind, paths, name)[0], data_root)
    hold_out = options.val_split > 0 and not options.val and not by_split
    if split == "train" or by_split or hold_out:
        folders = _folders(kind, paths, split if by_split else "train", data_root, name)
    elif options.val:
        folders = _folders(kind, options.val, "test", data_root, name)
    else:
        raise DataError(f"{name} has no test split: give {{option:val}} (a folder), {{option:val_split}} "
                        "(a fraction of the files), or use a folder with train/ and test/ subfolders")
    examples, partners, classes = _examples(kind, folders, options, skip_bad, degrade.scale if degrade else 1)
    if hold_out:
        examples = _hold_out(examples, options.val_split, keep=split == "test", name=name)
    colour = options.colour or _native_colour(examples + (partners or []))
    return LazyDataset(
        name=name, split=split, examples=examples, colour=colour, patch_size=options.patch_size,
        augment=options.augment, degrade=degrade, fixed=split == "test", partners=partners, classes=classes,
    )


def _folders(kind: str, paths: str, split: str, data_root, name: str) -> list[Path]:
    return [_split_folder(resolve_folder(p, data_root), split) for p in _paths(kind, paths, name)]


def _paths(kind: str, paths: str, name: str) -> list[str]:
    two = kind in ("paired", "unpaired")
    parts = [p.strip() for p in paths.split(",")] if two else [paths.strip()]
    if len(parts) != (2 if two else 1) or not all(parts):
        raise DataError(f"{name}: {kind}: needs {'two folders, DIR_A,DIR_B' if two else 'a path'}")
    return parts


def _split_folder(folder: Path, split: str) -> Path:
    """``folder/train`` or ``folder/test`` (``val``) when the folder is laid out by split."""
    for sub in ("train",) if split == "train" else ("test", "val"):
        if (folder / sub).is_dir() and (folder / "train").is_dir():
            return folder / sub
    return folder


def _has_split_folders(path: str, data_root) -> bool:
    """Whether the folder is laid out by split: train/ beside test/ or val/."""
    folder = resolve_folder(path, data_root)
    return _split_folder(folder, "test") != folder


def _listed(folder: Path, options: ImageOptions, skip_bad: bool, labelled: bool = False) -> tuple[ImageFiles, list[int], list[str]]:
    if not folder.is_dir():
        raise DataError(f"image folder {folder} does not exist or is not a folder")
    names, labels, classes = list_images(folder)
    if not names:
        raise DataError(f"no images found in {folder} (searched recursively for {', '.join(sorted(IMAGE_EXTENSIONS))})")
    files = ImageFiles(folder, names, cache_mb=options.cache_mb, skip_bad=skip_bad, shrink=options.downscale)
    if len(files) < len(names):
        kept = set(files.names)
        labels = [label for n, label in zip(names, labels) if n in kept]
    if not len(files):
        raise DataError(f"no readable images in {folder}")
    return files, labels, classes


def _examples(kind: str, folders: list[Path], options: ImageOptions, skip_bad: bool, scale: int):
    if kind == "patches":
        files, labels, classes = _listed(folders[0], options, skip_bad)
        examples = [
            Example({"target" if scale > 1 or options.degrade else "image": View(files, i, 0, 0, scale)},
                    (h // scale, w // scale), label if classes else None, files.names[i])
            for i, ((w, h), label) in enumerate(zip(files.sizes, labels))
        ]
        return examples, None, classes
    if kind == "unpaired":
        sides = [_listed(f, options, skip_bad)[0] for f in folders]
        a, b = ([Example({"image": View(files, i, 0, 0)}, (h, w), key=files.names[i]) for i, (w, h) in enumerate(files.sizes)]
                for files in sides)
        return a, b, []
    if kind == "pairs":
        files = _listed(folders[0], options, skip_bad)[0]
        examples = [_side_by_side(files, i, options.direction) for i in range(len(files))]
    else:
        a, b = (_listed(f, options, skip_bad)[0] for f in folders)
        examples = [_pair(a, i, b, j, options.direction) for i, j in match_names(a.names, b.names, a.folder, b.folder)]
    _check_one_scale(examples)
    return examples, None, []


def _side_by_side(files: ImageFiles, i: int, direction: str) -> Example:
    w, h = files.sizes[i]
    if w % 2:
        raise DataError(f"{files.path(i)} is {w}x{h}: a side-by-side pair needs an even width (left | right halves)")
    left, right = View(files, i, 0, 0), View(files, i, w // 2, 0)
    image, target = (left, right) if direction == "AtoB" else (right, left)
    return Example({"image": image, "target": target}, (h, w // 2), key=files.names[i])


def _pair(a: ImageFiles, i: int, b: ImageFiles, j: int, direction: str) -> Example:
    (wa, ha), (wb, hb) = a.sizes[i], b.sizes[j]
    fa, fb = _factors((wa, ha), (wb, hb))
    if fa is None:
        raise DataError(f"{a.path(i)} ({wa}x{ha}) and its partner {b.path(j)} ({wb}x{hb}) differ in size by "
                        "other than an integer scale factor")
    grid = (ha, wa) if fa == 1 else (hb, wb)  # the smaller side's size (equal sides: either)
    va, vb = View(a, i, 0, 0, fa), View(b, j, 0, 0, fb)
    image, target = (va, vb) if direction == "AtoB" else (vb, va)
    return Example({"image": image, "target": target}, grid, key=a.names[i])


def _factors(size_a: tuple[int, int], size_b: tuple[int, int]) -> tuple[int | None, int | None]:
    """(factor of A, factor of B) on the unit grid of the smaller side; (None, None) if not a scale."""
    if size_a == size_b:
        return 1, 1
    small, large, swap = (size_a, size_b, False) if size_a[0] <= size_b[0] else (size_b, size_a, True)
    s = round(large[0] / small[0]) if small[0] else 0
    if s < 2 or large[0] // s != small[0] or large[1] // s != small[1]:
        return None, None
    return (s, 1) if swap else (1, s)


def _check_one_scale(examples: list[Example]) -> None:
    first = {k: v.factor for k, v in examples[0].views.items()}
    for ex in examples:
        if {k: v.factor for k, v in ex.views.items()} != first:
            view = ex.views["image"]
            raise DataError(f"{view.files.path(view.file)} is paired at another scale than "
                            f"{examples[0].key} ({first}); keep one scale factor per dataset")


def match_names(names_a: list[str], names_b: list[str], folder_a: Path, folder_b: Path) -> list[tuple[int, int]]:
    """Pairs (i, j) of files with the same name (see the module docstring); every file needs a partner."""
    for keys_a, keys_b in ((_stems(names_a), _stems(names_b)), (_trimmed(names_a), _trimmed(names_b))):
        if set(keys_a) == set(keys_b) and len(set(keys_a)) == len(keys_a) == len(keys_b):
            where = {k: j for j, k in enumerate(keys_b)}
            return [(i, where[k]) for i, k in enumerate(keys_a)]
    stems_a, stems_b = _stems(names_a), _stems(names_b)
    lonely_a = [n for n, s in zip(names_a, stems_a) if s not in set(stems_b)]
    lonely_b = [n for n, s in zip(names_b, stems_b) if s not in set(stems_a)]
    if lonely_a:
        raise DataError(f"{folder_a / lonely_a[0]} has no partner of the same name in {folder_b} "
                        f"({len(lonely_a)} of {len(names_a)} files unmatched)")
    raise DataError(f"{folder_b / lonely_b[0]} has no partner of the same name in {folder_a} "
                    f"({len(lonely_b)} of {len(names_b)} files unmatched)")


def _stems(names: list[str]) -> list[str]:
    return [os.path.splitext(n)[0] for n in names]


def _trimmed(names: list[str]) -> list[str]:
    """Stems without the prefix and suffix that all of them share (when at least two remain apart)."""
    stems = _stems(names)
    if len(stems) < 2:
        return stems
    prefix = len(os.path.commonprefix(stems))
    suffix = len(os.path.commonprefix([s[::-1] for s in stems]))
    if any(len(s) <= prefix + suffix for s in stems):
        return stems
    return [s[prefix : len(s) - suffix] for s in stems]


def _hold_out(examples: list[Example], fraction: float, *, keep: bool, name: str) -> list[Example]:
    """The held-out examples (``keep``) or the rest: the ``fraction`` whose names hash lowest."""
    if len(examples) < 2:
        raise DataError(f"{name} has {len(examples)} example(s): too few to hold out {{option:val_split}}")
    n = min(len(examples) - 1, max(1, round(fraction * len(examples))))
    ranked = sorted(examples, key=lambda ex: hashlib.sha1(ex.key.encode()).hexdigest())
    held = {id(ex) for ex in ranked[:n]}
    return [ex for ex in examples if (id(ex) in held) == keep]


def _native_colour(examples: list[Example]) -> str:
    grey = all(v.files.grey[v.file] for ex in examples for v in ex.views.values())
    return "grey" if grey else "rgb"
