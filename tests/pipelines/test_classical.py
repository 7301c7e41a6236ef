"""Classical baselines behind the Method interface: they run, and they do their job."""
import pytest
import torch

from turbopix.data.resize import imresize
from turbopix.pipelines.classical import CLASSICAL


def _smooth(c=1, h=48, w=64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, c, h // 8, w // 8, generator=gen) * 1.6 - 0.8
    return torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)


def _mse(a, b):
    return float(((a - b) ** 2).mean())


def test_bicubic_is_matlab_imresize():
    x = _smooth()
    method = CLASSICAL.get("bicubic")(3)
    assert method.scale == 3 and method.task == "sr"
    torch.testing.assert_close(method.run(x), imresize(x, 3))


@pytest.mark.parametrize("name", ["nlm", "tv", "bm3d"])
@pytest.mark.parametrize("c", [1, 3])
def test_denoisers_reduce_the_noise(name, c):
    if name == "bm3d":
        pytest.importorskip("bm3d")
    clean = _smooth(c)
    noisy = clean + torch.randn(clean.shape, generator=torch.Generator().manual_seed(1)) * (2 * 25 / 255)
    method = CLASSICAL.get(name)()
    assert method.needs == ("sigma",)
    out = method.run(noisy, sigma=25.0)
    assert out.shape == clean.shape
    assert _mse(out, clean) < 0.5 * _mse(noisy, clean)


@pytest.mark.parametrize("name", ["telea", "navier-stokes", "biharmonic"])
@pytest.mark.parametrize("c", [1, 3])
def test_inpainters_fill_the_hole_and_keep_the_rest(name, c):
    if name != "biharmonic":
        pytest.importorskip("cv2")
    clean = _smooth(c)
    mask = torch.zeros(1, 1, *clean.shape[-2:])
    mask[..., 20:28, 30:40] = 1
    damaged = torch.where(mask.bool(), torch.tensor(0.0), clean)
    out = CLASSICAL.get(name)().run(damaged, mask=mask)
    hole = mask.bool().expand_as(clean)
    assert _mse(out[hole], clean[hole]) < 0.25 * _mse(damaged[hole], clean[hole])
    assert (out[~hole] - clean[~hole]).abs().max() <= 1 / 127.5 + 1e-6  # known pixels kept (8-bit for OpenCV)
