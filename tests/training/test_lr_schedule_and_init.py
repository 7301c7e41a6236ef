"""Learning-rate schedules (a pure function of the step) and fine-tuning from a model file."""
import json

import pytest
import torch

import turbopix
from turbopix.core.checkpoint import read_checkpoint
from turbopix.data import load_dataset
from turbopix.training import TrainingOptionError
from turbopix.training.schedule import lr_factor, set_learning_rates
from turbopix.training.tasks import VAETask

FAST = dict(batch_size=32, log_every=5, sample_every=0, ckpt_every=0, progress=False, threads=1)
VAE = dict(hidden=(64,))


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", split="train")


def _log(out):
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_cosine_matches_torchs_cosine_annealing():
    steps, base = 37, 3e-3
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=base)
    reference = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=0.0)
    for step in range(steps):
        assert lr_factor("cosine", step, steps) * base == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9, abs=1e-15)
        opt.step()
        reference.step()
    assert lr_factor("cosine", steps, steps) == pytest.approx(0.0, abs=1e-12)
    assert all(lr_factor("constant", s, steps) == 1.0 for s in (0, 5, steps))
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        lr_factor("linear", 0, 10)


def test_each_optimizer_keeps_its_own_base_rate():
    g = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-4)
    d = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=4e-4)  # two time-scale rates stay 1:4
    for factor in (1.0, 0.5, 0.25):
        set_learning_rates({"g": g, "d": d}, factor)
    assert g.param_groups[0]["lr"] == pytest.approx(0.25e-4) and d.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_cosine_run_logs_a_falling_rate(digits, tmp_path):
    turbopix.train("vae", digits, out=tmp_path, steps=40, lr=2e-3, lr_schedule="cosine", model_options=VAE, **FAST)
    rates = [r["lr"] for r in _log(tmp_path) if "lr" in r]
    assert rates == sorted(rates, reverse=True) and rates[0] < 2e-3 and rates[-1] < 2e-3 * 0.01
    assert json.loads((tmp_path / "run.json").read_text())["train"]["lr_schedule"] == "cosine"


def test_a_killed_cosine_run_resumes_to_the_same_weights(digits, tmp_path, monkeypatch):
    opts = dict(FAST, ckpt_every=10, lr_schedule="cosine")
    turbopix.train("vae", digits, out=tmp_path / "a", steps=30, model_options=VAE, **opts)
    real_step, calls = VAETask.step, {"n": 0}

    def killed_at_step_25(self, batch, noise):
        calls["n"] += 1
        if calls["n"] == 26:
            raise KeyboardInterrupt  # the process dies between checkpoints 20 and 30
        return real_step(self, batch, noise)

    monkeypatch.setattr(VAETask, "step", killed_at_step_25)
    with pytest.raises(KeyboardInterrupt):
        turbopix.train("vae", digits, out=tmp_path / "b", steps=30, model_options=VAE, **opts)
    monkeypatch.setattr(VAETask, "step", real_step)
    turbopix.train(None, None, out=tmp_path / "b", resume=True, steps=30)
    ta, _ = read_checkpoint(tmp_path / "a" / "model.safetensors")
    tb, _ = read_checkpoint(tmp_path / "b" / "model.safetensors")
    assert all(torch.equal(ta[k], tb[k]) for k in ta)
    assert [r.get("lr") for r in _log(tmp_path / "a")] == [r.get("lr") for r in _log(tmp_path / "b")]


def test_init_from_starts_where_the_donor_ended(digits, tmp_path):
    donor = turbopix.train("vae", digits, out=tmp_path / "donor", steps=20, model_options=VAE, **FAST)
    # ema_decay=0 and one step at a vanishing rate: the fine-tuned model is the donor's weights
    tuned = turbopix.train("vae", digits, out=tmp_path / "tuned", steps=1, lr=1e-12, ema_decay=0,
                           init_from=str(donor.model_path), model_options=VAE, **FAST)
    a, b = turbopix.load(donor.model_path).state_dict(), turbopix.load(tuned.model_path).state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-9) for k in a)
    scratch = turbopix.train("vae", digits, out=tmp_path / "scratch", steps=1, lr=1e-12, ema_decay=0, model_options=VAE, **FAST)
    c = turbopix.load(scratch.model_path).state_dict()
    assert not all(torch.allclose(a[k], c[k], atol=1e-6) for k in a)
    assert json.loads((tmp_path / "tuned" / "run.json").read_text())["train"]["init_from"] == str(donor.model_path)


def test_init_from_refuses_another_model_or_options_and_writes_nothing(digits, tmp_path, monkeypatch):
    import turbopix.models.shipped as shipped

    monkeypatch.setattr(shipped, "WEIGHTS_DIR", tmp_path / "no-weights")  # an installation without shipped files
    donor = turbopix.train("vae", digits, out=tmp_path / "donor", steps=2, model_options=VAE, **FAST)
    with pytest.raises(TrainingOptionError, match="holds model vae, not ae"):
        turbopix.train("ae", digits, out=tmp_path / "a", steps=2, init_from=str(donor.model_path), model_options={"width": 8}, **FAST)
    with pytest.raises(TrainingOptionError, match=r"do not fit this run's model .*hidden \[64\] there, \[32\] here"):
        turbopix.train("vae", digits, out=tmp_path / "b", steps=2, init_from=str(donor.model_path), model_options={"hidden": (32,)}, **FAST)
    with pytest.raises(TrainingOptionError, match="cannot load it"):
        turbopix.train("vae", digits, out=tmp_path / "c", steps=2, init_from=str(tmp_path / "missing.safetensors"), model_options=VAE, **FAST)
    with pytest.raises(TrainingOptionError, match="cannot load it .*'sr-accurate-x2' .* is not shipped"):
        turbopix.train("vae", digits, out=tmp_path / "d", steps=2, init_from="sr-accurate-x2", model_options=VAE, **FAST)
    assert not any((tmp_path / n).exists() for n in "abcd")


def test_init_from_a_shipped_name(tmp_path):
    from turbopix.models.shipped import available

    if "sr-fast-x2" not in available():
        pytest.skip("sr-fast-x2 is not shipped in this checkout")
    shipped = turbopix.load("sr-fast-x2")
    # other crops and another loss shape no weight: fine-tuning may change them
    model = turbopix.create_model("sr-fast", scale=shipped.config.scale, image_size=96, loss="mse")
    from turbopix.training.state import load_initial_weights

    load_initial_weights(model, "sr-fast-x2")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), shipped.state_dict().values()))
