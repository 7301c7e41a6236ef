"""Translate image files: a pix2pix or CycleGAN model applied to files or folders, with progress bars.

Size policy. A translator learned its mapping at one resolution (its ``image_size``, e.g. 64 px
facades), and its U-Net or ResNet sees the whole image at once (the U-Net's bottleneck spans the
whole training image), so tiling a large image would change what it does. Instead each image is

1. resized (antialiased bilinear) so that its shorter side is ``size`` pixels (default: the model's
   ``image_size``; 0 keeps the file's size), keeping the aspect ratio,
2. reflect-padded to a multiple of the model's ``size_multiple``, translated, the padding cut off,
3. resized back (bicubic) to the file's own size, so outputs line up with their inputs.

Memory is bounded by the working size, not the file's. Everything the restore pipeline refuses
(unreadable, truncated, alpha, 16-bit, more than ``max_pixels``) is refused here too, by the same
code (``turbopix.pipelines.restore``), and outputs are written the same way (atomic, never over an
existing file unless ``overwrite``). Colour: a grey model on a colour file runs on its Y (luma) and
keeps its chroma (the restore pipeline's rule); a colour model on a grey file sees it repeated to RGB
and writes its RGB output (``colour_out``: a grey -> colour model colourises grey files; the restorers
return the grey mean instead).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

import torch
import torch.nn.functional as F

from ..core.config import opt
from ..loading import load
from .classical import Method
from .restore import RestoreConfig, RestoreError, RestoreReport, restore_files


@dataclass
class TranslateConfig:
    """What to translate with; the file options (overwrite, skip_bad, max_pixels, ...) are
    ``RestoreConfig``'s, declared once there."""

    model: Optional[str] = opt(None, "the translator: a pix2pix or cyclegan model file (turbopix train), or an artifact folder")
    direction: Literal["a2b", "b2a"] = opt("a2b", "a2b: the domain-A -> B generator (pix2pix: the only one); b2a: CycleGAN's other generator")
    size: Optional[int] = opt(None, "working resolution: shorter side in pixels before translating; default the model's "
                              "image_size; 0 = the file's own size", min=0)


def translation_method(model: Any, direction: str = "a2b", size: int | None = None) -> Method:
    """A loaded translator (``turbopix.load``) as a restore-pipeline Method (see the size policy)."""
    family = getattr(model, "family", None)
    if family not in ("pix2pix", "cyclegan"):
        raise RestoreError(f"model '{getattr(model, 'name', '?')}' is a {family or 'non-turbopix'} model, "
                           "not a translator (pix2pix, cyclegan): choose another {option:model}")
    if direction not in getattr(model, "directions", ("a2b",)):
        kind = "an accelerated a2b artifact" if not hasattr(model, "directions") else f"a {family} model"
        raise RestoreError(f"{{option:direction={direction}}}: '{getattr(model, 'name', '?')}' is {kind} and translates only a2b")
    config = model.config
    work = config.image_size if size is None else size
    multiple = getattr(model, "size_multiple", 1)
    translate = (lambda x: model.translate(x, direction)) if hasattr(model, "translate") else (lambda x: model.infer(image=x))

    @torch.no_grad()
    def run(image: torch.Tensor, sigma: Any = None, mask: Any = None) -> torch.Tensor:
        h, w = image.shape[-2:]
        x = image
        if work:
            scale = work / min(h, w)
            x = F.interpolate(x, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="bilinear",
                              align_corners=False, antialias=True)
        ph, pw = (-x.shape[-2]) % multiple, (-x.shape[-1]) % multiple
        mode = "reflect" if ph < x.shape[-2] and pw < x.shape[-1] else "replicate"  # reflect needs pad < side
        y = translate(F.pad(x, (0, pw, 0, ph), mode=mode))[..., : x.shape[-2], : x.shape[-1]]
        if tuple(y.shape[-2:]) != (h, w):
            y = F.interpolate(y, size=(h, w), mode="bicubic", align_corners=False)
        return y.clamp(-1, 1)

    return Method(getattr(model, "name", "translator"), "translate", run, channels=config.channels, radius=None,
                  colour_out=True, info={"data": getattr(model, "metadata", {}).get("data", "")})


def resolve_translator(cfg: TranslateConfig) -> Method:
    if cfg.model is None:
        raise RestoreError("give the translator with {option:model} (a model file from 'turbopix train --model pix2pix|cyclegan')")
    if not Path(cfg.model).exists():
        raise RestoreError(f"{{option:model={cfg.model}}}: no such model file or artifact folder")
    return translation_method(load(cfg.model), cfg.direction, cfg.size)


def translate_files(src: str | Path, dst: str | Path, cfg: TranslateConfig, method: Method | None = None,
                    files: RestoreConfig | None = None) -> RestoreReport:
    """Translate a file, or every image of a folder, into ``dst`` (see the module docstring)."""
    method = method or resolve_translator(cfg)
    # the restore pipeline does the files, the checks and the writing; tiles never apply (radius None)
    return restore_files(method, src, dst, files or RestoreConfig())
