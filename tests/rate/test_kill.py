"""A short run of benchmarks/rating_load.py: 10 raters, then SIGKILL under load and a restart;
every acknowledged rating must be in the database (the script exits 1 otherwise)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "rating_load.py"


@pytest.mark.slow
def test_no_acknowledged_rating_is_lost_to_sigkill(tmp_path):
    pytest.importorskip("uvicorn")
    out = tmp_path / "load.json"
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, str(SCRIPT), "--raters", "10", "--seconds", "3", "--kill-after", "2",
                           "--json", str(out)], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["acknowledged"] > 0 and result["stored"] == result["acknowledged"] and result["missing"] == 0
    assert result["kill"]["acknowledged_before_kill"] > 0 and result["kill"]["missing"] == 0
    assert result["kill"]["ratings_after_restart"] > 0
