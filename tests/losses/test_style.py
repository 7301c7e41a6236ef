"""Style-transfer losses against values computed by hand."""
import pytest
import torch

from turbopix.losses import content_loss, gram, style_loss, total_variation


def test_gram_of_a_hand_made_map():
    # two channels over 2x1 pixels: F = [[1, 2], [3, 4]]; F F^T = [[5, 11], [11, 25]]; / (C H W = 4)
    f = torch.tensor([[[[1.0], [2.0]], [[3.0], [4.0]]]])
    assert torch.allclose(gram(f), torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 4)


def test_style_loss_is_zero_for_the_style_and_broadcasts_one_style_over_the_batch():
    torch.manual_seed(0)
    feats = [torch.randn(1, 3, 4, 4), torch.randn(1, 5, 2, 2)]
    grams = [gram(f) for f in feats]
    assert style_loss(feats, grams) == 0
    batch = [f.expand(3, -1, -1, -1) for f in feats]
    assert style_loss(batch, grams) == 0
    # one layer, a known difference: gram of zeros is 0, so the loss is mean(G^2) of the style
    zeros = [torch.zeros(2, 3, 4, 4)]
    assert torch.allclose(style_loss(zeros, grams[:1], weights=[2.0]), 2 * grams[0].pow(2).mean())
    with pytest.raises(ValueError, match="2 feature maps but 1"):
        style_loss(feats, grams[:1])


def test_content_loss_and_total_variation_by_hand():
    a, b = torch.zeros(1, 1, 2, 2), torch.tensor([[[[1.0, 3.0], [0.0, 0.0]]]])
    assert content_loss(b, a) == pytest.approx((1 + 9) / 4)
    # vertical differences: |0-1|, |0-3| -> mean 2; horizontal: |3-1|, |0-0| -> mean 1
    assert total_variation(b) == pytest.approx(3.0)
    assert total_variation(torch.ones(2, 3, 5, 5)) == 0
