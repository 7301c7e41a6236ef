"""Config dataclasses and the helpers that read them.

Every option is declared once, as a dataclass field with a help string. The CLI builds its flags
from these fields, training reads them, and checkpoints store them as JSON, so a default or a help
text never exists in two places.
"""
from __future__ import annotations

import argparse
import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, TypeVar

C = TypeVar("C")


def opt(default: Any, help: str, **kw: Any) -> Any:
    """A dataclass field with its help text (shown by ``--help`` and in docs)."""
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


def config_to_dict(cfg: Any) -> dict[str, Any]:
    return {f.name: _jsonable(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}


def _jsonable(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def config_from_dict(cls: type[C], values: dict[str, Any], *, what: str = "") -> C:
    """Build ``cls`` from a dict, rejecting unknown keys with a message listing the valid ones."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(names))
    if unknown:
        label = what or cls.__name__
        raise TypeError(f"unknown option(s) for {label}: {', '.join(unknown)}. Valid options: {', '.join(names)}")
    hints = typing.get_type_hints(cls)
    fixed = {k: _coerce(v, hints[k], k) for k, v in values.items()}
    return cls(**fixed)


def _coerce(value: Any, hint: Any, name: str) -> Any:
    """Bring JSON values back to the declared type (lists to tuples) and check Literal choices."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union and type(None) in args:
        if value is None:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        if value not in args:
            raise ValueError(f"{name} must be one of {', '.join(map(str, args))}; got {value!r}")
        return value
    if origin is tuple:
        return tuple(args[0](v) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and not isinstance(value, hint):
        raise TypeError(f"{name} must be {hint.__name__}; got {value!r}")
    return value


# ---------------------------------------------------------------- argparse from dataclasses
def _parse_bool(s: str) -> bool:
    low = s.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {s!r}")


def add_config_args(parser: argparse.ArgumentParser | Any, cls: type, *, skip: tuple[str, ...] = ()) -> None:
    """Add one ``--flag`` per dataclass field; defaults are left as None so 'not given' is visible."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        hint = hints[f.name]
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is typing.Union and type(None) in args:
            hint = next(a for a in args if a is not type(None))
            origin, args = typing.get_origin(hint), typing.get_args(hint)
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        kw: dict[str, Any] = {"default": None, "dest": f.name}
        if origin is Literal:
            kw["choices"] = list(args)
        elif origin is tuple:
            kw.update(nargs="+", type=args[0], metavar=args[0].__name__.upper())
        elif hint is bool:
            kw.update(type=_parse_bool, metavar="BOOL")
        else:
            kw["type"] = hint
        help_text = f.metadata.get("help", "")
        shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
        kw["help"] = f"{help_text} (default: {shown})"
        parser.add_argument("--" + f.name.replace("_", "-"), **kw)


def given_args(ns: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` that the user actually set on the command line."""
    out = {}
    for f in dataclasses.fields(cls):
        v = getattr(ns, f.name, None)
        if v is not None:
            out[f.name] = tuple(v) if isinstance(v, list) else v
    return out


# ---------------------------------------------------------------- training options
@dataclass
class TrainConfig:
    steps: int = opt(2000, "optimizer steps to train for (a GAN step updates D then G)")
    batch_size: int = opt(64, "images per step (the global batch, split across processes)")
    lr: Optional[float] = opt(None, "learning rate; default per family (GAN 2e-4, VAE/AE 1e-3)")
    beta1: Optional[float] = opt(None, "Adam beta1; default per family (GAN 0.5 as in DCGAN, else 0.9)")
    beta2: float = opt(0.999, "Adam beta2")
    ema_decay: float = opt(0.999, "decay of the EMA of generator weights used for sampling; 0 turns EMA off")
    seed: int = opt(0, "seed for weights, data order and latent noise (a run is reproducible from it)")
    log_every: int = opt(50, "steps between log lines (log.jsonl) and progress-bar updates")
    sample_every: int = opt(500, "steps between sample grids written to samples/; 0 turns them off")
    ckpt_every: int = opt(500, "steps between checkpoints written to checkpoints/; 0 keeps only the final one")
    keep_ckpts: int = opt(3, "how many recent checkpoints to keep (older ones are deleted)")
    threads: Optional[int] = opt(None, "torch CPU threads (default: torch's choice); fix it for bit-exact resume")
    progress: bool = opt(True, "show a progress bar")
    sync_bn: bool = opt(False, "on several processes, batch norm uses the statistics of the global batch "
                        "(SyncBatchNorm), as one process would; accepted and a no-op on one process")
