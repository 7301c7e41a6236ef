"""The style-transfer Task: data checks, a few training steps through the loop, the objective."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.core.config import TrainConfig
from turbopix.data import load_dataset
from turbopix.features.perceptual import random_network
from turbopix.models import create_model
from turbopix.training import TASKS, TrainingOptionError, train
from turbopix.training.style import StyleObjective, read_style_image

FAST = dict(batch_size=2, log_every=1, sample_every=0, progress=False, threads=1)


def _photo(path, seed, size=(40, 40), mode="RGB"):
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (5, 5, 3), dtype=np.uint8)
    Image.fromarray(coarse).resize(size, Image.BILINEAR).convert(mode).save(path)
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    for i in range(6):
        _photo(root / f"{i}.png", i)
    style = _photo(tmp_path_factory.mktemp("style") / "style.png", 99, size=(30, 20))
    return root, style


def test_check_data_refuses_grey_photos_and_a_missing_style(photos, tmp_path):
    root, style = photos
    task = TASKS.get("style-transfer")
    rgb = load_dataset(f"patches:{root}?patch_size=16&colour=rgb", split="train")
    task.check_data(create_model("style-transfer", width=2, blocks=1, style=str(style)), rgb)
    grey = load_dataset(f"patches:{root}?patch_size=16&colour=grey", split="train")
    with pytest.raises(TrainingOptionError, match="RGB photos .* colour=rgb"):
        task.check_data(create_model("style-transfer", width=2, blocks=1, style=str(style)), grey)
    with pytest.raises(TrainingOptionError, match="style image style=nope.jpg not found"):
        task.check_data(create_model("style-transfer", width=2, blocks=1, style="nope.jpg"), rgb)


def test_style_image_is_read_resized_and_grey_becomes_rgb(photos, tmp_path):
    _, style = photos
    x = read_style_image(style, 15)
    assert x.shape == (1, 3, 10, 15) and x.min() >= -1 and x.max() <= 1
    grey = _photo(tmp_path / "g.png", 1, mode="L")
    assert read_style_image(grey, None).shape == (1, 3, 40, 40)


def test_objective_terms():
    torch.manual_seed(0)
    net = random_network(width=0.125)
    style, content = torch.rand(1, 3, 16, 16) * 2 - 1, torch.rand(2, 3, 16, 16) * 2 - 1
    obj = StyleObjective(net, style, content_weight=2.0, style_weight=3.0, tv_weight=0.5)
    terms = obj.terms(content, obj.content_features(content))
    assert terms["content"] == 0  # the content image is its own content target
    assert torch.allclose(terms["loss"], 3 * terms["style"] + 0.5 * terms["tv"])
    assert obj.terms(style.expand(2, -1, -1, -1), obj.content_features(content))["style"] < 1e-10


def test_a_few_steps_train_and_lower_the_loss(photos, tmp_path):
    root, style = photos
    torch.manual_seed(0)
    model = create_model("style-transfer", width=4, blocks=1, style=str(style), features="random")
    model.name = "style-transfer"
    data = load_dataset(f"patches:{root}?patch_size=16&colour=rgb", split="train")
    train(model, data, TrainConfig(steps=20, ckpt_every=20, lr=1e-2, **FAST), tmp_path / "run", data_spec=data.name)
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows if "loss" in r]
    assert {"content", "style", "tv"} <= set(rows[-1])
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert (tmp_path / "run" / "model.safetensors").is_file()
