"""The restoration models turbopix ships: a name -> file registry over ``turbopix/weights/``.

``turbopix.load("denoise-grey-s25")`` and ``turbopix denoise --model NAME`` resolve names here. A
name is listed before its file exists (the recipes are in ``tools/train_restorers.py``, one per
name); loading a name whose file is not in this installation says so and how to train it. What data
each shipped file saw and how long it trained is in docs/restoration.md and in the file's metadata.
"""
from __future__ import annotations

from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"

# name -> what it does (the recipe of the same name in tools/train_restorers.py trains it)
SHIPPED: dict[str, str] = {
    **{f"denoise-grey-s{s}": f"grey Gaussian denoising, sigma {s}" for s in (15, 25, 50)},
    "denoise-grey-blind": "grey Gaussian denoising, any sigma 0-55 (noise-level input)",
    **{f"denoise-colour-s{s}": f"colour Gaussian denoising, sigma {s}" for s in (15, 25, 50)},
    "denoise-colour-blind": "colour Gaussian denoising, any sigma 0-55 (noise-level input)",
    "deblock-grey": "grey JPEG artifact removal, quality 10-40",
    "deblock-colour": "colour JPEG artifact removal, quality 10-40",
    **{f"sr-fast-x{s}": f"fast super-resolution x{s} (Y channel)" for s in (2, 3, 4)},
    **{f"sr-accurate-x{s}": f"accurate super-resolution x{s} (Y channel)" for s in (2, 3, 4)},
    "enhance-zero-dce": "low-light enhancement, Zero-DCE++ (tools/train_enhancer.py)",
    "inpaint-colour": "inpainting of box and free-form holes, colour (needs a mask)",
}
# fast style transfer, one model per style image (recipes in tools/train_styles.py)
SHIPPED.update({f"style-{s}": f"fast style transfer, style '{s}'" for s in ("candy", "mosaic")})
# names whose recipe is not in tools/train_restorers.py
RECIPE_SCRIPTS: dict[str, str] = {"enhance-zero-dce": "tools/train_enhancer.py",
                                  **{f"style-{s}": "tools/train_styles.py" for s in ("candy", "mosaic")}}


class NotShippedError(FileNotFoundError):
    """A known shipped-model name whose weights this installation does not have."""


def shipped_path(name: str) -> Path | None:
    """The weights file of shipped model ``name``; None when ``name`` is not a shipped-model name."""
    if name not in SHIPPED:
        return None
    path = WEIGHTS_DIR / f"{name}.safetensors"
    if not path.exists():
        have = ", ".join(available()) or "none"
        raise NotShippedError(
            f"'{name}' ({SHIPPED[name]}) is not shipped in this version of turbopix (shipped: {have}); "
            f"train it with 'python {RECIPE_SCRIPTS.get(name, 'tools/train_restorers.py')} {name}' and pass the model file instead")
    return path


def available() -> list[str]:
    """The shipped names whose weights are installed."""
    return [n for n in SHIPPED if (WEIGHTS_DIR / f"{n}.safetensors").exists()]
