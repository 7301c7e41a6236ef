"""data/files.py: headers read up front, pixels on demand through a byte-budgeted cache."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.data import CorruptFileError, load_dataset
from turbopix.data.files import ImageFiles


def _write(folder, n, size=(16, 16), mode="RGB"):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
        Image.fromarray(np.full(shape, i * 10, np.uint8), mode).save(folder / f"{i}.png")
    return [f"{i}.png" for i in range(n)]


def test_headers_up_front_pixels_on_demand(tmp_path):
    names = _write(tmp_path, 3, size=(12, 7), mode="L")
    files = ImageFiles(tmp_path, names)
    assert files.sizes == [(12, 7)] * 3 and files.grey == [True] * 3 and not files._cache
    image = files.load(2)
    assert image.shape == (7, 12, 1) and image.dtype == np.uint8 and int(image[0, 0, 0]) == 20
    assert files.load(2) is image  # cached


def test_cache_keeps_the_most_recent_within_its_budget(tmp_path):
    names = _write(tmp_path, 4, size=(32, 32))  # 3 KiB each decoded
    files = ImageFiles(tmp_path, names, cache_mb=7 * 1024 / 2**20)  # room for two
    for i in (0, 1, 2, 1, 3):
        files.load(i)
    assert list(files._cache) == [1, 3] and files._cached_bytes == 2 * 32 * 32 * 3
    nothing = ImageFiles(tmp_path, names, cache_mb=0)
    nothing.load(0)
    assert not nothing._cache


def test_unreadable_files_are_named_or_skipped(tmp_path):
    names = _write(tmp_path, 2)
    (tmp_path / "bad.png").write_bytes(b"junk")
    with pytest.raises(CorruptFileError, match=r"bad\.png: cannot read image.*skip_bad=True"):
        ImageFiles(tmp_path, names + ["bad.png"])
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable image\(s\).*bad\.png"):
        files = ImageFiles(tmp_path, names + ["bad.png"], skip_bad=True)
    assert files.names == names
    with pytest.warns(UserWarning):
        assert len(load_dataset(f"patches:{tmp_path}", skip_bad=True)) == 2


def test_a_file_broken_after_its_header_is_named_when_read(tmp_path):
    _write(tmp_path, 1, size=(64, 64))
    path = tmp_path / "0.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:300])  # header intact, pixel data cut
    data = load_dataset(f"patches:{tmp_path}", patch_size=8)
    with pytest.raises(CorruptFileError, match=r"0\.png"):
        data.batch(torch.tensor([0]), torch.Generator().manual_seed(0))
