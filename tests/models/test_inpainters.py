"""models/inpainters.py: the gated-convolution inpainter keeps known pixels exactly, ignores what the
hole holds, takes any size, and round-trips through save / load."""
import pytest
import torch

from turbopix.models import create_model, load_model_file, save


def _model(**kw):
    torch.manual_seed(0)
    return create_model("inpaint", channels=3, width=4, **kw)


@pytest.mark.parametrize("h,w", [(24, 32), (37, 50), (9, 13)])
def test_known_pixels_are_kept_exactly_and_the_hole_is_filled(h, w):
    model = _model()
    image = torch.rand(2, 3, h, w) * 2 - 1
    mask = torch.zeros(2, 1, h, w)
    mask[:, :, h // 4 : h // 2 + 1, w // 3 : w // 2 + 1] = 1
    for out in (model(image, mask), model.infer(image, mask)):
        assert out.shape == image.shape
        known = ~mask.bool().expand_as(image)
        assert torch.equal(out[known], image[known])  # bit for bit, not approximately
        assert not torch.equal(out[~known], image[~known])


def test_the_hole_content_is_ignored_and_gradients_reach_every_parameter():
    model = _model()
    image, mask = model.example_inputs(3).values()
    garbage = torch.where(mask.bool(), torch.rand_like(image), image)  # other pixels in the hole
    torch.testing.assert_close(model(image, mask), model(garbage, mask), rtol=0, atol=0)
    model(image, mask).abs().sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    with pytest.raises(ValueError, match="mask"):
        model(image)


def test_declares_its_two_inputs_and_round_trips(tmp_path):
    model = _model().eval()
    assert [s.name for s in model.inputs()] == ["image", "mask"]
    inputs = model.example_inputs(2)
    assert inputs["mask"].shape == (2, 1, *inputs["image"].shape[-2:]) and 0 < float(inputs["mask"].mean()) < 0.5
    back = load_model_file(save(model, tmp_path / "m.safetensors"))
    torch.testing.assert_close(back.infer(**inputs), model.infer(**inputs))
    assert back.config.width == 4 and back.family == "restoration"
