"""Channel structure of a model's inference network: which channels can be cut, and cutting them.

A channel c produced by layer L (a ``ConvTranspose2d``, ``Conv2d`` or ``Linear``) lives on in
three places, and all three are cut together:

* L's weight slice for output c (dim 1 of a ConvTranspose2d weight (in, out, kH, kW); dim 0 of a
  Conv2d (out, in, kH, kW) or Linear (out, in) weight) and L's bias[c];
* the BatchNorm (or affine InstanceNorm) right after L, if any (weight, bias, running mean/var at c);
* the next weight layer's input slice for c (dim 0 of a ConvTranspose2d, dim 1 otherwise).

Only activations, batch norm and parameter-free instance norm may sit between two weight layers
(``nn.Sequential`` chains, as in
``ConvDecoder`` and ``mlp``). A pruned model records its channel counts in ``model.pruning``;
``apply_channel_plan`` gives a freshly built model those shapes, which is how a pruned checkpoint
reloads. Which channels to cut is decided by ``turbopix.accel.prune``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .base import ImageModel, unwrap

WEIGHT_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)
NORMS = (nn.BatchNorm2d, nn.BatchNorm1d, nn.InstanceNorm2d)  # per-channel norms, cut with their producer
PASS_THROUGH = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.Identity, nn.Dropout, nn.GELU, nn.SiLU)


def out_dim(layer: nn.Module) -> int:
    return 1 if isinstance(layer, nn.ConvTranspose2d) else 0


def in_dim(layer: nn.Module) -> int:
    return 0 if isinstance(layer, nn.ConvTranspose2d) else 1


def _out_channels(layer: nn.Module) -> int:
    return layer.weight.shape[out_dim(layer)]


@dataclass
class Link:
    """A prunable channel group: ``producer``'s outputs, its batch norm, ``consumer``'s inputs."""

    producer: str  # module path inside the model, e.g. "generator.decoder.net.0"
    norm: str | None
    consumer: str


def find_links(model: ImageModel) -> list[Link]:
    """Every prunable link of the model's inference network, in forward order."""
    prefix, net = unwrap(model).inference_network()
    links: list[Link] = []
    for seq_name, seq in net.named_modules():
        if not isinstance(seq, nn.Sequential):
            continue
        base = prefix + (f"{seq_name}." if seq_name else "")
        children = list(seq.named_children())
        producer: tuple[str, nn.Module] | None = None
        norm: str | None = None
        for name, child in children:
            if isinstance(child, WEIGHT_LAYERS):
                if getattr(child, "groups", 1) != 1:
                    producer, norm = None, None  # grouped convs couple channels: not handled, leave alone
                    continue
                if producer is not None:
                    links.append(Link(base + producer[0], norm, base + name))
                producer, norm = (name, child), None
            elif isinstance(child, NORMS) and getattr(child, "affine", True) and producer is not None and norm is None:
                # (a non-affine instance norm has no per-channel weights to cut: it ends the chain below)
                norm = base + name
            elif not (isinstance(child, PASS_THROUGH) or _plain_instance_norm(child)):
                producer, norm = None, None  # anything else (reshape, pooling, ...) breaks the chain
    return links


def _plain_instance_norm(module: nn.Module) -> bool:
    """Instance norm without affine parameters or running statistics (CycleGAN's) normalises each
    channel on its own and holds nothing per channel: cutting a channel leaves the others unchanged."""
    return isinstance(module, nn.InstanceNorm2d) and not module.affine and not module.track_running_stats


def _slice_param(module: nn.Module, name: str, dim: int, keep: torch.Tensor) -> None:
    t = getattr(module, name)
    if t is None:
        return
    new = t.detach().index_select(dim, keep).clone()
    if isinstance(t, nn.Parameter):
        setattr(module, name, nn.Parameter(new, requires_grad=t.requires_grad))
    else:
        module.register_buffer(name, new)


def cut_channels(model: nn.Module, link: Link, keep: torch.Tensor) -> None:
    """Remove every channel of ``link`` not in ``keep`` (sorted indices), updating layer attributes."""
    prod = model.get_submodule(link.producer)
    _slice_param(prod, "weight", out_dim(prod), keep)
    _slice_param(prod, "bias", 0, keep)
    n = len(keep)
    if isinstance(prod, nn.Linear):
        prod.out_features = n
    else:
        prod.out_channels = n
    if link.norm is not None:
        bn = model.get_submodule(link.norm)
        for name in ("weight", "bias", "running_mean", "running_var"):
            _slice_param(bn, name, 0, keep)
        bn.num_features = n
    cons = model.get_submodule(link.consumer)
    _slice_param(cons, "weight", in_dim(cons), keep)
    if isinstance(cons, nn.Linear):
        cons.in_features = n
    else:
        cons.in_channels = n


def apply_channel_plan(model: ImageModel, plan: dict[str, int]) -> ImageModel:
    """Give a freshly built model the shapes of a pruned one (weights are then loaded over them)."""
    by_producer = {link.producer: link for link in find_links(model)}
    for producer, n in plan.items():
        if producer not in by_producer:
            raise ValueError(f"pruning plan names '{producer}', which is not a prunable layer of model '{model.name}'")
        cut_channels(model, by_producer[producer], torch.arange(n))
    model.pruning = {"channels": dict(plan)}
    return model
