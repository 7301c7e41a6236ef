"""Training of the style-transfer family (``turbopix.models.style_transfer``), and the objective it
shares with the optimisation-based reference (``turbopix.pipelines.gatys``).

The objective of an output image y for a content image x and one style image s (Johnson et al.
2016; Gatys et al. 2016), with phi the perceptual network (``turbopix.features.perceptual``):

    content_weight * content_loss(phi_L(y), phi_L(x))      L = content_layer: relu2_2 (Johnson) or relu1_2
  + style_weight   * sum over relu1_2, relu2_2, relu3_3, relu4_3 of mean((gram(phi(y)) - gram(phi(s)))^2)
  + tv_weight      * total_variation(y)

(the formulas are ``turbopix.losses.style``). The style's Gram matrices are computed once, from the
style image resized to ``style_size`` on its longer side. Batches are plain crops of content photos
(``patches:cbsd432_train?patch_size=256&colour=rgb``): only the ``image`` key is read.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..core.config import TrainConfig
from ..data.base import Batch, Dataset
from ..data.images import read_image
from ..data.sources import resolve_data_root
from ..features.perceptual import CONTENT_LAYER, STYLE_LAYERS, PerceptualNetwork, perceptual_network
from ..losses import content_loss, gram, style_loss, total_variation
from .errors import TrainingOptionError
from .schedule import StepNoise
from .tasks import TASKS, Grid, Task, Wrap, _identity, adam

PREVIEW_EXAMPLES = 4


def find_style_image(path: str | Path) -> Path:
    """``path`` as given when it exists, else under the data root (``fast_neural_style/...``)."""
    given = Path(path).expanduser()
    if given.is_file() or given.is_absolute():
        return given
    root = resolve_data_root()
    if root is not None and (root / given).is_file():
        return root / given
    where = f" or under the data root {root}" if root is not None else " (set TURBOPIX_DATA to look under a data root)"
    raise TrainingOptionError(f"style image {{option:style={path}}} not found (relative to {Path.cwd()}{where})")


def read_style_image(path: str | Path, size: int | None) -> torch.Tensor:
    """(1, 3, h, w) in [-1, 1]: the image file (grey repeated to RGB), its longer side resized to
    ``size`` (antialiased bilinear) when given."""
    pixels = read_image(find_style_image(path))
    if pixels.dtype != np.uint8:
        pixels = (pixels.astype(np.float32) / 257).round().astype(np.uint8)  # 16-bit -> 8-bit
    x = torch.from_numpy(np.array(pixels.transpose(2, 0, 1))).float().div(127.5).sub(1)[None]
    if x.shape[1] == 1:
        x = x.expand(1, 3, *x.shape[-2:])
    if size:
        h, w = x.shape[-2:]
        scale = size / max(h, w)
        x = nn.functional.interpolate(x, size=(max(1, round(h * scale)), max(1, round(w * scale))),
                                      mode="bilinear", align_corners=False, antialias=True)
    return x.clamp(-1, 1)


class StyleObjective:
    """The weighted content + style + TV objective for one style image (see the module docstring)."""

    def __init__(self, network: PerceptualNetwork, style: torch.Tensor, *, content_weight: float,
                 style_weight: float, tv_weight: float, content_layer: str = CONTENT_LAYER) -> None:
        self.network = network
        self.weights = (content_weight, style_weight, tv_weight)
        self.content_index = list(STYLE_LAYERS).index(content_layer)  # the content layer is one of the style layers
        with torch.no_grad():
            self.grams = [gram(f) for f in network(style)]

    @classmethod
    def from_config(cls, config, network: PerceptualNetwork | None = None) -> "StyleObjective":
        """From a style-transfer model config (style image, its size, the weights, the network)."""
        return cls(network or perceptual_network(config.features), read_style_image(config.style, config.style_size),
                   content_weight=config.content_weight, style_weight=config.style_weight, tv_weight=config.tv_weight,
                   content_layer=config.content_layer)

    def content_features(self, content: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.network(content)[self.content_index]

    def terms(self, output: torch.Tensor, content_features: torch.Tensor) -> dict[str, torch.Tensor]:
        """``loss`` (weighted sum) and the unweighted ``content``, ``style`` and ``tv`` terms."""
        feats = self.network(output)
        c = content_loss(feats[self.content_index], content_features)
        s = style_loss(feats, self.grams)
        tv = total_variation(output)
        wc, ws, wt = self.weights
        return {"loss": wc * c + ws * s + wt * tv, "content": c, "style": s, "tv": tv}


@TASKS.register("style-transfer")
class StyleTask(Task):
    """One optimizer over the transformer network; the perceptual objective of its output against
    the batch's content crops and the config's style image."""

    family = "style-transfer"
    default_lr = 1e-3  # Johnson et al.'s Adam
    divergence_hint = "Try a lower {option:lr} (e.g. 1e-4)."

    def __init__(self, model: nn.Module, cfg: TrainConfig, wrap: Wrap = _identity) -> None:
        super().__init__(model, cfg, wrap)
        self.net = wrap(model)
        self.objective = StyleObjective.from_config(model.config)
        self.optimizers = {"model": adam(model.parameters(), self, cfg)}

    @classmethod
    def batch_keys(cls, model: nn.Module) -> tuple[str, ...]:
        return ("image",)

    @classmethod
    def check_data(cls, model: nn.Module, data: Dataset) -> None:
        super().check_data(model, data)
        image = data.batch(torch.arange(1), torch.Generator().manual_seed(0))["image"]
        if image.shape[1] != 3:
            raise TrainingOptionError(f"style transfer trains on RGB photos but {data.name} gives {image.shape[1]}-channel "
                                      "images: use colour=rgb in the data spec")
        find_style_image(model.config.style)  # a missing style image fails before anything is written

    def step(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        x = batch["image"]
        self.objective.network.to(x.device)
        terms = self.objective.terms(self.net(x), self.objective.content_features(x))
        opt = self.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        opt.step()
        return {k: v.detach() for k, v in terms.items()}

    def preview(self, model: nn.Module, data: Dataset) -> Grid:
        """Fixed content crops and their stylisations, side by side."""
        n = min(PREVIEW_EXAMPLES, len(data))
        x = data.batch(torch.arange(n), torch.Generator().manual_seed(0))["image"]
        device = next(model.parameters()).device
        out = model.infer(x.to(device)).cpu()
        return Grid(torch.stack([x.clamp(-1, 1), out], 1).flatten(0, 1), nrow=2)
