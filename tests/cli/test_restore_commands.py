"""``turbopix denoise / upscale / deblock / inpaint``: outputs, exit codes and one-line errors."""
import numpy as np
import pytest
from PIL import Image

from turbopix.cli.main import main
from turbopix.models import create_model, save


@pytest.fixture
def photo(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (30, 40), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "in.png")
    return tmp_path / "in.png"


def test_upscale_and_denoise_write_files(photo, tmp_path, capsys):
    sr = save(create_model("sr-fast", scale=3, width=4, shrink=4, maps=1), tmp_path / "sr.safetensors")
    assert main(["upscale", str(photo), str(tmp_path / "up.png"), "--scale", "3", "--model", str(sr), "--no-progress"]) == 0
    assert Image.open(tmp_path / "up.png").size == (120, 90)
    assert main(["denoise", str(photo), str(tmp_path / "d.png"), "--sigma", "25", "--model", "tv", "--no-progress"]) == 0
    assert "wrote" in capsys.readouterr().out


def test_errors_are_one_line_with_flags(photo, tmp_path, capsys):
    sr = save(create_model("sr-fast", scale=2, width=4, shrink=4, maps=1), tmp_path / "sr.safetensors")
    assert main(["upscale", str(photo), str(tmp_path / "up.png"), "--scale", "4", "--model", str(sr)]) == 2
    assert "upscales x2; it cannot do --scale 4" in capsys.readouterr().err
    assert main(["inpaint", str(photo), "--mask", str(photo), str(tmp_path / "o.png"), "--model", "nlm"]) == 2
    assert "--model nlm is a denoise method, not inpaint" in capsys.readouterr().err
    (tmp_path / "exists.png").write_bytes(b"")
    assert main(["denoise", str(photo), str(tmp_path / "exists.png"), "--sigma", "25", "--model", "tv"]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_help_shows_examples(capsys):
    with pytest.raises(SystemExit):
        main(["upscale", "--help"])
    out = capsys.readouterr().out
    assert "--scale" in out and "--tile" in out and "turbopix upscale small.png" in out


def test_deblock_uses_the_shipped_model_and_quality_only_describes_the_input(tmp_path, capsys):
    """No --model: the shipped deblock-grey; --quality compresses nothing (the output does not depend
    on it), is checked to be 1..100, and prints a note outside the trained 10-40."""
    yy, xx = np.mgrid[0:40, 0:48]
    pixels = (128 + 80 * np.sin(xx / 5.0) * np.cos(yy / 7.0)).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "in.jpg", quality=20)
    out = {}
    for q in ("20", "60"):
        assert main(["deblock", str(tmp_path / "in.jpg"), str(tmp_path / f"o{q}.png"), "--quality", q, "--no-progress"]) == 0
        out[q] = np.asarray(Image.open(tmp_path / f"o{q}.png"))
        err = capsys.readouterr().err
        assert ("trained on JPEG qualities 10-40; quality 60" in err) == (q == "60")
    assert out["20"].shape == pixels.shape and np.array_equal(out["20"], out["60"])
    assert main(["deblock", str(tmp_path / "in.jpg"), str(tmp_path / "o0.png"), "--quality", "0"]) == 2
    assert "--quality must be within 1..100" in capsys.readouterr().err
