"""benchmarks/digit_completion.py on a few made-up digits: every method sees the same holes, the
scores are the masked-region ones, and the report and picture sheets are written."""
import json

import numpy as np
import pytest
import torch

from turbopix.data.base import ImageData
from turbopix.metrics.paired import masked_psnr
from turbopix.models import create_model, save


@pytest.fixture
def digits(completion_bench, monkeypatch):
    g = torch.Generator().manual_seed(0)
    images = torch.zeros(3, 1, 28, 28, dtype=torch.uint8)
    images[:, :, 6:22, 10:18] = torch.randint(128, 256, (3, 1, 16, 8), generator=g, dtype=torch.uint8)
    data = ImageData(images, torch.tensor([1, 7, 4]), [str(i) for i in range(10)], "mnist:test")
    monkeypatch.setattr(completion_bench, "load_dataset", lambda *a, **k: data)
    return data


def test_a_run_scores_every_method_on_the_same_holes(completion_bench, digits, tmp_path):
    torch.manual_seed(0)
    vae = save(create_model("conv-vae", latent_dim=2, width=4), tmp_path / "vae.safetensors")
    gan = save(create_model("mlp-gan", latent_dim=2, g_hidden=(8,), d_hidden=(8,), num_classes=10), tmp_path / "gan.safetensors")
    out = tmp_path / "docs" / "completion.md"
    assert completion_bench.main(["--model", f"mnist:vae={vae}", "--model", f"mnist:gan={gan}", "--n", "3", "--steps", "4",
                                  "--restarts", "1", "--threads", "1", "--grid", "2", "--results", str(tmp_path / "r.json"),
                                  "--out", str(out)]) == 0
    result = json.loads((tmp_path / "r.json").read_text())["datasets"]["mnist"]
    for kind in ("box", "free"):
        rows = result[kind]["methods"]
        assert list(rows) == ["hole black", "telea", "navier-stokes", "biharmonic", "vae", "gan"]
        assert "class_chosen" in rows["gan"] and "class_chosen" not in rows["vae"]
        missing = completion_bench.masks_for(3, kind, 0)
        clean = digits.images.float()
        black = clean * (1 - missing)
        hole = missing.bool()
        assert rows["hole black"]["psnr"] == pytest.approx(10 * np.log10(255 ** 2 / clean[hole].pow(2).mean().item()), abs=1e-6)
        assert rows["hole black"]["l1"] == pytest.approx(clean[hole].mean().item(), abs=1e-4)  # pooled over hole pixels
        first = masked_psnr(black[:1], clean[:1], missing[:1])  # the per-image definition, on one image
        assert first == pytest.approx(10 * np.log10(255 ** 2 / clean[:1][hole[:1]].pow(2).mean().item()), abs=1e-6)
        assert (out.parent / result["grid"][kind]).is_file()
    assert "| biharmonic |" in out.read_text() and "Rows, top to bottom: original, damaged, telea" in out.read_text()
    out.write_text(out.read_text() + "\n## Reading\n\nwritten by hand\n")
    assert completion_bench.main(["--model", f"mnist:vae={vae}", "--n", "3", "--steps", "2", "--restarts", "1", "--grid", "0",
                                  "--threads", "1", "--results", str(tmp_path / "r.json"), "--out", str(out)]) == 0
    text = out.read_text()
    assert text.endswith("## Reading\n\nwritten by hand\n") and "| gan |" not in text  # tables rewritten, reading kept


def test_the_masks_are_fixed_by_the_seed(completion_bench):
    assert torch.equal(completion_bench.masks_for(4, "box", 0), completion_bench.masks_for(4, "box", 0))
    assert not torch.equal(completion_bench.masks_for(4, "box", 0), completion_bench.masks_for(4, "box", 1))


def test_a_model_must_be_named_with_its_dataset(completion_bench):
    with pytest.raises(SystemExit):
        completion_bench.main(["--model", "gan.safetensors"])
