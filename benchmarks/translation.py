"""Image-to-image translation benchmark: pix2pix and CycleGAN on facades, CycleGAN on digits.

    # 1. the training folders (unpaired halves of facades/train, digit folders), under runs/translation/data
    PYTHONPATH=src TURBOPIX_DATA=../shared/data python benchmarks/translation.py prepare
    # 2. train (the commands, with the options used in docs/applications.md)
    PYTHONPATH=src python benchmarks/translation.py recipes
    # 3. the tables (JSON in benchmarks/results/translation.json) and the picture sheets
    PYTHONPATH=src TURBOPIX_DATA=../shared/data python benchmarks/translation.py table
    # 4. the worked example (recipe colour2grey) applied both ways: its sheet and numbers
    PYTHONPATH=src TURBOPIX_DATA=../shared/data python benchmarks/translation.py colour2grey

How each number is computed (``turbopix.evaluation.translation``):

- facades, label map -> photo, on the 106 test pairs (never trained or tuned on), every image read
  at 64x64 (256 px box-averaged by 4, as the models were trained): L1 (mean absolute error on the
  [0, 1] scale), PSNR (dB, RGB, no crop) and SSIM (scikit-image's definition) of the output against
  the true photo; segmentation score: a labels-from-photo network (pix2pix U-Net, L1 only, trained
  on facades/train) labels each generated photo, each pixel's colour is mapped to the nearest of the
  12 CMP facade colours, and per-pixel / per-class accuracy and class IoU are counted against the
  input label map over all test pixels. The same network on the real test photos is the ceiling.
- digits: scikit-learn's 8x8 digits of its test split (360, never trained on) upscaled to 28x28
  (antialiased bicubic) and translated to the MNIST style; the shipped ``lenet-mnist`` classifier
  labels them (class preservation = its accuracy against the digits' true labels) and gives the
  features of FID against 2,000 MNIST test images. The untranslated upscaled digits are the baseline.
- colour2grey (CycleGAN, colour BSDS photos A <-> grey BSDS crops B), applied by the translate
  pipeline at the files' own size (``--size 0``: it learned on 64 px crops at that scale) to the 68
  CBSD68 test images (never trained on): a2b (decolourise) scored by PSNR (RGB, 0-255, no crop, mean
  over images) against the image's BT.601 luma repeated to RGB, beside two baselines: the colour
  image unchanged and the mean of its R, G, B; b2a (colourise) applied to that luma (a grey PNG) and
  scored by PSNR against the true colour image, beside the grey image itself. ``spread``: the mean
  over pixels of max(R, G, B) - min(R, G, B) (0 for grey), as a measure of how much colour there is;
  ``luma_mean_std``: the mean over images of each image's luma mean and standard deviation.
  a2b at the model's training size (``--size`` default: shorter side 64 px) is scored too.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import turbopix
from turbopix.core.atomic import atomic_write, atomic_write_text
from turbopix.core.colour import rgb_to_grey
from turbopix.data import load_dataset
from turbopix.data.digits import digit_domains
from turbopix.data.folder import save_folder
from turbopix.data.images import read_image
from turbopix.data.sources import resolve_folder
from turbopix.evaluation.translation import digit_scores, paired_scores, translate_all
from turbopix.pipelines.restore import RestoreConfig
from turbopix.pipelines.translate import TranslateConfig, translate_files

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "translation"
DATA = RUNS / "data"
FACADES_TEST = "pairs:facades?direction=BtoA&downscale=4&augment=false"  # label map -> photo, test/ at 64 px
MNIST_REFERENCE = 2000  # MNIST test images as FID's reference set

# what docs/applications.md trained (one long job at a time, as the machine's etiquette asks)
RECIPES = {
    "pix2pix-facades": "turbopix train --model pix2pix --image-size 64 --data 'pairs:facades/train?direction=BtoA&downscale=4"
                       "&augment=false&val_split=0.1' --batch-size 4 --time-budget 900 --steps 100000 --ckpt-every 500 "
                       "--out runs/translation/pix2pix-facades",
    "segmenter-facades": "turbopix train --model pix2pix --image-size 64 --gan-weight 0 --dropout 0 --data "
                         "'pairs:facades/train?downscale=4&augment=false&val_split=0.1' --batch-size 8 --lr 5e-4 "
                         "--time-budget 300 --steps 100000 --ckpt-every 500 --out runs/translation/segmenter-facades",
    # downscale=4: the whole 256 px facade at 64 px, as the table reads the test pairs (without it a 64 px
    # crop of the 256 px file would be a quarter of a facade at four times the scale the model is applied at)
    "cyclegan-facades": "turbopix train --model cyclegan --image-size 64 --data "
                        "'unpaired:runs/translation/data/facades_labels,runs/translation/data/facades_photos"
                        "?downscale=4&augment=false' "
                        "--batch-size 1 --time-budget 600 --steps 100000 --ckpt-every 500 --out runs/translation/cyclegan-facades",
    "cyclegan-digits": "turbopix train --model cyclegan --image-size 28 --channels 1 --g-width 16 --blocks 3 --data "
                       "'unpaired:runs/translation/data/digits8,runs/translation/data/mnist?augment=false' --batch-size 8 "
                       "--time-budget 600 --steps 100000 --ckpt-every 500 --out runs/translation/cyclegan-digits",
    # docs/applications.md's worked example: colour BSDS photos (A) <-> grey BSDS crops (B), random 64 px crops
    # at the files' own scale (flips and rotations on); applied with --size 0 (see `colour2grey`)
    "colour2grey": "turbopix train --model cyclegan --image-size 64 --batch-size 2 --time-budget 600 "
                   "--data 'unpaired:cbsd432_train,train400?colour=rgb' --out runs/translation/colour2grey",
}


def _save_png(array: np.ndarray, path: Path) -> None:
    image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))


def prepare(data_root: str | None) -> None:
    """Unpaired facades halves (the pairing is thrown away by unpaired: sampling) and digit folders."""
    facades = load_dataset("pairs:facades/train?augment=false", split="train", data_root=data_root)
    for sub in ("facades_photos", "facades_labels"):
        (DATA / sub).mkdir(parents=True, exist_ok=True)
    for i in range(len(facades)):
        b = facades.batch(torch.tensor([i]))
        for key, sub in (("image", "facades_photos"), ("target", "facades_labels")):
            pixels = ((b[key][0] + 1) * 127.5).round().clamp(0, 255).byte().permute(1, 2, 0).numpy()
            _save_png(pixels, DATA / sub / f"{i:03d}.png")
    # 8x8 digits upscaled to 28 px (A) and as many MNIST train images (B): the library's definition
    digits, mnist = digit_domains(load_dataset("mnist", split="train", data_root=data_root))
    save_folder(digits, DATA / "digits8")
    save_folder(mnist, DATA / "mnist")
    print(f"wrote {len(facades)} facade photos and label maps, {len(digits)} digits and MNIST images under {DATA}")


def _unit_uint8(x: torch.Tensor) -> np.ndarray:
    return ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


def sheet(columns: list[torch.Tensor], path: Path, pad: int = 2, zoom: int = 2) -> None:
    """Images (N, C, H, W) in [-1, 1], one tensor per column, N rows, on a white background, each
    pixel shown as zoom x zoom (the images are small)."""
    cols = [_unit_uint8(c if c.shape[1] == 3 else c.expand(-1, 3, -1, -1)).repeat(zoom, 1).repeat(zoom, 2) for c in columns]
    n, h, w, _ = cols[0].shape
    out = np.full((n * (h + pad) + pad, len(cols) * (w + pad) + pad, 3), 255, np.uint8)
    for j, col in enumerate(cols):
        for i in range(n):
            out[pad + i * (h + pad): pad + i * (h + pad) + h, pad + j * (w + pad): pad + j * (w + pad) + w] = col[i]
    _save_png(out, path)


class MeanPhoto:
    """The baseline that ignores its input: the mean facades/train photo, for every label map."""

    def __init__(self, data_root: str | None) -> None:
        train = load_dataset(FACADES_TEST.replace("facades?", "facades/train?"), split="train", data_root=data_root)
        self.mean = torch.cat([train.batch(torch.arange(i, min(i + 50, len(train))))["target"]
                               for i in range(0, len(train), 50)]).mean(0, keepdim=True)

    def translate(self, x: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        return self.mean.expand(len(x), -1, -1, -1)


def table(data_root: str | None, rows: list[int]) -> dict:
    results: dict = {"facades": {}, "digits": {}}
    seg_path = RUNS / "segmenter-facades" / "model.safetensors"
    segmenter = turbopix.load(seg_path) if seg_path.is_file() else None
    test = load_dataset(FACADES_TEST, split="test", data_root=data_root)
    picks = test.batch(torch.tensor(rows))
    columns = [picks["image"]]
    results["facades"]["mean train photo"] = paired_scores(MeanPhoto(data_root), FACADES_TEST, segmenter=segmenter,
                                                           data_root=data_root)
    for name, direction in (("pix2pix-facades", "a2b"), ("cyclegan-facades", "a2b")):
        path = RUNS / name / "model.safetensors"
        if not path.is_file():
            print(f"skipped {name}: {path} not found", file=sys.stderr)
            continue
        model = turbopix.load(path)
        results["facades"][name] = paired_scores(model, FACADES_TEST, direction=direction, segmenter=segmenter,
                                                 data_root=data_root)
        results["facades"][name]["trained"] = _trained(path)
        columns.append(translate_all(model, picks["image"], direction))
    columns.append(picks["target"])
    sheet(columns, ROOT / "docs" / "images" / "translation_facades.png")

    path = RUNS / "cyclegan-digits" / "model.safetensors"
    digits = load_dataset("digits", split="test", image_size=28)
    x, labels = digits.images.float() / 127.5 - 1, digits.labels
    reference = load_dataset("mnist", split="test", data_root=data_root).images[:MNIST_REFERENCE].float() / 127.5 - 1
    results["digits"]["untranslated"] = digit_scores(x, labels, reference)
    if path.is_file():
        model = turbopix.load(path)
        results["digits"]["cyclegan-digits"] = {**digit_scores(x, labels, reference, model=model), "trained": _trained(path)}
        first = torch.tensor([int((labels == d).nonzero()[0]) for d in range(10)])
        sheet([x[first], translate_all(model, x[first])], ROOT / "docs" / "images" / "translation_digits.png")
    return results


def _folder_pixels(folder: Path) -> dict[str, torch.Tensor]:
    """Every PNG of a folder as float (3, H, W) on the 0-255 scale (grey repeated), by file stem."""
    out = {}
    for f in sorted(folder.glob("*.png")):
        x = torch.from_numpy(np.array(read_image(f))).permute(2, 0, 1).float()
        out[f.stem] = x.expand(3, -1, -1) if len(x) == 1 else x
    return out


def _psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    return float(10 * torch.log10(255.0 ** 2 / (x - y).pow(2).mean()))


def _spread(x: torch.Tensor) -> float:
    return float((x.amax(0) - x.amin(0)).mean())


def colour2grey(data_root: str | None, colour_rows: list[str], grey_rows: list[str]) -> dict:
    """The worked example applied both ways (see the module docstring); writes its sheet."""
    run = RUNS / "colour2grey"
    model = run / "model.safetensors"
    if not model.is_file():
        sys.exit(f"{model} not found: train it first (recipes: colour2grey)")
    cbsd68, set12_dir = resolve_folder("cbsd68", data_root), resolve_folder("set12", data_root)
    out = run / "applied"
    grey_dir = out / "cbsd68_grey"
    grey_dir.mkdir(parents=True, exist_ok=True)
    colour = _folder_pixels(cbsd68)
    luma = {k: rgb_to_grey(v).expand(3, -1, -1) for k, v in colour.items()}  # unrounded BT.601 luma
    for k, v in luma.items():  # the grey test inputs of b2a: the luma rounded to 8 bits, one channel
        _save_png(v[:1].round().byte().permute(1, 2, 0).numpy(), grey_dir / f"{k}.png")
    files = RestoreConfig(overwrite=True, progress=False)
    jobs = {"cbsd68_a2b": (cbsd68, "a2b", 0), "cbsd68_a2b_size64": (cbsd68, "a2b", None),
            "cbsd68_b2a": (grey_dir, "b2a", 0), "set12_b2a": (set12_dir, "b2a", 0)}
    for name, (src, direction, size) in jobs.items():
        translate_files(src, out / name, TranslateConfig(model=str(model), direction=direction, size=size), files=files)
    a2b, a2b64, b2a = (_folder_pixels(out / n) for n in ("cbsd68_a2b", "cbsd68_a2b_size64", "cbsd68_b2a"))
    grey_in = _folder_pixels(grey_dir)

    def mean(f) -> float:
        return round(float(np.mean([f(k) for k in colour])), 3)

    results = {
        "images": len(colour), "trained": _trained(model),
        "a2b_psnr_vs_luma": {"colour input unchanged": mean(lambda k: _psnr(colour[k], luma[k])),
                             "mean of R, G, B": mean(lambda k: _psnr(colour[k].mean(0, keepdim=True).expand(3, -1, -1), luma[k])),
                             "cyclegan a2b (--size 0)": mean(lambda k: _psnr(a2b[k], luma[k])),
                             "cyclegan a2b (--size default, 64 px)": mean(lambda k: _psnr(a2b64[k], luma[k]))},
        "b2a_psnr_vs_colour": {"grey input unchanged": mean(lambda k: _psnr(grey_in[k], colour[k])),
                               "cyclegan b2a (--size 0)": mean(lambda k: _psnr(b2a[k], colour[k]))},
        "spread": {"cbsd68 colour": mean(lambda k: _spread(colour[k])), "cbsd68 a2b": mean(lambda k: _spread(a2b[k])),
                   "cbsd68 b2a": mean(lambda k: _spread(b2a[k]))},
    }
    for name, images in (("cbsd68 luma", luma), ("a2b", a2b), ("b2a", b2a)):  # brightness and contrast
        results.setdefault("luma_mean_std", {})[name] = [mean(lambda k: float(rgb_to_grey(images[k]).mean())),
                                                         mean(lambda k: float(rgb_to_grey(images[k]).std()))]
    set12_b2a = _folder_pixels(out / "set12_b2a")
    results["spread"]["set12 b2a"] = round(float(np.mean([_spread(v) for v in set12_b2a.values()])), 3)

    colour2grey_sheet(out, cbsd68, set12_dir, colour_rows, grey_rows)
    return results


def colour2grey_sheet(out: Path, cbsd68: Path, set12: Path, colour_rows: list[str], grey_rows: list[str],
                      side: int = 192) -> None:
    """CBSD68 photo | a2b | Set12 image | b2a: centre crops, side x side at full resolution, of the
    files ``colour2grey`` wrote under ``out``."""
    def crop(x: torch.Tensor) -> torch.Tensor:
        top, left = (x.shape[1] - side) // 2, (x.shape[2] - side) // 2
        return x[:, top: top + side, left: left + side]

    def crops(folder: Path, keys: list[str]) -> torch.Tensor:
        images = _folder_pixels(folder)
        return torch.stack([crop(images[k]) for k in keys]) / 127.5 - 1

    sheet([crops(cbsd68, colour_rows), crops(out / "cbsd68_a2b", colour_rows), crops(set12, grey_rows),
           crops(out / "set12_b2a", grey_rows)], ROOT / "docs" / "images" / "translation_colour2grey.png", pad=4, zoom=1)


def _trained(path: Path) -> dict:
    """Steps and wall time of the run that wrote ``path`` (its log), for the tables."""
    log = path.parent / "log.jsonl"
    if not log.is_file():
        return {}
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    last = [r for r in rows if "time" in r]  # training rows (validation rows have no time)
    val = [r for r in rows if "val_psnr" in r]
    out = {"steps": last[-1]["step"] if last else None, "seconds": last[-1].get("time") if last else None}
    if val:
        out["val_psnr"] = val[-1]["val_psnr"]
    return out


def markdown(results: dict) -> str:
    lines = ["| model (64 px) | L1 | PSNR (dB) | SSIM | seg. per-pixel acc. | seg. per-class acc. | seg. class IoU |",
             "|---|---|---|---|---|---|---|"]
    ceiling = None
    for name, r in results["facades"].items():
        s = r.get("segmentation", {})
        lines.append(f"| {name} | {r['l1']:.4f} | {r['psnr']:.2f} | {r['ssim']:.4f} | {s.get('pixel_accuracy', float('nan')):.3f} "
                     f"| {s.get('class_accuracy', float('nan')):.3f} | {s.get('class_iou', float('nan')):.3f} |")
        ceiling = r.get("segmentation_real", ceiling)
    if ceiling:
        lines.append(f"| real photos (ceiling) | 0 | inf | 1 | {ceiling['pixel_accuracy']:.3f} | {ceiling['class_accuracy']:.3f} "
                     f"| {ceiling['class_iou']:.3f} |")
    lines += ["", "| digits (28 px, 360 test digits) | class preservation (lenet-mnist) | FID (lenet-mnist features) |",
              "|---|---|---|"]
    for name, r in results["digits"].items():
        lines.append(f"| {name} | {r['class_preservation']:.3f} | {r['fid']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("prepare", "recipes", "table", "colour2grey"))
    parser.add_argument("--data-root", default=os.environ.get("TURBOPIX_DATA"))
    parser.add_argument("--rows", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5], help="facades test images in the sheet")
    parser.add_argument("--colour-rows", nargs=3, default=["101085", "108005", "241004"],
                        help="CBSD68 images in the colour2grey sheet (a2b)")
    parser.add_argument("--grey-rows", nargs=3, default=["03", "05", "07"], help="Set12 images in the colour2grey sheet (b2a)")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    if args.command == "prepare":
        prepare(args.data_root)
    elif args.command == "recipes":
        print("\n".join(f"# {name}\n{cmd}" for name, cmd in RECIPES.items()))
    elif args.command == "colour2grey":
        results = colour2grey(args.data_root, args.colour_rows, args.grey_rows)
        atomic_write_text(ROOT / "benchmarks" / "results" / "translation_colour2grey.json", json.dumps(results, indent=2) + "\n")
        print(json.dumps(results, indent=2))
    else:
        results = table(args.data_root, args.rows)
        atomic_write_text(ROOT / "benchmarks" / "results" / "translation.json", json.dumps(results, indent=2) + "\n")
        print(markdown(results))


if __name__ == "__main__":
    main()
