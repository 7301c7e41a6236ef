"""User errors through the real entry point (``turbopix.cli.main.main``): one line on stderr, exit
status 2, no traceback, and nothing half-written. One test per class of hostile input."""
from __future__ import annotations

import json

import pytest

from turbopix.cli.main import main

TINY = ["--steps", "4", "--batch-size", "16", "--progress", "false", "--threads", "1"]
GAN = ["--model", "dcgan", "--data", "digits", "--g-width", "8", "--d-width", "8"]


def fails(argv, capsys, *expected):
    """Run the CLI; it must exit 2 with one line naming each of ``expected`` and no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("turbopix: error:") == 1, err
    for text in expected:
        assert text in err, (text, err)
    return err


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "gan"
    assert main(["train", *GAN, "--out", str(out), "--ckpt-every", "2", *TINY]) == 0
    return out


def test_outputs_of_the_wrong_kind_or_place(run, tmp_path, capsys):
    model = str(run / "model.safetensors")
    (tmp_path / "dir.png").mkdir()
    fails(["sample", model, "--out", str(tmp_path / "dir.png"), "--overwrite"], capsys, "is a folder")
    (tmp_path / "file").write_text("x")
    fails(["sample", model, "--out", str(tmp_path / "file" / "s.png")], capsys, "is not a folder")
    fails(["sample", model, "--out", str(tmp_path / "file"), "--format", "png-dir", "--overwrite"], capsys, "not a folder")
    fails(["sample", model, "--out", str(tmp_path / "s.pdf")], capsys, "--out takes .png")
    fails(["train", *GAN, "--out", str(tmp_path / "file" / "run"), *TINY], capsys, "file")
    fails(["eval", model, "--json", str(tmp_path / "dir.png")], capsys, "--json needs a file name")
    fails(["eval", model, "--json", str(tmp_path / "file" / "r.json")], capsys, "is not a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.png", "file"]  # nothing written


def test_a_read_only_location_is_refused_before_the_work(run, tmp_path, capsys, monkeypatch):
    # the tests may run as root, for whom chmod does not make a folder read-only: ask os.access
    import os

    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p) == str(tmp_path) else real(p, mode, **kw))
    fails(["sample", str(run / "model.safetensors"), "--out", str(tmp_path / "s.png")], capsys, "read-only")
    fails(["accelerate", str(run / "model.safetensors"), "--recipe", "eager", "--out", str(tmp_path / "a")], capsys, "read-only")


def test_resume_refuses_what_breaks_provenance_and_allows_more_steps(run, capsys):
    fails(["train", "--resume", "--out", str(run), *TINY, "--batch-size", "8"], capsys, "--batch-size was 16", "--steps")
    fails(["train", "--resume", "--out", str(run), *TINY, "--seed", "1"], capsys, "--seed was 0")
    fails(["train", "--resume", "--out", str(run), *TINY, "--g-width", "16"], capsys, "--g-width was 8")
    fails(["train", "--resume", "--out", str(run), *TINY, "--data", "mnist"], capsys, "--data digits")
    assert main(["train", "--resume", "--out", str(run), *TINY, "--steps", "6", "--log-every", "3"]) == 0
    assert json.loads((run / "run.json").read_text())["train"]["steps"] == 6  # the record follows


def test_a_tampered_training_checkpoint_is_named(run, tmp_path, capsys):
    import shutil

    from safetensors.torch import save_file

    from turbopix.core.checkpoint import read_checkpoint

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    latest = sorted((copy / "checkpoints").glob("*.safetensors"))[-1]
    tensors, meta = read_checkpoint(latest)
    del tensors[next(k for k in tensors if not k.startswith(("ema.", "optim.")))]
    save_file(tensors, str(latest), metadata={"turbopix": json.dumps(meta)})
    fails(["train", "--resume", "--out", str(copy), *TINY, "--steps", "20"], capsys, latest.name, "damaged")
    save_file({**tensors}, str(latest), metadata={"turbopix": json.dumps({**meta, "optimizers": "x"})})
    fails(["train", "--resume", "--out", str(copy), *TINY, "--steps", "20"], capsys, "no optimizer state")
    (copy / "run.json").write_text("[1, 2")
    fails(["train", "--resume", "--out", str(copy), *TINY], capsys, "run.json: damaged run record")


def test_a_run_that_died_before_its_first_checkpoint_can_start_over(run, tmp_path, capsys):
    dead = tmp_path / "dead"
    dead.mkdir()
    (dead / "run.json").write_text((run / "run.json").read_text())  # what a run writes before step 1
    fails(["train", *GAN, "--out", str(dead), *TINY], capsys, "stopped before its first checkpoint", "--resume")
    assert main(["train", "--resume", "--out", str(dead), *TINY]) == 0
    assert "starting it over from step 0" in capsys.readouterr().err
    assert (dead / "model.safetensors").exists() and (dead / "checkpoints" / "step_000004.safetensors").exists()


def test_orphan_checkpoint_temporaries_are_removed_on_resume(run, tmp_path):
    import os
    import shutil
    import time

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    old = copy / "checkpoints" / ".step_000008.safetensors.k3j_x9a2.tmp"
    young = copy / "checkpoints" / ".step_000008.safetensors.a1b2c3d4.tmp"  # maybe a write in progress
    unrelated = copy / "checkpoints" / ".notes.tmp"
    for path in (old, young, unrelated):
        path.write_bytes(b"\0" * 1000)
    os.utime(old, (time.time() - 120, time.time() - 120))
    os.utime(unrelated, (time.time() - 120, time.time() - 120))
    assert main(["train", "--resume", "--out", str(copy), *TINY, "--steps", "8"]) == 0
    assert not old.exists() and young.exists() and unrelated.exists()


def _onnx(path, *, inputs):
    import onnx
    from onnx import TensorProto, helper

    out = helper.make_tensor_value_info("images", TensorProto.FLOAT, [None, 1, 2, 2])
    if inputs == "none":
        const = helper.make_node("Constant", [], ["images"], value=helper.make_tensor("v", TensorProto.FLOAT, [1, 1, 2, 2], [0.0] * 4))
        graph = helper.make_graph([const], "g", [], [out])
    else:
        z = helper.make_tensor_value_info("z", TensorProto.INT64, [None, 4])
        graph = helper.make_graph([helper.make_node("Cast", ["z"], ["c"], to=TensorProto.FLOAT),
                                   helper.make_node("Reshape", ["c", "shape"], ["images"])], "g", [z], [out],
                                  initializer=[helper.make_tensor("shape", TensorProto.INT64, [4], [-1, 1, 2, 2])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


@pytest.mark.parametrize(("inputs", "message"), [("none", "0 input(s)"), ("int", "must be z as float32")])
def test_malformed_onnx_generators_given_to_eval(tmp_path, capsys, inputs, message):
    path = _onnx(tmp_path / "g.onnx", inputs=inputs)
    fails(["eval", str(path), "--ref", "digits:test", "--extractor", "lenet-mnist", "-n", "10", "--no-progress"],
          capsys, "g.onnx", message)


def test_numeric_options_are_named_flags(run, tmp_path, capsys):
    model = str(run / "model.safetensors")
    for argv, text in [
        (["sample", model, "-n", "0"], "--n must be >= 1"),
        (["sample", model, "--chunk", "0"], "--chunk must be >= 1"),
        (["sample", model, "--nrow", "-2"], "--nrow must be >= 1"),
        (["interpolate", model, "--steps", "0"], "--steps must be >= 1"),
        (["interpolate", model, "--rows", "101"], "--rows must be >= 1 and <= 100"),
        (["reconstruct", model, "-n", "-1"], "--n must be >= 1"),
        (["eval", model, "--batch-size", "0"], "--batch-size must be >= 1"),
        (["compare", str(tmp_path), str(tmp_path), "--crop", "-1"], "--crop must be >= 0"),
        (["accelerate", model, "--recipe", "prune:0.5", "--out", str(tmp_path / "a"), "--finetune-steps", "-1"], "--finetune-steps must be >= 0"),
        (["train", *GAN, "--latent-dim", "0", "--out", str(tmp_path / "r")], "--latent-dim must be >= 1"),
    ]:
        fails(argv, capsys, text)
    assert not any(tmp_path.iterdir())
