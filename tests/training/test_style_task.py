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


def test_relu1_2_content_sees_the_stripes_relu2_2_misses():
    """Why ``content_layer`` exists: after the first average pooling, random features barely see a
    period-2 pattern (each 2x2 pool sums it away before the next convolution), so a network trained
    against relu2_2 content could paint such stripes for the style term at little content cost."""
    torch.manual_seed(0)
    net = random_network()
    content = torch.nn.functional.interpolate(torch.rand(1, 3, 8, 8) * 1.6 - 0.8, size=(64, 64), mode="bilinear")
    stripes = torch.zeros_like(content)
    stripes[..., 0::2], stripes[..., 1::2] = 0.2, -0.2
    smooth = torch.nn.functional.interpolate(torch.randn(1, 3, 4, 4), size=(64, 64), mode="bilinear")
    smooth = smooth / smooth.pow(2).mean().sqrt() * 0.2  # the stripes' energy, spread over low frequencies
    ratio = {}
    for layer in ("relu1_2", "relu2_2"):
        obj = StyleObjective(net, content, content_weight=1, style_weight=0, tv_weight=0, content_layer=layer)
        target = obj.content_features(content)
        ratio[layer] = float(obj.terms(content + stripes, target)["content"] / obj.terms(content + smooth, target)["content"])
    assert ratio["relu2_2"] < 0.4 and ratio["relu1_2"] > 0.8, ratio
