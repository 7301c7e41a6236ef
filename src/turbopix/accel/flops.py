"""Counting, not assuming: FLOPs per image and parameters of a model's inference network."""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..models.base import unwrap


def count_flops(model: nn.Module, *, batch: int = 1, inputs: dict[str, torch.Tensor] | None = None) -> int:
    """FLOPs (a multiply-add counts 2) of one ``infer`` call on ``example_inputs`` (or on
    ``inputs``, e.g. images of another size), per image.

    Counted by ``torch.utils.flop_counter.FlopCounterMode`` on the real forward, so it covers
    exactly the matmuls and (transposed) convolutions that run; elementwise ops (activations, batch
    norm in eval mode) are not counted, as is usual. For a model whose inputs have free dimensions
    (an image-to-image model), it is the count at the size ``example_inputs`` gives.
    """
    model = unwrap(model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model.infer(**(model.example_inputs(batch) if inputs is None else inputs))
    finally:
        model.train(was_training)
    n = batch if inputs is None else next(iter(inputs.values())).shape[0]
    return counter.get_total_flops() // n


def count_params(model: nn.Module) -> int:
    """Parameters of the network inference runs (``inference_network``: the generator of a GAN, the
    decoder of a VAE or AE, without the encoder or discriminator that inference never runs)."""
    _, net = unwrap(model).inference_network()
    return sum(p.numel() for p in net.parameters())
