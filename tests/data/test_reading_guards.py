"""Only regular files are read, within a file-size and a pixel-count limit checked before decoding:
every reader (folder loader, lazy file lists, paired folders) goes through data/images.py."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest
from PIL import Image

from turbopix.data import CorruptFileError, load_folder
from turbopix.data.files import ImageFiles
from turbopix.data.images import ImageDecodeError, ImageLimitError, read_header, read_image
from turbopix.evaluation.paired import UnreadableImageError, compare_folders


def _good(folder, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full((8, 8), i * 40, np.uint8)).save(folder / f"{i}.png")


def _hostile(folder, kind):
    """A ``zz.png`` in ``folder`` that is not a regular image file."""
    path = folder / "zz.png"
    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dangling":
        path.symlink_to(folder / "missing.png")
    elif kind == "directory":  # a folder named like an image, where a file is expected
        path.mkdir()
    return path


SPECIAL = ["dev-zero", "fifo", "dangling"]
REASON = {"dev-zero": "character device", "fifo": "FIFO", "dangling": "missing file", "directory": "directory"}


@pytest.mark.parametrize("kind", [*SPECIAL, "directory"])
def test_read_image_refuses_what_is_not_a_regular_file(tmp_path, kind):
    path = _hostile(tmp_path, kind)
    start = time.monotonic()
    with pytest.raises(ImageDecodeError, match=REASON[kind]) as e:
        read_image(path)
    assert str(path) in str(e.value) and time.monotonic() - start < 5  # no endless read of /dev/zero or a FIFO
    with pytest.raises(ImageDecodeError, match=REASON[kind]):
        read_header(path)


@pytest.mark.parametrize("kind", SPECIAL)
def test_folder_loader_names_special_files_and_skips_them_on_request(tmp_path, kind):
    _good(tmp_path)
    path = _hostile(tmp_path, kind)
    with pytest.raises(CorruptFileError, match="zz.png") as e:
        load_folder(tmp_path)
    assert "skip_bad=True" in str(e.value)
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        data = load_folder(tmp_path, skip_bad=True)
    assert len(data) == 3 and path.name


@pytest.mark.parametrize("kind", SPECIAL)
def test_lazy_file_lists_name_special_files_and_skip_them_on_request(tmp_path, kind):
    _good(tmp_path)
    _hostile(tmp_path, kind)
    names = ["0.png", "1.png", "zz.png"]
    with pytest.raises(CorruptFileError, match="zz.png"):
        ImageFiles(tmp_path, names)
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        assert len(ImageFiles(tmp_path, names, skip_bad=True)) == 2


def test_paired_folders_read_through_the_same_guards(tmp_path):
    _good(tmp_path / "a")
    _good(tmp_path / "b")
    os.unlink(tmp_path / "b" / "2.png")
    (tmp_path / "b" / "2.png").symlink_to("/dev/zero")
    with pytest.raises(UnreadableImageError, match="character device"):
        compare_folders(tmp_path / "a", tmp_path / "b", metrics="psnr")


def test_pixel_limit_is_checked_from_the_header_before_decoding(tmp_path, monkeypatch):
    # 20000 x 20000 black: a 400-megapixel image in a file of a few hundred KB
    Image.new("L", (20000, 20000)).save(tmp_path / "bomb.png")
    assert (tmp_path / "bomb.png").stat().st_size < 2_000_000
    with pytest.raises(ImageLimitError, match="20000x20000.*TURBOPIX_MAX_IMAGE_PIXELS"):
        read_image(tmp_path / "bomb.png")
    with pytest.raises(ImageLimitError):
        read_header(tmp_path / "bomb.png")
    _good(tmp_path / "small")
    monkeypatch.setenv("TURBOPIX_MAX_IMAGE_PIXELS", "63")  # 8x8 = 64 pixels: now one too many
    with pytest.raises(CorruptFileError, match="over the 63-pixel limit"):
        load_folder(tmp_path / "small")
    monkeypatch.setenv("TURBOPIX_MAX_IMAGE_PIXELS", "64")
    assert len(load_folder(tmp_path / "small")) == 3


def test_file_size_limit_is_configurable(tmp_path, monkeypatch):
    _good(tmp_path)
    noise = np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "0.png")  # noise compresses worse: the largest file
    size = (tmp_path / "0.png").stat().st_size
    assert (tmp_path / "1.png").stat().st_size < size
    monkeypatch.setenv("TURBOPIX_MAX_FILE_BYTES", str(size - 1))
    with pytest.raises(ImageLimitError, match="TURBOPIX_MAX_FILE_BYTES"):
        read_image(tmp_path / "0.png")
    with pytest.warns(UserWarning, match="skipped 1"):
        assert len(load_folder(tmp_path, skip_bad=True)) == 2  # the smaller files still load
    monkeypatch.setenv("TURBOPIX_MAX_FILE_BYTES", "lots")
    with pytest.raises(ValueError, match="TURBOPIX_MAX_FILE_BYTES must be a positive integer"):
        read_image(tmp_path / "0.png")


def test_limits_do_not_change_pillows_own_setting(tmp_path):
    _good(tmp_path)
    before = Image.MAX_IMAGE_PIXELS
    read_image(tmp_path / "0.png")
    read_header(tmp_path / "0.png")
    assert Image.MAX_IMAGE_PIXELS == before
