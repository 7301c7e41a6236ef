"""The pix2pix and CycleGAN Tasks: the data they accept, a few steps through the loop on tiny
synthetic folders (side-by-side pairs; two unpaired folders), previews and validation in the log."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.core.config import TrainConfig
from turbopix.data import load_dataset
from turbopix.models import create_model
from turbopix.training import TASKS, TrainingOptionError, train

FAST = dict(batch_size=2, log_every=2, sample_every=0, progress=False, threads=1)
TINY_P2P = dict(g_width=4, depth=3, d_width=4, d_layers=1, image_size=16)
TINY_CYC = dict(g_width=4, blocks=1, d_width=4, d_layers=1, image_size=16, pool_size=3)


def _blobs(rng, size):
    coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(coarse).resize((size, size), Image.BILINEAR))


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """Side-by-side pairs: left = a colour field, right = its colour negative (a learnable map)."""
    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(0)
    for i in range(8):
        left = _blobs(rng, 32)
        Image.fromarray(np.concatenate([left, 255 - left], 1)).save(root / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def unpaired(tmp_path_factory):
    a, b = tmp_path_factory.mktemp("domain_a"), tmp_path_factory.mktemp("domain_b")
    rng = np.random.default_rng(1)
    for i in range(6):
        Image.fromarray(_blobs(rng, 16)).save(a / f"a{i}.png")
        Image.fromarray(255 - _blobs(rng, 16)).save(b / f"b{i}.png")
    return a, b


def _log(run):
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_pix2pix_trains_on_side_by_side_pairs_and_logs_validation(pairs, tmp_path):
    torch.manual_seed(0)
    model = create_model("pix2pix", **TINY_P2P)
    model.name = "pix2pix"
    data = load_dataset(f"pairs:{pairs}?downscale=2&augment=false&val_split=0.25", split="train")
    assert data.batch(torch.arange(1))["image"].shape == (1, 3, 16, 16)  # 32 px halves read at 16 px
    train(model, data, TrainConfig(steps=6, ckpt_every=6, **FAST), tmp_path / "run", data_spec=data.name)
    rows = _log(tmp_path / "run")
    assert {"loss_d", "loss_adv", "l1", "d_real"} <= set(rows[0])
    val = [r for r in rows if "val_psnr" in r]
    assert val and 0 < val[-1]["val_l1"] < 1
    assert (tmp_path / "run" / "model.safetensors").is_file()
    assert not (tmp_path / "run" / "best.safetensors").exists()  # PSNR does not rank translators


def test_pix2pix_without_the_adversarial_loss_is_a_plain_l1_net(pairs, tmp_path):
    model = create_model("pix2pix", gan_weight=0, **TINY_P2P)
    model.name = "pix2pix"
    data = load_dataset(f"pairs:{pairs}?downscale=2&augment=false", split="train")
    train(model, data, TrainConfig(steps=2, **FAST), tmp_path / "run", data_spec=data.name)
    assert "loss_d" not in _log(tmp_path / "run")[0]


def test_cyclegan_trains_on_two_unpaired_folders(unpaired, tmp_path):
    torch.manual_seed(0)
    model = create_model("cyclegan", **TINY_CYC)
    model.name = "cyclegan"
    data = load_dataset(f"unpaired:{unpaired[0]},{unpaired[1]}?augment=false", split="train")
    train(model, data, TrainConfig(steps=4, **{**FAST, "sample_every": 4}), tmp_path / "run",
          data_spec=data.name)
    rows = _log(tmp_path / "run")
    assert {"cycle", "identity", "adv", "loss_d_a", "loss_d_b"} <= set(rows[0])
    assert all(np.isfinite(r["loss_g"]) for r in rows if "loss_g" in r)
    assert list((tmp_path / "run" / "samples").glob("*.png"))


def test_check_data_refuses_what_the_models_cannot_use(pairs, unpaired):
    p2p, cyc = create_model("pix2pix", **TINY_P2P), create_model("cyclegan", **TINY_CYC)
    p2p.name, cyc.name = "pix2pix", "cyclegan"
    paired = load_dataset(f"pairs:{pairs}?downscale=2", split="train")
    with pytest.raises(TrainingOptionError, match="'domain_b'"):
        TASKS.get("cyclegan").check_data(cyc, paired)
    with pytest.raises(TrainingOptionError, match="'target'"):
        TASKS.get("pix2pix").check_data(p2p, load_dataset(f"unpaired:{unpaired[0]},{unpaired[1]}", split="train"))
    with pytest.raises(TrainingOptionError, match="multiples of 8, but .* 12x12"):
        TASKS.get("pix2pix").check_data(p2p, load_dataset(f"pairs:{pairs}?patch_size=12", split="train"))
    with pytest.raises(TrainingOptionError, match="translates 1-channel images but .* 3-channel"):
        TASKS.get("pix2pix").check_data(create_model("pix2pix", **{**TINY_P2P, "channels": 1}), paired)
