"""``turbopix recipes`` and ``turbopix train --recipe``."""
import json

from turbopix.cli.main import main
from turbopix.training.recipes import RECIPES

TINY = ["--steps", "3", "--batch-size", "16", "--log-every", "3", "--progress", "false", "--threads", "1",
        "--sample-every", "0", "--ckpt-every", "0"]


def test_recipes_are_listed_with_their_settings(capsys):
    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    for name in RECIPES.names():
        recipe = RECIPES.get(name)
        assert name in out and f"model {recipe.model}" in out
        assert all(f"{k}={v}" in out for k, v in recipe.train.items())
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in RECIPES.names())


def test_train_with_a_recipe_and_an_override(tmp_path):
    out = tmp_path / "run"
    # model flags of the recipe's model exist without --model
    assert main(["train", "--recipe", "dcgan-cpu-10m", "--data", "digits", "--out", str(out), "--g-width", "8",
                 "--d-width", "8", "--d-lr", "1e-3", *TINY]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["train"]["recipe"] == "dcgan-cpu-10m" and run["train"]["d_lr"] == 1e-3 and run["config"]["g_width"] == 8


def test_an_unknown_recipe_is_a_one_line_error(tmp_path, capsys):
    assert main(["train", "--recipe", "nope", "--data", "digits", "--out", str(tmp_path / "r"), *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("turbopix: error: --recipe nope: unknown recipe 'nope'") and err.count("\n") == 1
