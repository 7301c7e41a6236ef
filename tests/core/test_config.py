"""Options declared once: the argparse flags built from a config dataclass, and the checks of
``config_from_dict`` (types, choices, declared ranges) with errors that name the option."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Literal, Optional

import pytest

from turbopix.core.config import (
    OptionTypeError, OptionValueError, TrainConfig, add_config_args, config_from_dict, given_args, opt,
)
from turbopix.core.errors import OptionMessage, render


@dataclass
class Toy:
    count: int = opt(3, "how many", min=1)
    rate: Optional[float] = opt(None, "a rate", above=0, max=10)
    decay: float = opt(0.5, "a decay", min=0, below=1)
    widths: tuple[int, ...] = opt((4, 8), "widths", min=1)
    verbose: bool = opt(True, "talk")
    fast: bool = opt(False, "hurry")
    mode: Literal["a", "b"] = opt("a", "a mode")


def parse(argv: list[str]) -> dict:
    p = argparse.ArgumentParser()
    add_config_args(p, Toy)
    return given_args(p.parse_args(argv), Toy)


@pytest.mark.parametrize("argv, value", [
    (["--fast"], True), (["--no-fast"], False), (["--fast", "false"], False), (["--fast", "true"], True),
    (["--fast", "off"], False), (["--fast=yes"], True), ([], None),
])
def test_a_boolean_option_accepts_switch_negation_and_value(argv, value):
    assert parse(argv).get("fast") == value


def test_a_negated_switch_turns_a_true_default_off_and_the_last_flag_wins():
    assert parse(["--no-verbose"]) == {"verbose": False}
    assert parse(["--no-verbose", "--verbose"]) == {"verbose": True}


def test_a_boolean_option_rejects_other_words(capsys):
    with pytest.raises(SystemExit):
        parse(["--fast", "maybe"])
    assert "--fast" in capsys.readouterr().err


def test_flags_of_every_kind_and_only_given_values():
    assert parse(["--count", "5", "--widths", "1", "2", "3", "--mode", "b", "--rate", "0.5"]) == {
        "count": 5, "widths": (1, 2, 3), "mode": "b", "rate": 0.5}


def test_help_shows_defaults_and_ranges():
    p = argparse.ArgumentParser()
    add_config_args(p, Toy)
    text = " ".join(p.format_help().split())
    assert "how many (default: 3, >= 1)" in text
    assert "a decay (default: 0.5, >= 0 and < 1)" in text
    assert "a rate (> 0 and <= 10)" in text  # no "(default: None)"
    assert "--no-fast for false" in text


@pytest.mark.parametrize("values, option", [
    ({"count": 0}, "count"), ({"rate": 0.0}, "rate"), ({"rate": 11}, "rate"), ({"decay": 1.0}, "decay"),
    ({"decay": -0.1}, "decay"), ({"widths": (4, 0)}, "widths"),
])
def test_out_of_range_values_are_errors_naming_the_option(values, option):
    with pytest.raises(OptionValueError) as info:
        config_from_dict(Toy, values)
    e = info.value
    assert isinstance(e, OptionMessage) and isinstance(e, ValueError)
    assert str(e).startswith(f"{option} must be ")
    assert render(e, "cli").startswith(f"--{option} must be ")


def test_values_at_inclusive_bounds_and_unset_optionals_pass():
    cfg = config_from_dict(Toy, {"count": 1, "rate": 10, "decay": 0, "widths": [1]})
    assert (cfg.count, cfg.rate, cfg.decay, cfg.widths) == (1, 10.0, 0.0, (1,))
    assert config_from_dict(Toy, {"rate": None}).rate is None


def test_unknown_options_wrong_types_and_bad_choices_are_errors():
    with pytest.raises(OptionTypeError, match="unknown option.*nope.*Valid options: count"):
        config_from_dict(Toy, {"nope": 1})
    with pytest.raises(TypeError, match="count must be int"):
        config_from_dict(Toy, {"count": "3"})
    with pytest.raises(ValueError) as info:
        config_from_dict(Toy, {"mode": "c"})
    assert render(info.value, "cli") == "--mode must be one of a, b; got 'c'"


@pytest.mark.parametrize("values, flag", [
    ({"steps": 0}, "--steps"), ({"batch_size": 0}, "--batch-size"), ({"log_every": 0}, "--log-every"),
    ({"sample_every": -1}, "--sample-every"), ({"ckpt_every": -1}, "--ckpt-every"), ({"keep_ckpts": 0}, "--keep-ckpts"),
    ({"threads": 0}, "--threads"), ({"ema_decay": 1.0}, "--ema-decay"), ({"lr": 0.0}, "--lr"), ({"beta2": 1.0}, "--beta2"),
])
def test_training_options_declare_their_ranges(values, flag):
    with pytest.raises(OptionValueError) as info:
        config_from_dict(TrainConfig, values)
    assert render(info.value, "cli").startswith(f"{flag} must be")


def test_training_defaults_and_edge_values_are_valid():
    config_from_dict(TrainConfig, {})
    config_from_dict(TrainConfig, {"sample_every": 0, "ckpt_every": 0, "ema_decay": 0.0, "threads": None, "lr": None})
