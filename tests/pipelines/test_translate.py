"""The translate pipeline's size policy: any size in, the same size out, through padding and resizing."""
import dataclasses

import numpy as np
import pytest
import torch

from turbopix.models import create_model
from turbopix.pipelines.restore import RestoreError
from turbopix.pipelines.translate import translation_method

TINY = dict(g_width=4, depth=3, d_width=4, image_size=16)


@pytest.mark.parametrize("size", [None, 0, 20])
def test_any_image_size_comes_back_at_its_own_size(size):
    method = translation_method(create_model("pix2pix", **TINY).eval(), "a2b", size)
    for h, w in ((16, 16), (21, 37), (5, 90)):
        out = method.run(torch.rand(1, 3, h, w) * 2 - 1)
        assert out.shape == (1, 3, h, w) and out.abs().max() <= 1


def test_the_working_size_is_the_models_training_size():
    model = create_model("pix2pix", **TINY).eval()
    seen = []
    model.translate = lambda x, d: seen.append(tuple(x.shape[-2:])) or x
    translation_method(model, "a2b").run(torch.zeros(1, 3, 64, 100))
    translation_method(model, "a2b", 0).run(torch.zeros(1, 3, 20, 30))
    assert seen == [(16, 32), (24, 32)]  # 16 x 25 padded to multiples of 8; 20 x 30 likewise


def test_refuses_models_that_are_not_translators_and_unknown_directions():
    with pytest.raises(RestoreError, match="not a translator"):
        translation_method(create_model("dncnn", depth=3, width=4), "a2b")
    with pytest.raises(RestoreError, match="translates only a2b"):
        translation_method(create_model("pix2pix", **TINY), "b2a")
    assert translation_method(create_model("cyclegan", g_width=4, blocks=1), "b2a").task == "translate"


def test_grey_models_run_on_colour_files_through_the_restore_rules(tmp_path):
    from PIL import Image

    from turbopix.pipelines.restore import RestoreConfig
    from turbopix.pipelines.translate import TranslateConfig, translate_files

    pixels = np.random.default_rng(0).integers(0, 256, (20, 28, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "in.png")
    method = translation_method(create_model("cyclegan", channels=1, g_width=4, blocks=1, image_size=16).eval(), "b2a")
    report = translate_files(tmp_path / "in.png", tmp_path / "out.png", TranslateConfig(), method,
                             RestoreConfig(progress=False))
    assert report.written and Image.open(tmp_path / "out.png").size == (28, 20)


def test_colour_models_on_grey_files_write_their_colour(tmp_path):
    """A grey -> colour translator (CycleGAN b2a of colour2grey) must colourise a grey file, not
    return the grey mean of its output as a colour restorer does."""
    from PIL import Image

    from turbopix.pipelines.restore import RestoreConfig, restore_array
    from turbopix.pipelines.translate import TranslateConfig, translate_files

    torch.manual_seed(0)
    pixels = np.random.default_rng(0).integers(0, 256, (20, 28, 1), dtype=np.uint8)
    Image.fromarray(pixels[..., 0]).save(tmp_path / "grey.png")
    method = translation_method(create_model("cyclegan", g_width=4, blocks=1, image_size=16).eval(), "b2a")
    translate_files(tmp_path / "grey.png", tmp_path / "out.png", TranslateConfig(), method, RestoreConfig(progress=False))
    out = np.asarray(Image.open(tmp_path / "out.png"))
    assert out.shape == (20, 28, 3) and np.ptp(out.astype(int), axis=-1).max() > 0  # RGB, and not grey
    restorer = dataclasses.replace(method, colour_out=False)  # the restore rule: the grey mean
    assert restore_array(restorer, pixels).shape == (20, 28, 1)
