"""Stylise image files: ``--style NAME`` runs a fast style-transfer model (a shipped name such as
``candy``, a model file or an artifact folder), ``--style STYLE.jpg`` the optimisation-based
reference with that style image (``turbopix.pipelines.gatys``).

Both become a restoration ``Method`` (task ``stylize``), so files and folders in and out, atomic
outputs, the overwrite check, bad-input errors and ``skip_bad`` are those of
``turbopix.pipelines.restore``. A style-transfer model uses instance normalisation, whose statistics
are the whole image's, so it runs on whole images (no tiles); ``size`` bounds the work instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import torch
from tqdm.auto import tqdm

from ..core.config import opt
from ..data.images import is_image_file
from ..features.perceptual import perceptual_network
from ..loading import load
from ..models.shipped import SHIPPED
from ..models.style_transfer import SIZE_MULTIPLE, StyleTransferConfig, pad_to_multiple
from ..training.style import StyleObjective, read_style_image
from .classical import Method
from .gatys import optimise_image
from .restore import RestoreError

GATYS_SIZE = 512  # the optimisation's default working size (longer side): its cost grows with pixels
_DEFAULTS = StyleTransferConfig()


@dataclass
class StylizeConfig:
    size: Optional[int] = opt(None, "resize the content's longer side to this first (default: as is for a fast model, "
                                    f"{GATYS_SIZE} for the optimisation); the output has this size", min=16)
    iterations: int = opt(200, "optimisation (--style STYLE.jpg): evaluations of the objective (L-BFGS)", min=1)
    features: Optional[str] = opt(None, "optimisation: the feature network, 'random' or a VGG16/19 safetensors file; "
                                        "default: env TURBOPIX_VGG, else random")
    style_weight: float = opt(_DEFAULTS.style_weight, "optimisation: weight of the style loss (content weight 1)", min=0)
    tv_weight: float = opt(_DEFAULTS.tv_weight, "optimisation: weight of the total-variation loss", min=0)


def shipped_style(name: str) -> str | None:
    """The shipped model for a style name (``candy`` or ``style-candy``), else None."""
    for candidate in (name, f"style-{name}"):
        if candidate in SHIPPED and candidate.startswith("style-"):
            return candidate
    return None


def _resize(image: torch.Tensor, size: int | None) -> torch.Tensor:
    if not size or max(image.shape[-2:]) == size:
        return image
    h, w = image.shape[-2:]
    scale = size / max(h, w)
    out = torch.nn.functional.interpolate(image, size=(max(1, round(h * scale)), max(1, round(w * scale))),
                                          mode="bicubic", align_corners=False, antialias=True)
    return out.clamp(-1, 1)


def model_method(model: Any, cfg: StylizeConfig) -> Method:
    """A loaded style-transfer model (``turbopix.load``: file, artifact or shipped name) as a Method."""
    if getattr(model, "family", None) != "style-transfer":
        raise RestoreError(f"model '{getattr(model, 'name', '?')}' is a {getattr(model, 'family', '?')} model, "
                           "not a style-transfer model: choose another {option:style}")

    @torch.no_grad()
    def run(image, sigma=None, mask=None):
        x, (h, w) = pad_to_multiple(_resize(image, cfg.size), SIZE_MULTIPLE)
        return model.infer(image=x)[..., :h, :w]

    style = getattr(model.config, "style", "")
    return Method(getattr(model, "name", "model"), "stylize", run, channels=3, radius=None, info={"style": style})


def optimisation_method(style: str | Path, cfg: StylizeConfig, *, progress: bool = False) -> Method:
    """The Gatys optimisation towards the style image ``style``, with a progress bar per image."""
    network = perceptual_network(cfg.features)
    style_image = read_style_image(style, None)  # read once: a bad style file fails before any content is read

    def run(image, sigma=None, mask=None):
        content = _resize(image, cfg.size or GATYS_SIZE)
        objective = StyleObjective(network, _resize(style_image, max(content.shape[-2:])), content_weight=1.0,
                                   style_weight=cfg.style_weight, tv_weight=cfg.tv_weight)
        with tqdm(total=cfg.iterations, desc="optimising", unit="it", leave=False, disable=not progress) as bar:
            def show(terms):
                bar.set_postfix(loss=f"{terms['loss']:.4g}", refresh=False)
                bar.update()
            return optimise_image(content, objective, iterations=cfg.iterations, on_step=show)

    return Method(f"gatys:{Path(style).name}", "stylize", run, channels=3, radius=None,
                  info={"style": str(style), "features": network.source})


def resolve_style(style: str, cfg: StylizeConfig, *, progress: bool = False) -> Method:
    """``style`` as a shipped style name, a model file / artifact folder, or a style image file."""
    name = shipped_style(style)
    path = Path(style).expanduser()
    if name is not None:
        return model_method(load(name), cfg)
    if path.is_file() and is_image_file(path):
        return optimisation_method(path, cfg, progress=progress)
    if path.exists():
        return model_method(load(path), cfg)
    names = ", ".join(n.removeprefix("style-") for n in SHIPPED if n.startswith("style-"))
    raise RestoreError(f"{{option:style={style}}}: no such style image, model file or shipped style ({names})")
