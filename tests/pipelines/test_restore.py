"""Restoring files: file and folder runs, colour handling, shipped names, and clear refusals."""
import numpy as np
import pytest
import torch
from PIL import Image

import turbopix
from turbopix.core.atomic import OutputExistsError
from turbopix.data.errors import DataError
from turbopix.models import create_model, save
from turbopix.models.shipped import NotShippedError
from turbopix.pipelines.classical import CLASSICAL
from turbopix.pipelines.restore import RestoreConfig, RestoreError, model_method, resolve_method, restore_array, restore_files

CFG = RestoreConfig(progress=False, tile=16)


def _png(path, c=1, size=(40, 30), mode=None):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (size[1], size[0], c), dtype=np.uint8)
    Image.fromarray(pixels[..., 0] if c == 1 else pixels, mode).save(path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    out = {}
    for key, name, kw, data in [("grey-denoiser", "dncnn", dict(depth=4, width=4), "patches:x?degrade=noise:25"),
                                ("blind", "dncnn", dict(depth=4, width=4, noise_level=True), "patches:x?degrade=noise:0-55"),
                                ("sr2", "sr-fast", dict(scale=2, width=4, shrink=4, maps=1), "patches:x?degrade=bicubic:2")]:
        model = create_model(name, **kw)
        out[key] = save(model, root / f"{key}.safetensors", data=data)
    return out


def test_a_file_and_a_folder(models, tmp_path):
    _png(tmp_path / "a.png")
    (tmp_path / "in").mkdir()
    _png(tmp_path / "in" / "b.png"), _png(tmp_path / "in" / "c.jpg", c=1, size=(20, 24))
    method = resolve_method(str(models["sr2"]), "sr", scale=2)
    report = restore_files(method, tmp_path / "a.png", tmp_path / "a_x2.png", CFG)
    assert report.written == [tmp_path / "a_x2.png"]
    assert Image.open(tmp_path / "a_x2.png").size == (80, 60)
    report = restore_files(method, tmp_path / "in", tmp_path / "out", CFG)
    assert sorted(p.name for p in report.written) == ["b.png", "c.png"]
    assert Image.open(tmp_path / "out" / "c.png").size == (40, 48)
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        restore_files(method, tmp_path / "a.png", tmp_path / "a_x2.png", CFG)


def test_tiled_file_output_equals_one_untiled_pass(models, tmp_path):
    method = resolve_method(str(models["grey-denoiser"]), "denoise", sigma=25)
    pixels = np.asarray(Image.open(_png(tmp_path / "a.png", size=(50, 37))))[..., None]
    tiled = restore_array(method, pixels, tile=16)
    whole = restore_array(method, pixels, tile=1000)
    assert np.abs(tiled.astype(int) - whole.astype(int)).max() <= 1  # float rounding may flip a .5


def test_colour_handling(models, tmp_path):
    colour = np.asarray(Image.open(_png(tmp_path / "c.png", c=3)))
    with pytest.raises(RestoreError, match="colour image but model=.* denoises grey images"):
        restore_array(resolve_method(str(models["grey-denoiser"]), "denoise", sigma=25), colour, name="c.png")
    # a Y model on a colour file: Y restored, Cb/Cr put back. With its net zeroed the model is
    # nearest-neighbour upscaling, so a colourless image (R = G = B) comes back as exactly that
    model = create_model("sr-fast", scale=2, width=4, shrink=4, maps=1).eval()
    with torch.no_grad():
        model.net[-1].weight.zero_()
        model.net[-1].bias.zero_()
    grey3 = np.repeat(colour[..., :1], 3, axis=-1)
    up = restore_array(model_method(model, "sr"), grey3)
    nearest = np.repeat(np.repeat(grey3, 2, 0), 2, 1)
    assert up.shape == (60, 80, 3) and np.abs(up.astype(int) - nearest).max() <= 1
    # a colour method on a grey file runs on the grey repeated to RGB and returns one channel
    grey = restore_array(CLASSICAL.get("bicubic")(2), colour[..., :1])
    assert grey.shape == (60, 80, 1)


def test_refusals_name_the_problem(models, tmp_path):
    with pytest.raises(RestoreError, match="upscales x2; it cannot do scale=4"):
        resolve_method(str(models["sr2"]), "sr", scale=4)
    with pytest.raises(RestoreError, match="trained for sigma 25, not sigma=50"):
        resolve_method(str(models["grey-denoiser"]), "denoise", sigma=50)
    with pytest.raises(RestoreError, match="needs the noise level"):
        resolve_method(str(models["blind"]), "denoise")
    assert resolve_method(str(models["blind"]), "denoise", sigma=50).needs == ("sigma",)
    with pytest.raises(RestoreError, match="is a sr method, not denoise"):
        resolve_method("bicubic", "denoise")
    with pytest.raises(RestoreError, match="no such file, shipped model"):
        resolve_method("nope.safetensors", "denoise", sigma=25)
    method = resolve_method(str(models["grey-denoiser"]), "denoise", sigma=25)
    (tmp_path / "bad.png").write_bytes(_png(tmp_path / "ok.png").read_bytes()[:60])  # truncated
    with pytest.raises(DataError, match="bad.png"):
        restore_files(method, tmp_path / "bad.png", tmp_path / "o1.png", CFG)
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 100
    Image.fromarray(rgba).save(tmp_path / "alpha.png")
    with pytest.raises(DataError, match="alpha.png"):
        restore_files(method, tmp_path / "alpha.png", tmp_path / "o2.png", CFG)
    Image.fromarray(np.zeros((8, 8), np.uint16) + 1000).save(tmp_path / "deep.png")
    with pytest.raises(RestoreError, match="deep.png is a 16-bit image"):
        restore_files(method, tmp_path / "deep.png", tmp_path / "o3.png", CFG)
    with pytest.raises(RestoreError, match="more than max_pixels=100"):
        restore_files(method, tmp_path / "ok.png", tmp_path / "o4.png", RestoreConfig(progress=False, max_pixels=100))
    _png(tmp_path / "mask.png", size=(10, 10))
    with pytest.raises(RestoreError, match="mask .*mask.png is 10x10 but .*ok.png is 40x30"):
        restore_files(CLASSICAL.get("telea")(), tmp_path / "ok.png", tmp_path / "o5.png", CFG, mask=tmp_path / "mask.png")


def test_a_folder_run_lists_every_failure(models, tmp_path):
    (tmp_path / "in").mkdir()
    _png(tmp_path / "in" / "good.png")
    (tmp_path / "in" / "broken.png").write_bytes(b"not an image")
    method = resolve_method(str(models["grey-denoiser"]), "denoise", sigma=25)
    with pytest.raises(DataError, match="broken.png"):
        restore_files(method, tmp_path / "in", tmp_path / "out", CFG)
    report = restore_files(method, tmp_path / "in", tmp_path / "out2", RestoreConfig(progress=False, skip_bad=True))
    assert [p.name for p in report.written] == ["good.png"]
    assert [p.name for p, _ in report.failed] == ["broken.png"]


def test_shipped_names(monkeypatch, tmp_path, models):
    import turbopix.models.shipped as shipped

    monkeypatch.setattr(shipped, "WEIGHTS_DIR", tmp_path)  # an installation without weights
    with pytest.raises(NotShippedError, match="'sr-accurate-x3' .* is not shipped .* tools/train_restorers.py sr-accurate-x3"):
        turbopix.load("sr-accurate-x3")
    (tmp_path / "sr-fast-x2.safetensors").write_bytes(models["sr2"].read_bytes())
    assert "sr-fast-x2" in shipped.available()
    assert turbopix.load("sr-fast-x2").scale == 2


def test_every_shipped_model_loads_and_saw_only_training_data():
    import turbopix.models.shipped as shipped

    for name in shipped.available():
        model = turbopix.load(name)
        assert model.family in ("restoration", "enhancement", "style-transfer")
        data = model.metadata["data"]
        assert data.split("?")[0] in ("patches:train400", "patches:t91", "patches:cbsd432_train"), (name, data)


def test_the_default_model_is_chosen_per_image_by_its_colour(monkeypatch, tmp_path):
    """No model given: a grey file gets the grey shipped model, a colour file the colour one, in one
    folder run; a colour file at a sigma no colour model has fails alone, saying what to do."""
    import turbopix.models.shipped as shipped
    from turbopix.pipelines.restore import DefaultMethod

    weights = tmp_path / "weights"
    weights.mkdir()
    monkeypatch.setattr(shipped, "WEIGHTS_DIR", weights)
    torch.manual_seed(0)
    for name, channels, data in [("deblock-grey", 1, "patches:x?degrade=jpeg:10-40&colour=y"),
                                 ("deblock-colour", 3, "patches:x?degrade=jpeg:10-40&colour=rgb"),
                                 ("denoise-grey-blind", 1, "patches:x?degrade=noise:0-55")]:
        save(create_model("dncnn", channels=channels, depth=3, width=4, noise_level=name.endswith("blind")),
             weights / f"{name}.safetensors", data=data)
    (tmp_path / "in").mkdir()
    _png(tmp_path / "in" / "grey.png", c=1), _png(tmp_path / "in" / "colour.png", c=3)
    auto = DefaultMethod("deblock")
    report = restore_files(auto, tmp_path / "in", tmp_path / "out", CFG)
    assert sorted(p.name for p in report.written) == ["colour.png", "grey.png"]
    for file, name in (("grey.png", "deblock-grey"), ("colour.png", "deblock-colour")):
        alone = restore_files(resolve_method(name, "deblock"), tmp_path / "in" / file, tmp_path / f"{name}.png", CFG)
        assert np.array_equal(np.asarray(Image.open(alone.written[0])), np.asarray(Image.open(tmp_path / "out" / file)))
    assert set(auto._methods) == {False, True}

    lenient = RestoreConfig(progress=False, tile=16, skip_bad=True)
    report = restore_files(DefaultMethod("denoise", sigma=30), tmp_path / "in", tmp_path / "d30", lenient, sigma=30)
    assert [p.name for p in report.written] == ["grey.png"]  # the grey blind model takes any sigma
    (failed, why), = report.failed  # this installation has no colour blind model: that file fails alone
    assert failed.name == "colour.png" and "'denoise-colour-blind'" in why and "not shipped" in why
    save(create_model("dncnn", channels=3, depth=3, width=4, noise_level=True),
         weights / "denoise-colour-blind.safetensors", data="patches:x?degrade=noise:0-55&colour=rgb")
    report = restore_files(DefaultMethod("denoise", sigma=30), tmp_path / "in", tmp_path / "d30b", lenient, sigma=30)
    assert sorted(p.name for p in report.written) == ["colour.png", "grey.png"] and not report.failed
    with pytest.raises(RestoreError, match="trained for sigma 0-55"):
        DefaultMethod("denoise", sigma=80)
