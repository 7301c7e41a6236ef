"""benchmarks/restoration.py: the JPEG (LIVE1) section on tiny synthetic images, checked against an
independent numpy / Pillow computation of the protocol; the denoising and SR tables (every sigma and
scale, rows merged by set, level and method, "not trained" slots, the B100 crop) on tiny fake data
folders and untrained tiny models. Nothing here reads ../shared."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.data.errors import DataError
from turbopix.data.resize import imresize
from turbopix.data.testsets import load_255
from turbopix.metrics.paired import psnr
from turbopix.models import create_model, save


def _psnr_jpeg_input(rgb: np.ndarray, quality: int) -> float:
    """The JPEG-input PSNR by the protocol, without turbopix: MATLAB Y rounded to 8 bits, Pillow JPEG."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y8 = np.floor(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255 + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(y8).save(buffer, format="JPEG", quality=quality)
    decoded = np.asarray(Image.open(buffer)).astype(np.float64)
    return 10 * np.log10(255.0**2 / np.mean((decoded - y8) ** 2))


def test_jpeg_section_scores_the_input_as_numpy_and_pillow_do(bench, tmp_path):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:64]
    images = []
    (tmp_path / "live1").mkdir()
    for i in range(2):
        smooth = 128 + 90 * np.sin(xx / (7 + i)) * np.cos(yy / 9)
        rgb = np.clip(smooth[..., None] + rng.normal(0, 12, (48, 64, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(tmp_path / "live1" / f"im{i}.bmp")
        images.append(rgb)
    model = save(create_model("dncnn", channels=1, depth=3, width=4), tmp_path / "tiny.safetensors")
    result = bench.deblocking(tmp_path, model, qualities=(10, 30))
    assert sorted(result) == ["10", "30"]
    for q in (10, 30):
        row = result[str(q)]["JPEG input"]
        assert row["images"] == 2
        assert row["psnr"] == pytest.approx(np.mean([_psnr_jpeg_input(x, q) for x in images]), abs=1e-4)
        assert 0 < row["ssim"] <= 1 and result[str(q)]["turbopix tiny"]["images"] == 2  # named from the model file
    assert result["30"]["JPEG input"]["psnr"] > result["10"]["JPEG input"]["psnr"]
    lines = bench.jpeg_report(result, {"jpeg_date": "2026-01-01", "jpeg_command": "x", "deblocker_sha256": "ab" * 32})
    table = [line for line in lines if line.startswith("| ARCNN")]
    assert table == ["| ARCNN (published) | 28.96 / - | 32.67 / - | |"]
    gap = next(line for line in lines if line.startswith("Gap to ARCNN"))
    ours = result["10"]["turbopix tiny"]["psnr"]
    assert f"{ours - 28.96:+.2f}" in gap
    assert any(line.startswith("Reading (q10/30): tiny gains") for line in lines)
    assert any(line.endswith("**Partial: the first 2 images only (--limit).**") for line in lines)  # LIVE1 has 29


# ---------------------------------------------------------------- denoising and SR tables (tiny fake data)
def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _fake_data(root, *, n=2):
    """Set12 / BSD68 (grey), CBSD68 (RGB), Set5 (HR + LR_bicubic/X2) and B100 (SelfExSR layout:
    HR only in image_SRF_3, here 40x52, not a multiple of 2) with ``n`` random images each."""
    rng = np.random.default_rng(1)
    for i in range(n):
        for name in ("set12", "bsd68"):
            _png(root / name / f"{i:02d}.png", rng.integers(0, 256, (24, 32), dtype=np.uint8))
        _png(root / "cbsd68" / f"{i:02d}.png", rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
        _png(root / "set5" / "HR" / f"im{i}.png", rng.integers(0, 256, (36, 36, 3), dtype=np.uint8))
        _png(root / "set5" / "LR_bicubic" / "X2" / f"im{i}x2.png", rng.integers(0, 256, (18, 18, 3), dtype=np.uint8))
        _png(root / "b100" / "image_SRF_3" / f"img_00{i}_SRF_3_HR.png", rng.integers(0, 256, (40, 52, 3), dtype=np.uint8))
        _png(root / "b100" / "image_SRF_2" / f"img_00{i}_SRF_2_LR.png", rng.integers(0, 256, (19, 25, 3), dtype=np.uint8))
    return root


def _models(tmp_path):
    """Tiny untrained models: grey denoisers recorded as trained at sigma 25 and 15, an x2 sr-fast."""
    d = tmp_path / "models"
    d.mkdir()
    torch.manual_seed(0)
    spec = "patches:train400?patch_size=40&degrade=noise:{}&colour=grey"
    return {"grey25": save(create_model("dncnn", channels=1, depth=3, width=4), d / "grey25.safetensors", data=spec.format(25)),
            "grey25b": save(create_model("dncnn", channels=1, depth=3, width=4), d / "grey25b.safetensors", data=spec.format(25)),
            "grey15": save(create_model("dncnn", channels=1, depth=3, width=4), d / "grey15.safetensors", data=spec.format(15)),
            "sr2": save(create_model("sr-fast", scale=2, width=4, shrink=2, maps=1), d / "sr2.safetensors")}


def _main(bench, tmp_path, *args):
    bench.main(["--data-root", str(tmp_path / "data"), "--results", str(tmp_path / "r.json"), "--out", str(tmp_path / "r.md"),
                "--bm3d-sets", "", *map(str, args)])
    return json.loads((tmp_path / "r.json").read_text()), (tmp_path / "r.md").read_text()


def _psnr_colour_jpeg_input(rgb: np.ndarray, quality: int) -> float:
    """The colour protocol without turbopix: Pillow's colour JPEG (default 4:2:0) of the RGB, PSNR on RGB."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    decoded = np.asarray(Image.open(buffer)).astype(np.float64)
    return 10 * np.log10(255.0**2 / np.mean((decoded - rgb.astype(np.float64)) ** 2))


def test_colour_jpeg_section_scores_rgb_and_runs_a_grey_model_on_y(bench, tmp_path):
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:40, 0:56]
    (tmp_path / "live1").mkdir()
    images = []
    for i in range(2):
        smooth = 128 + 90 * np.sin(xx / (5 + i)) * np.cos(yy / 7)
        rgb = np.clip(smooth[..., None] + rng.normal(0, 20, (40, 56, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(tmp_path / "live1" / f"im{i}.bmp")
        images.append(rgb)
    torch.manual_seed(0)
    grey = save(create_model("dncnn", channels=1, depth=3, width=4), tmp_path / "grey.safetensors")
    colour = save(create_model("dncnn", channels=3, depth=3, width=4), tmp_path / "colour.safetensors")
    models = [bench.load_model(grey, "deblock"), bench.load_model(colour, "deblock")]
    result = bench._jpeg_rows(tmp_path, models, (20,), colour="rgb", limit=None)
    row = result["20"]
    assert list(row) == ["JPEG input", "turbopix grey", "turbopix colour"]
    assert row["JPEG input"]["psnr"] == pytest.approx(np.mean([_psnr_colour_jpeg_input(x, 20) for x in images]), abs=1e-4)
    for label in ("turbopix grey", "turbopix colour"):
        assert row[label]["images"] == 2 and 0 < row[label]["ssim"] <= 1
        assert row[label]["psnr"] != row["JPEG input"]["psnr"]  # the (untrained) model changed the pixels
    meta = {"jpeg_colour_date": "2026-01-01", "jpeg_colour_command": "x",
            "jpeg_colour_models": {"turbopix grey": "ab" * 6, "turbopix colour": "cd" * 6}}
    lines = bench.colour_jpeg_report(result, meta)
    assert lines[0] == "## JPEG artifact removal, LIVE1 colour (RGB)"
    assert any(line.startswith("| turbopix colour | ") for line in lines)
    gain = row["turbopix colour"]["psnr"] - row["JPEG input"]["psnr"]
    assert f"Gain of colour over the JPEG input (q20): {gain:+.2f} dB." in lines
    assert any("**Partial: the first 2 images only (--limit).**" in line for line in lines)


def test_b100_ground_truth_is_the_top_left_crop_of_the_x3_hr(bench, tmp_path):
    root = _fake_data(tmp_path)
    pairs = bench.b100_pairs(root / "b100", 2)
    assert pairs.names == ["img_000", "img_001"] and pairs.crop == 2
    hr = load_255(root / "b100" / "image_SRF_3" / "img_001_SRF_3_HR.png", "y")
    assert tuple(pairs.inputs[1].shape) == (1, 1, 19, 25)
    assert torch.equal(pairs.targets[1], hr[..., :38, :50])  # HR[:s*h, :s*w], top-left
    rows = bench.super_resolution(root, 2, {}, sets=("b100",), limit=1)
    assert [(r["set"], r["scale"], r["method"], r["images"], r["of"]) for r in rows] == [("b100", 2, "bicubic", 1, 2)]
    bicubic = torch.floor(imresize(pairs.inputs[0], 2).clamp(0, 255) + 0.5)
    assert rows[0]["psnr"] == pytest.approx(float(psnr(bicubic, pairs.targets[0], data_range=255.0, crop=2)), abs=1e-4)
    with pytest.raises(DataError, match="image_SRF_4"):
        bench.b100_pairs(root / "b100", 4)


def test_a_slot_without_a_model_is_reported_not_trained(bench, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "available", lambda: [])  # nothing shipped, whatever this checkout has
    _fake_data(tmp_path / "data")
    m = _models(tmp_path)
    result, report = _main(bench, tmp_path, "--sections", "denoise,sr", "--sigmas", "25", "--scales", "2",
                           "--model", f"denoise-grey-s25={m['grey25']}")
    methods = {(r["set"], r["method"]) for r in result["denoise"]}
    assert methods == {(s, "noisy input") for s in ("set12", "bsd68", "cbsd68")} | {("set12", "model"), ("bsd68", "model")}
    assert {r["method"] for r in result["sr"]} == {"bicubic"}  # a slot with no model measures nothing
    assert "| turbopix `denoise-grey-blind` | not trained | not trained | | |" in report
    assert "| turbopix `denoise-colour-s25` | not trained | | |" in report
    assert "| turbopix `denoise-colour-blind` | not trained | | |" in report
    assert "| turbopix `sr-fast-x2` | not trained | not trained | | |" in report
    assert "| turbopix `sr-accurate-x2` | not trained | not trained | | |" in report
    row = next(r for r in result["denoise"] if r["method"] == "model")
    assert row["model"] == "grey25" and row["sha256"] == bench.sha256_file(m["grey25"])[:12]
    assert row["command"].startswith("python benchmarks/restoration.py --data-root")


def test_a_model_must_fit_its_slot(bench, tmp_path):
    _fake_data(tmp_path / "data")
    m = _models(tmp_path)
    with pytest.raises(SystemExit):  # trained for sigma 25, not 50
        _main(bench, tmp_path, "--sections", "denoise", "--sigmas", "50", "--model", f"denoise-grey-s50={m['grey25']}")
    with pytest.raises(ValueError, match="trained for sigma 25"):
        bench.check_slot("denoise-grey-s50", bench.load_model(m["grey25"], "denoise"))
    with pytest.raises(ValueError, match="upscales x2"):
        bench.check_slot("sr-fast-x3", bench.load_model(m["sr2"], "sr"))
    with pytest.raises(SystemExit):  # --limit would write partial rows into the repository's results
        bench.main(["--sections", "denoise", "--limit", "1"])
    assert bench.slot_of(str(m["grey15"])) == "denoise-grey-s15" and bench.slot_of(str(m["sr2"])) == "sr-fast-x2"


def test_a_rerun_replaces_only_the_rows_it_measures(bench, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "available", lambda: [])
    _fake_data(tmp_path / "data")
    m = _models(tmp_path)
    (tmp_path / "r.md").write_text("# old\n\nMachine: old\n\n## Reading, written by hand\n\nkept as it is\n")
    first, _ = _main(bench, tmp_path, "--sections", "denoise,sr", "--sigmas", "15,25", "--scales", "2",
                     "--model", f"denoise-grey-s25={m['grey25']}", "--model", f"denoise-grey-s15={m['grey15']}",
                     "--model", f"sr-fast-x2={m['sr2']}")
    for rows in (first["denoise"], first["sr"]):
        for r in rows:
            r["date"] = "2000-01-01"  # so the rows the second run keeps are told from those it measures again
    first["jpeg"] = {"10": {"JPEG input": {"psnr": 27.0, "ssim": 0.7, "images": 29, "seconds": 0.0},
                            "turbopix deblock-grey/best": {"psnr": 28.0, "ssim": 0.8, "images": 29, "seconds": 5.0}}}
    (tmp_path / "r.json").write_text(json.dumps(first))
    second, report = _main(bench, tmp_path, "--sections", "denoise", "--sigmas", "25", "--sets", "bsd68",
                           "--model", f"denoise-grey-s25={m['grey25b']}", "--limit", "1")
    old = {bench.row_key(r): r for r in first["denoise"] + first["sr"]}
    new = {bench.row_key(r): r for r in second["denoise"] + second["sr"]}
    assert new.keys() == old.keys()
    changed = {k for k in new if new[k] != old[k]}
    assert changed == {("bsd68", 25, "noisy input"), ("bsd68", 25, "model")}
    assert new[("bsd68", 25, "model")]["sha256"] == bench.sha256_file(m["grey25b"])[:12] != old[("bsd68", 25, "model")]["sha256"]
    assert new[("bsd68", 25, "model")]["images"] == 1 and new[("bsd68", 25, "model")]["of"] == 2
    assert new[("set12", 25, "model")]["date"] == "2000-01-01" and new[("set12", 25, "model")]["model"] == "grey25"
    assert second["jpeg"] == first["jpeg"]  # a section not run is kept whole
    # the report: both models of the sigma-25 row, the partial cell, the JPEG row named from its model
    assert "| turbopix `grey25` / `grey25b` (sha256 " in report and "(1/2 images)" in report
    assert "| turbopix deblock-grey/best | 28.00 / 0.8000 |" in report and "deblock-grey/best gains +1.00 dB" in report
    assert report.count("Machine: ") == 1 and report.endswith("## Reading, written by hand\n\nkept as it is\n")


def test_every_sigma_and_scale_gets_a_table_with_its_gaps(bench, tmp_path):
    row = lambda s, level, method, value, **kw: {"set": s, **level, "method": method, "psnr": value, "images": 2, "of": 2,  # noqa: E731
                                                 "seconds": 1.0, "date": "2026-12-02", "command": "python benchmarks/restoration.py", **kw}
    model = {"model": "denoise-grey-s{}", "sha256": "abcdef012345"}
    denoise = [row(s, {"sigma": sigma}, method, 20.0 + i, seed=0, **({k: v.format(sigma) for k, v in model.items()} if method == "model" else {}))
               for sigma in (15, 25, 50) for s in ("set12", "bsd68") for i, method in enumerate(("noisy input", "model"))]
    denoise[-1]["psnr"] = 25.38  # BSD68, sigma 50: 0.85 dB under DnCNN-S (26.23)
    denoise.append(row("cbsd68", {"sigma": 25}, "CBM3D", 30.50, seed=0))
    sr = [row(s, {"scale": scale}, method, 30.0 + i, ssim=0.9, **({"model": f"sr-fast-x{scale}", "sha256": "0" * 12} if method == "sr-fast" else {}))
          for scale in (2, 3, 4) for s in ("set5", "b100") for i, method in enumerate(("bicubic", "sr-fast"))]
    bench.write_report({"denoise": denoise, "sr": sr, "meta": {"machine": "test"}}, tmp_path / "r.md")
    report = (tmp_path / "r.md").read_text()
    for heading in ("### Sigma 15", "### Sigma 25", "### Sigma 50", "### x2", "### x3", "### x4"):
        assert report.count(heading + "\n") == 1
    assert ("Gap of `denoise-grey-s50` to BM3D (published): BSD68 -0.24 dB; to DnCNN-S: Set12 -6.18 dB, BSD68 -0.85 dB; "
            "to DnCNN-B: Set12 -6.21 dB, BSD68 -0.85 dB.") in report
    assert "| DnCNN-S (published) | 32.86 | 31.73 | | |" in report and "| CDnCNN-B (published) | 31.23 | | |" in report
    assert "| CBM3D | 30.50 | 1 | 2026-12-02 |" in report and "CBM3D measured here minus its published value: CBSD68 -0.21 dB." in report
    assert "Gap of `sr-fast-x4` to SRCNN: Set5 +0.52 dB; to FSRCNN: Set5 +0.45 dB; to VDSR: Set5 -0.35 dB, B100 +3.71 dB; " \
           "to bicubic measured here: Set5 +1.00 dB, B100 +1.00 dB." in report
    assert "| VDSR (published) | 33.66 / - | 28.82 / - | | |" in report
    assert "bicubic measured here minus its published value: Set5 +1.58 dB, B100 +4.04 dB." in report


def test_results_written_before_rows_are_upgraded(bench):
    old = {"denoise": {"set12": {"noisy input": {"psnr": 20.3, "images": 12, "seconds": 0.0},
                                 "turbopix dncnn": {"psnr": 28.2, "images": 12, "seconds": 22.0}}},
           "sr": {"bicubic": {"psnr": 33.7, "images": 5}, "turbopix sr-fast": {"psnr": 36.5, "images": 5}},
           "meta": {"sigma": 25.0, "scale": 2, "seed": 0}}
    new = bench.upgrade(old)
    assert [bench.row_key(r) for r in new["denoise"]] == [("set12", 25, "noisy input"), ("set12", 25, "model")]
    assert new["denoise"][1]["model"] == "denoise-grey-s25" and new["denoise"][1]["sha256"] is None
    assert [bench.row_key(r) for r in new["sr"]] == [("set5", 2, "bicubic"), ("set5", 2, "sr-fast")]
    assert "sigma" not in new["meta"] and "scale" not in new["meta"]


@pytest.mark.parametrize("kind, channels, test_set", [("grey", 1, "set12"), ("colour", 3, "cbsd68")])
def test_the_blind_model_runs_at_every_sigma_with_the_true_sigma(bench, tmp_path, monkeypatch, kind, channels, test_set):
    monkeypatch.setattr(bench, "available", lambda: [])
    _fake_data(tmp_path / "data")
    blind = save(create_model("dncnn", channels=channels, depth=3, width=4, noise_level=True), tmp_path / "blind.safetensors")
    assert bench.slot_of(str(blind)) == f"denoise-{kind}-blind"
    result, report = _main(bench, tmp_path, "--sections", "denoise", "--sigmas", "15,50", "--sets", test_set, "--denoiser", blind)
    rows = {r["sigma"]: r for r in result["denoise"] if r["method"] == "blind"}
    assert sorted(rows) == [15, 50] and {r["model"] for r in rows.values()} == {"blind"}
    assert {r["set"] for r in rows.values()} == {test_set}
    model = bench.load_model(blind, "denoise")
    pairs = bench.denoising_pairs(tmp_path / "data" / test_set, 50, colour="grey" if kind == "grey" else "rgb")
    out = bench._run(model.method, pairs.inputs[0], sigma=50)  # the sigma the row at 50 gave the model
    first = float(psnr(out, pairs.targets[0], data_range=255.0))
    second = float(psnr(bench._run(model.method, pairs.inputs[1], sigma=50), pairs.targets[1], data_range=255.0))
    assert rows[50]["psnr"] == pytest.approx((first + second) / 2, abs=1e-4)
    assert "| turbopix `blind` (sha256 " in report and f"| turbopix `denoise-{kind}-s15` | not trained |" in report


def test_a_shipped_models_recipe_is_found_by_the_sha256_it_shipped(bench, tmp_path):
    from turbopix.core.hashing import sha256_file

    model_file = save(create_model("dncnn", channels=1, depth=3, width=4), tmp_path / "weights" / "dn.safetensors")
    model = bench.load_model(model_file, "denoise")
    runs = tmp_path / "runs"
    for name, sha in (("dn", sha256_file(model_file)), ("other", "0" * 64)):
        (runs / name).mkdir(parents=True)
        (runs / name / "recipe.json").write_text(json.dumps({"name": name, "shipped_sha256": sha}))
    assert [r["name"] for r in bench._recipes_of(model, runs)] == ["dn"]
    (tmp_path / "weights" / "recipe.json").write_text(json.dumps({"name": "beside"}))  # a run's own folder wins
    assert [r["name"] for r in bench._recipes_of(model, runs)] == ["beside"]
