"""One small registry class; every kind of named thing (models, datasets, metrics, ...) uses it.

A registry maps a name to an object (a class or a factory function) plus free-form info, and turns a
wrong name into an error that tells the user what the valid names are.
"""
from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """Raised for a name that is not registered; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it readable
        return str(self.args[0])


@dataclass
class Entry(Generic[T]):
    name: str
    obj: T
    info: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind  # used in messages: "unknown model 'x'"
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str | None = None, **info: Any) -> Callable[[T], T]:
        """Decorator: ``@MODELS.register("dcgan", family="gan")``; the name defaults to ``obj.__name__``."""

        def deco(obj: T) -> T:
            key = name or getattr(obj, "__name__")
            if key in self._entries:
                raise ValueError(f"{self.kind} '{key}' is already registered")
            self._entries[key] = Entry(key, obj, dict(info))
            return obj

        return deco

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise UnknownNameError(
                f"unknown {self.kind} '{name}'.{hint} Choose one of: {', '.join(self.names())}"
            ) from None

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching a shell-style pattern, e.g. ``names('*vae')``."""
        return sorted(n for n in self._entries if fnmatch.fnmatch(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self._entries[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._entries)


MODELS: Registry[Any] = Registry("model")
DATASETS: Registry[Any] = Registry("dataset")
METRICS: Registry[Any] = Registry("metric")
FEATURES: Registry[Any] = Registry("feature extractor")
DEGRADATIONS: Registry[Any] = Registry("degradation")
