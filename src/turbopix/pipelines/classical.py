"""Classical restoration baselines behind the same interface as the learned models (``Method``), so
the pipeline, the CLI and the benchmark tables run them side by side.

    bicubic         SR: MATLAB ``imresize`` bicubic (what SR papers' "bicubic" rows are)
    nlm             denoising: non-local means (scikit-image, fast mode, h = 0.8 sigma, 5x5 patches,
                    13x13 search), as scikit-image's documentation recommends
    tv              denoising: total variation (Chambolle), weight = sigma / 255 (a fixed rule, not
                    tuned on any test set)
    bm3d            denoising: BM3D (grey) / CBM3D (colour), the ``bm3d`` package (optional extra
                    ``turbopix[classical]``), given the true sigma
    telea, navier-stokes   inpainting: OpenCV ``cv2.inpaint`` (radius 3; optional extra)
    biharmonic      inpainting: scikit-image ``inpaint_biharmonic``

Each works on one image (1, C, H, W) in [-1, 1] and returns the same scale, so tiling, colour
handling and the metrics treat them exactly like a network.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ..core.registry import Registry
from ..data.resize import imresize

Run = Callable[..., torch.Tensor]  # run(image, sigma=None, mask=None) -> image


@dataclass
class Method:
    """Anything that restores an image: a learned model or a classical algorithm.

    ``run(image, sigma=..., mask=...)`` maps (1, C, h, w) in [-1, 1] to (1, C, h*scale, w*scale);
    ``channels`` None means any; ``radius`` is how far an output pixel looks (None: unbounded, so
    the method runs on the whole image, untiled)."""

    name: str
    task: str  # "denoise", "deblock", "sr" or "inpaint"
    run: Run
    scale: int = 1
    channels: int | None = None
    radius: int | None = None
    needs: tuple[str, ...] = ()  # extra inputs: "sigma", "mask"
    colour_out: bool = False  # a colour method on a grey file returns RGB (a translator may add colour); else its grey mean
    info: dict = field(default_factory=dict)


class MissingExtraError(ImportError):
    """A baseline whose optional package is not installed."""


CLASSICAL: Registry[Callable[..., Method]] = Registry("classical method")


def _need(module: str, package: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(f"the '{package}' package is needed for this baseline: pip install 'turbopix[classical]' "
                                f"(or pip install {package})") from None


def _to_numpy(image: torch.Tensor) -> np.ndarray:
    """(1, C, H, W) [-1, 1] -> (H, W, C) float64 in [0, 1] (unclipped: noisy inputs exceed it)."""
    return ((image[0].double() + 1) / 2).permute(1, 2, 0).numpy()


def _from_numpy(array: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(array.reshape(*array.shape[:2], -1))).permute(2, 0, 1)[None]
    return (x * 2 - 1).to(like.dtype)


def _channel_axis(array: np.ndarray) -> int | None:
    return -1 if array.shape[-1] == 3 else None


def _squeeze(array: np.ndarray) -> np.ndarray:
    return array if array.shape[-1] == 3 else array[..., 0]


@CLASSICAL.register("bicubic", task="sr")
def bicubic(scale: int = 2) -> Method:
    def run(image, sigma=None, mask=None):
        return imresize(image, scale)
    return Method(f"bicubic-x{scale}", "sr", run, scale=scale, radius=2 * scale)


@CLASSICAL.register("nlm", task="denoise")
def nlm() -> Method:
    from skimage.restoration import denoise_nl_means

    def run(image, sigma=None, mask=None):
        x, s = _to_numpy(image), float(sigma) / 255
        out = denoise_nl_means(_squeeze(x), h=0.8 * s, sigma=s, fast_mode=True, patch_size=5, patch_distance=6,
                               channel_axis=_channel_axis(x))
        return _from_numpy(out, image)
    return Method("nlm", "denoise", run, needs=("sigma",))


@CLASSICAL.register("tv", task="denoise")
def tv() -> Method:
    from skimage.restoration import denoise_tv_chambolle

    def run(image, sigma=None, mask=None):
        x = _to_numpy(image)
        return _from_numpy(denoise_tv_chambolle(_squeeze(x), weight=float(sigma) / 255, channel_axis=_channel_axis(x)), image)
    return Method("tv", "denoise", run, needs=("sigma",))


@CLASSICAL.register("bm3d", task="denoise")
def bm3d() -> Method:
    lib = _need("bm3d", "bm3d")

    def run(image, sigma=None, mask=None):
        x, s = _to_numpy(image), float(sigma) / 255
        out = lib.bm3d_rgb(x, s) if x.shape[-1] == 3 else lib.bm3d(x[..., 0], s)
        return _from_numpy(np.asarray(out), image)
    return Method("bm3d", "denoise", run, needs=("sigma",))


def _opencv(flag_name: str, name: str) -> Method:
    cv2 = _need("cv2", "opencv-python-headless")

    def run(image, sigma=None, mask=None):
        x = np.clip(np.rint(_to_numpy(image) * 255), 0, 255).astype(np.uint8)
        m = (mask[0, 0].numpy() > 0.5).astype(np.uint8)
        out = cv2.inpaint(_squeeze(x), m, 3, getattr(cv2, flag_name))
        return _from_numpy(out.astype(np.float64) / 255, image)
    return Method(name, "inpaint", run, needs=("mask",))


@CLASSICAL.register("telea", task="inpaint")
def telea() -> Method:
    return _opencv("INPAINT_TELEA", "telea")


@CLASSICAL.register("navier-stokes", task="inpaint")
def navier_stokes() -> Method:
    return _opencv("INPAINT_NS", "navier-stokes")


@CLASSICAL.register("biharmonic", task="inpaint")
def biharmonic() -> Method:
    from skimage.restoration import inpaint_biharmonic

    def run(image, sigma=None, mask=None):
        x = _to_numpy(image)
        m = mask[0, 0].numpy() > 0.5
        return _from_numpy(inpaint_biharmonic(_squeeze(x), m, channel_axis=_channel_axis(x)), image)
    return Method("biharmonic", "inpaint", run, needs=("mask",))
