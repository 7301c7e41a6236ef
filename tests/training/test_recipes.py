"""Training recipes: every registered recipe is valid for its model, explicit options beat the
recipe's, an unknown name is an error that names the option, and the recipe is recorded."""
import json

import pytest
import torch

import turbopix
from turbopix.core.checkpoint import read_metadata
from turbopix.core.errors import render
from turbopix.models import create_model
from turbopix.training import TrainingOptionError
from turbopix.training.recipes import RECIPES, apply_recipe, check_recipe, describe

TINY = dict(steps=4, batch_size=16, log_every=2, sample_every=0, ckpt_every=0, progress=False, threads=1)


@pytest.mark.parametrize("name", RECIPES.names())
def test_every_recipe_is_valid_for_its_model(name):
    check_recipe(name)  # its model and training options pass the same checks as any other option
    recipe = RECIPES.get(name)
    classes = {"num_classes": 10} if recipe.conditional else {}
    model = create_model(recipe.model, image_size=28, channels=1, **classes, **recipe.model_options)
    assert model.name == recipe.model
    assert recipe.description and recipe.model in describe(name)


def test_explicit_options_override_the_recipe():
    name = RECIPES.names()[0]
    recipe = RECIPES.get(name)
    key = next(iter(recipe.model_options))
    model, model_opts, train_opts, conditional = apply_recipe(name, None, {key: 3}, {"steps": 7}, False)
    assert model == recipe.model and model_opts[key] == 3 and train_opts["steps"] == 7 and train_opts["recipe"] == name
    for k, v in recipe.train.items():
        if k != "steps":
            assert train_opts[k] == v  # what was not given comes from the recipe
    assert conditional == recipe.conditional


def test_an_unknown_recipe_names_the_option():
    with pytest.raises(TrainingOptionError) as e:
        apply_recipe("no-such-recipe", None, {}, {}, False)
    assert "recipe=no-such-recipe" in str(e.value) and "--recipe no-such-recipe" in render(e.value, "cli")
    assert RECIPES.names()[0] in str(e.value)  # lists the valid ones
    with pytest.raises(TrainingOptionError, match="trains model 'dcgan', not model=vae"):
        apply_recipe("dcgan-cpu-10m", "vae", {}, {}, False)


def test_a_recipe_run_records_its_name_and_merged_options(tmp_path):
    res = turbopix.train(None, "digits", out=tmp_path / "run", recipe="dcgan-cpu-10m",
                         model_options={"g_width": 8, "d_width": 8}, **TINY)
    recipe = RECIPES.get("dcgan-cpu-10m")
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["model"] == recipe.model and run["train"]["recipe"] == "dcgan-cpu-10m"
    assert run["train"]["steps"] == 4 and run["config"]["g_width"] == 8  # explicit values won
    assert run["train"]["d_lr"] == recipe.train["d_lr"] and run["config"]["loss"] == recipe.model_options["loss"]
    assert run["config"]["num_classes"] == (10 if recipe.conditional else 0)
    assert read_metadata(res.model_path)["train"]["recipe"] == "dcgan-cpu-10m"
    from turbopix.evaluation.sources import open_source

    source = open_source(str(res.model_path), n=4, seed=0, classes=[str(i) for i in range(10)])
    assert source.info["recipe"] == "dcgan-cpu-10m"  # evaluation reports name it


def test_two_time_scale_and_bf16_options(tmp_path):
    from turbopix.core.config import TrainConfig
    from turbopix.training.tasks import GANTask

    model = create_model("dcgan", image_size=8, g_width=8, d_width=8)
    task = GANTask(model, TrainConfig(lr=1e-4, d_lr=4e-4))
    assert task.optimizers["g"].param_groups[0]["lr"] == 1e-4 and task.optimizers["d"].param_groups[0]["lr"] == 4e-4
    res = turbopix.train("dcgan", "digits", out=tmp_path / "bf16", precision="bf16",
                         model_options={"g_width": 8, "d_width": 8}, **TINY)
    loaded = turbopix.load(res.model_path)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())  # autocast leaves the weights fp32
    assert all(torch.isfinite(v) for v in map(torch.tensor, res.last_losses.values()))
