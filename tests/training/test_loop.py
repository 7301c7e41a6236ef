"""The training loop: learning happens, resume is exact, failures keep what was good."""
import json

import pytest
import torch

import turbopix
from turbopix.data import load_dataset
from turbopix.models import list_models
from turbopix.training import TrainingError, latest_checkpoint
from turbopix.training.tasks import GANTask

FAST = dict(batch_size=32, log_every=5, sample_every=0, ckpt_every=0, progress=False, threads=1)
SMALL = {"dcgan": dict(g_width=8, d_width=8), "conv-vae": dict(width=8), "ae": dict(width=8),
         "mlp-gan": dict(g_hidden=(64,), d_hidden=(64,)), "vae": dict(hidden=(64,))}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", split="train")  # bundled with scikit-learn: no download


def _log(out):
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("name", [n for n in list_models() if n in SMALL])  # generators; restorers: test_restoration.py
def test_a_few_steps_learn(name, digits, tmp_path):
    result = turbopix.train(name, digits, out=tmp_path / name, steps=60, model_options=SMALL[name], **FAST)
    rows = _log(tmp_path / name)
    assert rows[-1]["step"] == 60
    model = turbopix.load(result.model_path)
    if model.family == "gan":
        # the discriminator separates real from generated (it has learned), and samples moved
        # from the untrained generator's output towards the data's mean intensity
        assert rows[-1]["d_real"] > rows[-1]["d_fake"]
        torch.manual_seed(0)
        untrained = turbopix.create_model(name, image_size=8, **SMALL[name]).eval()
        target = digits.batch(torch.arange(len(digits)))["image"].mean()
        gap = lambda m: abs(m.sample(256, seed=0).mean() - target)  # noqa: E731
        assert gap(model) < gap(untrained)
    else:
        key = "recon" if model.family == "vae" else "mse"
        assert rows[-1][key] < 0.9 * rows[0][key]
    assert (tmp_path / name / "loss_curve.png").stat().st_size > 1000
    assert (tmp_path / name / "samples" / "final.png").exists()


@pytest.mark.parametrize("name", ["dcgan", "conv-vae"])
def test_resume_gives_the_same_weights(name, digits, tmp_path):
    opts = dict(FAST, ckpt_every=10)
    a = turbopix.train(name, digits, out=tmp_path / "a", steps=30, model_options=SMALL[name], **opts)
    turbopix.train(name, digits, out=tmp_path / "b", steps=20, model_options=SMALL[name], **opts)
    b = turbopix.train(None, None, out=tmp_path / "b", resume=True, steps=30)
    for key in ("model.safetensors", "checkpoints/step_000030.safetensors"):
        ta, _ = turbopix.core.checkpoint.read_checkpoint(tmp_path / "a" / key)
        tb, _ = turbopix.core.checkpoint.read_checkpoint(tmp_path / "b" / key)
        assert ta.keys() == tb.keys()
        for k in ta:
            assert torch.equal(ta[k], tb[k]), f"{key}: {k} differs after resume"
    # the resumed log has one line per logged step, none duplicated
    assert [r["step"] for r in _log(tmp_path / "b")] == [r["step"] for r in _log(tmp_path / "a")]
    assert a.steps == b.steps == 30


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(digits, tmp_path, monkeypatch):
    real_step = GANTask.step
    calls = {"n": 0}

    def step(self, batch, noise):
        calls["n"] += 1
        out = real_step(self, batch, noise)
        if calls["n"] == 15:
            out["loss_g"] = torch.tensor(float("nan"))
        return out

    monkeypatch.setattr(GANTask, "step", step)
    with pytest.raises(TrainingError, match=r"non-finite at step 14.*step_000010"):
        turbopix.train("dcgan", digits, out=tmp_path, steps=40, model_options=SMALL["dcgan"], **dict(FAST, ckpt_every=10))
    assert latest_checkpoint(tmp_path).name == "step_000010.safetensors"
    assert not (tmp_path / "model.safetensors").exists()
    turbopix.load(latest_checkpoint(tmp_path))  # the kept checkpoint is whole


def test_refuses_to_train_over_an_earlier_run(digits, tmp_path):
    turbopix.train("vae", digits, out=tmp_path, steps=5, model_options=SMALL["vae"], **FAST)
    with pytest.raises(TrainingError, match="already holds a run"):
        turbopix.train("vae", digits, out=tmp_path, steps=5, model_options=SMALL["vae"], **FAST)
    with pytest.raises(TrainingError, match="run.json not found"):
        turbopix.train("vae", digits, out=tmp_path / "empty", resume=True, steps=5, **FAST)


def test_bad_options_write_nothing(digits, tmp_path):
    with pytest.raises(ValueError, match="larger than the dataset"):
        turbopix.train("vae", digits, out=tmp_path / "run", steps=5, **dict(FAST, batch_size=5000))
    assert not (tmp_path / "run").exists()  # a corrected retry is not refused as "already a run"


def test_mismatched_model_and_data(digits, tmp_path):
    with pytest.raises(ValueError, match="makes 1x28x28 images but digits:train has 1x8x8"):
        turbopix.train(turbopix.create_model("vae"), digits, out=tmp_path, steps=5, **FAST)
    with pytest.raises(TypeError, match="unknown option"):
        turbopix.train("vae", digits, out=tmp_path, steps=5, learning_rate=0.1)


def test_conditional_training(digits, tmp_path):
    result = turbopix.train("dcgan", digits, out=tmp_path, steps=10, conditional=True, model_options=SMALL["dcgan"], **FAST)
    model = turbopix.load(result.model_path)
    assert model.num_classes == 10
    assert model.sample(10, labels=torch.arange(10)).shape == (10, 1, 8, 8)


def test_training_checkpoint_loads_ema_weights(digits, tmp_path):
    turbopix.train("dcgan", digits, out=tmp_path, steps=12, model_options=SMALL["dcgan"], **dict(FAST, ckpt_every=6))
    ckpt = latest_checkpoint(tmp_path)
    ema_model, raw_model = turbopix.load(ckpt), turbopix.load(ckpt, ema=False)
    final = turbopix.load(tmp_path / "model.safetensors")
    z = torch.randn(4, 100)
    with torch.no_grad():
        assert torch.equal(ema_model.generate(z), final.generate(z))
        assert not torch.equal(ema_model.generate(z), raw_model.generate(z))


def test_time_budget_stops_cleanly_and_resume_continues(digits, tmp_path):
    from turbopix.core.config import parse_duration

    assert parse_duration("90") == 90 and parse_duration("10m") == 600 and parse_duration("1h30m") == 5400
    assert parse_duration("1.5h") == 5400
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("ten minutes")
    with pytest.raises(ValueError, match="time_budget"):
        turbopix.train("vae", digits, out=tmp_path / "bad", steps=10, time_budget="soon", model_options=SMALL["vae"], **FAST)
    assert not (tmp_path / "bad").exists()  # refused before anything was written

    r = turbopix.train("vae", digits, out=tmp_path / "run", steps=100000, time_budget="0.5", model_options=SMALL["vae"], **FAST)
    assert r.stopped_by == "time budget" and 0 < r.steps < 100000
    assert latest_checkpoint(tmp_path / "run").name == f"step_{r.steps:06d}.safetensors"
    assert (tmp_path / "run" / "model.safetensors").exists()
    again = turbopix.train(None, None, out=tmp_path / "run", resume=True, steps=r.steps + 5, time_budget=None)
    assert again.steps == r.steps + 5 and again.stopped_by == ""
