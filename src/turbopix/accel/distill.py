"""Knowledge distillation: train a (smaller or pruned) student to copy its teacher, any model family.

The student gets the same inputs as the teacher (``teacher.example_inputs``: latents and labels for
a generator, images for an image-to-image model; fresh ones every step) and learns to output the
teacher's ``infer``: no data, no discriminator, a plain regression that is far more stable than
GAN training. Only the student's ``inference_network`` is trained.
Loss = L1 on pixels + ``feature_weight`` x a feature loss, the squared distance between the shipped
feature extractor's features (the one FID is measured with, e.g. ``lenet-mnist``) of both images,
divided by the teacher features' variance so that the weight does not depend on their scale.
Pixel L1 alone averages away fine strokes; the feature term keeps what FID looks at. It applies
only where an extractor fits: one is known for the model's training data (``metadata["data"]``)
and the outputs have 1 or 3 channels; otherwise the report's ``note`` says why it was off.

Used two ways: :func:`make_student` + :func:`distill` shrink a model into a narrower copy of its
architecture trained from scratch (the widths it declares in ``width_fields``), and ``prune.py``
fine-tunes a pruned model from its unpruned self.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..models import create_model
from ..models.base import ImageModel, unwrap


@dataclass
class DistillReport:
    steps: int
    seconds: float
    pixel_l1_first: float  # mean |student - teacher| over the first 10 steps
    pixel_l1_last: float  # ... and over the last 10 steps
    feature_loss_last: float | None  # relative feature distance over the last 10 steps; None without extractor
    extractor: str | None  # the feature extractor used, or None (pixel loss only)
    note: str = ""  # why there was no feature loss, when there was none

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def make_student(teacher: ImageModel, width: float) -> ImageModel:
    """A copy of the teacher's architecture with its inference network ``width`` times as wide:
    every config field the model declares in ``width_fields`` is scaled (a single width, or a tuple
    of layer sizes).

    Weights are fresh, except every tensor outside the inference network whose name and shape
    match the teacher's (e.g. an autoencoder's code statistics, which define its latent prior).
    """
    teacher = unwrap(teacher)
    if not 0 < width <= 1:
        raise ValueError(f"student width must be in (0, 1], got {width}")
    if not teacher.width_fields:
        raise ValueError(f"model '{teacher.name}' declares no width_fields: no narrower student can be built")
    config = asdict(teacher.config)
    for key in teacher.width_fields:
        old = config[key]
        config[key] = tuple(max(1, round(w * width)) for w in old) if isinstance(old, (tuple, list)) else max(1, round(old * width))
    student = create_model(teacher.name, **config)
    prefix, _ = student.inference_network()
    own = student.state_dict()
    shared = {k: v for k, v in teacher.state_dict().items()
              if k in own and own[k].shape == v.shape and not k.startswith(prefix)}  # prefix "": the whole model is fresh
    student.load_state_dict(shared, strict=False)
    return student


def feature_network(spec: str | None, dataset: str | None) -> tuple[nn.Module | None, tuple[int, int], str | None, str]:
    """(module, (channels, size), name, note) of the feature extractor for the feature loss.

    ``spec`` "auto" picks the shipped extractor for ``dataset``; None turns the loss off. When the
    extractor cannot be had (not shipped yet, no default for the dataset) the loss is off and the
    note says why.
    """
    if spec is None:
        return None, (0, 0), None, "feature loss off"
    try:
        from ..features.extractor import ExtractorError, TorchExtractor, default_extractor, load_extractor
    except ImportError as e:
        return None, (0, 0), None, f"no feature extractors in this turbopix ({e})"
    try:
        name = default_extractor((dataset or "").split(":")[0]) if spec == "auto" else spec
        ext = load_extractor(name)
    except (ExtractorError, ValueError) as e:
        return None, (0, 0), None, f"feature loss off: {e}"
    if not isinstance(ext, TorchExtractor):
        return None, (0, 0), None, f"feature loss off: extractor '{name}' is not a PyTorch module (cannot backpropagate)"
    module = ext.module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module, (ext.channels, ext.input_size), ext.name, ""


def _features(module: nn.Module, images: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    from ..features.networks import to_extractor_input

    out = module(to_extractor_input(images, *shape))
    return (out[0] if isinstance(out, (tuple, list)) else out).flatten(1)


def _signature(model: ImageModel) -> list[tuple[str, tuple[int | None, ...], torch.dtype]]:
    return [(s.name, s.shape, s.dtype) for s in model.inputs()]


def distill(
    teacher: ImageModel,
    student: ImageModel,
    *,
    steps: int = 1000,
    batch_size: int = 64,
    lr: float = 1e-3,
    feature_weight: float = 0.5,
    extractor: str | None = "auto",
    seed: int = 0,
) -> DistillReport:
    """Train ``student``'s inference network in place to reproduce ``teacher.infer``.

    Adam with a cosine learning-rate decay to zero; batch norm layers of the student run in
    training mode, so their statistics are re-estimated for the student's own activations (a
    pruned network's change). The teacher is only read. Returns what the loss did.
    """
    teacher, student = unwrap(teacher).eval(), unwrap(student)
    if _signature(teacher) != _signature(student):
        raise ValueError(f"student and teacher must take the same inputs; teacher {_signature(teacher)}, student {_signature(student)}")
    feat_net, feat_shape, feat_name, note = feature_network(extractor if feature_weight > 0 else None, teacher.metadata.get("data"))
    _, net = student.inference_network()
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 0.5 * (1 + math.cos(math.pi * i / max(1, steps))))
    pix_hist: list[float] = []
    feat_hist: list[float] = []
    start = time.perf_counter()
    student.train()
    for step in range(steps):
        inputs = teacher.example_inputs(batch_size, seed=seed * 1_000_003 + step)
        with torch.no_grad():
            target = teacher.infer(**inputs)
        out = student.infer(**inputs)
        if out.shape != target.shape:
            raise ValueError(f"student images have shape {tuple(out.shape)}, the teacher's {tuple(target.shape)}")
        if feat_net is not None and target.shape[1] not in (1, 3):
            feat_net, feat_name, note = None, None, f"feature loss off: the images have {target.shape[1]} channels, extractors take 1 or 3"
        pixel = F.l1_loss(out, target)
        loss = pixel
        if feat_net is not None:
            with torch.no_grad():
                target_feats = _features(feat_net, target, feat_shape)
            feat = F.mse_loss(_features(feat_net, out, feat_shape), target_feats) / target_feats.var().clamp_min(1e-8)
            loss = loss + feature_weight * feat
            feat_hist.append(feat.item())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        pix_hist.append(pixel.item())
    student.eval()
    mean = lambda xs: float(sum(xs) / len(xs)) if xs else float("nan")  # noqa: E731
    return DistillReport(
        steps=steps, seconds=time.perf_counter() - start, pixel_l1_first=mean(pix_hist[:10]), pixel_l1_last=mean(pix_hist[-10:]),
        feature_loss_last=mean(feat_hist[-10:]) if feat_hist else None, extractor=feat_name, note=note,
    )


def distill_student(teacher: ImageModel, width: float, **options: Any) -> tuple[ImageModel, DistillReport]:
    """:func:`make_student` then :func:`distill`; the teacher is not modified."""
    student = make_student(teacher, width)
    student.metadata = copy.deepcopy(unwrap(teacher).metadata)
    report = distill(teacher, student, **options)
    return student, report
