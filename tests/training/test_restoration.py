"""The restoration Task: the data it accepts, its loss step, previews and validation PSNR in the log."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.core.config import TrainConfig
from turbopix.core.errors import render
from turbopix.data import load_dataset
from turbopix.models import create_model
from turbopix.training import TASKS, TrainingOptionError, train

FAST = dict(batch_size=4, log_every=5, sample_every=0, progress=False, threads=1)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(10):
        coarse = rng.integers(0, 256, (6, 6), dtype=np.uint8)
        Image.fromarray(coarse).resize((36, 36), Image.BILINEAR).save(root / f"{i}.png")
    return root


def _data(folder, degrade, **kw):
    return load_dataset(f"patches:{folder}?patch_size=12&degrade={degrade}&colour=grey", split="train", **kw)


def test_check_data_refuses_mismatches_clearly(folder):
    task = TASKS.get("restoration")
    task.check_data(create_model("sr-fast", scale=2, width=4, shrink=4), _data(folder, "bicubic:2"))
    with pytest.raises(TrainingOptionError, match=r"maps images x3 larger but .* pairs them x2") as e:
        task.check_data(create_model("sr-fast", scale=3, width=4, shrink=4), _data(folder, "bicubic:2"))
    assert "--scale" in render(e.value, "cli")
    with pytest.raises(TrainingOptionError, match="maps an image to one of the same size but .* pairs them x2"):
        task.check_data(create_model("dncnn", depth=3, width=4), _data(folder, "bicubic:2"))
    with pytest.raises(TrainingOptionError, match="restores 3-channel images but .* gives 1-channel"):
        task.check_data(create_model("dncnn", channels=3, depth=3, width=4), _data(folder, "noise:25"))
    with pytest.raises(TrainingOptionError, match="'sigma'"):  # jpeg data has no noise level
        task.check_data(create_model("dncnn", depth=3, width=4, noise_level=True), _data(folder, "jpeg:20"))
    with pytest.raises(TrainingOptionError, match="'target'"):  # clean patches only
        task.check_data(create_model("dncnn", depth=3, width=4), load_dataset(f"patches:{folder}?patch_size=12", split="train"))


@pytest.mark.parametrize("loss", ["l1", "mse"])
def test_training_logs_validation_psnr_and_learns(folder, tmp_path, loss):
    torch.manual_seed(0)
    model = create_model("dncnn", depth=4, width=16, loss=loss)
    model.name = "dncnn"
    data = _data(folder, "noise:50", val_split=0.2)
    cfg = TrainConfig(steps=60, ckpt_every=30, lr=3e-3, **FAST)
    train(model, data, cfg, tmp_path / "run", data_spec=data.name)
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    val = [r for r in rows if "val_psnr" in r]
    assert [r["step"] for r in val] == [30, 60]
    assert val[-1]["val_psnr_input"] == val[0]["val_psnr_input"]  # the same fixed noisy images each time
    assert val[-1]["val_psnr"] > val[-1]["val_psnr_input"] + 1  # it removes noise on held-out images
    grid = np.asarray(Image.open(tmp_path / "run" / "samples" / "final.png"))
    assert grid.shape[:2] == (4 * 14 + 2, 3 * 14 + 2)  # rows of (input, output, target), 12 px + 2 px padding


def test_no_test_split_trains_without_validation(folder, tmp_path):
    model = create_model("sr-fast", scale=2, width=4, shrink=4, maps=1)
    model.name = "sr-fast"
    data = _data(folder, "bicubic:2")
    train(model, data, TrainConfig(steps=10, ckpt_every=5, **FAST), tmp_path / "run")
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert rows and not any("val_psnr" in r for r in rows)


def test_noise_level_models_train_on_sigma_batches(folder, tmp_path):
    model = create_model("dncnn", depth=3, width=4, noise_level=True)
    model.name = "dncnn"
    data = _data(folder, "noise:0-55", val_split=0.2)
    train(model, data, TrainConfig(steps=6, ckpt_every=0, **FAST), tmp_path / "run")
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert "val_psnr" in rows[-1]


def test_whole_images_without_patch_size_train_or_say_why(tmp_path):
    rng = np.random.default_rng(0)
    for i, side in enumerate((20, 20, 28, 28, 20)):
        (tmp_path / "photos").mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (side, side), dtype=np.uint8)).save(tmp_path / "photos" / f"{i}.png")
    data = f"patches:{tmp_path / 'photos'}?degrade=noise:25&colour=grey&val_split=0.2"  # no patch_size: each image whole
    import turbopix
    run = turbopix.train("dncnn", data, out=tmp_path / "one", steps=2, model_options={"depth": 3, "width": 4}, **dict(FAST, batch_size=1))
    assert run.steps == 2 and "val_psnr" in (tmp_path / "one" / "log.jsonl").read_text()  # preview and validation too
    from turbopix.data.errors import DataError
    with pytest.raises(DataError, match="differ in size .* set patch_size to crop them alike"):
        turbopix.train("dncnn", data, out=tmp_path / "three", steps=2, model_options={"depth": 3, "width": 4}, **dict(FAST, batch_size=3))
