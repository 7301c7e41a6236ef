"""Fixtures of the evaluation tests: a private feature cache and two tiny untrained generators.

The generators are randomly initialised (a conditional DCGAN and a VAE, 28x28): their numbers are
meaningless, but every path of the pipeline runs in about a second.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

import turbopix


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own feature cache, so none reads another's entries."""
    monkeypatch.setenv("TURBOPIX_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "features"


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    cond = turbopix.create_model("dcgan", image_size=28, g_width=8, d_width=8, num_classes=10)
    uncond = turbopix.create_model("conv-vae", image_size=28, width=8)
    return {"cond": turbopix.save(cond, root / "cond.safetensors"), "uncond": turbopix.save(uncond, root / "uncond.safetensors")}
