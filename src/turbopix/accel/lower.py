"""Exact rewrites of a model for inference runtimes: same function, kernels that run faster.

Measured with OpenVINO int8 on the 28 px DCGAN (per-layer profile, batch 256): its three
transposed convolutions took about the same time each although they hold 9%, 88% and 3% of the
FLOPs. Two of them are shapes a deconvolution kernel handles badly, and both have an exact
equivalent that is an ordinary dense kernel:

* **A transposed convolution of a 1x1 input is a matrix product.** The first DCGAN layer maps
  z (B, C, 1, 1) to (B, O, k, k); ``out[b, o, i, j] = sum_c z[b, c] W[c, o, i, j]`` is a Linear
  layer with C inputs and O*k*k outputs, followed by a reshape (:class:`PointToGrid`).
* **A stride-s transposed convolution is a convolution followed by a depth-to-space shuffle**
  (the sub-pixel convolution of Shi et al. 2016). Output pixel ``y = s*m + r`` only sees input
  pixels ``m - d`` through kernel tap ``t = r + p + s*d``; gathering the taps of each of the s*s
  output phases into its own group of output channels gives an ordinary convolution with
  ``s*s*O`` outputs, and ``nn.PixelShuffle(s)`` puts the phases back in place
  (:func:`subpixel_conv`). Taps a phase does not use are zeros, so the convolution does
  (K*s/k)^2 times the transposed one's multiply-adds, K being the span of input offsets the phases
  use together (4/2/1 layers: K = 3, (3*2/4)^2 = 2.25x). That pays only for thin layers: it turns a
  1-channel output layer into a 4-channel one, which the convolution kernel runs far faster, while
  the wide middle layers are faster left as they are (``subpixel="thin"``, measured).

Batch norm (eval mode) is folded into the layer before it first, so what is exported is the
layer, its bias and the activation. :func:`lower_for_inference` applies all three to a copy; the
FLOPs reported by ``bench`` stay those of the original layers (the useful work), counted on the
unlowered model.
"""
from __future__ import annotations

import copy
from itertools import pairwise
from typing import Any

import torch
from torch import nn

from ..models.base import unwrap

__all__ = ["PointToGrid", "fold_batchnorm", "lower_for_inference", "subpixel_conv"]


class PointToGrid(nn.Module):
    """(B, C, 1, 1) -> (B, O, k, k) as one Linear layer: a transposed convolution of a 1x1 input.

    ``act``: an elementwise activation that followed the layer, applied before the reshape so that
    runtimes fuse it (and int8 requantization) into the matrix product; after the reshape,
    OpenVINO ran it as a separate pass (measured: ~5% of the 28 px DCGAN's int8 time, 98 of ~1,975 us).
    """

    def __init__(self, linear: nn.Linear, channels: int, size: int, act: nn.Module | None = None) -> None:
        super().__init__()
        self.linear, self.channels, self.size = linear, channels, size
        self.act = act if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.linear(x.flatten(1))).view(-1, self.channels, self.size, self.size)


def point_to_grid(layer: nn.ConvTranspose2d) -> PointToGrid:
    """The exact Linear form of ``layer`` applied to 1x1 inputs (needs padding 0, groups 1)."""
    if layer.padding != (0, 0) or layer.groups != 1 or layer.kernel_size[0] != layer.kernel_size[1]:
        raise ValueError(f"{layer} has no point-to-grid form (needs square kernel, padding 0, groups 1)")
    c, o, k, _ = layer.weight.shape
    linear = nn.Linear(c, o * k * k, bias=layer.bias is not None)
    with torch.no_grad():
        linear.weight.copy_(layer.weight.reshape(c, o * k * k).t())  # row (o, i, j) = W[:, o, i, j]
        if layer.bias is not None:
            linear.bias.copy_(layer.bias.repeat_interleave(k * k))
    return PointToGrid(linear, o, k)


def subpixel_conv(layer: nn.ConvTranspose2d) -> nn.Sequential | None:
    """Conv2d + PixelShuffle computing exactly ``layer``, or None when the shape has no such form.

    Covered: square stride s > 1, kernel k and padding p with k - 2p == s (output = s x input,
    e.g. the 4/2/1 layers of DCGAN), no output padding, dilation 1, groups 1.
    """
    (k, kw), (s, sw), (p, pw) = layer.kernel_size, layer.stride, layer.padding
    if (k, s, p) != (kw, sw, pw) or s < 2 or k - 2 * p != s or layer.output_padding != (0, 0) \
            or layer.dilation != (1, 1) or layer.groups != 1:
        return None
    # phase r uses input offsets d with 0 <= r + p + s*d < k; collect every (r, d, t)
    taps = [(r, d, r + p + s * d) for r in range(s) for d in range(-k, k + 1) if 0 <= r + p + s * d < k]
    d_min, d_max = min(d for _, d, _ in taps), max(d for _, d, _ in taps)
    size = d_max - d_min + 1  # conv kernel: input offsets -d_max .. -d_min
    c_in, c_out = layer.weight.shape[:2]
    weight = torch.zeros(c_out, s, s, c_in, size, size, dtype=layer.weight.dtype)
    w = layer.weight.detach().permute(1, 0, 2, 3)  # (O, C, k, k)
    for ry, dy, ty in taps:
        for rx, dx, tx in taps:
            # conv tap j reads input m + j - d_max, i.e. offset -d => j = d_max - d
            weight[:, ry, rx, :, d_max - dy, d_max - dx] = w[:, :, ty, tx]
    # PixelShuffle reads channel o*s*s + ry*s + rx as phase (ry, rx) of channel o
    conv = nn.Conv2d(c_in, c_out * s * s, size, bias=layer.bias is not None)
    with torch.no_grad():
        conv.weight.copy_(weight.reshape(c_out * s * s, c_in, size, size))
        if layer.bias is not None:
            conv.bias.copy_(layer.bias.detach().repeat_interleave(s * s))
    pad = (d_max, -d_min, d_max, -d_min)  # left, right, top, bottom
    if pad[0] == pad[1]:
        conv.padding = (pad[0], pad[0])
        return nn.Sequential(conv, nn.PixelShuffle(s))
    return nn.Sequential(nn.ZeroPad2d(pad), conv, nn.PixelShuffle(s))


