"""Tasks: what each family asks of its data, its previews and hints, and a loop that knows no family.

The last tests train a made-up image-to-image family (a Task, a model and a dataset defined here,
with batch keys the generator families never use) through the one training loop.
"""
import json
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.distributed as dist
from PIL import Image
from torch import nn

import turbopix
from turbopix.core.config import TrainConfig
from turbopix.core.errors import render
from turbopix.data import load_dataset
from turbopix.losses import l1
from turbopix.models import ImageModel, InputSpec, create_model
from turbopix.training import TASKS, Grid, Task, TrainingError, TrainingOptionError, train
from turbopix.training.tasks import VAETask, vae_terms

SMALL = {"dcgan": dict(g_width=8, d_width=8), "vae": dict(hidden=(64,)), "ae": dict(width=8)}
FAST = dict(batch_size=16, log_every=5, sample_every=0, ckpt_every=0, progress=False, threads=1)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", split="train")


# ---------------------------------------------------------------- what generator Tasks ask of data
def test_generator_tasks_check_shape_and_labels(digits):
    dcgan = create_model("dcgan", image_size=8, **SMALL["dcgan"])
    TASKS.get("gan").check_data(dcgan, digits)  # fits
    with pytest.raises(TrainingOptionError, match="makes 1x16x16 images but digits:train has 1x8x8") as e:
        TASKS.get("gan").check_data(create_model("dcgan", image_size=16), digits)
    assert "--image-size/--channels" in render(e.value, "cli")
    unlabelled = turbopix.data.base.ImageData(digits.images[:40], torch.full((40,), -1), [], "unlabelled")
    with pytest.raises(TrainingOptionError, match="conditional but unlabelled has no labels"):
        TASKS.get("vae").check_data(create_model("vae", image_size=8, num_classes=10), unlabelled)
    with pytest.raises(TrainingOptionError, match="10 classes but the model only 3"):
        TASKS.get("vae").check_data(create_model("vae", image_size=8, num_classes=3), digits)


def test_a_batch_without_the_needed_keys_is_refused(digits):
    class Pairs:
        name = "pairs"

        def __len__(self):
            return 8

        def batch(self, index, generator=None):
            return {"degraded": torch.zeros(len(index), 1, 8, 8), "clean": torch.zeros(len(index), 1, 8, 8)}

    with pytest.raises(TrainingOptionError, match=r"trains on batches with 'image', which pairs does not give \(it gives 'degraded', 'clean'\)"):
        TASKS.get("ae").check_data(create_model("ae", image_size=8, width=8), Pairs())


# ---------------------------------------------------------------- previews
def test_previews_are_fixed_inputs_one_column_per_class():
    cfg = TrainConfig(seed=4)
    model = create_model("dcgan", image_size=8, num_classes=10, **SMALL["dcgan"]).eval()
    task = TASKS.get("gan")(model, cfg)
    with torch.no_grad():
        a, b = task.preview(model, None), task.preview(model, None)
    assert a.nrow == 10 and a.images.shape == (60, 1, 8, 8)  # 64 // 10 rows of the 10 classes
    assert torch.equal(a.images, b.images)
    vae = create_model("vae", image_size=8, **SMALL["vae"]).eval()
    grid = TASKS.get("vae")(vae, cfg).preview(vae, None)
    assert grid.nrow == 8 and grid.images.shape == (64, 1, 8, 8)


def test_ae_previews_decode_codes_from_the_current_fit():
    model = create_model("ae", image_size=8, latent_dim=4, width=8).eval()
    task = TASKS.get("ae")(model, TrainConfig())
    with torch.no_grad():
        before = task.preview(model, None).images
        model.update_code_stats(torch.randn(32, 4) * 5 + 3)
        after = task.preview(model, None).images
    assert not torch.equal(before, after)


# ---------------------------------------------------------------- losses computed by the Tasks
def test_vae_terms_use_the_likelihood_the_config_names():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    for likelihood in ("bernoulli", "gaussian"):
        model = create_model("vae", image_size=8, likelihood=likelihood, **SMALL["vae"])
        with torch.no_grad():
            model.log_sigma.fill_(-0.7)
        out = model(x, None, torch.randn(4, model.latent_dim))
        t, logits = (x + 1) / 2, out["logits"]
        if likelihood == "bernoulli":
            nll = nn.functional.binary_cross_entropy_with_logits(logits, t, reduction="sum") / 4
        else:
            nll = -torch.distributions.Normal(torch.sigmoid(logits), np.exp(-0.7)).log_prob(t).sum() / 4
        terms = vae_terms(out, x, model.config)
        torch.testing.assert_close(terms["recon"], nll)
        torch.testing.assert_close(terms["loss"], terms["recon"] + terms["kl"])


