"""Small untrained generators saved as checkpoints: the acceleration transforms do not need
trained weights to be checked for correctness (outputs vs eager, shapes, int8 layers present)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import torch

import turbopix
from turbopix.models import ImageGenerator, create_model


def randomize_norms(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give batch norms non-trivial running statistics, as a trained model has (fresh ones are the
    identity, which would hide a transform that mishandles them)."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
    return model


def make_model(name: str, **config) -> ImageGenerator:
    """A seeded, untrained model in eval mode with non-trivial batch-norm statistics."""
    torch.manual_seed(0)
    return randomize_norms(create_model(name, **config)).eval()


@pytest.fixture(scope="session")
def make() -> Callable[..., ImageGenerator]:
    return make_model


@pytest.fixture(scope="session")
def dcgan_ckpt(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "dcgan.safetensors"
    return turbopix.save(make_model("dcgan"), path)


@pytest.fixture(scope="session")
def mlpgan_ckpt(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "mlp-gan.safetensors"
    return turbopix.save(make_model("mlp-gan"), path)


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """Run these tests on one thread: on a shared, oversubscribed 2-core machine, two OpenMP
    threads waiting on each other made the tiny training loops here 50-100x slower (measured:
    20 distillation steps of mlp-gan took 12-18 s on 2 threads and 0.1-0.25 s on 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
