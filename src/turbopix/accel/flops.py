"""Counting, not assuming: FLOPs per image and parameters of a generator's sampling network."""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..models.base import unwrap
from .export import example_inputs


def count_flops(model: nn.Module, *, batch: int = 1) -> int:
    """FLOPs (a multiply-add counts 2) of one ``generate`` call, per image.

    Counted by ``torch.utils.flop_counter.FlopCounterMode`` on the real forward, so it covers
    exactly the matmuls and (transposed) convolutions that run; elementwise ops (activations, batch
    norm in eval mode) are not counted, as is usual.
    """
    model = unwrap(model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model.generate(**example_inputs(model, batch))
    finally:
        model.train(was_training)
    return counter.get_total_flops() // batch


def count_params(model: nn.Module) -> int:
    """Parameters of the network used for sampling (the generator of a GAN, the decoder of a VAE
    or AE, without the encoder or discriminator that sampling never runs)."""
    _, net = unwrap(model).sampling_module()
    if net is unwrap(model):  # VAE/AE: sampling_module is the whole model; count the decoder
        net = getattr(net, "decoder", net)
    return sum(p.numel() for p in net.parameters())
