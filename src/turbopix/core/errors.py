"""Errors that name options, worded for whoever called: the library or the command line.

The library raises errors in its own terms. Where a message tells the user to change an option, it
writes the option as ``{option:NAME}`` or ``{option:NAME=VALUE}`` (NAME is the Python keyword /
config field). ``str(error)`` renders it as Python (``lr``, ``resume=True``); the CLI renders the
same message with :func:`render` in flag style (``--lr``, ``--resume``), so no library module has
to know the flags and no flag is spelled in two places.

    raise TrainingError(f"{out} already holds a run: pass {{option:resume=True}} to continue it")
    str(e)                      # ".../x already holds a run: pass resume=True to continue it"
    render(e, style="cli")      # ".../x already holds a run: pass --resume to continue it"

Any exception class can take part by mixing in :class:`OptionMessage` (its first argument is the
template).
"""
from __future__ import annotations

import re
from typing import Literal

Style = Literal["python", "cli"]
OPTION = re.compile(r"\{option:([A-Za-z_][A-Za-z0-9_]*)(?:=([^{}]*))?\}")


def flag(name: str) -> str:
    """The command-line spelling of a config field: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def _python(m: re.Match[str]) -> str:
    name, value = m.group(1), m.group(2)
    return name if value is None else f"{name}={value}"


def _cli(m: re.Match[str]) -> str:
    name, value = m.group(1), m.group(2)
    if value is None or value == "True":
        return flag(name)
    if value == "False":
        return flag("no_" + name)
    return f"{flag(name)} {value.strip(chr(39) + chr(34))}"


def render_text(template: str, style: Style = "python") -> str:
    return OPTION.sub(_cli if style == "cli" else _python, template)


class OptionMessage(Exception):
    """Mixin: the first argument is a template that may name options as ``{option:NAME[=VALUE]}``."""

    @property
    def template(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return render_text(self.template, "python")


def render(error: BaseException, style: Style = "python") -> str:
    """The message of any exception; option templates are rendered in ``style``."""
    if isinstance(error, OptionMessage):
        return render_text(error.template, style)
    return str(error)
