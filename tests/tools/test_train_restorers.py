"""tools/train_restorers.py: a stage-2 recipe starts from stage 1's model and records which file."""
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import turbopix

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("train_restorers", ROOT / "tools" / "train_restorers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(20):
        Image.fromarray(rng.integers(0, 256, (6, 6), dtype=np.uint8)).resize((36, 36), Image.BILINEAR).save(root / f"{i}.png")
    return root


def test_every_stage_2_recipe_names_an_existing_recipe(script):
    for name, recipe in script.RECIPES.items():
        assert recipe.init_from is None or recipe.init_from in script.RECIPES, name
        assert recipe.schedule in ("constant", "cosine") and recipe.precision in ("fp32", "bf16"), name


def test_stage_2_starts_from_stage_1_and_records_the_file(script, folder, tmp_path, monkeypatch):
    monkeypatch.setattr(script, "WEIGHTS", tmp_path / "weights")  # never the package's shipped files
    (tmp_path / "weights").mkdir()
    data = f"patches:{folder}?patch_size=12&degrade=noise:25&colour=grey&val_split=0.2"
    small = {"depth": 3, "width": 4}
    one = script.Recipe("dncnn", data, 6, 4, small, validate_every=3)
    two = script.Recipe("dncnn", data, 4, 4, small, lr=1e-12, schedule="cosine", init_from="one", ship_as="one")
    script.train_recipe("one", tmp_path / "runs", steps=None, threads=1, seed=0, ship=False, recipe=one)
    record = script.train_recipe("two", tmp_path / "runs", steps=None, threads=1, seed=0, ship=True, recipe=two)
    start = tmp_path / "runs" / "one" / "best.safetensors"
    assert record["init_from"]["path"] == str(start) and len(record["init_from"]["sha256"]) == 64
    assert record["shipped_as"] == "one" and (tmp_path / "weights" / "one.safetensors").is_file()
    # a vanishing rate: stage 2's weights are stage 1's (batch-norm statistics still move, so weights only)
    a = dict(turbopix.load(start).named_parameters())
    b = dict(turbopix.load(tmp_path / "weights" / "one.safetensors").named_parameters())
    assert all(torch.allclose(a[k], b[k], atol=1e-9) for k in a)
    assert json.loads((tmp_path / "runs" / "two" / "run.json").read_text())["train"]["lr_schedule"] == "cosine"


def test_stage_2_without_stage_1_is_a_clear_error(script, tmp_path, monkeypatch):
    monkeypatch.setattr(script, "WEIGHTS", tmp_path / "weights")
    with pytest.raises(SystemExit, match="'one' has no run .* and no shipped weights: train it first"):
        script._start_from("one", tmp_path / "runs")
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "one.safetensors").write_bytes(b"x")
    assert script._start_from("one", tmp_path / "runs") == tmp_path / "weights" / "one.safetensors"


def test_sr_recipes_cut_patches_the_scale_divides_and_t91_holds(script):
    for scale, patch in script.SR_PATCH.items():
        assert patch % scale == 0 and patch <= 76, scale  # t20.bmp, T91's smallest, has 76 usable pixels at x4
        assert f"patch_size={patch}&degrade=bicubic:{scale}" in script.RECIPES[f"sr-fast-x{scale}"].data


def test_ship_only_writes_the_best_model_in_half_precision(script, folder, tmp_path, monkeypatch):
    """ship_dtype float16 halves the shipped file; it loads into a float32 model whose outputs match
    the run's own float32 model to half-precision rounding, and recipe.json names both files."""
    from turbopix.core.checkpoint import read_checkpoint
    from turbopix.core.hashing import sha256_file

    monkeypatch.setattr(script, "WEIGHTS", tmp_path / "weights")
    (tmp_path / "weights").mkdir()
    data = f"patches:{folder}?patch_size=12&degrade=bicubic:2&colour=grey&val_split=0.2"
    recipe = script.Recipe("sr-accurate", data, 4, 4, {"scale": 2, "width": 8, "blocks": 1}, validate_every=2,
                           ship_dtype="float16")
    script.train_recipe("sr", tmp_path / "runs", steps=None, threads=1, seed=0, ship=False, recipe=recipe)
    record = script.ship_run("sr", tmp_path / "runs", recipe)
    best, shipped = tmp_path / "runs" / "sr" / "best.safetensors", tmp_path / "weights" / "sr.safetensors"
    tensors, meta = read_checkpoint(shipped)
    assert all(v.dtype == torch.float16 for v in tensors.values() if v.is_floating_point())
    assert meta["stored_dtype"] == "float16" and meta["stored_from_sha256"] == sha256_file(best)
    assert record["shipped_dtype"] == "float16" and record["shipped_sha256"] == sha256_file(shipped)
    assert json.loads((tmp_path / "runs" / "sr" / "recipe.json").read_text())["shipped"] == "best.safetensors"
    x = torch.rand(1, 1, 10, 12) * 2 - 1
    full, half = turbopix.load(best), turbopix.load(shipped)
    assert next(half.parameters()).dtype == torch.float32
    assert torch.allclose(full.infer(image=x), half.infer(image=x), atol=2e-3)
