"""The benchmarks are scripts, not package modules: load each once for its tests."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(script: str):
    spec = importlib.util.spec_from_file_location(f"{script}_benchmark", BENCHMARKS / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import does: dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    module = _load("restoration")
    yield module
    sys.modules.pop(module.__name__, None)


@pytest.fixture(scope="module")
def completion_bench():
    module = _load("digit_completion")
    yield module
    sys.modules.pop(module.__name__, None)
