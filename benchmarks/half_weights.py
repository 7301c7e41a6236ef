"""What storing a shipped model in float16 costs: the test-set PSNR of the run's float32 model
(``runs/restorers/NAME/best.safetensors``) beside that of the float16 file turbopix ships.

    PYTHONPATH=src TURBOPIX_DATA=../shared/data python benchmarks/half_weights.py sr-accurate-x2 sr-accurate-x3

The test protocol is the one ``turbopix bench`` scores variants with (``turbopix.accel.quality``:
Set5 at the model's scale, Y, border crop = scale; Set12 at the trained sigma for a denoiser), all
images of the set.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import turbopix
from turbopix.accel.quality import QualityProbe
from turbopix.core.checkpoint import read_metadata
from turbopix.models.shipped import shipped_path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="+", help="shipped model names stored in float16")
    p.add_argument("--runs", type=Path, default=Path("runs/restorers"), help="where tools/train_restorers.py ran")
    p.add_argument("--data-root", default=os.environ.get("TURBOPIX_DATA"))
    args = p.parse_args()
    print("| model | test set | float32 run PSNR | float16 shipped PSNR | difference |")
    print("|---|---|---:|---:|---:|")
    for name in args.names:
        shipped = shipped_path(name)
        if read_metadata(shipped).get("stored_dtype") != "float16":
            raise SystemExit(f"{shipped} is not stored in float16")
        run = args.runs / name / "best.safetensors"
        if not run.is_file():
            raise SystemExit(f"{run} not found: the float32 model of {name}'s run (give --runs where it ran)")
        scores = []
        for path in (run, shipped):
            probe = QualityProbe(turbopix.load(path), n=4, data_root=args.data_root)  # n: example inputs, not test images
            scores.append(probe.psnr_eager)
        print(f"| {name} | {probe.pairs.name} | {scores[0]:.4f} | {scores[1]:.4f} | {scores[1] - scores[0]:+.4f} dB |")


if __name__ == "__main__":
    main()
