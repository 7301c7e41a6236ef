"""The restoration models: shapes, sizes, residual behaviour, receptive radius, the sigma input, and
ONNX export with free spatial sizes (what accelerate / bench build on)."""
import pytest
import torch

from turbopix.models import create_model

SMALL = {"dncnn": dict(depth=5, width=8), "sr-fast": dict(width=8, shrink=4, maps=1), "sr-accurate": dict(width=8, blocks=2)}


@pytest.mark.parametrize("name,scale", [("dncnn", 1), ("sr-fast", 2), ("sr-fast", 3), ("sr-accurate", 4)])
@pytest.mark.parametrize("channels", [1, 3])
def test_output_is_the_input_size_times_the_scale(name, scale, channels):
    kw = dict(SMALL[name], channels=channels, **({} if scale == 1 else {"scale": scale}))
    model = create_model(name, **kw).eval()
    x = model.example_inputs(2)
    assert [s.name for s in model.inputs()] == list(x)
    y = model.infer(**x)
    assert y.shape == (2, channels, x["image"].shape[2] * scale, x["image"].shape[3] * scale)
    assert y.min() >= -1 and y.max() <= 1


def test_default_sizes_match_their_class():
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(create_model("dncnn")) == pytest.approx(556_000, rel=0.01)  # DnCNN-S: 17 layers of 64
    for scale in (2, 3, 4):
        assert 10_000 <= count(create_model("sr-fast", scale=scale)) < 100_000  # FSRCNN/ESPCN class
        assert count(create_model("sr-accurate", scale=scale)) < 1_000_000


def test_sr_models_start_near_nearest_neighbour_upscaling():
    """The nearest-upscaled input is added before the shuffle: with the net's output zeroed the model
    is exactly nearest-neighbour upscaling, pixel order included."""
    model = create_model("sr-fast", scale=3, channels=3, **SMALL["sr-fast"]).eval()
    with torch.no_grad():
        model.net[-1].weight.zero_()
        model.net[-1].bias.zero_()
    x = torch.rand(1, 3, 5, 7) * 2 - 1
    torch.testing.assert_close(model.infer(x), torch.nn.functional.interpolate(x, scale_factor=3, mode="nearest"))


@pytest.mark.parametrize("name", ["dncnn", "sr-fast", "sr-accurate"])
def test_receptive_radius_is_exact(name):
    """A pixel ``radius`` away from the centre changes the centre output; one further does not."""
    torch.manual_seed(0)
    model = create_model(name, **SMALL[name]).eval()
    r, s, size = model.receptive_radius, model.scale, 41
    x = torch.rand(1, 1, size, size) * 0.2
    c = size // 2
    centre = lambda t: model(t)[0, 0, c * s:(c + 1) * s, c * s:(c + 1) * s]  # noqa: E731
    base = centre(x)
    for d, changes in ((r, True), (r + 1, False)):
        y = x.clone()
        y[0, 0, c, c + d] += 1.0
        assert (not torch.allclose(centre(y), base, atol=1e-7)) == changes, (name, d)


def test_noise_level_models_take_sigma_and_use_it():
    model = create_model("dncnn", noise_level=True, **SMALL["dncnn"]).eval()
    assert [s.name for s in model.inputs()] == ["image", "sigma"]
    x = torch.rand(2, 1, 12, 12) * 2 - 1
    with pytest.raises(ValueError, match="pass sigma"):
        model.infer(x)
    assert not torch.allclose(model.infer(x, torch.tensor([5.0, 5.0])), model.infer(x, torch.tensor([50.0, 50.0])))


@pytest.mark.parametrize("name,kw", [("dncnn", dict(noise_level=True)), ("sr-fast", dict(scale=2)), ("sr-accurate", dict(scale=3))])
def test_export_to_onnx_with_free_sizes(name, kw, tmp_path):
    pytest.importorskip("onnxruntime")
    from turbopix.accel.export import export_onnx
    from turbopix.accel.runtimes import OnnxRuntimeRunner

    model = create_model(name, **SMALL[name], **kw).eval()
    report = export_onnx(model, tmp_path / "m.onnx")
    assert report.max_abs_error <= 1e-4
    inputs = model.example_inputs(2, seed=3)
    inputs["image"] = inputs["image"][..., :10, :13]  # another size than the traced one
    with torch.no_grad():
        expected = model.infer(**inputs)
    torch.testing.assert_close(OnnxRuntimeRunner(report.path).run(inputs), expected, atol=1e-4, rtol=0)
