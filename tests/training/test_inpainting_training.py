"""The inpainter trains through the one loop and the restoration Task (``turbopix.train``) on
``patches:...&degrade=mask:any``: the mask reaches the model as its declared input."""
import json

import numpy as np
from PIL import Image

import turbopix


def test_a_tiny_inpainting_run_through_turbopix_train(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "photos").mkdir()
    for i in range(8):
        coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        Image.fromarray(coarse).resize((40, 40), Image.BILINEAR).save(tmp_path / "photos" / f"{i}.png")
    spec = f"patches:{tmp_path / 'photos'}?patch_size=24&degrade=mask:any&colour=rgb&val_split=0.25"
    result = turbopix.train("inpaint", spec, out=tmp_path / "run", model_options={"channels": 3, "width": 4},
                            steps=40, batch_size=4, lr=3e-3, ckpt_every=20, log_every=10, sample_every=0,
                            threads=1, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines() if line]
    val = [r for r in rows if "val_psnr" in r]
    assert [r["step"] for r in val] == [20, 40]
    assert val[-1]["val_psnr"] > val[-1]["val_psnr_input"]  # filling beats leaving the hole mid-grey
    model = turbopix.load(result.model_path)
    assert model.name == "inpaint" and "degrade=mask:any" in model.metadata["data"]
