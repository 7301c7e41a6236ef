"""``turbopix stylize``: a model file or a style image, on a file and a folder; one-line errors."""
import numpy as np
import pytest
from PIL import Image

from turbopix.cli.main import main
from turbopix.models import create_model, save


def _photo(path, size=(30, 22), seed=0):
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def model(tmp_path):
    return save(create_model("style-transfer", width=2, blocks=1), tmp_path / "style.safetensors")


def test_a_model_on_a_file_and_a_folder(model, tmp_path, capsys):
    photo = _photo(tmp_path / "in.png")
    assert main(["stylize", str(photo), str(tmp_path / "out.png"), "--style", str(model), "--no-progress"]) == 0
    assert Image.open(tmp_path / "out.png").size == (30, 22)  # not a multiple of 4: padded and cropped
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        _photo(folder / f"{i}.jpg", seed=i)
    assert main(["stylize", str(folder), str(tmp_path / "outs"), "--style", str(model), "--size", "16", "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "outs").iterdir()) == ["0.png", "1.png", "2.png", "3.png"]
    assert Image.open(tmp_path / "outs" / "0.png").size == (16, 12)
    assert "wrote 4 images" in capsys.readouterr().out


def test_a_style_image_runs_the_optimisation(tmp_path):
    photo, style = _photo(tmp_path / "in.png"), _photo(tmp_path / "style.jpg", seed=5)
    assert main(["stylize", str(photo), str(tmp_path / "out.png"), "--style", str(style), "--iterations", "2",
                 "--size", "24", "--no-progress"]) == 0
    assert Image.open(tmp_path / "out.png").size == (24, 18)


def test_errors_are_one_line(model, tmp_path, capsys):
    photo = _photo(tmp_path / "in.png")
    assert main(["stylize", str(photo), str(tmp_path / "o.png"), "--style", "no-such-style"]) == 2
    err = capsys.readouterr().err
    assert "--style no-such-style: no such style image, model file or shipped style" in err and err.count("\n") == 1
    dncnn = save(create_model("dncnn", depth=3, width=2), tmp_path / "dncnn.safetensors")
    assert main(["stylize", str(photo), str(tmp_path / "o.png"), "--style", str(dncnn)]) == 2
    assert "not a style-transfer model" in capsys.readouterr().err
    assert main(["stylize", str(tmp_path / "missing.png"), str(tmp_path / "o.png"), "--style", str(model)]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "bad.png").write_bytes(b"not an image at all")
    assert main(["stylize", str(tmp_path / "bad.png"), str(tmp_path / "o.png"), "--style", str(model)]) == 2
    assert "bad.png" in capsys.readouterr().err
    (tmp_path / "exists.png").write_bytes(b"")
    assert main(["stylize", str(photo), str(tmp_path / "exists.png"), "--style", str(model)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["stylize", str(photo), str(tmp_path / "o.png"), "--style", str(model), "--iterations", "0"]) == 2
    assert "--iterations must be >= 1" in capsys.readouterr().err


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["stylize", "--help"])
    out = capsys.readouterr().out
    assert "--style" in out and "--iterations" in out and "--overwrite" in out and "--tile" not in out
