"""Errors raised by the data package.

Every problem with a user's data is a ``DataError`` whose message names the file and says how to fix
it, so the CLI can print it as one line instead of a traceback from PIL, gzip or pickle. They subclass
``ValueError`` because in every case the input (a file, a spec, an option) has a bad value. Options
are named as ``{option:NAME}`` templates (``turbopix.core.errors``), shown as flags by the CLI.
"""
from __future__ import annotations

from ..core.errors import OptionMessage


class DataError(OptionMessage, ValueError):
    """Base class: the data asked for cannot be loaded as it is."""


class DataNotFoundError(DataError):
    """A dataset file or folder is not in the data root or cache, and may not be downloaded."""


class DownloadError(DataError):
    """A download failed for a reason other than a checksum (network, HTTP status)."""


class ChecksumError(DataError):
    """A file's sha256 differs from the known digest of the official file."""


class CorruptFileError(DataError):
    """A file cannot be parsed: truncated or corrupt image, gzip, IDX, tar or pickle."""


class UnsafePickleError(CorruptFileError):
    """A pickle asked for a Python object that loading numpy arrays never needs."""
