"""The pictures of a trained model as library functions: latent interpolations and reconstruction
grids (the CLI's ``interpolate`` and ``reconstruct`` and the demo report draw them)."""
from __future__ import annotations

import pytest
import torch

from turbopix.core.errors import render
from turbopix.models import create_model
from turbopix.sampling import interpolation_grid, make_grid, reconstruction_grid


@pytest.fixture(scope="module")
def gan():
    torch.manual_seed(0)
    return create_model("dcgan", g_width=8, d_width=8, image_size=8, num_classes=10).eval()


@pytest.fixture(scope="module")
def vae():
    torch.manual_seed(0)
    return create_model("conv-vae", width=8, image_size=8).eval()


def test_interpolation_rows_are_straight_lines_between_two_latents(vae):
    images, nrow = interpolation_grid(vae, rows=3, steps=5, seed=4)
    assert images.shape == (15, 1, 8, 8) and nrow == 5
    # decode the same lines by hand: row r runs from latent 2r to latent 2r+1 of the seed's draw
    ends = vae.sample_latent(6, torch.Generator().manual_seed(4)).view(3, 2, -1)
    mid = (ends[1, 0] + ends[1, 1]) / 2  # row 1, step 2 of 0..4: the midpoint
    with torch.no_grad():
        assert torch.allclose(images[7], vae.generate(mid[None])[0], atol=1e-5)
        assert torch.allclose(images[0], vae.generate(ends[0, :1])[0], atol=1e-5)
        assert torch.allclose(images[14], vae.generate(ends[2, 1:])[0], atol=1e-5)


def test_interpolation_is_reproducible_from_its_seed(vae):
    a, _ = interpolation_grid(vae, rows=2, steps=4, seed=1)
    assert torch.equal(a, interpolation_grid(vae, rows=2, steps=4, seed=1)[0])
    assert not torch.equal(a, interpolation_grid(vae, rows=2, steps=4, seed=2)[0])


def test_a_conditional_interpolation_keeps_one_class_per_row_or_takes_labels(gan):
    images, _ = interpolation_grid(gan, rows=2, steps=3, seed=0)
    gen = torch.Generator().manual_seed(0)
    gan.sample_latent(4, gen)  # the ends come first from the same generator, then one class per row
    classes = torch.randint(10, (2,), generator=gen).repeat_interleave(3)
    ends = gan.sample_latent(4, torch.Generator().manual_seed(0)).view(2, 2, -1)
    with torch.no_grad():
        assert torch.allclose(images[3], gan.generate(ends[1, :1], classes[3:4])[0], atol=1e-5)
    given, _ = interpolation_grid(gan, rows=2, steps=3, seed=0, labels=torch.full((6,), 7))
    with torch.no_grad():
        assert torch.allclose(given[0], gan.generate(ends[0, :1], torch.tensor([7]))[0], atol=1e-5)
    with pytest.raises(ValueError, match="expected 6 labels"):
        interpolation_grid(gan, rows=2, steps=3, seed=0, labels=torch.zeros(2, dtype=torch.long))


def test_interpolation_sizes_are_checked_by_name(vae):
    with pytest.raises(ValueError) as info:
        interpolation_grid(vae, rows=0, steps=3, seed=0)
    assert render(info.value, "cli") == "--rows must be >= 1 and <= 100; got 0"


def test_reconstruction_pairs_rows_of_eight(vae):
    x = torch.rand(16, 1, 8, 8) * 2 - 1
    images, nrow = reconstruction_grid(vae, x)
    recon = vae.reconstruct(x)
    assert nrow == 8 and images.shape == (32, 1, 8, 8)
    assert torch.equal(images[:8], x[:8]) and torch.equal(images[8:16], recon[:8])  # originals, then theirs
    assert torch.equal(images[16:24], x[8:]) and torch.equal(images[24:], recon[8:])
    # any other count: one row of originals over one row of reconstructions
    images, nrow = reconstruction_grid(vae, x[:5])
    assert nrow == 5 and torch.equal(images[:5], x[:5]) and torch.allclose(images[5:], recon[:5], atol=1e-5)
    assert make_grid(images, nrow).shape[:2] == (2 * 10 + 2, 5 * 10 + 2)