def test_iwae_objective_matches_the_importance_sampling_estimator():
    """K > 1 samples train the IWAE bound: the number the NLL estimator (evaluation/likelihood.py)
    computes from the same draws of z, and at least the mean of the K single-sample ELBOs (Jensen)."""
    from turbopix.evaluation.likelihood import importance_log_px, vae_log_px
    torch.manual_seed(0)
    x = (torch.rand(5, 1, 8, 8) > 0.5).float() * 2 - 1
    model = create_model("vae", image_size=8, importance_samples=4, **SMALL["vae"])
    eps = torch.randn(4, 5, model.latent_dim, generator=torch.Generator().manual_seed(7))
    out = model(x, None, eps)
    assert out["z"].shape == (4, 5, model.latent_dim) and out["logits"].shape == (20, 1, 8, 8)
    terms = vae_terms(out, x, model.config)
    assert terms["loss"] == -terms["iwae"]
    # the estimator draws (K, B, D) from its generator: the same seed gives it the same eps
    expected = importance_log_px(model.encode, vae_log_px(model, None), x, k=4, chunk=4,
                                 generator=torch.Generator().manual_seed(7)).mean()
    torch.testing.assert_close(terms["iwae"].double(), expected, rtol=0, atol=1e-4)
    single = [vae_terms(model(x, None, eps[k]), x, model.config)["elbo"] for k in range(4)]
    assert terms["iwae"] >= torch.stack(single).mean() - 1e-4
    assert terms["iwae"] > torch.stack(single).mean() + 1e-3  # strictly: the weights differ


def test_iwae_training_runs_and_refuses_a_kl_weight(digits, tmp_path):
    result = turbopix.train("vae", "digits?binarize=dynamic", out=tmp_path / "run", steps=10, **FAST,
                            model_options={"hidden": (32,), "latent_dim": 4, "importance_samples": 3})
    last = [json.loads(line) for line in open(tmp_path / "run" / "log.jsonl")][-1]
    assert last["loss"] == pytest.approx(-last["iwae"]) and last["iwae"] >= last["elbo"] - 1e-3
    assert turbopix.load(result.model_path).config.importance_samples == 3
    with pytest.raises(ValueError, match="beta"):
        create_model("vae", image_size=8, importance_samples=2, beta=4.0)


def test_ae_task_moves_the_code_statistics_it_samples_from(digits):
    model = create_model("ae", image_size=8, width=8)
    task = TASKS.get("ae")(model.train(), TrainConfig())
    batch = digits.batch(torch.arange(16))
    terms = task.terms(batch, None)
    torch.testing.assert_close(terms["mse"], ((model(batch["image"])["reconstruction"] - batch["image"]) ** 2).mean())
    assert not torch.equal(model.code_mean, torch.zeros_like(model.code_mean))


def test_gaussian_log_sigma_trains_under_ddp(digits, monkeypatch):
    """Under DistributedDataParallel (find_unused_parameters off) every trained parameter must get
    its gradient in each step, or the next forward fails: the likelihood's log-sigma included."""
    monkeypatch.setenv("GLOO_SOCKET_IFNAME", "lo")
    torch.manual_seed(0)
    model = create_model("vae", image_size=8, likelihood="gaussian", **SMALL["vae"]).train()
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        task = VAETask(model, TrainConfig(), wrap=nn.parallel.DistributedDataParallel)
        for step in range(3):
            task.step(digits.batch(torch.arange(16) + 16 * step), turbopix.training.schedule.StepNoise(0, step, 16))
    finally:
        dist.destroy_process_group()
    assert model.log_sigma.item() != 0.0


# ---------------------------------------------------------------- hints and messages name options
def test_divergence_hints_belong_to_the_family(digits, tmp_path, monkeypatch):
    def nan_step(self, batch, noise):
        return {"loss": torch.tensor(float("nan"))}

    monkeypatch.setattr(VAETask, "step", nan_step)
    with pytest.raises(TrainingError, match="non-finite at step 0") as e:
        turbopix.train("vae", digits, out=tmp_path / "vae", steps=3, model_options=SMALL["vae"], **FAST)
    assert "Try a lower --lr." in render(e.value, "cli") and "hinge" not in str(e.value)
    assert "lower --lr, or --loss hinge / --spectral-norm" in render(TrainingError(TASKS.get("gan").divergence_hint), "cli")


