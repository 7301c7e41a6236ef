"""``turbopix rate``: help, flag checks and one-line errors."""
from __future__ import annotations

import pytest

from turbopix.cli.main import main


def test_rate_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit):
        main(["rate", "--help"])
    out = capsys.readouterr().out
    assert "serve" in out and "report" in out and "simulate" in out


def test_serve_prepare_only_and_errors(tmp_path, capsys):
    from conftest import write_study

    toml = write_study(tmp_path, "mos")
    assert main(["rate", "serve", "--study", str(toml), "--prepare-only"]) == 0
    assert (tmp_path / "study" / "study.db").exists()
    assert main(["rate", "serve", "--study", str(tmp_path / "missing.toml")]) == 2
    assert "study file not found" in capsys.readouterr().err
    assert main(["rate", "serve", "--study", str(toml), "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_report_of_a_missing_database(tmp_path, capsys):
    assert main(["rate", "report", str(tmp_path / "nope.db")]) == 2
    assert "study database not found" in capsys.readouterr().err
