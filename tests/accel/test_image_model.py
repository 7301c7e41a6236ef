"""An image-to-image model goes through every acceleration path, unchanged code: export at two
spatial sizes, ONNX Runtime and OpenVINO, int8, pruning + distillation, a student, FLOPs and
parameters, an artifact and a bench row (see toy_restorer.py)."""
from __future__ import annotations

import pytest
import torch

import turbopix
from turbopix.accel.artifact import AcceleratedGenerator, AcceleratedModel, load_artifact
from turbopix.accel.bench import bench
from turbopix.accel.distill import distill, make_student
from turbopix.accel.export import export_onnx
from turbopix.accel.flops import count_flops, count_params
from turbopix.accel.prune import prune
from turbopix.accel.quantize import calibration_batches, quantize_int8, save_openvino, weight_layers_in_int8
from turbopix.accel.recipe import accelerate
from turbopix.accel.runtimes import OnnxRuntimeRunner, OpenVINORunner

from toy_restorer import EXAMPLE_SIZE, registered  # beside this file (pytest puts the folder on sys.path)

SIZES = [EXAMPLE_SIZE, (20, 8)]  # the traced size and another one


@pytest.fixture(scope="module")
def toy(make):
    with registered() as name:
        yield make(name)


@pytest.fixture(scope="module")
def toy_onnx(toy, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    return export_onnx(toy, tmp_path_factory.mktemp("toy") / "toy.onnx")


def _images(size, batch=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {"image": torch.rand(batch, 3, *size, generator=gen) * 2 - 1}


def test_export_has_free_spatial_dimensions_and_is_checked_at_two_sizes(toy_onnx):
    assert toy_onnx.input_names == ["image"]
    assert toy_onnx.dynamic_axes["image"] == {0: "batch", 2: "image_2", 3: "image_3"}
    sizes = {tuple(shape["image"][2:]) for shape in toy_onnx.checked_shapes}
    assert sizes == {EXAMPLE_SIZE, (2 * EXAMPLE_SIZE[0], 2 * EXAMPLE_SIZE[1])}
    assert toy_onnx.max_abs_error <= 1e-4


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_runtimes_match_eager_at_every_size(toy, toy_onnx, runtime):
    pytest.importorskip(runtime)
    runner = OnnxRuntimeRunner(toy_onnx.path) if runtime == "onnxruntime" else OpenVINORunner(toy_onnx.path)
    for size in SIZES:
        inputs = _images(size)
        with torch.no_grad():
            expected = toy.infer(**inputs)
        got = runner.run(inputs)
        assert got.shape == (3, 3, *size)
        torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)


def test_calibration_takes_given_images_or_else_example_inputs(toy):
    from turbopix.data.base import ImageData

    random = calibration_batches(toy, None, n=10, batch_size=4)
    assert [tuple(b["image"].shape) for b in random] == [(4, 3, *EXAMPLE_SIZE)] * 2 + [(2, 3, *EXAMPLE_SIZE)]
    images = torch.randint(0, 256, (6, 3, 10, 10), dtype=torch.uint8)
    data = ImageData(images, torch.zeros(6, dtype=torch.long), [], "fake")
    given = calibration_batches(toy, data, n=8, batch_size=8)[0]["image"]
    real = data.batch(torch.arange(6))["image"].numpy()
    assert given.shape == (8, 3, 10, 10)
    assert all(any((x == r).all() for r in real) for x in given)  # every calibration image is a real one


def test_int8_runs_the_convolutions_in_int8(toy, tmp_path):
    pytest.importorskip("openvino")
    pytest.importorskip("nncf")
    qmodel = quantize_int8(toy, calibration_batches(toy, None, n=32, batch_size=16))
    runner = OpenVINORunner(save_openvino(qmodel, tmp_path / "toy.xml"))
    low, total = weight_layers_in_int8(runner.compiled)
    assert low == total == 3
    for size in SIZES:
        inputs = _images(size, batch=4, seed=1)
        with torch.no_grad():
            err = (runner.run(inputs) - toy.infer(**inputs)).abs()
        assert 0 < err.mean().item() < 0.05


def test_prune_distill_and_student(toy, tmp_path):
    pruned, report = prune(toy, 0.5, finetune_steps=40, batch_size=8, extractor=None)
    assert pruned.net[0].out_channels == pruned.net[3].out_channels == 8 and pruned.net[5].out_channels == 3
    assert report.flops_after < report.flops_before and report.params_after < report.params_before
    assert report.recovery.pixel_l1_last < report.recovery.pixel_l1_first
    again = turbopix.load(turbopix.save(pruned, tmp_path / "pruned.safetensors"))
    inputs = _images(SIZES[1])
    with torch.no_grad():
        torch.testing.assert_close(again.infer(**inputs), pruned.infer(**inputs))

    student = make_student(toy, 0.5)
    assert student.config.width == 8 and student.name == toy.name
    assert count_params(student) < count_params(toy) and count_flops(student) < count_flops(toy)
    result = distill(toy, student, steps=40, batch_size=8, extractor=None)
    assert result.pixel_l1_last < result.pixel_l1_first and not student.training


def test_flops_and_params_count_the_inference_network(toy):
    c, w = 3, 16
    h, wd = EXAMPLE_SIZE
    macs = h * wd * 9 * (c * w + w * w + w * c)
    assert count_flops(toy) == 2 * macs
    assert count_params(toy) == sum(p.numel() for p in toy.net.parameters())


def test_artifact_and_bench_row(toy, tmp_path):
    pytest.importorskip("openvino")
    pytest.importorskip("nncf")
    ckpt = turbopix.save(toy, tmp_path / "toy.safetensors")
    out = accelerate(ckpt, "prune:0.5,int8", tmp_path / "fast", finetune_steps=5, calib=None, calib_size=16,
                     quality_n=16, ref=None, log=lambda s: None)
    art = load_artifact(out)
    assert isinstance(art, AcceleratedModel) and not isinstance(art, AcceleratedGenerator)
    assert art.infer(**_images(SIZES[1])).shape == (3, 3, *SIZES[1])
    quality = art.metadata["checks"]["quality"]
    assert quality["fid"] is None and "not a generator" in quality["note"] and 0 < quality["max_abs_error"] < 0.5
    rows = bench(ckpt, [out], batches=[1, 2], rounds=1, target_s=0.01, quality_n=8, memory=False, log=lambda s: None)
    assert [(r["variant"], r["batch"]) for r in rows] == [("eager-fp32", 1), ("eager-fp32", 2), ("prune:0.5,int8", 1), ("prune:0.5,int8", 2)]
    assert all(r["images_per_s"] > 0 and r["flops_per_image"] > 0 and r["fid"] is None for r in rows)
    assert rows[2]["max_abs_error"] > 0 and rows[2]["params"] < rows[0]["params"]