def test_run_directory_refusals_name_options(digits, tmp_path):
    turbopix.train("vae", digits, out=tmp_path, steps=2, model_options=SMALL["vae"], **FAST)
    with pytest.raises(TrainingError) as e:
        turbopix.train("vae", digits, out=tmp_path, steps=2, model_options=SMALL["vae"], **FAST)
    assert "pass resume=True to continue it, or choose another out" in str(e.value)
    assert "pass --resume to continue it, or choose another --out" in render(e.value, "cli")


# ---------------------------------------------------------------- the loop runs any family on any data
@dataclass
class RestorerConfig:
    channels: int = 1


class Restorer(ImageModel):
    """An image-to-image model: a residual 3x3 convolution, starting as the identity."""

    family = "test-restore"

    def __init__(self, config: RestorerConfig) -> None:
        super().__init__(config)
        self.conv = nn.Conv2d(config.channels, config.channels, 3, padding=1)
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def inputs(self):
        return [InputSpec("image", (self.config.channels, None, None), doc="degraded images in [-1, 1]")]

    def infer(self, image):
        return (image + self.conv(image)).clamp(-1, 1)

    def forward(self, image):
        return image + self.conv(image)


class DegradedPairs:
    """A ``Dataset`` of (degraded, target) pairs: half the contrast plus noise drawn from the step's
    generator."""

    name = "degraded-pairs"

    def __init__(self, clean: torch.Tensor) -> None:
        self.clean = clean

    def __len__(self) -> int:
        return len(self.clean)

    def batch(self, index, generator=None):
        clean = self.clean[index]
        return {"degraded": 0.5 * clean + 0.05 * torch.randn(clean.shape, generator=generator), "target": clean}


class RestoreTask(Task):
    family = "test-restore"
    divergence_hint = "Try a lower {option:lr}."

    def __init__(self, model, cfg, wrap=lambda m: m):
        super().__init__(model, cfg, wrap)
        self.net = wrap(model)
        self.optimizers = {"model": torch.optim.Adam(model.parameters(), lr=cfg.lr or 1e-2)}

    @classmethod
    def batch_keys(cls, model):
        return ("degraded", "target")

    def step(self, batch, noise):
        loss = l1(self.net(batch["degraded"]), batch["target"])
        self.optimizers["model"].zero_grad(set_to_none=True)
        loss.backward()
        self.optimizers["model"].step()
        return {"l1": loss.detach()}

    def preview(self, model, data):
        """Input, output and target side by side for four fixed examples."""
        b = data.batch(torch.arange(4), torch.Generator().manual_seed(0))
        return Grid(torch.stack([b["degraded"], model(b["degraded"]), b["target"]], 1).flatten(0, 1).clamp(-1, 1), nrow=3)


@pytest.fixture
def restore_task(monkeypatch):
    """RestoreTask registered in TASKS for one test (a copy of the registry's table is restored after)."""
    monkeypatch.setattr(TASKS, "_entries", dict(TASKS._entries))
    TASKS.register("test-restore")(RestoreTask)
    return RestoreTask


def test_the_loop_trains_any_family_on_any_dataset(restore_task, digits, tmp_path):
    model = Restorer(RestorerConfig())
    model.name = "restorer"
    data = DegradedPairs(digits.batch(torch.arange(256))["image"])
    cfg = TrainConfig(steps=40, batch_size=32, lr=3e-2, log_every=10, sample_every=20, ckpt_every=20, progress=False, threads=1)
    result = train(model, data, cfg, tmp_path / "run")
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [10, 20, 30, 40]
    assert rows[-1]["l1"] < 0.5 * rows[0]["l1"]  # it learned to restore the contrast
    grid = np.asarray(Image.open(tmp_path / "run" / "samples" / "final.png"))
    assert grid.shape == (4 * 10 + 2, 3 * 10 + 2)  # 4 rows of (degraded, output, target), 8 px + 2 px padding
    assert (tmp_path / "run" / "samples" / "step_000020.png").exists()
    assert result.model_path.exists() and result.steps == 40
    # a dataset without the Task's keys is refused before anything is written
    with pytest.raises(TrainingOptionError, match="'degraded', 'target'"):
        train(model, digits, cfg, tmp_path / "other")
    assert not (tmp_path / "other").exists()