def _fold(layer: nn.Module, bn: nn.BatchNorm2d) -> None:
    """Scale ``layer``'s output channels by batch norm's eval-mode affine map (in place)."""
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps) if bn.affine else 1 / torch.sqrt(bn.running_var + bn.eps)
    shift = (bn.bias.detach() if bn.affine else 0) - bn.running_mean * scale
    out_dim = 1 if isinstance(layer, nn.ConvTranspose2d) else 0
    shape = [1] * layer.weight.dim()
    shape[out_dim] = -1
    with torch.no_grad():
        layer.weight.mul_(scale.view(shape))
        bias = layer.bias.detach() * scale + shift if layer.bias is not None else shift
        layer.bias = nn.Parameter(bias.clone())


def fold_batchnorm(net: nn.Module) -> int:
    """Fold every BatchNorm2d that directly follows a Conv2d / ConvTranspose2d in an
    ``nn.Sequential`` into that layer (eval mode; the norm becomes Identity). Returns how many."""
    folded = 0
    for seq in [m for m in net.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        for a, b in pairwise(names):
            layer, bn = seq._modules[a], seq._modules[b]
            if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(bn, nn.BatchNorm2d) \
                    and bn.track_running_stats and layer.groups == 1:
                _fold(layer, bn)
                seq._modules[b] = nn.Identity()
                folded += 1
    return folded


def _input_sizes(model: nn.Module, layers: list[nn.Module]) -> dict[int, tuple[int, ...]]:
    """Spatial input size of each layer, seen on one inference forward on ``example_inputs``."""
    sizes: dict[int, tuple[int, ...]] = {}

    def record(mod: nn.Module, args: tuple[Any, ...]) -> None:  # must return None: a value would replace the input
        sizes.setdefault(id(mod), tuple(args[0].shape[2:]))

    hooks = [m.register_forward_pre_hook(record) for m in layers]
    try:
        with torch.no_grad():
            model.infer(**model.example_inputs(2))
    finally:
        for h in hooks:
            h.remove()
    return sizes


THIN = 16  # output channels below one AVX-512 vector of fp32 lanes: deconvolution kernels waste most of it


def lower_for_inference(model: nn.Module, *, subpixel: str = "thin") -> tuple[nn.Module, dict[str, Any]]:
    """A copy of ``model`` (eval mode) with batch norm folded and transposed convolutions of its
    inference network rewritten as above; ``infer`` of the copy equals the original's up to float
    rounding.

    The point-to-grid form is only used where every input has a fixed shape: a layer that sees a
    1x1 input at one size of a free-size input (an image-to-image model) sees larger ones at others.
    Returns (lowered copy, report): how many norms were folded and which layers became what.
    """
    model = copy.deepcopy(unwrap(model)).float().eval()
    prefix, net = model.inference_network()
    fixed_size = all(None not in spec.shape for spec in model.inputs())
    report: dict[str, Any] = {"folded_batchnorm": fold_batchnorm(net), "point_to_grid": [], "subpixel": []}
    deconvs = [(prefix + name, m) for name, m in net.named_modules() if isinstance(m, nn.ConvTranspose2d)]
    sizes = _input_sizes(model, [m for _, m in deconvs])
    for name, layer in deconvs:
        size = sizes.get(id(layer))
        if size is None:  # not on the inference path
            continue
        new: nn.Module | None = None
        if fixed_size and size == (1, 1) and layer.padding == (0, 0):
            new, kind = point_to_grid(layer), "point_to_grid"
        elif subpixel == "all" or (subpixel == "thin" and layer.out_channels < THIN):
            new, kind = subpixel_conv(layer), "subpixel"
        if new is not None:
            parent, _, child = name.rpartition(".")
            owner = model.get_submodule(parent) if parent else model
            setattr(owner, child, new)
            if isinstance(new, PointToGrid) and isinstance(owner, nn.Sequential):
                _absorb_activation(owner, child, new)
            report[kind].append(name)
    return model, report


ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.SiLU, nn.GELU)


def _absorb_activation(seq: nn.Sequential, name: str, layer: PointToGrid) -> None:
    """Move the activation after ``seq[name]`` (past Identity placeholders) into ``layer``."""
    names = list(seq._modules)
    for nxt in names[names.index(name) + 1 :]:
        module = seq._modules[nxt]
        if isinstance(module, nn.Identity):
            continue
        if isinstance(module, ELEMENTWISE):
            layer.act = module
            seq._modules[nxt] = nn.Identity()
        return
