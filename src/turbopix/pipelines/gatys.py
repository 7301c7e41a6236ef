"""Optimisation-based style transfer (Gatys, Ecker & Bethge 2016): the slow reference of the fast
model. The image itself is optimised, with the same objective the fast model is trained on
(``turbopix.training.style.StyleObjective``: content + style + total variation on the same
perceptual features), so the two are compared on equal terms.

The optimisation starts from the content image (faster than Gatys' white noise, and what most
re-implementations do) and runs L-BFGS (Gatys' choice, strong-Wolfe line search) or Adam. Pixels
are free during the optimisation and clamped to [-1, 1] at the end. ``iterations`` counts
evaluations of the objective: each is one forward and backward pass of the feature network at the
image's size, which is the whole cost (measured in docs/applications.md).
"""
from __future__ import annotations

from typing import Callable, Literal

import torch

from ..training.style import StyleObjective

Optimizer = Literal["lbfgs", "adam"]
ADAM_LR = 0.02  # on [-1, 1] pixels


def optimise_image(content: torch.Tensor, objective: StyleObjective, *, iterations: int = 200,
                   optimizer: Optimizer = "lbfgs", on_step: Callable[[dict[str, float]], None] | None = None) -> torch.Tensor:
    """The stylisation (1, 3, H, W) in [-1, 1] of ``content`` (1, 3, H, W) in [-1, 1] after at most
    ``iterations`` evaluations of the objective (one forward and backward pass each; L-BFGS may stop
    earlier when it converges); ``on_step`` gets each evaluation's terms (``loss``, ``content``,
    ``style``, ``tv``)."""
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    target = objective.content_features(content)
    image = content.detach().clone().requires_grad_(True)
    if optimizer == "lbfgs":
        # one step() call runs the whole optimisation: L-BFGS keeps its curvature history and line
        # search within a call (a step per call of max_iter=1 diverged in our measurements)
        opt: torch.optim.Optimizer = torch.optim.LBFGS([image], lr=1, max_iter=iterations, max_eval=iterations,
                                                       history_size=50, line_search_fn="strong_wolfe")
    elif optimizer == "adam":
        opt = torch.optim.Adam([image], lr=ADAM_LR)
    else:
        raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        terms = objective.terms(image, target)
        terms["loss"].backward()
        if on_step is not None:
            on_step({k: float(v.detach()) for k, v in terms.items()})
        return terms["loss"]

    for _ in range(1 if optimizer == "lbfgs" else iterations):
        opt.step(closure)
    return image.detach().clamp(-1, 1)
