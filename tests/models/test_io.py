"""Model files: metadata is checked (types, and shapes against the tensors) before anything large is
allocated, and pruned models reload with their channel plan."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import turbopix
from turbopix.core.checkpoint import FORMAT, CheckpointError
from turbopix.models import create_model, io, load_model_file, save


def _rewrite_meta(src, dst, edit):
    with safe_open(str(src), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = json.loads(f.metadata()[FORMAT])
    save_file(tensors, str(dst), metadata={FORMAT: json.dumps(edit(meta))})


@pytest.fixture
def small_file(tmp_path):
    return save(create_model("dcgan", g_width=8, d_width=8), tmp_path / "m.safetensors")


def test_roundtrip(small_file):
    model = load_model_file(small_file)
    assert model.name == "dcgan" and model.config.g_width == 8 and not model.training


def test_a_training_runs_folder_loads_its_final_model(small_file, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.safetensors").write_bytes(small_file.read_bytes())
    model = turbopix.load(run)
    assert model.name == "dcgan" and model.config.g_width == 8
    (tmp_path / "empty").mkdir()
    with pytest.raises(Exception, match="not an accelerated artifact"):  # neither a run nor an artifact
        turbopix.load(tmp_path / "empty")


def test_config_asking_for_a_huge_model_fails_before_allocating(small_file, tmp_path, monkeypatch):
    bad = tmp_path / "huge.safetensors"
    _rewrite_meta(small_file, bad, lambda m: {**m, "config": {**m["config"], "image_size": 512, "g_width": 512}})
    built_on = []
    real = io.create_model
    monkeypatch.setattr(io, "create_model", lambda *a, **k: built_on.append(str(torch.empty(0).device)) or real(*a, **k))
    with pytest.raises(CheckpointError, match="do not match the model 'dcgan'.*config says"):
        load_model_file(bad)
    assert built_on == ["meta"]  # only the shape-only shell was built: no 1.7 GB of weights


@pytest.mark.parametrize("edit, message", [
    (lambda m: [1, 2], "metadata must be a JSON object"),
    (lambda m: {**m, "model": None}, "'model' must be a model name"),
    (lambda m: {**m, "config": "big"}, "'config' must be a JSON object"),
    (lambda m: {**m, "pruning": "half"}, "'pruning' must be"),
    (lambda m: {**m, "pruning": {"channels": {"generator.decoder.net.0": -3}}}, "'pruning' must be"),
    (lambda m: {**m, "model": "no-such-model"}, "cannot rebuild the model"),
    (lambda m: {**m, "config": {**m["config"], "bogus": 1}}, "cannot rebuild the model"),
])
def test_malformed_metadata_is_a_clear_error(small_file, tmp_path, edit, message):
    bad = tmp_path / "bad.safetensors"
    _rewrite_meta(small_file, bad, edit)
    with pytest.raises(CheckpointError, match=message):
        turbopix.load(bad)


def test_pruned_model_reloads_with_its_plan(tmp_path):
    from turbopix.accel.prune import prune_channels

    pruned = prune_channels(create_model("dcgan", g_width=16, d_width=8), 0.5)
    path = save(pruned, tmp_path / "p.safetensors")  # the plan is recorded without being passed
    again = load_model_file(path)
    assert again.pruning["channels"] == pruned.pruning["channels"]
    z = pruned.example_inputs(3)["z"]
    assert torch.allclose(again.generate(z), pruned.generate(z), atol=1e-6)
