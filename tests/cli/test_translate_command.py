"""``turbopix translate``: files and folders, both directions, one-line errors for bad input."""
import numpy as np
import pytest
from PIL import Image

from turbopix.cli.main import main
from turbopix.models import create_model, save


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    p2p = save(create_model("pix2pix", g_width=4, depth=3, d_width=4, image_size=16).eval(), root / "p2p.safetensors")
    cyc = save(create_model("cyclegan", g_width=4, blocks=1, d_width=4, image_size=16).eval(), root / "cyc.safetensors")
    return p2p, cyc


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate([(24, 32), (17, 40)]):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return folder


@pytest.mark.parametrize("direction", ["a2b", "b2a"])
def test_cyclegan_translates_a_file_and_a_folder_both_ways(models, photos, tmp_path, direction, capsys):
    cyc = str(models[1])
    out = tmp_path / f"one_{direction}.png"
    assert main(["translate", str(photos / "p0.png"), str(out), "--model", cyc, "--direction", direction, "--no-progress"]) == 0
    assert Image.open(out).size == (32, 24)
    assert main(["translate", str(photos), str(tmp_path / direction), "--model", cyc, "--direction", direction,
                 "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / direction).iterdir()) == ["p0.png", "p1.png"]
    assert Image.open(tmp_path / direction / "p1.png").size == (40, 17)
    assert "wrote" in capsys.readouterr().out


def test_pix2pix_file(models, photos, tmp_path):
    assert main(["translate", str(photos / "p1.png"), str(tmp_path / "o.png"), "--model", str(models[0]), "--no-progress"]) == 0


@pytest.mark.parametrize("args,message", [
    (["--direction", "b2a"], "--direction b2a: 'pix2pix' is a pix2pix model and translates only a2b"),
    ([], "exists; pass --overwrite to replace it"),  # the output below exists
])
def test_errors_are_one_line_with_flags(models, photos, tmp_path, capsys, args, message):
    (tmp_path / "exists.png").write_bytes(b"")
    out = tmp_path / ("exists.png" if not args else "new.png")
    assert main(["translate", str(photos / "p0.png"), str(out), "--model", str(models[0]), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bad_inputs(models, photos, tmp_path, capsys):
    p2p = str(models[0])
    assert main(["translate", str(tmp_path / "missing.png"), str(tmp_path / "o.png"), "--model", p2p]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    assert main(["translate", str(tmp_path / "broken.png"), str(tmp_path / "o.png"), "--model", p2p]) == 2
    assert "broken.png" in capsys.readouterr().err
    assert main(["translate", str(photos / "p0.png"), str(tmp_path / "o.png"), "--model", str(tmp_path / "nope.safetensors")]) == 2
    assert "--model" in capsys.readouterr().err
    dn = save(create_model("dncnn", depth=3, width=4), tmp_path / "dn.safetensors")
    assert main(["translate", str(photos / "p0.png"), str(tmp_path / "o.png"), "--model", str(dn)]) == 2
    assert "not a translator" in capsys.readouterr().err
    assert main(["translate", str(photos / "p0.png"), str(tmp_path / "o.png")]) == 2
    assert "--model" in capsys.readouterr().err


def test_help_shows_examples(capsys):
    with pytest.raises(SystemExit):
        main(["translate", "--help"])
    out = capsys.readouterr().out
    assert "--direction" in out and "turbopix translate day/ night/" in out
