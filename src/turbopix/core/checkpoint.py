"""One checkpoint format: a single safetensors file whose header carries JSON metadata.

Tensors: the model's state dict (keys as in ``model.state_dict()``), plus, in training
checkpoints, ``ema.<key>`` (EMA weights of the sampling network) and ``optim.<name>.<n>.<field>``
(optimizer state). Metadata (the header's ``turbopix`` entry, JSON): format version, library
version, model name, family and config, training step, and what else the writer adds (train
config, data spec, transforms applied). Nothing is ever unpickled: loading reads tensors and JSON.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), so a killed process
leaves either the old file or the new one, never half of one; the temporary files such a kill
leaves behind (hundreds of MB over a few interrupted runs) are removed at the next save in that
folder, once they are a minute old.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .atomic import atomic_write, refuse_overwrite, remove_orphans
from .version import __version__

FORMAT = "turbopix"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a readable turbopix checkpoint; the message says which and why."""


def atomic_save(tensors: dict[str, torch.Tensor], path: str | Path, metadata: dict[str, Any], *, overwrite: bool) -> Path:
    path = refuse_overwrite(path, overwrite)
    remove_orphans(path.parent)
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={FORMAT: json.dumps(metadata)}))


def read_safetensors(
    path: str | Path, *, what: str = "checkpoint", error: type[ValueError] = ValueError
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """All tensors and the raw header metadata of a safetensors file; ``error`` names the file."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
            return {k: f.get_tensor(k) for k in f.keys()}, header
    except (SafetensorError, OSError, ValueError) as e:
        raise error(f"{path} is not a readable safetensors {what} ({e})") from None


def read_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """All tensors and the metadata of a checkpoint file, with errors that name the file."""
    tensors, header = read_safetensors(path, error=CheckpointError)
    if FORMAT not in header:
        raise CheckpointError(f"{path} is a safetensors file without turbopix metadata; was it written by turbopix.save?")
    try:
        meta = json.loads(header[FORMAT])
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: corrupt metadata ({e})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: metadata must be a JSON object, got {type(meta).__name__}")
    if not isinstance(meta.get("format_version", 0), int):
        raise CheckpointError(f"{path}: metadata 'format_version' must be an integer, got {meta['format_version']!r}")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path} has format version {meta['format_version']}; this turbopix reads up to {FORMAT_VERSION}: upgrade turbopix")
    return tensors, meta


def read_metadata(path: str | Path) -> dict[str, Any]:
    return read_checkpoint(path)[1]


def file_header(**fields: Any) -> dict[str, Any]:
    """The metadata every turbopix file starts with: format and library version, then ``fields``."""
    return {"format_version": FORMAT_VERSION, "library_version": __version__, **fields}
