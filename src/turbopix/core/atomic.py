"""Atomic file writes: a reader sees the old file or the new one, never half of one."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import OptionMessage


def _default_mode() -> int:
    """The permissions a plain ``open(path, "w")`` would give: 0o666 less the process umask."""
    umask = os.umask(0)  # the only way to read the umask is to set it ...
    os.umask(umask)  # ... and put it back at once
    return 0o666 & ~umask


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``.

    The temporary file gets ordinary permissions (mkstemp's are 0600, which would make a cache or
    a result file unreadable to other users); on any error it is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """``atomic_write`` for a text file (JSON, HTML, logs)."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


class OutputExistsError(OptionMessage, FileExistsError):
    """An output that is already there and may not be replaced (the message names the
    ``overwrite`` option, which the CLI shows as ``--overwrite``)."""


def refuse_overwrite(path: str | Path, overwrite: bool, *, exists: bool | None = None, what: str = "") -> Path:
    """The one overwrite check: raise :class:`OutputExistsError` if ``path`` exists (or ``exists``
    says so, for outputs made of several files) and ``overwrite`` is false. ``what`` names the
    thing in the message ("a demo", "an artifact")."""
    path = Path(path)
    there = path.exists() if exists is None else exists
    if there and not overwrite:
        holds = f" already holds {what}" if what else " exists"
        raise OutputExistsError(f"{path}{holds}; pass {{option:overwrite=True}} to replace it")
    return path
