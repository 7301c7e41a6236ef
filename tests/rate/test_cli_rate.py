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


def test_flags_come_from_the_config_dataclasses(tmp_path, capsys):
    """Options are fields of rate/config.py: ranges checked in one place, errors name the flag."""
    assert main(["rate", "serve"]) == 2
    assert "--study is required" in capsys.readouterr().err
    assert main(["rate", "report", str(tmp_path / "x.db"), "--boot", "50"]) == 2
    assert "--boot must be >= 100" in capsys.readouterr().err
    assert main(["rate", "simulate", "--repeats", "0"]) == 2
    assert "--repeats must be >= 1" in capsys.readouterr().err
    assert main(["rate", "simulate", "--kind", "vote"]) == 2
    assert "--kind must be all or one of" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["rate", "serve", "--help"])
    out = capsys.readouterr().out
    assert "--prepare-only" in out and "127.0.0.1" in out
