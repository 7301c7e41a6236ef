"""The error of a study that cannot be used, in a module of its own so that both ``study.py`` and
the modules it calls (``paired.py``) can raise it without importing each other."""
from __future__ import annotations

from ..core.errors import OptionMessage


class StudyError(OptionMessage, ValueError):
    """A study declaration or folder that cannot be used; the message names the file and the key."""
