"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Also the one check made before any output is written (:func:`refuse_overwrite`: not silently
replaced, the right kind of thing, a folder we can write in), and the clean-up of temporary files a
killed process left behind (:func:`remove_orphans`).
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .errors import OptionMessage


def default_mode(folder: bool = False) -> int:
    """The permissions a plain ``open(path, "w")`` (or ``mkdir``) would give: 0o666 (0o777) less
    the process umask."""
    umask = os.umask(0)  # the only way to read the umask is to set it ...
    os.umask(umask)  # ... and put it back at once
    return (0o777 if folder else 0o666) & ~umask


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``.

    The temporary file gets ordinary permissions (mkstemp's are 0600, which would make a cache or
    a result file unreadable to other users); on any error it is removed and ``path`` is untouched.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
        os.close(fd)
        write(tmp)
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except OSError as e:  # a full disk, a read-only folder, a folder where the file should be, ...
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from e
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path


TMP_SUFFIX = ".tmp"
# ".NAME.XXXXXXXX.tmp": what atomic_write's mkstemp creates (8 random characters)
ORPHAN = re.compile(r"^\..+\.[A-Za-z0-9_]{8}" + re.escape(TMP_SUFFIX) + "$")


def remove_orphans(folder: str | Path, min_age_s: float = 60.0) -> list[Path]:
    """Delete the temporary files of interrupted :func:`atomic_write` calls in ``folder``: regular
    files named like them and untouched for ``min_age_s`` seconds (a write in progress in another
    process is younger). Called where large files are written repeatedly (training checkpoints)."""
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not ORPHAN.match(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime >= min_age_s:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone already, or not ours to delete
    return removed


def atomic_write_text(path: str | Path, text: str) -> Path:
    """``atomic_write`` for a text file (JSON, HTML, logs)."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


class OutputError(OptionMessage, OSError):
    """An output that cannot be written there: the message names the path and the reason."""


class OutputExistsError(OptionMessage, FileExistsError):
    """An output that is already there and may not be replaced (the message names the
    ``overwrite`` option, which the CLI shows as ``--overwrite``)."""


def refuse_overwrite(path: str | Path, overwrite: bool, *, exists: bool | None = None, what: str = "",
                     folder: bool = False) -> Path:
    """The one check before an output is written, so that a command fails before its work, not after.

    Raises :class:`OutputExistsError` if ``path`` exists (or ``exists`` says so, for outputs made of
    several files) and ``overwrite`` is false; ``what`` names the thing in the message ("a demo",
    "an artifact"). Raises :class:`OutputError`, whatever ``overwrite`` says, if something of the
    wrong kind is there (a folder or a device where a file goes; ``folder=True`` for outputs that
    are folders) or if the nearest existing parent is not a folder we may write in.
    """
    path = Path(path)
    if os.path.lexists(path):
        _check_kind(path, folder)
    there = path.exists() if exists is None else exists
    if there and not overwrite:
        holds = f" already holds {what}" if what else " exists"
        raise OutputExistsError(f"{path}{holds}; pass {{option:overwrite=True}} to replace it")
    parent = path.absolute().parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: {parent} is read-only or not ours to write in")
    return path


def _check_kind(path: Path, folder: bool) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:  # a dangling symlink: writing replaces the link itself
        return
    if folder and not stat.S_ISDIR(mode):
        raise OutputError(f"{path} exists and is not a folder; choose another name")
    if not folder and not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise OutputError(f"{path} is {kind}; give a file name")
