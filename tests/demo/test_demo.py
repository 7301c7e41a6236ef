"""The demo end to end in quick mode (a few steps), and its refusal to overwrite."""
import json

import pytest
from PIL import Image

from turbopix.cli.main import main
from turbopix.demo.completion import QUICK_SEARCH_STEPS
from turbopix.demo.translation import QUICK_STEPS


def test_quick_demo_on_digits(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--data", "digits", "--quick"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["data"] == "digits" and [r["model"] for r in summary["runs"]] == ["dcgan", "vae", "conv-vae"]
    for r in summary["runs"]:
        assert (out / r["model"] / "samples" / "final.png").exists()
        assert (out / r["model"] / "loss_curve.png").exists()
    vaes = [r for r in summary["runs"] if r["model"].endswith("vae")]
    assert all(r["test_elbo"]["elbo"] < 0 and r["test_elbo"]["images"] == 360 for r in vaes)
    html = (out / "report.html").read_text()
    assert "dcgan/samples/final.png" in html and "test ELBO" in html
    assert "Sample quality" not in html  # no shipped extractor for 8x8 digits
    assert (out / "samples_overview.png").exists()
    # each generator completed the same damaged test digits; the holes were scored, the sheet written
    assert "<h2>Completing digits</h2>" in html
    for r in summary["runs"]:
        c = r["completion"]
        assert c["n"] == 16 and c["steps"] == QUICK_SEARCH_STEPS and c["psnr"] > c["psnr_black"] > 0
        assert Image.open(out / r["model"] / "completion.png").size == (16 * 10 + 2, 4 * 10 + 2)  # 4 rows of 8-px digits
    assert len({r["completion"]["psnr_biharmonic"] for r in summary["runs"]}) == 1  # the same holes for every model
    # the ready-made rating study of the demo's models is a valid study: it prepares
    assert "turbopix rate serve --study" in html
    assert main(["rate", "serve", "--study", str(out / "study.toml"), "--prepare-only"]) == 0
    assert Image.open(out / "vae" / "reconstructions.png").size == (8 * 10 + 2, 8 * 10 + 2)  # 4 pairs of rows of 8
    # the applications section: each showcase ran (its picture is there) or says why it was skipped
    apps = summary["applications"]
    assert [a["key"] for a in apps] == ["denoise", "upscale", "denoise-colour", "deblock", "inpaint-box", "inpaint-free", "enhance",
                                       "style", "translate"]
    assert "<h2>Applications</h2>" in html
    for a in apps:
        assert ("skipped" in a and f"Skipped: {a['skipped']}" in html) or (out / "applications" / a["picture"]).exists()
    # a second run refuses to replace the first without --overwrite
    capsys.readouterr()
    assert main(["demo", "--out", str(out), "--data", "digits", "--quick"]) == 2
    assert "already holds a demo; pass --overwrite to replace it" in capsys.readouterr().err
    assert main(["demo", "--out", str(out), "--data", "digits", "--quick", "--overwrite"]) == 0


def test_demo_falls_back_to_digits(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TURBOPIX_CACHE", str(tmp_path / "cache"))
    # an empty data root and no download: MNIST cannot be had
    import turbopix.demo as demo

    real = demo.load_dataset

    def no_download(spec, **kw):
        return real(spec, **{**kw, "download": False})

    monkeypatch.setattr(demo, "load_dataset", no_download)
    train, test, name = demo._load_data("mnist", tmp_path / "empty-root")
    assert name == "digits" and len(train) == 1437 and len(test) == 360
    assert "training on scikit-learn's 8x8 digits instead" in capsys.readouterr().out


@pytest.mark.data
def test_quick_demo_on_mnist(tmp_path, shared_data):
    assert main(["demo", "--out", str(tmp_path), "--quick", "--data-root", str(shared_data)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["data"] == "mnist"
    for run in summary["runs"]:  # the metrics table: FID etc. from the shipped MNIST extractor
        assert run["metrics"]["extractor"] == "lenet-mnist" and run["metrics"]["fid"] > 0
        assert 0 <= run["metrics"]["precision"] <= 1 and 0.4 <= run["metrics"]["c2st"] <= 1
    html = (tmp_path / "report.html").read_text()
    assert "Sample quality" in html
    apps = {a["key"]: a for a in summary["applications"]}
    assert not any("skipped" in a for a in apps.values())  # every showcase's data is in the shared data root
    assert apps["translate"]["steps"] == QUICK_STEPS and "class preservation" in html  # quick: a few steps of the CycleGAN
