"""The Zero-DCE++ enhancer: size, curve properties (range, identity, monotonicity), the downscaled
curve estimation, and ONNX export with free spatial sizes."""
import pytest
import torch

from turbopix.accel.prune import prune_channels
from turbopix.models import create_model
from turbopix.models.enhancers import apply_curve


def test_default_size_is_the_papers():
    model = create_model("zero-dce")
    assert sum(p.numel() for p in model.parameters()) == 10_561  # Zero-DCE++: about 10k
    assert model.family == "enhancement" and [s.name for s in model.inputs()] == ["image"]


@pytest.mark.parametrize("scale_factor", [1, 3])
def test_output_has_the_input_size_and_stays_in_range(scale_factor):
    torch.manual_seed(0)
    model = create_model("zero-dce", width=8, scale_factor=scale_factor).eval()
    x = torch.rand(2, 3, 17, 23) * 2 - 1
    out = model(x)
    assert out["enhanced"].shape == x.shape and out["curves"].shape == x.shape
    assert out["enhanced"].min() >= 0 and out["enhanced"].max() <= 1 + 1e-6  # float rounding; infer clamps
    assert out["curves"].abs().max() <= 1
    y = model.infer(x)
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1


def test_images_smaller_than_the_scale_factor_work():
    model = create_model("zero-dce", width=4, scale_factor=8).eval()
    assert model.infer(torch.zeros(1, 3, 5, 7)).shape == (1, 3, 5, 7)


def test_zero_parameters_are_the_identity():
    model = create_model("zero-dce", width=8).eval()
    with torch.no_grad():
        last = model.net.convs[-1][-1]
        last.weight.zero_()
        last.bias.zero_()
    x = torch.rand(1, 3, 16, 20) * 2 - 1
    torch.testing.assert_close(model.infer(x), x, atol=1e-6, rtol=0)


def test_curve_maps_unit_range_to_itself_monotonically():
    x = torch.linspace(0, 1, 101, dtype=torch.float64)
    for a in (-1.0, -0.3, 0.5, 1.0):
        y = apply_curve(x, torch.tensor(a, dtype=torch.float64), 8)
        assert y[0] == 0 and abs(float(y[-1]) - 1) < 1e-12
        assert (y.diff() >= -1e-12).all() and y.min() >= 0 and y.max() <= 1 + 1e-12  # up to rounding
    assert (apply_curve(x, torch.tensor(0.5), 8) >= x).all()  # a > 0 brightens
    torch.testing.assert_close(apply_curve(torch.tensor(0.5), torch.tensor(1.0), 1), torch.tensor(0.75))


def test_pruning_is_refused_by_declaration():
    with pytest.raises(ValueError, match="cannot be pruned"):
        prune_channels(create_model("zero-dce", width=8), 0.5)


def test_export_to_onnx_with_free_sizes(tmp_path):
    pytest.importorskip("onnxruntime")
    from turbopix.accel.export import export_onnx
    from turbopix.accel.runtimes import OnnxRuntimeRunner

    model = create_model("zero-dce", width=8).eval()
    report = export_onnx(model, tmp_path / "m.onnx")
    assert report.max_abs_error <= 1e-4
    inputs = {"image": model.example_inputs(2, seed=3)["image"][..., :19, :30]}  # not a multiple of the scale
    with torch.no_grad():
        expected = model.infer(**inputs)
    torch.testing.assert_close(OnnxRuntimeRunner(report.path).run(inputs), expected, atol=1e-4, rtol=0)


def test_shipped_weights_load_by_name():
    import turbopix
    from turbopix.models.shipped import WEIGHTS_DIR

    path = WEIGHTS_DIR / "enhance-zero-dce.safetensors"
    assert path.stat().st_size < 100_000  # tens of KB
    model = turbopix.load("enhance-zero-dce")
    assert model.name == "zero-dce" and model.family == "enhancement"
    assert model.metadata["data"].startswith("patches:cbsd432_train?")  # a training set only
    dark = torch.full((1, 3, 32, 32), -0.8)  # 10% grey
    assert (model.infer(dark).mean() + 1) / 2 > 0.2  # brightened: at least doubled
