"""turbopix: train, accelerate, evaluate and apply small image generators on ordinary hardware.

The public API::

    import turbopix
    model = turbopix.create_model("dcgan", image_size=28)
    result = turbopix.train("dcgan", "mnist", out="runs/x", steps=2000)
    model = turbopix.load("runs/x/model.safetensors")
    images = model.sample(64, seed=0)          # (64, 1, 28, 28) in [-1, 1]
"""
from .core.version import __version__  # noqa: E402

from .api import train  # noqa: E402
from .core.checkpoint import read_metadata  # noqa: E402
from .loading import load  # noqa: E402
from .models.io import save  # noqa: E402
from .data import load_dataset  # noqa: E402
from .models import create_model, list_models  # noqa: E402
from .sampling import save_grid  # noqa: E402

__all__ = ["__version__", "create_model", "list_models", "load", "load_dataset", "read_metadata", "save", "save_grid", "train"]
