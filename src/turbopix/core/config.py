"""Config dataclasses and the helpers that read them.

Every option is declared once, as a dataclass field with a help string and, for numbers, the range
it may take. The CLI builds its flags from these fields, :func:`config_from_dict` checks values
against them, training reads them, and checkpoints store them as JSON, so a default, a help text or
a bound never exists in two places.

    steps: int = opt(2000, "optimizer steps", min=1)
    ema_decay: float = opt(0.999, "EMA decay; 0 turns EMA off", min=0, below=1)

Errors name the option as ``{option:NAME}`` (see ``core.errors``): ``steps must be >= 1`` from
Python, ``--steps must be >= 1`` on the command line.
"""
from __future__ import annotations

import argparse
import dataclasses
import operator
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, TypeVar

from .errors import OptionMessage, flag, render_text

C = TypeVar("C")

# The bounds a numeric option may declare: inclusive (min, max) and strict (above, below).
BOUNDS = {"min": (">=", operator.ge), "above": (">", operator.gt), "max": ("<=", operator.le), "below": ("<", operator.lt)}


class OptionValueError(OptionMessage, ValueError):
    """An option's value is out of its declared range or not one of its choices."""


class OptionTypeError(OptionMessage, TypeError):
    """An option that does not exist, or a value of the wrong type."""


def opt(default: Any, help: str, **kw: Any) -> Any:
    """A dataclass field with its help text (shown by ``--help`` and in docs) and, for numbers, its
    bounds: ``min``/``max`` (inclusive), ``above``/``below`` (strict). A None default is 'not
    given' and is not checked; a tuple's bounds apply to each element. ``resumable=True`` marks a
    training option that ``resume`` may change (``training/provenance.py``)."""
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


