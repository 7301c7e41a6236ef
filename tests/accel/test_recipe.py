from __future__ import annotations

import json

import pytest
import torch

from turbopix import load as load_any  # the one loader opens artifact folders too
from turbopix.accel.artifact import AcceleratedGenerator, load_artifact
from turbopix.accel.recipe import RecipeError, accelerate, parse_recipe

QUICK = dict(finetune_steps=5, distill_steps=5, calib_size=64, quality_n=64, ref=None, log=lambda s: None)


@pytest.mark.parametrize("text", ["prune:0.5,int8", "distill:0.25", "channels_last,bf16,compile", "ort", "openvino:bf16", "eager", "int8,nolower"])
def test_valid_recipes_parse(text):
    assert parse_recipe(text)


@pytest.mark.parametrize("text,message", [
    ("", "empty"), ("int8,prune:0.5", "before runtime"), ("int8,onnxruntime", "pick one runtime"),
    ("int8,bf16", "pick one runtime"), ("prune:2", "fraction"), ("squash", "unknown step 'squash'"), ("int8:4", "no argument"),
    ("channels_last,nolower", "only applies"), ("int8,nolower:1", "no argument"),
])
def test_bad_recipes_say_what_is_wrong(text, message):
    with pytest.raises(RecipeError, match=message):
        parse_recipe(text)


def test_eager_artifact_round_trips(dcgan_ckpt, tmp_path):
    out = accelerate(dcgan_ckpt, "eager", tmp_path / "a", **QUICK)
    art = load_any(out)
    assert isinstance(art, AcceleratedGenerator)
    meta = json.loads((out / "artifact.json").read_text())
    assert meta["recipe"] == "eager" and meta["source"]["sha256"] and meta["runtime"]["kind"] == "torch"
    assert meta["checks"]["quality"]["max_abs_error"] == 0.0
    source = load_any(dcgan_ckpt)
    torch.testing.assert_close(art.sample(5, seed=1), source.sample(5, seed=1))


def test_prune_int8_artifact(dcgan_ckpt, tmp_path):
    pytest.importorskip("openvino")
    pytest.importorskip("nncf")
    out = accelerate(dcgan_ckpt, "prune:0.5,int8", tmp_path / "fast", **QUICK)
    meta = json.loads((out / "artifact.json").read_text())
    checks = meta["checks"]
    assert checks["flops_per_image"] < checks["flops_per_image_source"] and checks["params"] < checks["params_source"]
    assert checks["int8_weight_layers"] == {"int8": 3, "total": 3}
    # exported lowered (lower.py): the first layer runs as a matrix product, the 1-channel output
    # layer as a convolution, the middle one stays a deconvolution, all three in int8
    assert checks["lowering"]["point_to_grid"] and checks["lowering"]["subpixel"]
    precisions = checks["openvino_layer_precisions"]
    for kind in ("FullyConnected", "Deconvolution", "Convolution"):
        ran = {p for k, counts in precisions.items() if k.startswith(kind) for p in counts}
        assert ran and ran <= {"i8", "u8"}, (kind, precisions)
    assert meta["steps"][0]["flop_cut"] > 0.5
    art = load_artifact(out)
    images = art.sample(8, seed=0)
    assert images.shape == (8, 1, 28, 28) and images.abs().max() <= 1.0
    assert art.model.generator.decoder.net[0].weight.shape[1] == 64  # the pruned torch model came back too


def test_nolower_keeps_the_plain_export(dcgan_ckpt, tmp_path):
    pytest.importorskip("openvino")
    pytest.importorskip("nncf")
    meta = json.loads((accelerate(dcgan_ckpt, "int8,nolower", tmp_path / "plain", **QUICK) / "artifact.json").read_text())
    assert "lowering" not in meta["checks"] and meta["recipe"] == "int8,nolower"
    assert set(meta["checks"]["openvino_layer_precisions"]["Deconvolution"]) <= {"i8", "u8"}
    assert sum(meta["checks"]["openvino_layer_precisions"]["Deconvolution"].values()) == 3


def test_existing_output_is_not_overwritten(dcgan_ckpt, tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(FileExistsError):
        accelerate(dcgan_ckpt, "eager", tmp_path / "a", **QUICK)


def test_onnxruntime_artifact_of_conditional_model(tmp_path, make):
    pytest.importorskip("onnxruntime")
    import turbopix

    ckpt = turbopix.save(make("dcgan", num_classes=10), tmp_path / "c.safetensors")
    art = load_artifact(accelerate(ckpt, "onnxruntime", tmp_path / "ort", **QUICK))
    labels = torch.tensor([3, 1, 4])
    expected = load_any(ckpt).sample(3, labels=labels, seed=2)
    torch.testing.assert_close(art.sample(3, labels=labels, seed=2), expected, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="labels"):
        art.generate(torch.zeros(1, art.latent_dim))


def test_distilled_student_artifact_reloads_with_its_own_config(dcgan_ckpt, tmp_path):
    pytest.importorskip("onnxruntime")
    out = accelerate(dcgan_ckpt, "distill:0.5,onnxruntime", tmp_path / "student", **QUICK)
    meta = json.loads((out / "artifact.json").read_text())
    assert meta["checks"]["params"] < meta["checks"]["params_source"]
    art = load_artifact(out)
    assert art.config.g_width == 32  # half the source's 64
    assert art.sample(3, seed=0).shape == (3, 1, 28, 28)


def test_int8_settings_default_to_the_model_familys_measured_choice():
    from turbopix.accel.config import AccelerateConfig
    from turbopix.accel.recipe import int8_choice
    from turbopix.models.catalog import create_model

    dncnn, dcgan = create_model("dncnn", depth=3, width=4), create_model("dcgan")
    assert int8_choice(dncnn, AccelerateConfig()) == (("last",), "full")  # won on training photos
    assert int8_choice(dcgan, AccelerateConfig()) == ((), "fast")  # NNCF's defaults
    for sr in ("sr-fast", "sr-accurate"):
        assert int8_choice(create_model(sr), AccelerateConfig()) == (("first", "last"), "full")
    assert int8_choice(dncnn, AccelerateConfig(keep_fp32=("none",), bias_correction="fast")) == ((), "fast")
    assert int8_choice(dcgan, AccelerateConfig(keep_fp32=("first", "last"))) == (("first", "last"), "fast")
    with pytest.raises(RecipeError, match="stand alone"):
        int8_choice(dncnn, AccelerateConfig(keep_fp32=("none", "last")))


def test_an_int8_artifact_records_the_settings_it_used(tmp_path):
    pytest.importorskip("nncf")
    from turbopix.models.catalog import create_model
    from turbopix.models.io import save

    model = create_model("dncnn", depth=3, width=4).eval()
    save(model, tmp_path / "m.safetensors")
    accelerate(tmp_path / "m.safetensors", "int8", out=tmp_path / "a", calib="none", calib_size=8, quality_n=4, ref="none")
    calib = json.loads((tmp_path / "a" / "artifact.json").read_text())["checks"]["calibration"]
    assert calib["keep_fp32"] == ["last"] and calib["bias_correction"] == "full"
