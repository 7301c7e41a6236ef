"""Tiled inference equals whole-image inference where the overlap covers the receptive radius."""
import pytest
import torch

from turbopix.models import create_model
from turbopix.pipelines.tiles import spans, tiled, to_uint8


@pytest.mark.parametrize("name,kw", [("dncnn", dict(depth=6, width=8)), ("sr-fast", dict(scale=3, width=8, shrink=4, maps=2)),
                                     ("sr-accurate", dict(scale=2, width=8, blocks=2))])
def test_tiled_equals_untiled_with_enough_overlap(name, kw):
    torch.manual_seed(1)
    model = create_model(name, channels=3, **kw).eval()
    image = torch.rand(1, 3, 45, 61) * 2 - 1  # not a multiple of the tile: edge tiles are partial
    with torch.no_grad():
        whole = model.infer(image)
        parts = tiled(model.infer, image, scale=model.scale, tile=16, overlap=model.receptive_radius)
        short = tiled(model.infer, image, scale=model.scale, tile=16, overlap=model.receptive_radius - 2)
    assert parts.shape == whole.shape
    assert (parts - whole).abs().max() <= 1e-4
    assert (short - whole).abs().max() > 1e-3  # too little overlap shows: the check can fail


def test_uint8_output_is_the_rounded_float_output():
    model = create_model("dncnn", depth=4, width=4).eval()
    image = torch.rand(1, 1, 20, 30) * 2 - 1
    with torch.no_grad():
        as_float = tiled(model.infer, image, tile=8, overlap=4)
        as_bytes = tiled(model.infer, image, tile=8, overlap=4, dtype=torch.uint8)
    assert torch.equal(as_bytes, to_uint8(as_float))


def test_spans_cover_the_side_once():
    assert spans(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert spans(4, 4) == [(0, 4)]
    with pytest.raises(ValueError, match="one image"):
        tiled(lambda x: x, torch.zeros(2, 1, 4, 4))


def test_output_is_channels_last_so_saving_needs_no_copy():
    # the pipeline hands out[0].permute(1, 2, 0) to Pillow: contiguous means no second full-size
    # copy (576 MB for a 4000x3000 photo upscaled x4; docs/restoration.md, peak memory)
    model = create_model("sr-fast", channels=3, scale=2, width=8, shrink=4, maps=2).eval()
    with torch.no_grad():
        out = tiled(model.infer, torch.rand(1, 3, 20, 30) * 2 - 1, scale=2, tile=8, overlap=4, dtype=torch.uint8)
    assert out[0].permute(1, 2, 0).is_contiguous()
    assert out[0].permute(1, 2, 0).numpy().flags["C_CONTIGUOUS"]
