"""Inpainting masks (1 = missing), drawn from a numpy Generator: boxes and free-form strokes.

Box: one axis-aligned rectangle, each side 1/4 to 1/2 of the image's (the "centre/random block"
masks of Context Encoders and early inpainting papers), placed anywhere.

Free-form: the random-stroke masks of DeepFill v2 (Yu et al. 2019, "Free-Form Image Inpainting with
Gated Convolution"): 1 to 4 strokes, each a polyline of 4 to 12 segments with random angles and
lengths, drawn with a round brush whose width is 1/20 to 1/8 of the image's shorter side. The
parameters are scaled to the image size so a 64x64 crop and a 512x512 image get alike-looking masks.

Any: a box or a free-form mask with equal odds (one draw decides), so one inpainter learns both kinds.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw


def box_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """(H, W) float32, 1 inside one random rectangle."""
    h = int(rng.integers(max(1, height // 4), max(1, height // 2) + 1))
    w = int(rng.integers(max(1, width // 4), max(1, width // 2) + 1))
    top, left = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
    mask = np.zeros((height, width), dtype=np.float32)
    mask[top : top + h, left : left + w] = 1.0
    return mask


def free_form_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """(H, W) float32, 1 under a few random brush strokes."""
    side = min(height, width)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(1, 5))):
        brush = max(1, int(rng.uniform(side / 20, side / 8)))
        x, y = float(rng.uniform(0, width)), float(rng.uniform(0, height))
        points = [(x, y)]
        for _ in range(int(rng.integers(4, 13))):
            angle = rng.uniform(0, 2 * math.pi)
            length = rng.uniform(side / 10, side / 4)
            x = float(np.clip(x + length * math.cos(angle), 0, width - 1))
            y = float(np.clip(y + length * math.sin(angle), 0, height - 1))
            points.append((x, y))
        draw.line(points, fill=255, width=brush)
        for px, py in points:  # round joints and ends
            r = brush / 2
            draw.ellipse((px - r, py - r, px + r, py + r), fill=255)
    return (np.asarray(canvas) > 0).astype(np.float32)


def any_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A box or a free-form mask, even odds."""
    return (box_mask if rng.random() < 0.5 else free_form_mask)(height, width, rng)


MASKS = {"box": box_mask, "free": free_form_mask, "any": any_mask}


def seeded_masks(n: int, height: int, width: int, kind: str, seed: int) -> np.ndarray:
    """(n, H, W) float32: mask i of ``kind`` drawn from ``default_rng([seed, i])``, so every method
    scored on the same images sees the same holes, whatever the order it runs in."""
    return np.stack([MASKS[kind](height, width, np.random.default_rng([seed, i])) for i in range(n)])
