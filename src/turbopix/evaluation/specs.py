"""The distribution metrics an evaluation can run, read from their one declaration in METRICS.

Each registered metric of ``kind="distribution"`` says (see ``turbopix.metrics.distribution``) its
key, whether it is a default, which inputs it takes (as roles such as ``generated_features``), its
parameters and how its result is printed. This module turns that into a :class:`MetricSpec`:
what the metric needs before any sampling starts, how to call it on two sample sets, and the rows
of the result table. No metric is named here.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.errors import OptionMessage
from ..core.registry import METRICS, Entry
from ..metrics import distribution as _registers  # noqa: F401  (importing it registers the metrics)

SIDES = ("generated", "reference")


class EvaluationError(OptionMessage, ValueError):
    """A request that cannot be evaluated as asked; the message says why and what to change."""


@dataclass(frozen=True)
class MetricSpec:
    key: str  # its name in evaluate(metrics=...) and in the result
    entry: Entry[Any]

    @property
    def info(self) -> dict[str, Any]:
        return self.entry.info

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(self.info["inputs"])

    def _reference_inputs(self) -> tuple[str, ...]:
        """The inputs of the reference value: the generated set's roles read from the reference."""
        return tuple(role.replace("generated_", "reference_", 1) for role in self.inputs)

    def roles(self) -> set[str]:
        """Every input the metric reads, its reference value included."""
        return set(self.inputs) | (set(self._reference_inputs()) if self.info.get("reference_value") else set())

    def needs_logits(self) -> bool:
        return any(role == "num_classes" or role.endswith(("_logits", "_predicted_classes")) for role in self.roles())

    def needs(self, role: str) -> bool:
        return role in self.roles()

    def rows(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        return [(label, fmt.format(**values)) for label, fmt in self.info["rows"]]

    def compute(self, sets: dict[str, Any], num_classes: int, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(values, params)``: the metric on the generated and reference sample sets (objects
        with the role fields and ``n``), as plain JSON values, and the parameters it used."""
        values, params = self._call(self.inputs, sets, num_classes, seed)
        if self.info.get("reference_value"):  # the same metric of the reference set alone
            values["reference_value"] = self._call(self._reference_inputs(), sets, num_classes, seed)[0]["value"]
        return values, {**self.info.get("notes", {}), **params}  # a note never hides a value used

    def _call(self, roles: tuple[str, ...], sets: dict[str, Any], num_classes: int, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
        args = [num_classes if role == "num_classes" else getattr(sets[side], field)
                for role, (side, field) in zip(roles, map(_side, roles))]
        params = self._params(min(sets[side].n for side, _ in map(_side, roles) if side))
        kw = {"seed": seed} if "seed" in inspect.signature(self.entry.obj).parameters else {}
        return as_values(self.entry.obj(*args, **params, **kw)), params

    def _params(self, samples: int) -> dict[str, Any]:
        """The keyword arguments after the inputs, defaults overridden by the declared ``params``,
        those of ``at_most_samples`` clipped to ``samples``; ``seed`` is passed apart."""
        sig = inspect.signature(self.entry.obj).parameters.values()
        positional = len(self.inputs)
        params = {
            p.name: p.default for i, p in enumerate(sig)
            if i >= positional and p.name != "seed" and p.default is not inspect.Parameter.empty
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }
        params.update(self.info.get("params", {}))
        for name in self.info.get("at_most_samples", ()):
            params[name] = min(params[name], samples)
        return params


def _side(role: str) -> tuple[str | None, str]:
    """``generated_features`` -> ``("generated", "features")``; ``num_classes`` -> ``(None, ...)``."""
    side, _, field = role.partition("_")
    if side in SIDES:
        return side, field
    if role != "num_classes":
        raise ValueError(f"unknown metric input '{role}': expected SIDE_FIELD (SIDE generated or reference) or num_classes")
    return None, role


def as_values(out: Any) -> dict[str, Any]:
    """A metric's return value as a JSON-ready dict: a number is ``value``, a pair ``value`` and
    ``std``, a dict is kept; NaN inside lists (a class absent from the test set) becomes None."""
    if isinstance(out, dict):
        values = dict(out)
    elif isinstance(out, tuple) and len(out) == 2:
        values = {"value": float(out[0]), "std": float(out[1])}
    else:
        values = {"value": float(out)}
    return {k: [None if isinstance(x, float) and math.isnan(x) else x for x in v] if isinstance(v, list) else v
            for k, v in values.items()}


def split_names(value: str | Sequence[str]) -> list[str]:
    """Names from ``"a,b"``, ``["a", "b"]`` or ``["a,b"]`` (what ``--metrics a,b`` parses to),
    stripped and lower-cased, empty ones dropped."""
    items = [value] if isinstance(value, str) else list(value)
    return [name.strip().lower() for item in items for name in str(item).split(",") if name.strip()]


def distribution_metrics() -> dict[str, MetricSpec]:
    """Every registered distribution metric by key, in declared order."""
    entries = [e for e in METRICS if e.info.get("kind") == "distribution" and "inputs" in e.info]
    entries.sort(key=lambda e: e.info.get("order", math.inf))
    return {e.info.get("key", e.name): MetricSpec(e.info.get("key", e.name), e) for e in entries}


def metric_keys() -> list[str]:
    return list(distribution_metrics())


def default_metric_keys() -> list[str]:
    return [key for key, spec in distribution_metrics().items() if spec.info.get("default")]


def parse_metrics(metrics: str | Sequence[str]) -> list[str]:
    """Metric keys from a list or a comma-separated string, checked, duplicates dropped."""
    names = split_names(metrics)
    known = metric_keys()
    if not names:
        raise EvaluationError(f"no metrics given: {{option:metrics}} is empty; choose from: {', '.join(known)}")
    unknown = [m for m in names if m not in known]
    if unknown:
        raise EvaluationError(f"unknown metric(s): {', '.join(unknown)}; {{option:metrics}} takes: {', '.join(known)}")
    return list(dict.fromkeys(names))

