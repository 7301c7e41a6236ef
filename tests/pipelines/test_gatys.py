"""The optimisation-based reference lowers its objective in a few iterations."""
import pytest
import torch

from turbopix.features.perceptual import random_network
from turbopix.pipelines.gatys import optimise_image
from turbopix.training.style import StyleObjective


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_a_few_iterations_lower_the_loss(optimizer):
    torch.manual_seed(0)
    style = torch.rand(1, 3, 24, 24) * 2 - 1
    content = torch.nn.functional.interpolate(torch.rand(1, 3, 4, 4), size=(24, 24), mode="bilinear") * 2 - 1
    obj = StyleObjective(random_network(width=0.125), style, content_weight=1.0, style_weight=1e3, tv_weight=0.0)
    seen = []
    out = optimise_image(content, obj, iterations=8, optimizer=optimizer, on_step=seen.append)
    assert len(seen) == 8 and out.shape == content.shape
    assert out.min() >= -1 and out.max() <= 1
    assert seen[-1]["loss"] < 0.7 * seen[0]["loss"]
    assert seen[-1]["style"] < seen[0]["style"]
    with pytest.raises(ValueError, match="optimizer must be"):
        optimise_image(content, obj, iterations=1, optimizer="sgd")
