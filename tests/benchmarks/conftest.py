"""benchmarks/restoration.py is a script, not a package module: load it once for its tests."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "restoration.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("restoration_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import does: dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)
