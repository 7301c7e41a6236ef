"""Segmentation and classification scores of translated images, as pure functions of tensors.

pix2pix's "FCN-score" (Isola et al. 2017, after Long et al.'s FCN): a segmentation network trained
on real photos labels the *generated* photos; if they are realistic and follow the input label map,
the labels it finds agree with the input's. Reported as:

- per-pixel accuracy: the fraction of all pixels whose predicted class is the true class;
- per-class accuracy: for each class present in the true labels, the fraction of its pixels
  predicted correctly, averaged over those classes (classes absent from the truth are left out, as
  in the FCN evaluation code);
- class IoU: per class present in the truth or the prediction, |pred & true| / |pred | true|,
  averaged.

Counts are accumulated over the whole set (one confusion matrix), not averaged per image, as the
FCN evaluation does.

Colour label maps are turned into class indices by the nearest palette colour (``palette_indices``):
the CMP facades label maps are drawn in 12 colours, and JPEG compression smears them, so an exact
lookup would fail at every edge. ``CMP_FACADES`` is that palette, measured on facades/train.

``class_preservation``: for translated digits, the fraction a classifier of the target domain
labels as the source image's class.
"""
from __future__ import annotations

import torch

from ..core.registry import METRICS

# the 12 classes of the CMP Facade Database (Tylecek & Sara 2013) in label-index order, and the RGB
# colour each is drawn in: measured on facades/train (the peaks of the label-map colours along the
# blue -> cyan -> yellow -> red path of a jet colour map; ``tools``-free derivation in
# tests/metrics/test_segmentation.py). The class order is the colour map's order, assumed from the
# CMP label indices; the scores do not depend on the names.
CMP_FACADES_CLASSES = ("background", "facade", "window", "door", "cornice", "sill", "balcony", "blind",
                       "deco", "molding", "pillar", "shop")
CMP_FACADES = torch.tensor([
    [0, 0, 218], [0, 48, 255], [0, 122, 255], [0, 200, 255], [36, 255, 222], [114, 255, 142],
    [192, 255, 62], [255, 240, 0], [255, 156, 0], [255, 80, 0], [250, 0, 0], [168, 0, 0],
], dtype=torch.float32)


def palette_indices(rgb: torch.Tensor, palette: torch.Tensor = CMP_FACADES) -> torch.Tensor:
    """Class index (N, H, W) of each pixel of colour images (N, 3, H, W) on the 0-255 scale: the
    nearest palette colour (Euclidean distance in RGB)."""
    if rgb.dim() != 4 or rgb.shape[1] != 3:
        raise ValueError(f"expected colour label maps (N, 3, H, W), got shape {tuple(rgb.shape)}")
    d = (rgb.float().permute(0, 2, 3, 1)[..., None, :] - palette.to(rgb.device)).pow(2).sum(-1)  # (N, H, W, K)
    return d.argmin(-1)


def confusion(pred: torch.Tensor, true: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(K, K) counts: row = true class, column = predicted class."""
    if pred.shape != true.shape:
        raise ValueError(f"predicted and true labels differ in shape: {tuple(pred.shape)} vs {tuple(true.shape)}")
    index = true.reshape(-1).long() * num_classes + pred.reshape(-1).long()
    return torch.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


@METRICS.register("segmentation_accuracy", kind="segmentation", higher_is_better=True,
                  description="per-pixel and per-class accuracy and class IoU of predicted labels (pix2pix's FCN-score)")
def segmentation_scores(pred: torch.Tensor, true: torch.Tensor, num_classes: int) -> dict[str, float]:
    """Per-pixel accuracy, per-class accuracy and class IoU of label maps ``pred`` against ``true``
    (integer tensors of one shape), over all their pixels (see the module docstring)."""
    m = confusion(pred, true, num_classes).double()
    hits, truth, predicted = m.diag(), m.sum(1), m.sum(0)
    present = truth > 0
    union = truth + predicted - hits
    return {
        "pixel_accuracy": float(hits.sum() / m.sum()),
        "class_accuracy": float((hits[present] / truth[present]).mean()),
        "class_iou": float((hits[union > 0] / union[union > 0]).mean()),
    }


@METRICS.register("class_preservation", kind="labels", higher_is_better=True,
                  description="fraction of translated images a classifier assigns to the source image's class")
def class_preservation(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Accuracy of a classifier's ``logits`` (N, K) on translated images against the source labels (N,)."""
    logits, labels = torch.as_tensor(logits), torch.as_tensor(labels)
    if logits.dim() != 2 or labels.shape != (logits.shape[0],):
        raise ValueError(f"expected logits (N, K) and labels (N,); got {tuple(logits.shape)} and {tuple(labels.shape)}")
    return float((logits.argmax(1) == labels).double().mean())
