"""The zero-reference Task: trains on dark images alone (a folder, or a synthetic set whose clean
targets only feed the validation PSNR), and refuses grey data."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.core.config import TrainConfig
from turbopix.data import load_dataset
from turbopix.models import create_model
from turbopix.training import TASKS, TrainingOptionError, train

FAST = dict(batch_size=4, log_every=5, sample_every=0, progress=False, threads=1)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Ten smooth colour photos, 40x40."""
    root = tmp_path_factory.mktemp("photos")
    tiles = np.random.default_rng(0).integers(60, 256, (10, 6, 6, 3), dtype=np.uint8)
    for i, tile in enumerate(tiles):
        Image.fromarray(tile).resize((40, 40), Image.BILINEAR).save(root / f"{i}.png")
    return root


def _model(**options):
    torch.manual_seed(0)
    model = create_model("zero-dce", width=8, scale_factor=2, **options)
    model.name = "zero-dce"
    return model


@pytest.mark.parametrize("options", [{}, {"contrast": "log", "patch": 0, "exposure": 0.4}], ids=["paper", "gain"])
def test_synthetic_low_light_trains_and_logs_validation_psnr(folder, tmp_path, options):
    data = load_dataset(f"patches:{folder}?patch_size=32&degrade=lowlight:0.05-0.1&val_split=0.2", split="train")
    cfg = TrainConfig(steps=30, ckpt_every=30, lr=3e-3, **FAST)
    train(_model(**options), data, cfg, tmp_path / "run", data_spec=data.name)
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert {"spatial", "exposure", "colour", "smoothness", "loss"} <= set(rows[0])
    val = [r for r in rows if "val_psnr" in r]
    assert [r["step"] for r in val] == [30]
    assert val[-1]["val_psnr"] > val[-1]["val_psnr_input"]  # brighter is closer to the originals
    first, last = rows[0]["exposure"], [r for r in rows if "exposure" in r][-1]["exposure"]
    assert last < first  # it learned to brighten towards E


def test_a_folder_of_dark_photos_trains_without_targets(folder, tmp_path):
    data = load_dataset(f"patches:{folder}?patch_size=32", split="train")
    train(_model(), data, TrainConfig(steps=3, ckpt_every=3, **FAST), tmp_path / "run", data_spec=data.name)
    assert (tmp_path / "run" / "model.safetensors").exists()


def test_grey_data_is_refused(folder):
    with pytest.raises(TrainingOptionError, match="enhances RGB images but .* gives 1-channel"):
        TASKS.get("enhancement").check_data(_model(), load_dataset(f"patches:{folder}?patch_size=32&colour=grey", split="train"))


def test_the_loss_variants_are_checked_options():
    with pytest.raises(ValueError, match="contrast"):
        _model(contrast="ratio")
    with pytest.raises(ValueError, match="patch"):
        _model(patch=-1)


def test_the_best_validation_model_is_kept_and_survives_a_resume(folder, tmp_path):
    from turbopix import load
    from turbopix.core.checkpoint import read_metadata

    data = load_dataset(f"patches:{folder}?patch_size=32&degrade=lowlight:0.05-0.1&val_split=0.2", split="train")
    run = tmp_path / "run"
    train(_model(), data, TrainConfig(steps=20, ckpt_every=5, lr=3e-3, **FAST), run, data_spec=data.name)
    scores = {r["step"]: r["val_psnr"] for r in map(json.loads, (run / "log.jsonl").read_text().splitlines()) if "val_psnr" in r}
    best = read_metadata(run / "best.safetensors")["best"]
    top = max(scores, key=scores.get)
    assert best == {"metric": "val_psnr", "value": scores[top], "step": top}
    assert load(run / "best.safetensors").family == "enhancement"
    # resumed: only a better score replaces it, judged against the file's own score
    train(_model(), data, TrainConfig(steps=30, ckpt_every=5, lr=3e-3, **FAST), run, resume=True, data_spec=data.name)
    scores = {r["step"]: r["val_psnr"] for r in map(json.loads, (run / "log.jsonl").read_text().splitlines()) if "val_psnr" in r}
    after = read_metadata(run / "best.safetensors")["best"]
    assert after["value"] == max(scores.values()) >= best["value"]
