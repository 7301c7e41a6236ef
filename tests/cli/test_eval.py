"""``turbopix eval`` and ``turbopix compare`` end to end, in temporary folders."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import turbopix
from turbopix.cli.main import main
from turbopix.sampling import save_image

# 60 samples keep these tests fast; FID rightly warns that they are fewer than its 128 dimensions.
pytestmark = pytest.mark.filterwarnings("ignore:FID with .* samples:UserWarning")

EVAL = ["--ref", "digits:test", "--extractor", "lenet-mnist", "-n", "60", "--no-progress"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TURBOPIX_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    model = turbopix.create_model("dcgan", image_size=28, g_width=8, d_width=8)
    return str(turbopix.save(model, tmp_path_factory.mktemp("ckpt") / "g.safetensors"))


def test_eval_prints_a_table_and_writes_json(checkpoint, tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert main(["eval", checkpoint, *EVAL, "--metrics", "fid,kid,prdc,diversity,c2st", "--json", str(out), "--seed", "2"]) == 0
    printed = capsys.readouterr().out
    for text in ("FID", "KID", "precision", "coverage", "C2ST", "lenet-mnist", "digits:test (60)", "extractor"):
        assert text in printed
    result = json.loads(out.read_text())
    assert set(result["metrics"]) == {"fid", "kid", "prdc", "diversity", "c2st"}
    assert result["metrics"]["fid"]["provenance"] | {"n_generated": 60, "n_reference": 60, "seed": 2} == result["metrics"]["fid"]["provenance"]


def test_eval_json_is_not_overwritten_without_flag(checkpoint, tmp_path, capsys):
    out = tmp_path / "eval.json"
    out.write_text("keep me")
    assert main(["eval", checkpoint, *EVAL, "--metrics", "fid", "--json", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err and out.read_text() == "keep me"
    assert main(["eval", checkpoint, *EVAL, "--metrics", "fid", "--json", str(out), "--overwrite"]) == 0
    assert "fid" in json.loads(out.read_text())["metrics"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metrics", "fid,fd"], "unknown metric(s): fd"),
        (["--ref", "digits:dev"], "unknown split"),
        (["--ref", "imagenet"], "unknown dataset"),
        (["--extractor", "inception"], "unknown feature extractor"),
    ],
)
def test_eval_user_errors_exit_2(checkpoint, capsys, args, message):
    assert main(["eval", checkpoint, *EVAL, *args]) == 2
    assert message in capsys.readouterr().err


def test_eval_missing_source(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "none.safetensors"), *EVAL]) == 2
    assert "source not found" in capsys.readouterr().err


def _folders(tmp_path, same: bool = False):
    rng = np.random.default_rng(0)
    a, b = tmp_path / "a", tmp_path / "b"
    for name in ("x", "y"):
        img = rng.integers(0, 256, (24, 24, 1), dtype=np.uint8)
        save_image(img, a / f"{name}.png")
        noisy = img if same else np.clip(img.astype(int) + rng.integers(-8, 9, img.shape), 0, 255).astype(np.uint8)
        save_image(noisy, b / f"{name}.png")
    return a, b


def test_compare_folders_table_and_json(tmp_path, capsys):
    a, b = _folders(tmp_path)
    out = tmp_path / "cmp.json"
    assert main(["compare", str(a), str(b), "--metrics", "psnr,ssim", "--crop", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "psnr" in printed and "mean (2 images)" in printed and "crop=1" in printed
    result = json.loads(out.read_text())
    assert result["count"] == 2 and 20 < result["mean"]["psnr"] < 60


def test_compare_identical_images_writes_strict_json(tmp_path, capsys):
    a, b = _folders(tmp_path, same=True)
    out = tmp_path / "cmp.json"
    assert main(["compare", str(a), str(b), "--metrics", "psnr", "--summary", "--json", str(out)]) == 0
    assert "inf" in capsys.readouterr().out
    assert json.loads(out.read_text())["mean"]["psnr"] == "inf"  # strict JSON has no Infinity


def test_compare_errors_exit_2(tmp_path, capsys):
    a, b = _folders(tmp_path)
    (b / "y.png").unlink()
    assert main(["compare", str(a), str(b), "--metrics", "psnr"]) == 2
    assert "without a partner" in capsys.readouterr().err
    assert main(["compare", str(a), str(a), "--metrics", "psnr,fid"]) == 2
    assert "not a paired metric" in capsys.readouterr().err
    assert main(["compare", str(a), str(a), "--crop", "-1"]) == 2


def test_eval_ms_ssim_diversity_and_help_from_the_registry(checkpoint, capsys):
    assert main(["eval", checkpoint, *EVAL, "--metrics", "ms-ssim-diversity"]) == 0
    assert "MS-SSIM diversity" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    from turbopix.evaluation.specs import metric_keys

    listed = capsys.readouterr().out.replace("\n", "").replace(" ", "")
    assert ",".join(metric_keys()) in listed and "ms-ssim-diversity" in listed and "cas-probe" in listed


def test_eval_source_may_follow_the_options(checkpoint, capsys):
    assert main(["eval", "--metrics", "fid,kid", *EVAL, checkpoint]) == 0
    assert "KID" in capsys.readouterr().out


def test_eval_errors_name_flags(checkpoint, capsys):
    assert main(["eval", checkpoint, *EVAL, "-n", "1"]) == 2
    assert "--n must be >= 2" in capsys.readouterr().err
    assert main(["eval", checkpoint, *EVAL, "--metrics", ""]) == 2
    assert "--metrics is empty" in capsys.readouterr().err
