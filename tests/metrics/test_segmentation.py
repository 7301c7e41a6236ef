"""Segmentation scores, the facades palette and class preservation, on hand-made cases."""
import numpy as np
import pytest
import torch

from turbopix.metrics.segmentation import (CMP_FACADES, CMP_FACADES_CLASSES, class_preservation, palette_indices,
                                           segmentation_scores)


def test_palette_maps_jpeg_smeared_colours_to_the_nearest_class():
    assert len(CMP_FACADES) == len(CMP_FACADES_CLASSES) == 12
    exact = CMP_FACADES.T.reshape(1, 3, 1, 12)
    assert palette_indices(exact).tolist() == [[list(range(12))]]
    smeared = (exact + torch.tensor([9.0, -7.0, 5.0]).view(1, 3, 1, 1)).clamp(0, 255)
    assert palette_indices(smeared).tolist() == [[list(range(12))]]
    with pytest.raises(ValueError, match="colour label maps"):
        palette_indices(torch.zeros(1, 1, 2, 2))


def test_scores_on_a_hand_made_case():
    true = torch.tensor([[0, 0, 0, 1], [1, 1, 2, 2]])
    pred = torch.tensor([[0, 0, 1, 1], [1, 1, 2, 0]])
    s = segmentation_scores(pred, true, 4)
    assert s["pixel_accuracy"] == pytest.approx(6 / 8)
    # class 0: 2/3, class 1: 3/3, class 2: 1/2; class 3 is absent from the truth and left out
    assert s["class_accuracy"] == pytest.approx((2 / 3 + 1 + 1 / 2) / 3)
    # IoU = hits / (true + predicted - hits): class 0: 2/(3+3-2), 1: 3/(3+4-3), 2: 1/(2+1-1)
    assert s["class_iou"] == pytest.approx((2 / 4 + 3 / 4 + 1 / 2) / 3)
    assert segmentation_scores(true, true, 4) == {"pixel_accuracy": 1.0, "class_accuracy": 1.0, "class_iou": 1.0}


def test_class_preservation():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    assert class_preservation(logits, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="logits"):
        class_preservation(logits, torch.tensor([0, 1]))


def test_the_palette_is_where_the_facades_label_maps_are(shared_data):
    """The derivation, checked: each palette colour is the median of the label-map pixels close to
    it (JPEG smears edges, so only pixels within 40 count), and every class covers >= 0.5% of them."""
    from PIL import Image

    folder = shared_data / "facades" / "train"
    pixels = np.concatenate([np.asarray(Image.open(folder / f"{i}.jpg"))[:, 256:].reshape(-1, 3)[::5]
                             for i in range(1, 41)]).astype(np.float32)
    x = torch.from_numpy(pixels)
    distance = torch.cdist(x, CMP_FACADES)
    nearest, close = distance.argmin(1), distance.min(1).values < 40
    for k in range(12):
        near = x[(nearest == k) & close]
        assert len(near) > 0.005 * len(x), CMP_FACADES_CLASSES[k]
        assert (near.median(0).values - CMP_FACADES[k]).abs().max() <= 16, CMP_FACADES_CLASSES[k]
