"""Recipes: named presets of a model, its options and the training options, chosen by measurement.

``turbopix train --recipe dcgan-cpu-10m --data mnist`` trains the recipe's model with its options;
any option given explicitly (a flag, or a keyword of ``turbopix.train``) overrides the recipe's
value. The recipe's name is a training option itself (``TrainConfig.recipe``), so it is recorded in
run.json, in every checkpoint and in the final model's metadata.

A recipe holds plain dicts of config fields; :func:`check_recipe` validates them through the same
``config_from_dict`` as any other option (tests run it over the whole registry). What each recipe
reached, and the probes that chose it: docs/quality.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.config import TrainConfig, config_from_dict
from ..core.registry import MODELS, Registry, UnknownNameError
from ..models import catalog  # noqa: F401  (registers the models a recipe names)
from .errors import TrainingOptionError


@dataclass(frozen=True)
class Recipe:
    model: str  # a registered model name
    description: str  # one line: what it is for and what it reached
    conditional: bool = False  # class-conditional: num_classes from the data's labels
    model_options: dict[str, Any] = field(default_factory=dict)  # fields of the model's config
    train: dict[str, Any] = field(default_factory=dict)  # fields of TrainConfig


RECIPES: Registry[Recipe] = Registry("recipe")


def register(name: str, recipe: Recipe) -> Recipe:
    return RECIPES.register(name)(recipe)


def get_recipe(name: str) -> Recipe:
    """The recipe ``name``; an unknown name is an error naming the option and listing the recipes."""
    try:
        return RECIPES.get(name)
    except UnknownNameError as e:
        raise TrainingOptionError(f"{{option:recipe={name}}}: {e}") from None


def check_recipe(name: str) -> None:
    """Raise if the recipe's model is not registered or a field is not valid for its config."""
    recipe = get_recipe(name)
    config = MODELS.entry(recipe.model).info["config"]
    config_from_dict(config, dict(recipe.model_options), what=f"recipe '{name}' (model {recipe.model})")
    if "recipe" in recipe.train:
        raise TrainingOptionError(f"recipe '{name}' sets {{option:recipe}} itself")
    config_from_dict(TrainConfig, dict(recipe.train), what=f"recipe '{name}' (training)")


def apply_recipe(name: str, model: str | None, model_options: dict[str, Any], train_options: dict[str, Any],
                 conditional: bool) -> tuple[str, dict[str, Any], dict[str, Any], bool]:
    """(model, model options, training options, conditional) with the recipe's values under the
    explicit ones; a model other than the recipe's is refused (its options would not fit)."""
    recipe = get_recipe(name)
    if model is not None and model != recipe.model:
        raise TrainingOptionError(f"{{option:recipe={name}}} trains model '{recipe.model}', not "
                                  f"{{option:model={model}}}: leave out {{option:model}} or choose another recipe")
    return (recipe.model, {**recipe.model_options, **model_options}, {**recipe.train, **train_options, "recipe": name},
            conditional or recipe.conditional)


def describe(name: str) -> str:
    """The recipe's settings on one line: ``model dcgan, conditional; g_width=64, ...; steps=...``."""
    r = RECIPES.get(name)
    parts = [f"model {r.model}" + (", conditional" if r.conditional else "")]
    for d in (r.model_options, r.train):
        if d:
            parts.append(", ".join(f"{k}={v}" for k, v in d.items()))
    return "; ".join(parts)


# ---------------------------------------------------------------- the recipes
# Steps are an upper bound that the time budget normally ends first. A 90-second probe on MNIST
# (benchmarks/recipe_probes.py, both variants at once, one thread each, n = 5,000) favoured DCGAN's
# own recipe: FID 56.7 against 65.3 for spectral norm + hinge + TTUR (too short a run to settle it;
# docs/quality.md has the 10-minute results).
register("dcgan-cpu-10m", Recipe(
    "dcgan", "class-conditional DCGAN (projection D, spectral norm, hinge, TTUR, EMA) for 10 minutes, 28 px; "
    "Fashion-MNIST in 10 min: FID 37.38 vs a plain DCGAN script's 44.26 (docs/quality.md)",
    conditional=True,
    model_options={"g_width": 64, "d_width": 64, "loss": "hinge", "spectral_norm": True},
    train={"steps": 100000, "batch_size": 64, "lr": 1e-4, "d_lr": 4e-4, "beta1": 0.0, "beta2": 0.9, "ema_decay": 0.999,
           "time_budget": "10m"},
))
# Batch 16 and EMA 0.9995 won 10-minute Fashion-MNIST probes against batch 8/32/64 and EMA 0.999
# (FID 5.13 vs 5.67-9.95; docs/quality.md): more, noisier steps in the same time.
register("dcgan-bn-cpu-10m", Recipe(
    "dcgan", "class-conditional DCGAN with DCGAN's own recipe (batch-norm D, BCE, Adam 2e-4 / 0.5), batch 16, EMA "
    "0.9995, 10 minutes, 28 px; FID 2.42 vs 31.09 for a plain script on MNIST, 5.26 vs 21.39 on Fashion-MNIST "
    "(docs/quality.md)",
    conditional=True,
    model_options={"g_width": 64, "d_width": 64},
    train={"steps": 1000000, "batch_size": 16, "lr": 2e-4, "beta1": 0.5, "ema_decay": 0.9995, "time_budget": "10m"},
))


# The same with the mode-seeking term (MSGAN): more diverse samples for some fidelity. In 10-minute
# probes trained at the same time: MNIST recall 0.629 vs 0.611 (FID 3.32 vs 2.42); on Fashion-MNIST,
# weight 0.5: recall 0.559 vs 0.539, FID 7.74 vs 6.79 (docs/quality.md).
register("dcgan-bn-cpu-10m-diverse", Recipe(
    "dcgan", "dcgan-bn-cpu-10m plus the mode-seeking term (weight 1): higher recall and coverage for a higher FID; "
    "MNIST FID 3.77 vs 34.39 for a plain script, recall 0.628 vs 0.547, CAS 0.952 (docs/quality.md)",
    conditional=True,
    model_options={"g_width": 64, "d_width": 64, "mode_seeking": 1.0},
    train={"steps": 1000000, "batch_size": 16, "lr": 2e-4, "beta1": 0.5, "ema_decay": 0.9995, "time_budget": "10m"},
))

# The likelihood recipe: trained on dynamically binarised MNIST (``--data 'mnist?binarize=dynamic'``),
# the IWAE bound with K = 5 reached 1.1 nats lower test NLL in 35 minutes than the ELBO in 40.
register("vae-iwae-35m", Recipe(
    "vae", "fully connected VAE (784-500-500-50, Bernoulli) trained on the IWAE bound (K = 5) for 35 minutes; binarised "
    "MNIST test NLL 87.25 nats (K = 5,000; docs/quality.md)",
    model_options={"hidden": (500, 500), "latent_dim": 50, "importance_samples": 5},
    train={"steps": 1000000, "batch_size": 100, "time_budget": "35m"},
))