def test_reconstruction_needs_an_encoder(gan):
    with pytest.raises(ValueError, match="has no encoder"):
        reconstruction_grid(gan, torch.zeros(8, 1, 8, 8))


# ---------------------------------------------------------------- write_samples: chunks and outputs
def test_chunked_samples_equal_one_batch_in_every_format(gan, tmp_path):
    import numpy as np
    from PIL import Image

    from turbopix.sampling import SampleConfig, to_uint8, write_samples

    labels = ",".join(str(i % 10) for i in range(7))
    whole = to_uint8(gan.sample(37, labels=torch.tensor([i % 7 % 10 for i in range(37)]), seed=5))
    for chunk in (1, 5, 37, 100):
        cfg = SampleConfig(n=37, format="npz", label=labels, seed=5, chunk=chunk)
        arrays = np.load(write_samples(gan, tmp_path / f"c{chunk}.npz", cfg, progress=False))
        assert np.array_equal(arrays["images"], whole), chunk
        assert arrays["labels"].tolist() == [i % 7 % 10 for i in range(37)]
    folder = write_samples(gan, tmp_path / "dir", SampleConfig(n=37, format="png-dir", label=labels, seed=5, chunk=4))
    read = np.stack([np.asarray(Image.open(p)) for p in sorted(folder.iterdir())])
    assert np.array_equal(read, whole[..., 0])


def test_png_dir_overwrite_leaves_no_stale_images_and_no_temporary_folder(gan, tmp_path):
    from turbopix.core.atomic import OutputError, OutputExistsError
    from turbopix.sampling import SampleConfig, write_samples

    out = tmp_path / "samples"
    write_samples(gan, out, SampleConfig(n=12, format="png-dir"))
    with pytest.raises(OutputExistsError):
        write_samples(gan, out, SampleConfig(n=3, format="png-dir"))
    write_samples(gan, out, SampleConfig(n=3, format="png-dir"), overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["00000.png", "00001.png", "00002.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["samples"]  # the old folder and the temporary one are gone
    (out / "notes.txt").write_text("mine")  # a folder sample did not write is never replaced
    with pytest.raises(OutputError, match="notes.txt"):
        write_samples(gan, out, SampleConfig(n=3, format="png-dir"), overwrite=True)
    assert (out / "notes.txt").exists()


def test_grid_extension_picks_the_format(gan, tmp_path):
    from PIL import Image

    from turbopix.sampling import OutputFormatError, SampleConfig, write_samples

    for name, fmt in [("g.jpg", "JPEG"), ("g.JPEG", "JPEG"), ("g.png", "PNG"), ("g.webp", "WEBP"), ("g.bmp", "BMP")]:
        assert Image.open(write_samples(gan, tmp_path / name, SampleConfig(n=4))).format == fmt
    for bad in ("g.txt", "g", "g.gif.zip"):
        with pytest.raises(OutputFormatError, match="out takes .png"):
            write_samples(gan, tmp_path / bad, SampleConfig(n=4))
        assert not (tmp_path / bad).exists()
    with pytest.raises(OutputFormatError, match="too many for one grid"):
        write_samples(gan, tmp_path / "huge.png", SampleConfig(n=10_001))


def test_a_failed_write_leaves_the_old_file_and_no_temporary(gan, tmp_path, monkeypatch):
    import errno

    from turbopix.core.atomic import OutputError
    from turbopix.sampling import SampleConfig, write_samples

    out = tmp_path / "s.npz"
    out.write_bytes(b"old")

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("turbopix.sampling._write_npz", full_disk)
    with pytest.raises(OutputError, match="cannot write .*s.npz: No space left on device"):
        write_samples(gan, out, SampleConfig(n=4, format="npz"), overwrite=True)
    assert out.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["s.npz"]


def test_images_do_not_depend_on_the_thread_count(gan):
    """What lets sampling switch thread counts between chunks (core/threads.py) without changing a pixel."""
    inputs = gan.example_inputs(64)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = gan.infer(**inputs)
        torch.set_num_threads(2)
        two = gan.infer(**inputs)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(one, two)
