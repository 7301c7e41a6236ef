"""CLI smoke tests: every command end to end on the bundled digits, in a temporary directory."""
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from turbopix.cli.main import main

TINY = ["--steps", "6", "--batch-size", "16", "--log-every", "3", "--progress", "false", "--threads", "1"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A tiny trained conditional GAN and VAE, shared by the tests below."""
    root = tmp_path_factory.mktemp("runs")
    assert main(["train", "--model", "dcgan", "--data", "digits", "--out", str(root / "gan"), "--conditional", "--g-width", "8", "--d-width", "8", *TINY]) == 0
    assert main(["train", "--model", "conv-vae", "--data", "digits", "--out", str(root / "vae"), "--width", "8", *TINY]) == 0
    return root


def test_train_writes_a_run(runs):
    for name in ("gan", "vae"):
        run = runs / name
        for f in ("run.json", "log.jsonl", "model.safetensors", "loss_curve.png", "samples/final.png"):
            assert (run / f).exists(), f
    assert json.loads((runs / "gan" / "run.json").read_text())["config"]["num_classes"] == 10


def test_sample_formats(runs, tmp_path):
    ckpt = str(runs / "gan" / "model.safetensors")
    assert main(["sample", ckpt, "-n", "12", "--out", str(tmp_path / "g.png"), "--label", "3"]) == 0
    assert Image.open(tmp_path / "g.png").size[0] > 8 * 3
    assert main(["sample", ckpt, "-n", "5", "--format", "png-dir", "--out", str(tmp_path / "dir")]) == 0
    assert len(list((tmp_path / "dir").glob("*.png"))) == 5
    assert main(["sample", ckpt, "-n", "7", "--format", "npz", "--out", str(tmp_path / "s.npz"), "--label", "1,2", "--seed", "3"]) == 0
    arrays = np.load(tmp_path / "s.npz")
    assert arrays["images"].shape == (7, 8, 8, 1) and arrays["images"].dtype == np.uint8
    assert list(arrays["labels"][:3]) == [1, 2, 1]
    # same seed -> same images
    assert main(["sample", ckpt, "-n", "7", "--format", "npz", "--out", str(tmp_path / "t.npz"), "--label", "1,2", "--seed", "3"]) == 0
    assert np.array_equal(np.load(tmp_path / "t.npz")["images"], arrays["images"])


def test_sample_refuses_to_overwrite(runs, tmp_path, capsys):
    out = tmp_path / "g.png"
    out.write_bytes(b"keep me")
    assert main(["sample", str(runs / "vae" / "model.safetensors"), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err and out.read_bytes() == b"keep me"


def test_reconstruct_and_interpolate(runs, tmp_path):
    vae = str(runs / "vae" / "model.safetensors")
    assert main(["reconstruct", vae, "--data", "digits", "-n", "16", "--out", str(tmp_path / "r.png")]) == 0
    assert main(["interpolate", vae, "--rows", "3", "--steps", "5", "--out", str(tmp_path / "i.png")]) == 0
    assert main(["interpolate", str(runs / "gan" / "model.safetensors"), "--rows", "2", "--out", str(tmp_path / "j.png")]) == 0
    assert main(["reconstruct", str(runs / "gan" / "model.safetensors"), "--data", "digits", "--out", str(tmp_path / "x.png")]) == 2


def test_resume_from_the_cli(runs):
    assert main(["train", "--resume", "--out", str(runs / "vae"), "--steps", "9", "--progress", "false"]) == 0
    rows = [json.loads(line) for line in (runs / "vae" / "log.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 9


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--model", "dcgen", "--data", "digits"], "Did you mean 'dcgan'"),
        (["train", "--model", "dcgan"], "needs --model and --data"),
        (["train", "--model", "dcgan", "--data", "nosuchdata"], "unknown dataset"),
        (["train", "--model", "dcgan", "--data", "folder:/nonexistent/dir"], "nonexistent"),
        (["sample", "/nonexistent.safetensors"], "not found"),
        (["train", "--model", "vae", "--data", "digits", "--loss", "hinge"], None),  # vae has no --loss: argparse error
    ],
)
def test_bad_input_is_a_clear_error(argv, message, capsys):
    try:
        code = main(argv)
    except SystemExit as e:  # argparse exits 2 on unknown flags
        code = e.code
    assert code == 2
    if message:
        assert message in capsys.readouterr().err


def test_list_and_help_and_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "turbopix", "list"], capture_output=True, text=True, check=True).stdout
    for name in ("dcgan", "mlp-gan", "vae", "conv-vae", "ae", "mnist", "fashion-mnist", "cifar10", "digits", "folder:PATH"):
        assert name in out
    helptext = subprocess.run([sys.executable, "-m", "turbopix", "train", "--model", "dcgan", "--help"], capture_output=True, text=True, check=True).stdout
    assert "--spectral-norm" in helptext and "--ema-decay" in helptext and "generator channels" in helptext


def test_info_prints_metadata(runs, capsys):
    assert main(["info", str(runs / "gan" / "model.safetensors")]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["model"] == "dcgan" and meta["step"] == 6 and meta["data"] == "digits"


def test_boolean_flags_take_a_switch_a_negation_or_a_value(runs):
    assert main(["train", "--resume", "--out", str(runs / "vae"), "--steps", "10", "--no-progress"]) == 0
    rows = [json.loads(line) for line in (runs / "vae" / "log.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 10


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--model", "vae", "--data", "digits", "--steps", "0"], "--steps must be >= 1; got 0"),
        (["train", "--model", "vae", "--data", "digits", "--ema-decay", "1"], "--ema-decay must be >= 0 and < 1"),
        (["train", "--model", "vae", "--data", "digits", "--nproc", "0"], "--nproc must be >= 1; got 0"),
        (["train", "--model", "vae", "--data", "digits", "--nproc", "2", "--nnodes", "2", "--node-rank", "2"],
         "--node-rank must be in 0..1 (--nnodes 2)"),
        (["train", "--model", "vae", "--data", "digits", "--master-addr", "10.0.0.1"], "launcher option(s) --master-addr have no effect"),
        (["train", "--resume", "--out", "/nonexistent/run"], "--resume: /nonexistent/run/run.json not found"),
        (["sample", "x.safetensors", "-n", "0"], "--n must be >= 1"),
    ],
)
def test_library_errors_are_printed_as_flags_without_a_traceback(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("turbopix: error: ") and message in err and "Traceback" not in err


def test_conditional_training_needs_labelled_data(tmp_path, capsys):
    from PIL import Image

    for i in range(4):  # a folder without class subfolders: unlabelled images
        Image.new("L", (8, 8), i * 60).save(tmp_path / f"{i}.png")
    argv = ["train", "--model", "vae", "--data", f"folder:{tmp_path}", "--conditional", "--out", str(tmp_path / "run")]
    assert main([*argv, *TINY]) == 2
    assert "--conditional needs labelled data" in capsys.readouterr().err


def test_debug_shows_the_traceback():
    from turbopix.core.config import OptionValueError

    bad = ["--model", "vae", "--data", "digits", "--steps", "0"]
    for argv in (["--debug", "train", *bad], ["train", *bad, "--debug"]):  # before or after the command
        with pytest.raises(OptionValueError, match="steps must be >= 1"):
            main(argv)


def test_interpolation_and_reconstruction_grids_have_their_layout(runs, tmp_path):
    vae = str(runs / "vae" / "model.safetensors")
    assert main(["interpolate", vae, "--rows", "3", "--steps", "5", "--out", str(tmp_path / "i.png")]) == 0
    assert Image.open(tmp_path / "i.png").size == (5 * 10 + 2, 3 * 10 + 2)  # 8x8 images, 2-pixel gaps
    assert main(["reconstruct", vae, "--data", "digits", "-n", "16", "--out", str(tmp_path / "r.png")]) == 0
    assert Image.open(tmp_path / "r.png").size == (8 * 10 + 2, 4 * 10 + 2)  # two pairs of rows of 8
    assert main(["reconstruct", vae, "--data", "digits", "-n", "5", "--out", str(tmp_path / "s.png")]) == 0
    assert Image.open(tmp_path / "s.png").size == (5 * 10 + 2, 2 * 10 + 2)
