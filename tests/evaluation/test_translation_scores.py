"""Translation scores: a perfect translator and segmenter score perfectly, a constant one does not."""
import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.evaluation.translation import digit_scores, paired_scores
from turbopix.metrics.segmentation import CMP_FACADES


class Fixed:
    """A stand-in translator: ``fn`` of its input."""

    def __init__(self, fn):
        self.fn = fn

    def translate(self, x, direction="a2b"):
        return self.fn(x)


@pytest.fixture(scope="module")
def facades_like(tmp_path_factory):
    """photo | label map pairs in train/ and test/, the label map drawn in palette colours and the
    photo a fixed function of it (so 'photo -> labels' is exactly invertible)."""
    root = tmp_path_factory.mktemp("facades")
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        (root / split).mkdir()
        for i in range(3):
            classes = rng.integers(0, 12, (4, 4)).repeat(4, 0).repeat(4, 1)
            labels = CMP_FACADES.numpy()[classes].astype(np.uint8)
            photo = 255 - labels
            Image.fromarray(np.concatenate([photo, labels], 1)).save(root / split / f"{i}.png")
    return root


def test_perfect_translator_and_segmenter(facades_like):
    spec = f"pairs:{facades_like}?direction=BtoA&augment=false"
    labels_to_photo, photo_to_labels = Fixed(lambda x: -x), Fixed(lambda x: -x)  # 255 - v on [-1, 1] is -v
    r = paired_scores(labels_to_photo, spec, segmenter=photo_to_labels)
    assert r["images"] == 3 and r["l1"] < 1e-6 and r["ssim"] > 0.999
    assert r["segmentation"] == r["segmentation_real"] == {"pixel_accuracy": 1.0, "class_accuracy": 1.0, "class_iou": 1.0}
    grey = paired_scores(Fixed(torch.zeros_like), spec, segmenter=photo_to_labels)
    assert grey["l1"] > 0.1 and grey["segmentation"]["pixel_accuracy"] < 0.5
    assert grey["segmentation_real"]["pixel_accuracy"] == 1.0  # the ceiling does not depend on the translator


@pytest.mark.filterwarnings("ignore:FID with 20 samples")  # too few for a good FID; enough to order two sets
def test_digit_scores_of_real_digits_and_of_noise():
    gen = torch.Generator().manual_seed(0)
    strokes = torch.zeros(20, 1, 28, 28) - 1
    strokes[:, :, 4:24, 13:15] = 1  # twenty ones
    noise = torch.rand(20, 1, 28, 28, generator=gen) * 2 - 1
    labels = torch.ones(20, dtype=torch.long)
    same = digit_scores(strokes, labels, strokes)
    assert same["class_preservation"] == 1.0 and abs(same["fid"]) < 1e-3
    scrambled = digit_scores(strokes, labels, strokes, model=Fixed(lambda x: noise[: len(x)]))
    assert scrambled["fid"] > 1
