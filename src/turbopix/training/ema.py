"""Exponential moving average of the sampling network's weights (Karras et al. 2018).

The EMA holds a full copy of the model so it can sample on its own, but averages only the
parameters under the model's sampling prefix (a GAN's generator, all of a VAE); buffers there
(batch-norm statistics, running code statistics) are copied as they are.
"""
from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.prefix, _ = model.sampling_module()
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        src_params, src_bufs = dict(model.named_parameters()), dict(model.named_buffers())
        mine = lambda items: [(n, t) for n, t in items if n.startswith(self.prefix)]  # noqa: E731
        self._dst = [p.data for _, p in mine(self.module.named_parameters())]
        self._src = [src_params[n].data for n, _ in mine(self.module.named_parameters())]
        self._dst_bufs = [b for _, b in mine(self.module.named_buffers())]
        self._src_bufs = [src_bufs[n] for n, _ in mine(self.module.named_buffers())]

    @torch.no_grad()
    def update(self, step: int) -> None:
        # the warm-up lets the average follow quickly while the weights change most
        decay = min(self.decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(self._dst, self._src, 1.0 - decay)
        for d, s in zip(self._dst_bufs, self._src_bufs):
            d.copy_(s)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The averaged part only, keyed by full model names."""
        return {k: v for k, v in self.module.state_dict().items() if k.startswith(self.prefix)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        missing = set(self.state_dict()) - set(state)
        if missing:
            raise KeyError(f"EMA state lacks {sorted(missing)[:3]}...")
        self.module.load_state_dict(state, strict=False)

    def full_model(self, model: nn.Module) -> nn.Module:
        """The EMA copy with the parts that are not averaged (a GAN's discriminator) taken from ``model``."""
        with torch.no_grad():
            for name, t in model.state_dict().items():
                if not name.startswith(self.prefix):
                    self.module.state_dict()[name].copy_(t)
        return self.module
