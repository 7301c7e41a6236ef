"""The demo's restoration showcases: real shipped models on fabricated and real test images."""
import json

import numpy as np
import pytest
from PIL import Image

from turbopix.demo import applications
from turbopix.demo.applications import SHOWCASES, run_applications


def _fake_root(tmp_path):
    """A data root with Set12- and Set5-shaped folders of images with smooth shading and sharp edges
    (a denoiser and an upscaler must improve on them, so the check can fail)."""
    yy, xx = np.mgrid[0:128, 0:128]
    edges = ((xx // 11 + yy // 17) % 2) * 120
    smooth = (60 + edges + 40 * np.sin(xx / 9.0) * np.cos(yy / 13.0)).astype(np.uint8)
    for folder, colour in (("set12", False), ("set5/HR", True)):
        (tmp_path / folder).mkdir(parents=True)
        for i in range(2):
            img = np.roll(smooth, 7 * i, axis=1)
            if colour:
                img = np.stack([img, img[::-1], 255 - img], -1)
            Image.fromarray(img).save(tmp_path / folder / f"im{i}.png")
    return tmp_path


def test_showcases_improve_psnr_and_write_rows(tmp_path):
    results = run_applications(tmp_path / "out", _fake_root(tmp_path / "data"))
    assert [r["key"] for r in results] == [c.key for c in SHOWCASES]
    for r in results:
        assert len(r["images"]) == 2
        assert r["after"] > r["before"] + 0.5, r  # the shipped models help, by more than noise
        picture = Image.open(tmp_path / "out" / r["picture"])
        assert picture.size == (3 * applications.CROP, 2 * applications.CROP)  # clean | before | after, per image
    json.dumps(results)  # the summary stores them


def test_missing_test_sets_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "empty").mkdir()
    results = run_applications(tmp_path / "out", tmp_path / "empty")
    assert all("not found under the data root" in r["skipped"] for r in results)


@pytest.mark.data
def test_on_the_real_test_sets(tmp_path, shared_data):
    results = {r["key"]: r for r in run_applications(tmp_path, shared_data)}
    # noise sigma 25 on 8-bit crops: the noisy input is near 20.5 dB, the shipped denoiser well above
    assert 19 < results["denoise"]["before"] < 22 and results["denoise"]["after"] > 25
    assert results["upscale"]["after"] > results["upscale"]["before"]
