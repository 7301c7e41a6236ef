"""data/crops.py: crop windows and the 8 dihedral transforms."""
from __future__ import annotations

import numpy as np

from turbopix.data.crops import DIHEDRAL, crop_window, dihedral


def test_eight_distinct_dihedral_transforms():
    image = np.arange(12).reshape(3, 4, 1)
    outs = [dihedral(image, k) for k in range(DIHEDRAL)]
    assert np.array_equal(outs[0], image)
    assert len({o.tobytes() + bytes(o.shape) for o in outs}) == 8
    assert np.array_equal(outs[4], image[:, ::-1])  # k >= 4 flips
    assert np.array_equal(outs[1], np.rot90(image, 1, axes=(0, 1)))
    for o in outs:  # every transform is a permutation of the pixels
        assert sorted(o.ravel()) == list(range(12))


def test_crop_windows():
    assert crop_window((10, 20), None, None) == (0, 0, 10, 20)
    assert crop_window((10, 20), 4, None) == (3, 8, 4, 4)  # centre
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(500):
        top, left, h, w = crop_window((10, 20), 4, rng)
        assert 0 <= top <= 6 and 0 <= left <= 16 and (h, w) == (4, 4)
        seen.add((top, left))
    assert {t for t, _ in seen} == set(range(7)) and {x for _, x in seen} == set(range(17))  # reaches every edge
