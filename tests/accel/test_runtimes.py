from __future__ import annotations

import pytest
import torch

from turbopix.accel.export import export_onnx
from turbopix.accel.runtimes import OnnxRuntimeRunner, OpenVINORunner, Runner, TorchRunner, runtime_precisions
from turbopix.accel.torch_paths import bf16_autocast, channels_last, compile_for_inference



@pytest.fixture(scope="module")
def dcgan_onnx(tmp_path_factory, make):
    model = make("dcgan", num_classes=10)
    return model, export_onnx(model, tmp_path_factory.mktemp("onnx") / "m.onnx").path


def _eager(model, batch=6):
    inputs = model.example_inputs(batch, seed=3)
    with torch.no_grad():
        return inputs, model.infer(**inputs)


def test_onnxruntime_runner_matches_eager(dcgan_onnx):
    pytest.importorskip("onnxruntime")
    model, path = dcgan_onnx
    inputs, expected = _eager(model)
    runner = OnnxRuntimeRunner(path)
    assert isinstance(runner, Runner)
    torch.testing.assert_close(runner.run(inputs), expected, atol=1e-4, rtol=0)


def test_openvino_runner_is_fp32_and_matches_eager(dcgan_onnx):
    pytest.importorskip("openvino")
    model, path = dcgan_onnx
    inputs, expected = _eager(model)
    runner = OpenVINORunner(path)
    torch.testing.assert_close(runner.run(inputs), expected, atol=1e-4, rtol=0)
    # OpenVINO's own default on bf16-capable CPUs is bf16; the runner must have asked for f32
    precisions = {p for _, kind, p in runtime_precisions(runner.compiled) if kind == "Deconvolution"}
    assert precisions == {"f32"}


def test_openvino_runner_rejects_unknown_precision(dcgan_onnx):
    pytest.importorskip("openvino")
    with pytest.raises(ValueError, match="precision"):
        OpenVINORunner(dcgan_onnx[1], precision="fp8")  # type: ignore[arg-type]


def test_channels_last_matches_eager(make):
    model = make("dcgan")
    inputs, expected = _eager(model)
    fast = channels_last(model)
    out = TorchRunner(fast).run(inputs)
    assert out.is_contiguous()
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=0)
    assert next(model.parameters()).is_contiguous()  # the input model is untouched


def test_bf16_autocast_is_close_but_not_exact(make):
    model = make("dcgan")
    inputs, expected = _eager(model)
    out = bf16_autocast(model).infer(**inputs)
    assert out.dtype == torch.float32
    err = (out - expected).abs().max().item()
    assert 0 < err < 0.1  # bf16 has an 8-bit mantissa: differs, but by little


def test_compile_wiring_matches_eager(make):
    model = make("dcgan")
    inputs, expected = _eager(model, batch=4)
    fast = compile_for_inference(model, bf16=False, backend="eager")  # dynamo tracing only: fast
    torch.testing.assert_close(fast.infer(**inputs), expected, atol=1e-4, rtol=0)


@pytest.mark.slow  # inductor compiles C++ kernels: 15 s warm, 75 s with a cold cache on 2 loaded cores
def test_compile_with_inductor_and_freezing_matches_eager(make):
    model = make("mlp-gan")
    inputs, expected = _eager(model, batch=4)
    fast = compile_for_inference(model, bf16=False, with_channels_last=False)
    torch.testing.assert_close(fast.infer(**inputs), expected, atol=1e-4, rtol=0)


def test_openvino_chunked_streams_give_the_same_images(dcgan_onnx):
    pytest.importorskip("openvino")
    model, path = dcgan_onnx
    inputs, expected = _eager(model, batch=11)  # 3 chunks of 4, the last one short
    chunked = OpenVINORunner(path, chunk=4, streams=2)
    torch.testing.assert_close(chunked.run(inputs), expected, atol=1e-4, rtol=0)
    torch.testing.assert_close(chunked.run(inputs), OpenVINORunner(path, chunk=0).run(inputs), atol=0, rtol=0)
