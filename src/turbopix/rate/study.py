"""A study: what is rated (its TOML declaration) and the folder that holds its images and ratings.

    name = "Can anyone see the int8 quantization?"
    kind = "ab"                     # 2afc | hype-time | ab | mos
    images_per_source = 50
    trials_per_rater = 40
    [sources]                       # name = anything turbopix loads
    eager = "runs/demo/gan/model.safetensors"
    int8 = "runs/demo/gan-int8"     # an accelerated artifact folder

With ``inputs = "noisy/"`` (ab and mos) the sources are folders of image-to-image outputs shown
beside the inputs they were made from (``paired.py``).

Relative paths are read from the TOML file's folder. The images are drawn once, when the study is
prepared (seeded), and stored as PNG files named by random ids, so every rater sees the same fixed
set and no URL says which source an image came from. The folder is built beside its final place and
renamed into it, so a half-prepared study never exists; the TOML's hash is stored with it, and a
changed declaration is refused rather than silently mixed with old ratings.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..core.config import config_from_dict, opt
from ..core.hashing import sha256_bytes
from . import db, paired
from .errors import StudyError
from .paired import INPUT

Kind = Literal["2afc", "hype-time", "ab", "mos"]
REAL, NOISE = "real", "noise"  # reserved source names: the real images and the attention-check noise
KINDS_WITH_REAL = ("2afc", "hype-time")
DB_NAME = "study.db"
IMAGES = "images"
CHUNK = 64  # images generated per forward pass while preparing


@dataclass
class StudyConfig:
    name: str = opt("turbopix rating study", "title shown to raters and in the report")
    kind: Kind = opt("2afc", "2afc: which image is real (untimed, HYPE-infinity); hype-time: the same with an "
                     "exposure time set by a staircase; ab: which of two images is better (ties allowed); "
                     "mos: score one image from 1 (bad) to 5 (excellent)")
    sources: dict = opt({}, "name = source (a checkpoint, an accelerated artifact folder, an image folder or "
                        "data:NAME[:split]); the generated images under study")
    real: str = opt("", "the real images for 2afc and hype-time (e.g. data:mnist:test or a folder); with mos "
                    "they are rated as one more source named 'real'")
    inputs: str = opt("", "ab and mos: the folder of images the sources were made from (e.g. noisy images); each "
                      "source is then a folder of outputs named like the inputs, and every trial shows the input "
                      "beside results of that same input")
    images_per_source: int = opt(50, "images drawn from each source when the study is prepared", min=2, max=10000)
    trials_per_rater: int = opt(40, "trials each rater is shown, attention checks included", min=1, max=10000)
    gold_every: int = opt(10, "one attention check (a real image against pure noise) every N trials; 0: none",
                          min=0, max=1000)
    seed: int = opt(0, "seed for drawing the images", min=0)
    invite: str = opt("", "when set, raters need the invitation link (?invite=TOKEN) to join")
    folder: str = opt("", "the study folder (default: beside the TOML file, named after it)")
    data_root: str = opt("", "dataset folder for data: sources (default: $TURBOPIX_DATA)")
    question: str = opt("", "the question shown to raters (default: one per kind)")


QUESTIONS = {
    "2afc": "Which image is real?",
    "hype-time": "Which image is real?",
    "ab": "Which image looks better?",
    "mos": "How good is this image? (1 = bad, 5 = excellent)",
}
PAIRED_QUESTIONS = {
    "ab": "Which result of the input looks better?",
    "mos": "How good is this result of the input? (1 = bad, 5 = excellent)",
}


def question(cfg: StudyConfig) -> str:
    return cfg.question or (PAIRED_QUESTIONS if cfg.inputs else QUESTIONS)[cfg.kind]


def read_toml(path: str | Path) -> dict[str, Any]:
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # Python 3.10: the same parser as the tomli package
        import tomli as tomllib  # type: ignore[no-redef]
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise StudyError(f"study file not found: {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise StudyError(f"{path}: not valid TOML: {e}") from None


def load_config(path: str | Path) -> tuple[StudyConfig, Path]:
    """The declaration in ``path`` (checked) and the study folder it names."""
    path = Path(path)
    values = read_toml(path)
    try:
        cfg = config_from_dict(StudyConfig, values, what=str(path))
    except (TypeError, ValueError) as e:
        raise StudyError(f"{path}: {e}") from None
    check_config(cfg, path)
    base = path.parent
    cfg = dataclasses.replace(
        cfg,
        sources={k: _resolve(v, base) for k, v in cfg.sources.items()},
        real=_resolve(cfg.real, base) if cfg.real else "",
        inputs=_resolve(cfg.inputs, base) if cfg.inputs else "",
    )
    folder = Path(cfg.folder) if cfg.folder else path.with_suffix("")
    return cfg, folder if folder.is_absolute() else (base / folder if cfg.folder else folder)


def _resolve(spec: str, base: Path) -> str:
    if spec.startswith("data:"):
        return spec
    p = Path(spec[len("folder:"):] if spec.startswith("folder:") else spec).expanduser()
    return str(p if p.is_absolute() else base / p)


def check_config(cfg: StudyConfig, where: Path | str) -> None:
    if not isinstance(cfg.sources, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in cfg.sources.items()):
        raise StudyError(f"{where}: [sources] must map names to source strings, e.g. gan = \"runs/gan/model.safetensors\"")
    reserved = {REAL, NOISE, INPUT} & set(cfg.sources)
    if reserved:
        raise StudyError(f"{where}: source name(s) {', '.join(sorted(reserved))} are reserved; rename them")
    if cfg.kind in KINDS_WITH_REAL:
        if not cfg.real:
            raise StudyError(f"{where}: kind {cfg.kind} needs real images: set real = \"data:mnist:test\" (or a folder)")
        if not cfg.sources:
            raise StudyError(f"{where}: kind {cfg.kind} needs at least one generated source under [sources]")
    elif cfg.kind == "ab" and len(cfg.sources) < 2:
        raise StudyError(f"{where}: kind ab needs at least two [sources] to compare, got {len(cfg.sources)}")
    elif cfg.kind == "mos" and not (cfg.sources or cfg.real):
        raise StudyError(f"{where}: kind mos needs [sources] (or real) to score")
    if cfg.inputs and cfg.kind not in ("ab", "mos"):
        raise StudyError(f"{where}: inputs (outputs shown beside their inputs) works with kind ab or mos, not {cfg.kind}")


def config_hash(cfg: StudyConfig) -> str:
    values = dataclasses.asdict(cfg)
    if not values["inputs"]:  # added later: studies prepared before it existed keep their hash
        del values["inputs"]
    return sha256_bytes(json.dumps(values, sort_keys=True).encode())


def rated_sources(cfg: StudyConfig) -> dict[str, str]:
    """Every source whose images go into the study, real ones included (under the name 'real')."""
    out = dict(cfg.sources)
    if cfg.real:
        out[REAL] = cfg.real
    return out


def open_study(toml: str | Path, *, progress: bool = True) -> tuple[StudyConfig, Path]:
    """The study folder of ``toml``, prepared now if it does not exist yet."""
    cfg, folder = load_config(toml)
    if (folder / DB_NAME).exists():
        conn = db.connect(folder / DB_NAME)
        try:
            stored = db.get_meta(conn, "config_hash")
        finally:
            conn.close()
        if stored != config_hash(cfg):
            raise StudyError(f"{toml} changed since {folder} was prepared from it; restore it, or set folder = "
                             "\"...\" to a new folder to start a new study (old ratings stay in the old one)")
        return cfg, folder
    if folder.exists():
        raise StudyError(f"{folder} exists but holds no {DB_NAME}; move it away or set folder = \"...\" in {toml}")
    prepare(cfg, folder, progress=progress)
    return cfg, folder


def prepare(cfg: StudyConfig, folder: Path, *, progress: bool = True) -> Path:
    """Draw the images, write them as PNG files and create the database, in a temporary sibling
    folder renamed into place at the end."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        (tmp / IMAGES).mkdir()
        conn = db.create(tmp / DB_NAME)
        rows: list[tuple[str, str, int]] = []
        meta = {"config": json.dumps(dataclasses.asdict(cfg)), "config_hash": config_hash(cfg)}
        if cfg.inputs:
            stems = _store_paired(tmp, cfg, rows, progress=progress)
            meta["input_stems"] = json.dumps(stems)  # item i of every source is the input named stems[i]
        else:
            shape = None
            for name, spec in rated_sources(cfg).items():
                images = _draw(spec, cfg, progress=progress, name=name)
                shape = shape or images.shape[1:]
                rows += _store(tmp, name, images)
            if cfg.gold_every:
                rows += _store(tmp, NOISE, noise_images(gold_count(cfg, cfg.images_per_source), shape, cfg.seed))
        db.add_images(conn, rows)
        db.set_meta(conn, meta)
        conn.close()
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def gold_count(cfg: StudyConfig, items: int) -> int:
    """Noise images for the attention checks: one per check a rater sees, at least 2."""
    return max(2, min(items, math.ceil(cfg.trials_per_rater / cfg.gold_every) + 1))


