"""``turbopix enhance``: a file and a folder with a model file or a baseline, the shipped default,
and one-line errors for bad input."""
import numpy as np
import pytest
from PIL import Image

from turbopix.cli.main import main
from turbopix.models import create_model, save
from turbopix.models.shipped import available

pytest.importorskip("cv2")


@pytest.fixture
def dark(tmp_path):
    folder = tmp_path / "dark"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray((rng.random((30, 40, 3)) * 40).astype(np.uint8)).save(folder / f"{i}.png")
    return folder


def test_a_file_with_a_model_file_and_a_folder_with_a_baseline(dark, tmp_path, capsys):
    model = save(create_model("zero-dce", width=4), tmp_path / "zd.safetensors")
    assert main(["enhance", str(dark / "0.png"), str(tmp_path / "out.png"), "--model", str(model), "--no-progress"]) == 0
    assert Image.open(tmp_path / "out.png").size == (40, 30)
    assert main(["enhance", str(dark), str(tmp_path / "outs"), "--model", "clahe", "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "outs").iterdir()) == ["0.png", "1.png"]
    assert "wrote" in capsys.readouterr().out


@pytest.mark.skipif("enhance-zero-dce" not in available(), reason="shipped enhancer weights not in this installation")
def test_the_default_is_the_shipped_model(dark, tmp_path):
    assert main(["enhance", str(dark / "1.png"), str(tmp_path / "a.png"), "--no-progress"]) == 0
    assert main(["enhance", str(dark / "1.png"), str(tmp_path / "b.png"), "--model", "zero-dce", "--no-progress"]) == 0
    a, b = np.asarray(Image.open(tmp_path / "a.png")), np.asarray(Image.open(tmp_path / "b.png"))
    assert np.array_equal(a, b) and a.mean() > np.asarray(Image.open(dark / "1.png")).mean()


def test_bad_input_is_one_line_with_flags(dark, tmp_path, capsys):
    assert main(["enhance", str(tmp_path / "missing.png"), str(tmp_path / "o.png"), "--model", "gamma"]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["enhance", str(tmp_path / "notes.txt"), str(tmp_path / "o.png"), "--model", "gamma"]) == 2
    assert "is not an image file" in capsys.readouterr().err
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert main(["enhance", str(tmp_path / "broken.png"), str(tmp_path / "o.png"), "--model", "gamma"]) == 2
    err = capsys.readouterr().err
    assert "broken.png" in err and len(err.strip().splitlines()) == 1
    assert main(["enhance", str(dark / "0.png"), str(tmp_path / "o.png"), "--model", "bm3d"]) == 2
    assert "--model bm3d is a denoise method, not enhance" in capsys.readouterr().err
    restorer = save(create_model("dncnn", depth=3, width=4, channels=3), tmp_path / "dn.safetensors")
    assert main(["enhance", str(dark / "0.png"), str(tmp_path / "o.png"), "--model", str(restorer)]) == 2
    assert "not an enhancement model: choose another --model" in capsys.readouterr().err
    (tmp_path / "exists.png").write_bytes(b"")
    assert main(["enhance", str(dark / "0.png"), str(tmp_path / "exists.png"), "--model", "gamma"]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_help_lists_the_methods(capsys):
    with pytest.raises(SystemExit):
        main(["enhance", "--help"])
    out = capsys.readouterr().out
    assert "clahe" in out and "turbopix enhance dark.jpg" in out
