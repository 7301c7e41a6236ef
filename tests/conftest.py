"""Fixtures shared by the whole test suite."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real datasets: env TURBOPIX_DATA, else ../shared/data beside the repository.

    Session-scoped so it reads TURBOPIX_DATA before any test's monkeypatch clears it. Tests that use
    it should be marked ``@pytest.mark.data``; they are skipped where the folder is absent.
    """
    env = os.environ.get("TURBOPIX_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"real datasets not found at {path} (set TURBOPIX_DATA to run these tests)")
    return path.resolve()  # absolute: a relative TURBOPIX_DATA would break links made to it and any chdir


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """No test reads or writes the user's real cache (~/.cache/turbopix): one fresh cache per run."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TURBOPIX_CACHE", str(tmp_path_factory.mktemp("turbopix-cache")))
        yield