def _store_paired(folder: Path, cfg: StudyConfig, rows: list[tuple[str, str, int]], *, progress: bool) -> list[str]:
    """Inputs and outputs matched by stem, stored item by item (item i of every source, the noise
    included, belongs to the i-th drawn input); returns the drawn stems."""
    files = paired.match(cfg.inputs, rated_sources(cfg))
    stems = paired.draw(list(files[INPUT]), cfg.images_per_source, cfg.seed)
    if progress:
        print(f"  {len(stems)} inputs from {cfg.inputs}, each with an output from {', '.join(n for n in files if n != INPUT)}",
              file=sys.stderr, flush=True)
    noise = gold_count(cfg, len(stems)) if cfg.gold_every else 0
    for item, stem in enumerate(stems):
        images = paired.read(files, stem)
        if item < noise:  # noise of the outputs' size, so an attention check looks like any trial
            shape = next(image.shape for name, image in images.items() if name != INPUT)
            images[NOISE] = noise_images(1, shape, cfg.seed + item)[0]
        rows += [_store_one(folder, name, item, image) for name, image in images.items()]
    return stems


def _draw(spec: str, cfg: StudyConfig, *, progress: bool, name: str) -> np.ndarray:
    """``images_per_source`` images of ``spec`` as uint8 (N, H, W, C)."""
    from ..evaluation.sources import open_source
    from ..sampling import to_uint8

    source = open_source(spec, n=cfg.images_per_source, seed=cfg.seed, classes=[], data_root=cfg.data_root or None)
    if progress:
        print(f"  {name}: {source.n} images from {spec}", file=sys.stderr, flush=True)
    out = np.concatenate([to_uint8(chunk) for chunk in source.chunks(CHUNK)])
    if len(out) < 2:
        raise StudyError(f"source {name} ({spec}) gave {len(out)} image(s); a study needs at least 2 per source")
    return out


def noise_images(n: int, shape: tuple[int, ...] | None, seed: int) -> np.ndarray:
    """Pure uniform noise in the shape of the study's images: an attention check nobody should
    mistake for a real or a good image."""
    h, w, c = shape or (28, 28, 1)
    return np.random.default_rng(seed + 7919).integers(0, 256, size=(n, h, w, c), dtype=np.uint8)


def _store(folder: Path, source: str, images: np.ndarray) -> list[tuple[str, str, int]]:
    return [_store_one(folder, source, item, image) for item, image in enumerate(images)]


def _store_one(folder: Path, source: str, item: int, image: np.ndarray) -> tuple[str, str, int]:
    from ..sampling import save_image

    image_id = secrets.token_hex(16)
    save_image(image, folder / IMAGES / f"{image_id}.png")
    return image_id, source, item


def stored_config(conn: Any) -> StudyConfig:
    return StudyConfig(**json.loads(db.get_meta(conn, "config")))
