from __future__ import annotations

import pytest
import torch

from turbopix.accel.quantize import calibration_batches, int8_layers, quantize_int8, save_openvino, weight_layers_in_int8
from turbopix.accel.runtimes import OpenVINORunner


pytest.importorskip("openvino")
pytest.importorskip("nncf")


@pytest.fixture(scope="module")
def quantized(tmp_path_factory, make):
    model = make("dcgan")
    qmodel = quantize_int8(model, calibration_batches(model, None, n=128, batch_size=64))
    path = save_openvino(qmodel, tmp_path_factory.mktemp("ov") / "model.xml")
    return model, path


def test_transposed_convolutions_run_in_int8(quantized):
    _, path = quantized
    runner = OpenVINORunner(path)
    deconv = int8_layers(runner.compiled)["Deconvolution"]
    assert set(deconv) <= {"i8", "u8"} and sum(deconv.values()) == 3  # all three ConvTranspose2d
    low, total = weight_layers_in_int8(runner.compiled)
    assert low == total == 3


def test_int8_outputs_stay_close_to_eager(quantized):
    model, path = quantized
    inputs = model.example_inputs(64, seed=7)
    with torch.no_grad():
        expected = model.infer(**inputs)
    got = OpenVINORunner(path).run(inputs)
    assert got.shape == expected.shape
    err = (got - expected).abs()
    assert 0 < err.mean().item() < 0.05  # int8 changes the numbers, but only a little on average


def test_calibration_batches_follow_the_data_labels(make):
    model = make("dcgan", num_classes=10)
    batches = calibration_batches(model, None, n=100, batch_size=32)
    assert [b["z"].shape[0] for b in batches] == [32, 32, 32, 4]
    assert all(b["labels"].max() < 10 for b in batches)


def test_calibration_uses_encoder_codes_of_real_images(make):
    from turbopix.data.base import ImageData

    model = make("vae")
    images = torch.randint(0, 256, (40, 1, 28, 28), dtype=torch.uint8)
    data = ImageData(images, torch.zeros(40, dtype=torch.long), ["x"], "fake")
    batches = calibration_batches(model, data, n=40, batch_size=40)
    with torch.no_grad():
        mu, _ = model.encode(data.batch(torch.arange(40))["image"])
    z = torch.from_numpy(batches[0]["z"])
    # half the set are codes of real images (which ones is random): each must match some code
    dists = torch.cdist(z[:20], mu).min(1).values
    assert dists.max() < 1e-3  # cdist rounds at ~1e-4


def test_first_and_last_weight_layers_can_stay_fp32(quantized, make):
    """keep_fp32 'first'/'last' name the graph's first and last weight layers (the dcgan's three
    transposed convolutions: two of them stay fp32, the middle one runs in int8), with full bias
    correction; an unknown bias-correction mode is refused."""
    model, _ = quantized
    qmodel = quantize_int8(model, calibration_batches(model, None, n=64, batch_size=64), keep_fp32=("first", "last"),
                           bias_correction="full")
    compiled = OpenVINORunner(qmodel, chunk=0).compiled
    assert weight_layers_in_int8(compiled) == (1, 3)
    assert int8_layers(compiled)["Deconvolution"].get("f32") == 2
    with pytest.raises(ValueError, match="bias_correction"):
        quantize_int8(model, calibration_batches(model, None, n=8, batch_size=8), bias_correction="slow")


def test_fp32_patterns_turn_first_and_last_into_exact_names(quantized):
    import re

    import openvino as ov

    from turbopix.accel.quantize import fp32_patterns

    _, path = quantized
    fp32 = ov.Core().read_model(str(path))
    names = [op.get_friendly_name() for op in fp32.get_ordered_ops()
             if op.get_type_name() in ("Convolution", "ConvolutionBackpropData", "MatMul", "GroupConvolution")]
    got = fp32_patterns(fp32, ("last", "first", ".*"))  # a regex (it must match some layer) passes through as given
    assert got[-1] == ".*" and len(got) == 3
    assert {n for n in names if any(re.fullmatch(p, n) for p in got[:2])} == {names[0], names[-1]}


@pytest.mark.parametrize("pattern, message", [("frist", "matches no layer"), ("[", "not a regular expression")])
def test_keep_fp32_refuses_patterns_that_would_silently_do_nothing(quantized, pattern, message):
    import openvino as ov

    from turbopix.accel.config import AccelOptionError
    from turbopix.accel.quantize import fp32_patterns

    _, path = quantized
    with pytest.raises(AccelOptionError, match=message):
        fp32_patterns(ov.Core().read_model(str(path)), ("first", pattern))


def test_a_two_input_restorer_runs_in_int8_by_its_input_names(tmp_path):
    """The blind denoiser's ``sigma`` input also carries the name of the Cast that reads it after
    conversion; the runner must still be fed by ``image`` and ``sigma`` (a saved IR and a live model)."""
    from turbopix.models.catalog import create_model

    model = create_model("dncnn", channels=1, noise_level=True, depth=4, width=8).eval()
    calibration = [{k: v.numpy() for k, v in model.example_inputs(4, seed=s).items()} for s in range(2)]
    qmodel = quantize_int8(model, calibration)
    inputs = model.example_inputs(3, seed=9)
    with torch.no_grad():
        expected = model.infer(**inputs)
    for source in (qmodel, save_openvino(qmodel, tmp_path / "blind.xml")):
        runner = OpenVINORunner(source)
        assert runner.input_names == ["image", "sigma"]
        got = runner.run(inputs)
        assert got.shape == expected.shape and (got - expected).abs().mean().item() < 0.05
