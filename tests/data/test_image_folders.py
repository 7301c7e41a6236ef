"""folder:PATH datasets: labels from class subfolders, bad files, sizes, resizing, channels."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.data import CorruptFileError, DataError, DataNotFoundError, ImageData, load_dataset, load_folder


def test_class_subfolders_give_labels(tmp_path, make_image):
    for cls, n in [("dog", 2), ("cat", 3)]:
        for i in range(n):
            make_image(tmp_path / cls / f"{i}.png", seed=i)
    (tmp_path / "cat" / "notes.txt").write_text("not an image")  # ignored
    make_image(tmp_path / "dog" / "nested" / "deep.jpg")  # recursive, still 'dog'

    data = load_dataset(f"folder:{tmp_path}")

    assert data.classes == ["cat", "dog"]
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.images.shape == (6, 3, 8, 8) and data.images.dtype == torch.uint8
    assert data.name == f"folder:{tmp_path}"


def test_flat_folder_is_unlabelled(tmp_path, make_image):
    original = make_image(tmp_path / "a.png", mode="L")
    make_image(tmp_path / "b.png", mode="L", seed=1)

    data = load_folder(tmp_path)

    assert data.classes == [] and data.labels.tolist() == [-1, -1]
    assert data.images.shape == (2, 1, 8, 8)
    np.testing.assert_array_equal(data.images[0, 0].numpy(), np.asarray(Image.open(original)))


def test_corrupt_png_is_named(tmp_path, make_image):
    make_image(tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(CorruptFileError, match=r"bad\.png: cannot read image.*skip_bad=True"):
        load_folder(tmp_path)


def test_truncated_png_is_named(tmp_path, make_image):
    path = make_image(tmp_path / "cut.png", size=(64, 64))
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CorruptFileError, match=r"cut\.png"):
        load_folder(tmp_path)


def test_skip_bad_warns_with_count(tmp_path, make_image):
    make_image(tmp_path / "good.png")
    for i in range(4):
        (tmp_path / f"bad{i}.png").write_bytes(b"junk")

    with pytest.warns(UserWarning, match=r"skipped 4 unreadable image\(s\).*bad0\.png, bad1\.png, bad2\.png, \.\.\."):
        data = load_folder(tmp_path, skip_bad=True)
    assert len(data) == 1


def test_all_bad_is_an_error(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"junk")
    with pytest.warns(UserWarning), pytest.raises(DataError, match="no readable images"):
        load_folder(tmp_path, skip_bad=True)


def test_empty_folder(tmp_path):
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(DataError, match="no images found in"):
        load_dataset(f"folder:{tmp_path}")


def test_missing_folder(tmp_path):
    with pytest.raises(DataNotFoundError, match="nope"):
        load_dataset(f"folder:{tmp_path / 'nope'}")
    with pytest.raises(DataNotFoundError, match="nope"):
        load_dataset("folder:relative/nope")


def test_relative_folder_under_data_root(tmp_path, make_image):
    make_image(tmp_path / "root" / "set" / "x.png")
    assert len(load_dataset("folder:set", data_root=tmp_path / "root")) == 1


def test_mixed_sizes_need_image_size(tmp_path, make_image):
    make_image(tmp_path / "a.png", size=(8, 8))
    make_image(tmp_path / "b.png", size=(12, 10))
    with pytest.raises(DataError, match=r"different sizes.*a\.png is 8x8.*b\.png is 12x10.*pass image_size"):
        load_folder(tmp_path)

    data = load_folder(tmp_path, image_size=6)  # the 12x10 one is center-cropped to 10x10 first
    assert data.images.shape == (2, 3, 6, 6)


def test_resize_matches_pil(tmp_path, make_image):
    path = make_image(tmp_path / "a.png", size=(16, 16))
    data = load_dataset(f"folder:{tmp_path}", image_size=8)
    expected = np.asarray(Image.open(path).resize((8, 8), Image.Resampling.BICUBIC))
    np.testing.assert_array_equal(data.images[0].permute(1, 2, 0).numpy(), expected)


def test_channel_conversion(tmp_path, make_image):
    rgb = make_image(tmp_path / "rgb" / "a.png", mode="RGB")
    make_image(tmp_path / "gray" / "b.png", mode="L")

    gray = load_folder(tmp_path / "rgb", channels=1)
    np.testing.assert_array_equal(gray.images[0, 0].numpy(), np.asarray(Image.open(rgb).convert("L")))

    color = load_folder(tmp_path / "gray", channels=3)
    assert color.images.shape == (1, 3, 8, 8)
    assert torch.equal(color.images[0, 0], color.images[0, 2])

    mixed = load_folder(tmp_path)  # one gray, one RGB, no channels given: all RGB
    assert mixed.images.shape == (2, 3, 8, 8)


def test_odd_modes(tmp_path):
    Image.fromarray(np.full((4, 4), 65535, np.uint16)).save(tmp_path / "a16.png")  # 16-bit gray
    Image.new("RGBA", (4, 4), (10, 20, 30, 0)).save(tmp_path / "b_rgba.png")
    Image.new("P", (4, 4), 3).save(tmp_path / "c_palette.gif")

    data = load_folder(tmp_path)

    assert data.images.shape == (3, 3, 4, 4)
    assert data.images[0].unique().tolist() == [255]  # 65535 -> 255
    assert data.images[1, :, 0, 0].tolist() == [10, 20, 30]  # alpha dropped


def test_bad_channels_rejected_before_reading(tmp_path):
    with pytest.raises(DataError, match="channels must be 1 .* or 3"):
        load_dataset(f"folder:{tmp_path}", channels=2)
    with pytest.raises(DataError, match="image_size must be a positive integer"):
        load_dataset("digits", image_size=0)


def test_images_beside_class_folders(tmp_path, make_image):
    make_image(tmp_path / "top.png")
    make_image(tmp_path / "cls" / "a.png")
    with pytest.raises(DataError, match=r"top\.png.*class subfolders \(cls\)"):
        load_folder(tmp_path)


def test_save_folder_round_trips_in_order(tmp_path):
    from turbopix.data.digits import digit_domains
    from turbopix.data.folder import save_folder

    grey, _ = digit_domains(load_dataset("digits", split="test", image_size=28))  # a stand-in for MNIST as B
    colour = ImageData(images=torch.randint(0, 256, (12, 3, 5, 7), dtype=torch.uint8), labels=torch.full((12,), -1))
    for data, sub in ((grey, "grey"), (colour, "colour")):
        paths = save_folder(data, tmp_path / sub)
        assert paths[0].name == "0000.png" and len(paths) == len(data)
        back = load_folder(tmp_path / sub)
        assert torch.equal(back.images, data.images)  # sorted names are dataset order, pixels exact


def test_digit_domains_are_the_benchmarks():
    from turbopix.data.digits import digit_domains

    mnist = load_dataset("digits", split="test", image_size=28)  # any 28 px grey data stands in for MNIST
    a, b = digit_domains(mnist)
    assert a.images.shape == (1437, 1, 28, 28) and torch.equal(a.images, load_dataset("digits", image_size=28).images)
    assert torch.equal(a.labels, load_dataset("digits").labels)
    assert len(b) == 360 and torch.equal(b.images, mnist.images)  # as many as A, or all B has
    _, b = digit_domains(ImageData(images=torch.zeros(2000, 1, 28, 28, dtype=torch.uint8), labels=torch.zeros(2000, dtype=torch.long)))
    assert len(b) == 1437
