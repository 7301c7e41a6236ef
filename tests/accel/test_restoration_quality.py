"""The quality cost of accelerating a restorer: PSNR on a real test set's ground truth for eager fp32
and the variant (accel/quality.py), and int8 calibration on the restorer's own training spec."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

import turbopix
from turbopix.accel.quality import QualityProbe, restoration_psnr
from turbopix.data.testsets import RestorationPairs
from turbopix.models import create_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from test_testsets import _fake_root  # noqa: E402  (the fake Set12 / Set5 folders)

SR_SPEC = "patches:set5/HR?patch_size=16&degrade=bicubic:2&colour=y"


def _tiny_sr():
    torch.manual_seed(0)
    model = create_model("sr-fast", channels=1, scale=2, width=8, shrink=4, maps=1).eval()
    model.metadata = {"data": SR_SPEC}
    return model


def test_restoration_psnr_rounds_outputs_and_crops_the_border():
    target = torch.full((1, 1, 8, 8), 100.0)
    target[..., 0, :] = 0  # a bad border row, cropped away
    pairs = RestorationPairs("t", "", inputs=[target.clone()], targets=[target], names=["a"], crop=1)
    assert restoration_psnr(lambda i: i["image"], pairs) == float("inf")
    off = restoration_psnr(lambda i: i["image"] + 2 / 255, pairs)  # +1 grey level everywhere
    assert off == pytest.approx(20 * torch.log10(torch.tensor(255.0)).item(), abs=1e-3)


def test_probe_scores_eager_and_variant_on_the_test_set(tmp_path):
    model = _tiny_sr()
    probe = QualityProbe(model, n=4, ref="auto", data_root=_fake_root(tmp_path))
    same = probe.measure(lambda inputs: model.infer(**inputs))
    assert same.test_set.startswith("set5 x2") and same.psnr == same.psnr_eager and same.psnr_delta_db == 0
    worse = probe.measure(lambda inputs: (model.infer(**inputs) + 0.05).clamp(-1, 1))
    assert worse.psnr_delta_db < 0 and worse.fid is None
    skipped = QualityProbe(model, n=4, ref=None).measure(lambda inputs: model.infer(**inputs))
    assert skipped.psnr is None


def test_probe_says_why_without_a_protocol(tmp_path):
    model = _tiny_sr()
    model.metadata = {"data": "patches:t91?degrade=mask:any"}
    q = QualityProbe(model, n=4, data_root=_fake_root(tmp_path)).measure(lambda inputs: model.infer(**inputs))
    assert q.psnr is None and "test-set PSNR skipped: no standard test protocol" in q.note


def test_int8_auto_calibration_reads_the_restorers_training_spec(tmp_path):
    """'auto' used to turn patches:...?colour=y into 'patches:train' (not a folder) and pass
    channels=1, which contradicts colour=y; the lazy spec is now loaded as recorded."""
    from turbopix.accel.recipe import calibration_data

    data, spec = calibration_data(_tiny_sr(), "auto", _fake_root(tmp_path))
    assert spec == SR_SPEC and data.batch(torch.arange(2))["image"].shape == (2, 1, 8, 8)


RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "restoration.json"


@pytest.mark.data
@pytest.mark.parametrize("name, section, row", [("sr-fast-x2", "sr", {"set": "set5", "scale": 2}),
                                                ("sr-accurate-x3", "sr", {"set": "set5", "scale": 3}),  # a float16 file
                                                ("denoise-grey-s25", "denoise", {"set": "set12", "sigma": 25})])
def test_shipped_restorers_score_as_docs_restoration_md_says(shared_data, name, section, row):
    """Eager fp32 of the shipped models on Set5 x2 / Set12 sigma 25 reproduces the row that
    benchmarks/restoration.py recorded for this very file (its sha256) in the results behind the docs."""
    from turbopix.core.hashing import sha256_file
    from turbopix.models.shipped import shipped_path

    sha = sha256_file(shipped_path(name))[:12]
    rows = [r for r in json.loads(RESULTS.read_text())[section]
            if r.get("sha256") == sha and all(r.get(k) == v for k, v in row.items())]
    assert len(rows) == 1, f"no benchmark row for the shipped {name} (sha256 {sha}): rerun benchmarks/restoration.py"
    probe = QualityProbe(turbopix.load(name), n=4, data_root=shared_data)
    assert probe.psnr_eager == pytest.approx(rows[0]["psnr"], abs=0.005)
