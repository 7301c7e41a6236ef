"""Classical low-light enhancement baselines, registered in ``CLASSICAL`` (task ``enhance``) behind
the same ``Method`` interface as the restoration baselines, so ``turbopix enhance --model NAME`` and
the benchmark run them exactly like the learned model. All work on 8-bit RGB (OpenCV, the
``classical`` extra); none has a parameter tuned on a test set.

    gamma   adaptive gamma: ``out = x^g`` on every channel with ``g = log(0.5) / log(m)``, m the mean
            luma (BT.601) of the image, so the mean becomes about 0.5; g is kept within [0.1, 1]
            (never darkens)
    he      histogram equalisation of the Y channel of YCrCb (``cv2.equalizeHist``), chroma kept
    clahe   contrast-limited adaptive HE (``cv2.createCLAHE``, clip limit 2, 8x8 tiles: OpenCV's
            documented example) on the L channel of Lab, a and b kept
    lime    an illumination-map method after LIME (Guo et al. 2017): the illumination T is the
            max of R, G, B, refined by an edge-preserving guided filter (He et al.; radius 15,
            eps 1e-3, guided by itself) in place of LIME's optimisation, gamma-adjusted
            (T^0.8, LIME's value) and floored at 0.05; the output is the image divided by T.
            LIME's optional BM3D denoising is left out.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .classical import CLASSICAL, Method, _need, _to_numpy, _from_numpy

LUMA = np.array([0.299, 0.587, 0.114])


def _uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def _method(name: str, fn) -> Method:
    """A Method running ``fn`` on (H, W, 3) float [0, 1] RGB pixels (grey inputs come repeated to RGB
    by the pipeline: ``channels=3``)."""
    def run(image, sigma=None, mask=None):
        return _from_numpy(np.clip(fn(np.clip(_to_numpy(image), 0, 1)), 0, 1), image)
    return Method(name, "enhance", run, channels=3)


def adaptive_gamma(x: np.ndarray) -> np.ndarray:
    mean = float((x @ LUMA).mean())
    g = 1.0 if mean <= 0 else min(1.0, max(0.1, math.log(0.5) / math.log(max(mean, 1e-6))))
    return x**g


def _equalise_y(x: np.ndarray) -> np.ndarray:
    cv2 = _need("cv2", "opencv-python-headless")
    ycrcb = cv2.cvtColor(_uint8(x), cv2.COLOR_RGB2YCrCb)
    ycrcb[..., 0] = cv2.equalizeHist(ycrcb[..., 0])
    return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB) / 255.0


def _clahe_l(x: np.ndarray) -> np.ndarray:
    cv2 = _need("cv2", "opencv-python-headless")
    lab = cv2.cvtColor(_uint8(x), cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) / 255.0


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter (grey guide), with box means from OpenCV: edge-preserving smoothing."""
    cv2 = _need("cv2", "opencv-python-headless")
    mean = lambda a: cv2.boxFilter(a, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)  # noqa: E731
    mi, ms = mean(guide), mean(src)
    a = (mean(guide * src) - mi * ms) / (mean(guide * guide) - mi * mi + eps)
    b = ms - a * mi
    return mean(a) * guide + mean(b)


def lime(x: np.ndarray, *, gamma: float = 0.8, floor: float = 0.05) -> np.ndarray:
    t0 = x.max(-1).astype(np.float32)
    t = np.clip(guided_filter(t0, t0, 15, 1e-3), floor, 1) ** gamma
    return x / t[..., None]


# name -> the pixel function; each is registered as a constructor of its Method, as classical.py's are
BASELINES = {"gamma": adaptive_gamma, "he": _equalise_y, "clahe": _clahe_l, "lime": lime}
for _name, _fn in BASELINES.items():
    CLASSICAL.register(_name, task="enhance")(functools.partial(_method, _name, _fn))