def config_to_dict(cfg: Any) -> dict[str, Any]:
    return {f.name: _jsonable(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}


def _jsonable(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def config_from_dict(cls: type[C], values: dict[str, Any], *, what: str = "") -> C:
    """Build ``cls`` from a dict: unknown keys, wrong types, bad choices and out-of-range numbers
    are errors that name the option (and list the valid ones)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        label = what or cls.__name__
        raise OptionTypeError(f"unknown option(s) for {label}: {', '.join(unknown)}. "
                              f"Valid options: {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    fixed = {k: _coerce(v, hints[k], k) for k, v in values.items()}
    for k, v in fixed.items():
        check_range(k, v, fields[k].metadata)
    return cls(**fixed)


def _unwrap_optional(hint: Any) -> Any:
    """``Optional[X]`` -> ``X``; anything else unchanged."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Union and type(None) in args:
        return next(a for a in args if a is not type(None))
    return hint


def _coerce(value: Any, hint: Any, name: str) -> Any:
    """Bring JSON values back to the declared type (lists to tuples) and check Literal choices."""
    if value is None and _unwrap_optional(hint) is not hint:
        return None
    hint = _unwrap_optional(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        if value not in args:
            raise OptionValueError(f"{{option:{name}}} must be one of {', '.join(map(str, args))}; got {value!r}")
        return value
    if origin is tuple:
        return tuple(args[0](v) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and not isinstance(value, hint):
        raise OptionTypeError(f"{{option:{name}}} must be {hint.__name__}; got {value!r}")
    return value


def describe_range(meta: typing.Mapping[str, Any]) -> str:
    """The declared bounds in words: ``>= 0 and < 1`` ('' when there are none)."""
    return " and ".join(f"{op} {_number(meta[key])}" for key, (op, _) in BOUNDS.items() if key in meta)


def _number(v: float) -> str:
    return str(v) if isinstance(v, int) else f"{v:g}"


def check_range(name: str, value: Any, meta: typing.Mapping[str, Any], error: type[Exception] = None) -> None:  # type: ignore[assignment]
    """Raise ``error`` (:class:`OptionValueError` by default) if ``value`` (or an element of a
    tuple) is out of bounds."""
    for v in value if isinstance(value, tuple) else (value,):
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if not all(holds(v, meta[key]) for key, (_, holds) in BOUNDS.items() if key in meta):
            raise (error or OptionValueError)(f"{{option:{name}}} must be {describe_range(meta)}; got {v!r}")


def check_fields(cfg: Any, error: type[Exception] | None = None) -> None:
    """Check every field of the config ``cfg`` against its declared range: for ``__post_init__``,
    so a config built directly (not through :func:`config_from_dict`) is checked too."""
    for f in dataclasses.fields(cfg):
        check_range(f.name, getattr(cfg, f.name), f.metadata, error)


# ---------------------------------------------------------------- argparse from dataclasses
def _parse_bool(s: str) -> bool:
    low = s.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected nothing or true/false, got {s!r} (a bare switch takes the next "
                                     "word as its value when it is not a flag: put other arguments first)")


def add_config_args(parser: argparse.ArgumentParser | Any, cls: type, *, skip: tuple[str, ...] = ()) -> None:
    """Add one ``--flag`` per dataclass field; defaults are left as None so 'not given' is visible.

    A boolean field ``x`` accepts ``--x``, ``--no-x`` and ``--x true/false``. Bounds are checked by
    :func:`config_from_dict` (one check for Python and CLI callers) and shown in the help; help texts
    may name other options as ``{option:NAME}``.
    """
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        hint = _unwrap_optional(hints[f.name])
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        kw: dict[str, Any] = {"default": None, "dest": f.name}
        if origin is Literal:
            kw["choices"] = list(args)
        elif origin is tuple:
            kw.update(nargs="+", type=args[0], metavar=args[0].__name__.upper())
        elif hint is bool:
            kw.update(nargs="?", const=True, type=_parse_bool, metavar="BOOL")
        else:
            kw["type"] = hint
        kw["help"] = _help(f, default, hint is bool)
        parser.add_argument(flag(f.name), **kw)
        if hint is bool:
            parser.add_argument(flag("no_" + f.name), dest=f.name, action="store_const", const=False, help=argparse.SUPPRESS)


def _help(f: dataclasses.Field, default: Any, switch: bool) -> str:
    notes = []
    if default is not None:
        notes.append("default: " + (" ".join(map(str, default)) if isinstance(default, tuple) else str(default)))
    if describe_range(f.metadata):
        notes.append(describe_range(f.metadata))
    text = render_text(f.metadata.get("help", ""), "cli")  # help texts may name options too
    if switch:
        text += f"; {flag('no_' + f.name)} for false"
    return f"{text} ({', '.join(notes)})" if notes else text


def given_args(ns: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` that the user actually set on the command line."""
    out = {}
    for f in dataclasses.fields(cls):
        v = getattr(ns, f.name, None)
        if v is not None:
            out[f.name] = tuple(v) if isinstance(v, list) else v
    return out


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds from ``"600"``, ``"90s"``, ``"10m"``, ``"1.5h"`` or ``"1h30m"``; ValueError otherwise."""
    import re

    parts = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)\s*([smh]?)\s*)+", text.lower())
    if not parts:
        raise ValueError(f"not a duration: {text!r} (use seconds or e.g. 90s, 10m, 1.5h, 1h30m)")
    seconds = sum(float(v) * _UNITS[u or "s"] for v, u in re.findall(r"(\d+(?:\.\d+)?)\s*([smh]?)", text.lower()))
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {text!r}")
    return seconds


# ---------------------------------------------------------------- training options
@dataclass
class TrainConfig:
    steps: int = opt(2000, "optimizer steps to train for (a GAN step updates D then G); may grow on resume",
                     min=1, resumable=True)
    batch_size: int = opt(64, "images per step (the global batch, split across processes)", min=1)
    lr: Optional[float] = opt(None, "learning rate; default per family (GAN 2e-4, VAE/AE 1e-3)", above=0)
    d_lr: Optional[float] = opt(None, "GAN discriminator learning rate, when it should differ from {option:lr} "
                                "(two time-scale update rule, Heusel et al. 2017); default: {option:lr}", above=0)
    beta1: Optional[float] = opt(None, "Adam beta1; default per family (GAN 0.5 as in DCGAN, else 0.9)", min=0, below=1)
    beta2: float = opt(0.999, "Adam beta2", min=0, below=1)
    ema_decay: float = opt(0.999, "decay of the EMA of generator weights used for sampling; 0 turns EMA off",
                           min=0, below=1)
    seed: int = opt(0, "seed for weights, data order and latent noise (a run is reproducible from it)")
    log_every: int = opt(50, "steps between log lines (log.jsonl) and progress-bar updates", min=1, resumable=True)
    sample_every: int = opt(500, "steps between sample grids written to samples/; 0 turns them off", min=0, resumable=True)
    ckpt_every: int = opt(500, "steps between checkpoints written to checkpoints/; 0 keeps only the final one", min=0, resumable=True)
    keep_ckpts: int = opt(3, "how many recent checkpoints to keep (older ones are deleted)", min=1, resumable=True)
    threads: Optional[int] = opt(None, "torch CPU threads; by default re-chosen while training from what runs fastest, "
                                 "so a run adapts when other processes take cores (core/threads.py); fix it "
                                 "for bit-exact resume", min=1, resumable=True)
    progress: bool = opt(True, "show a progress bar", resumable=True)
    time_budget: Optional[str] = opt(None, "stop cleanly after this much training time (e.g. 600, 10m, 1.5h): the "
                                     "checkpoint, samples and final model are written at the step reached; "
                                     "--resume continues towards steps", resumable=True)
    lr_schedule: Literal["constant", "cosine"] = opt(
        "constant", "learning rate over the run: constant, or cosine: from {option:lr} down to 0 along a half "
        "cosine over {option:steps} (Loshchilov & Hutter 2017); a function of the step, so resume continues it "
        "(growing {option:steps} on resume stretches what is left of the decay)")
    init_from: Optional[str] = opt(None, "start from the weights of this model file, or of a shipped model by name, "
                                   "instead of random ones (fine-tuning); it must hold the same model with weights "
                                   "of the same shapes (patch size and loss may differ)")
    precision: Literal["fp32", "bf16"] = opt("fp32", "arithmetic of the training steps: bf16 runs them under "
                                             "torch.autocast in bfloat16 (weights, optimizer and EMA stay fp32)")
    recipe: Optional[str] = opt(None, "a named preset of model, model options and training options ('turbopix "
                                "recipes' lists them); any option given explicitly overrides the recipe's value")
    sync_bn: bool = opt(False, "on several processes, batch norm uses the statistics of the global batch "
                        "(SyncBatchNorm), as one process would; accepted and a no-op on one process")
