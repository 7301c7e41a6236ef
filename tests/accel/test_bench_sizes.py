"""bench --size: an image-to-image model timed at given input sizes, one row per (variant, batch,
size); a model without free-size inputs refuses sizes (see toy_restorer.py)."""
from __future__ import annotations

import pytest

import turbopix
from turbopix.accel.bench import bench

from toy_restorer import EXAMPLE_SIZE, registered  # beside this file (pytest puts the folder on sys.path)


@pytest.fixture(scope="module")
def toy(make):
    with registered() as name:
        yield make(name)


def test_bench_times_image_models_at_given_sizes(toy, tmp_path):
    """--size: one row per (variant, batch, size), inputs resized to H x W, FLOPs counted at that size."""
    from turbopix.accel.bench import inputs_at

    assert inputs_at(toy, 2, (20, 8))["image"].shape == (2, 3, 20, 8)
    assert inputs_at(toy, 2, None)["image"].shape == (2, 3, *EXAMPLE_SIZE)
    ckpt = turbopix.save(toy, tmp_path / "toy.safetensors")
    rows = bench(ckpt, batches=[1, 2], sizes=["20x8", "16"], rounds=1, target_s=0.01, quality_n=4, ref=None, memory=False,
                 log=lambda s: None)
    assert [(r["batch"], r["size"]) for r in rows] == [(1, "20x8"), (1, "16x16"), (2, "20x8"), (2, "16x16")]
    assert all(r["images_per_s"] > 0 for r in rows)
    # memory per (batch, size); in this process, because the toy model is registered only here
    from turbopix.accel.bench import measure_memory

    assert set(measure_memory(f"ckpt:{ckpt}", [1, 2], 1, ["20x8", "16x16"])) == {"1@20x8", "1@16x16", "2@20x8", "2@16x16"}
    flops = {r["size"]: r["flops_per_image"] for r in rows}
    assert flops["20x8"] * 256 == flops["16x16"] * 160  # per-pixel work: FLOPs scale with the pixels
    from turbopix.accel.bench import to_markdown

    assert "| eager-fp32 | 2 | 16x16 |" in to_markdown(rows)


def test_bench_refuses_sizes_for_a_model_without_free_size_inputs(mlpgan_ckpt):
    from turbopix.accel.config import AccelOptionError

    with pytest.raises(AccelOptionError, match="no image input of free size"):
        bench(mlpgan_ckpt, sizes=["32"], rounds=1, target_s=0.01, quality_n=0, memory=False, log=lambda s: None)
