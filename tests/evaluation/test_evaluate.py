"""evaluate(): checkpoints, folders and ONNX generators against a reference, with provenance and cache.

Most tests use the bundled 8x8 ``digits`` as the reference (no download, 360 test images) with
``lenet-mnist`` named explicitly, and a tiny randomly initialised DCGAN: the numbers are
meaningless, but every path of the pipeline runs in about a second.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import turbopix
from turbopix.data import load_dataset
from turbopix.evaluation.evaluate import ALL_METRICS, EvaluationError, evaluate, format_results
from turbopix.evaluation import refcache
from turbopix.sampling import save_image, to_uint8

# Small samples keep these tests fast; FID rightly warns that they are fewer than its 128 dimensions.
pytestmark = pytest.mark.filterwarnings("ignore:FID with .* samples:UserWarning")

FAST = dict(ref="digits:test", extractor="lenet-mnist", progress=False)


def test_checkpoint_all_metrics_with_provenance(tiny_models):
    r = evaluate(tiny_models["cond"], metrics=ALL_METRICS, n=120, seed=3, **FAST)
    assert list(r["metrics"]) == list(ALL_METRICS)
    for name, entry in r["metrics"].items():
        p = entry["provenance"]
        assert p["extractor"] == "lenet-mnist" and len(p["extractor_sha256"]) == 64
        assert p["n_generated"] == 120 and p["reference"] == "digits:test" and p["seed"] == 3
        assert p["n_reference"] == 120
    m = r["metrics"]
    assert m["fid"]["value"] >= 0 and len(m["kid"]) == 3 and 0 <= m["prdc"]["precision"] <= 1
    assert 0 <= m["c2st"]["accuracy"] <= 1 and 1 <= m["is"]["value"] <= 10 and m["classes"]["num_classes"] == 10
    assert m["cas"]["n_train"] == 120 and len(m["cas"]["per_class_accuracy"]) == 10
    assert r["source"] == r["source"] | {"kind": "checkpoint", "model": "dcgan", "conditional": True, "labels": "balanced", "n": 120}
    assert r["reference"] | {"n": 120, "size": 360, "subset": "random(seed=0)", "cache": "miss"} == r["reference"]
    json.dumps(r, allow_nan=False)  # plain JSON all the way down
    table = format_results(r)
    assert "lenet-mnist" in table and "digits:test (120)" in table and "FID" in table


def test_same_seed_same_numbers_and_seed_matters(tiny_models):
    a = evaluate(tiny_models["uncond"], metrics="fid,kid", n=80, seed=0, **FAST)
    b = evaluate(tiny_models["uncond"], metrics="fid,kid", n=80, seed=0, **FAST)
    c = evaluate(tiny_models["uncond"], metrics="fid,kid", n=80, seed=1, **FAST)
    assert a["metrics"]["fid"]["value"] == b["metrics"]["fid"]["value"]
    assert a["metrics"]["kid"]["value"] == b["metrics"]["kid"]["value"]
    assert a["metrics"]["fid"]["value"] != c["metrics"]["fid"]["value"]


def test_fid_does_not_depend_on_batch_size(tiny_models):
    small = evaluate(tiny_models["cond"], metrics="fid", n=300, batch_size=50, **FAST)["metrics"]["fid"]["value"]
    large = evaluate(tiny_models["cond"], metrics="fid", n=300, batch_size=500, **FAST)["metrics"]["fid"]["value"]
    assert small == pytest.approx(large, rel=1e-6, abs=1e-6)


def test_reference_cache_hit_and_miss(tiny_models, private_cache, monkeypatch):
    def run(**kw):
        return evaluate(tiny_models["uncond"], metrics="fid", **{**FAST, "n": 60, **kw})

    first = run()
    assert first["reference"]["cache"] == "miss"
    again = run()
    assert again["reference"]["cache"] == "hit" and again["metrics"] == first["metrics"]
    assert run(n=70)["reference"]["cache"] == "miss"  # sample count is part of the key
    assert run(ref="digits:train")["reference"]["cache"] == "miss"  # split
    assert run(extractor="lenet-fashion")["reference"]["cache"] == "miss"  # extractor name and weights
    assert len(list(private_cache.glob("*.json"))) == 4

    # same name, different weights: the sha256 is part of the key
    from turbopix.features import extractor as features

    real_loader = features.load_weights_file

    def other_weights(*args, **kwargs):
        ext = real_loader(*args, **kwargs)
        ext.sha256 = "0" * 64
        return ext

    with monkeypatch.context() as patch:  # undoes only this patch, not the private cache
        patch.setattr(features, "load_weights_file", other_weights)
        assert run()["reference"]["cache"] == "miss"
    assert len(list(private_cache.glob("*.json"))) == 5

    assert run(cache=False)["reference"]["cache"] == "off"
    # a damaged tensor file is detected by its sha256 and recomputed, never trusted
    tensors = Path(first["reference"]["cache_file"])
    tensors.write_bytes(tensors.read_bytes()[:-8] + b"garbage!")
    redo = run()
    assert redo["reference"]["cache"] == "miss" and redo["metrics"] == first["metrics"]


def test_cache_key_has_every_part():
    key = refcache.cache_key(dataset="mnist", split="test", extractor="lenet-mnist", extractor_sha256="ab", n=10, subset="all")
    assert set(key) == {"version", "dataset", "split", "extractor", "extractor_sha256", "n", "subset"}


def write_pngs(folder: Path, images: torch.Tensor, labels: list[str] | None = None) -> None:
    for i, img in enumerate(to_uint8(images)):
        sub = folder / labels[i] if labels else folder
        save_image(img, sub / f"{i:04d}.png")


def test_folder_of_pngs(tmp_path):
    digits = load_dataset("digits", split="train")
    b = digits.batch(torch.arange(90))
    x, y = b["image"], b["label"]
    write_pngs(tmp_path / "flat", x)
    r = evaluate(tmp_path / "flat", metrics="fid,prdc,diversity", n=50, **FAST)
    assert r["source"]["kind"] == "folder" and r["source"]["images_in_folder"] == 90 and r["source"]["subset"] == "random(seed=0)"
    assert r["metrics"]["fid"]["provenance"]["n_generated"] == 50
    # real digits against real digits: far better than the random generator's numbers
    assert r["metrics"]["prdc"]["precision"] > 0.5

    write_pngs(tmp_path / "classes", x, [str(int(c)) for c in y])  # class subfolders 0..9 give labels
    r = evaluate(f"folder:{tmp_path / 'classes'}", metrics="cas", n=200, **FAST)
    assert r["source"]["labels"] == "class subfolders" and r["metrics"]["cas"]["n_train"] == 90


def test_onnx_generator_matches_the_checkpoint(tiny_models, tmp_path):
    pytest.importorskip("onnx", reason="exporting to ONNX needs the onnx package (pip install onnx)")
    pytest.importorskip("onnxruntime", reason="running ONNX generators needs onnxruntime (pip install onnxruntime)")
    model = turbopix.load(tiny_models["cond"])

    class Generator(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, z, labels):
            return self.model.generate(z, labels)

    path = tmp_path / "gen.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice; see test_features
        torch.onnx.export(
            Generator().eval(), (torch.zeros(2, model.latent_dim), torch.zeros(2, dtype=torch.long)), str(path), dynamo=False,
            input_names=["z", "labels"], output_names=["images"], dynamic_axes={"z": {0: "b"}, "labels": {0: "b"}, "images": {0: "b"}},
        )
    # same seed -> same latents and balanced labels as the checkpoint: the same numbers up to float rounding
    via_onnx = evaluate(path, metrics="fid,cas", n=100, **FAST)
    via_ckpt = evaluate(tiny_models["cond"], metrics="fid,cas", n=100, **FAST)
    assert via_onnx["source"] | {"kind": "onnx", "latent_dim": model.latent_dim, "conditional": True} == via_onnx["source"]
    assert via_onnx["metrics"]["fid"]["value"] == pytest.approx(via_ckpt["metrics"]["fid"]["value"], rel=1e-4)
    assert via_onnx["metrics"]["cas"]["accuracy"] == pytest.approx(via_ckpt["metrics"]["cas"]["accuracy"], abs=0.02)


def test_model_object_and_real_data_sources(tiny_models):
    r = evaluate(turbopix.load(tiny_models["uncond"]), metrics="fid", n=40, **FAST)
    assert r["source"]["kind"] == "model"
    floor = evaluate("data:digits:train", metrics="fid,c2st", n=300, **FAST)
    noise = evaluate(tiny_models["uncond"], metrics="fid,c2st", n=300, **FAST)
    assert floor["metrics"]["fid"]["value"] < noise["metrics"]["fid"]["value"]
    assert floor["metrics"]["c2st"]["accuracy"] < 0.7 < noise["metrics"]["c2st"]["accuracy"]


@pytest.mark.data
def test_default_extractor_comes_from_the_reference(tiny_models, shared_data):
    r = evaluate(tiny_models["uncond"], ref="mnist:test", metrics="fid", n=100, data_root=shared_data, progress=False)
    assert r["extractor"]["name"] == "lenet-mnist" and r["reference"]["subset"] == "random(seed=0)"
    r = evaluate(tiny_models["uncond"], ref="fashion-mnist", metrics="fid", n=100, data_root=shared_data, progress=False)
    assert r["extractor"]["name"] == "lenet-fashion" and r["reference"]["spec"] == "fashion-mnist:test"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metrics": "fid,nope"}, "unknown metric"),
        ({"metrics": ""}, "no metrics"),
        ({"n": 1}, "n must be >= 2"),
        ({"ref": "digits:valid"}, "unknown split"),
        ({"ref": "nosuchdata"}, "unknown dataset"),
        ({"extractor": None}, "no default feature extractor"),
        ({"extractor": "nosuch"}, "unknown feature extractor"),
        ({"metrics": "cas"}, "class-conditional"),
    ],
)
def test_user_errors_are_value_errors_with_clear_messages(tiny_models, kwargs, message):
    with pytest.raises(ValueError, match=message):
        evaluate(tiny_models["uncond"], **{**FAST, "n": 20, **kwargs})


def test_missing_source(tmp_path):
    with pytest.raises(ValueError, match="source not found"):
        evaluate(tmp_path / "nothing.safetensors", **FAST)


def test_features_only_extractor_refuses_class_metrics(tiny_models, monkeypatch):
    from turbopix.core.registry import FEATURES, Entry

    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 8))
    monkeypatch.setitem(FEATURES._entries, "flat-test", Entry("flat-test", lambda: net, {"channels": 1, "input_size": 28}))
    with pytest.raises(EvaluationError, match="needs class logits"):
        evaluate(tiny_models["uncond"], **{**FAST, "extractor": "flat-test", "metrics": "fid,is"})
    r = evaluate(tiny_models["uncond"], **{**FAST, "extractor": "flat-test", "metrics": "fid,kid", "n": 30})
    assert r["extractor"]["feature_dim"] == 8 and np.isfinite(r["metrics"]["fid"]["value"])


def test_fid_warns_when_samples_are_fewer_than_dimensions(tiny_models):
    with pytest.warns(UserWarning, match="FID with 60 samples for 128-D"):
        evaluate(tiny_models["uncond"], metrics="fid", n=60, **FAST)
