"""How each family trains: what data it needs, its optimizers, losses and steps, and what it shows.

The loop in ``loop.py`` is the same for every family and every dataset; all it knows of a family
is its Task (registered in ``TASKS`` under the model's ``family``):

- ``check_data(model, data)``: refuse data the model cannot train on, before anything is written;
- ``step(batch, noise)``: one optimisation step on a batch (on several processes: this rank's shard
  of the global batch), a dict of tensors from which the Task reads the keys it needs (see
  ``turbopix.data.base``); returns detached scalar losses for logging;
- ``preview(model, data)``: the picture of progress saved during training (a ``Grid``);
- ``divergence_hint``: what to try when the loss becomes non-finite, naming options as
  ``{option:NAME}``.

The losses themselves are the pure functions of ``turbopix.losses``; models are architecture only
and hand the Task their forward outputs. Every loss is a mean over the images of the batch (the
VAE's: summed over pixels, averaged over images). DistributedDataParallel averages gradients over
ranks, and the shards are equal in size, so on W processes each update equals the single-process
update on the whole global batch.
"""
from __future__ import annotations

import math
from typing import Any, Callable, ClassVar, NamedTuple

import torch
from torch import nn

from ..core.config import TrainConfig
from ..core.registry import Registry
from ..data.base import Batch, Dataset
from ..losses import ADVERSARIAL, bernoulli_nll, gaussian_kl, gaussian_log_prob, gaussian_nll, mse
from ..sampling import grid_inputs
from .errors import TrainingOptionError
from .schedule import StepNoise

TASKS: Registry[type["Task"]] = Registry("training task")

PREVIEW_IMAGES = 64  # images in a generator's progress grid


def adam(params, task: type["Task"] | "Task", cfg: TrainConfig, lr: float | None = None) -> torch.optim.Adam:
    """Adam with ``lr`` or the run's lr / beta1, or the Task's defaults for its family when not given."""
    lr = lr if lr is not None else cfg.lr if cfg.lr is not None else task.default_lr
    beta1 = cfg.beta1 if cfg.beta1 is not None else task.default_beta1
    return torch.optim.Adam(params, lr=lr, betas=(beta1, cfg.beta2))


Wrap = Callable[[nn.Module], nn.Module]  # DDP on several processes (distributed.Dist.wrap), else identity


def _identity(module: nn.Module) -> nn.Module:
    return module


class Grid(NamedTuple):
    """A progress picture: images (B, C, H, W) in [-1, 1], laid out ``nrow`` per row."""

    images: torch.Tensor
    nrow: int


class Task:
    """One family's training (see the module docstring). Subclasses set ``family`` and implement
    ``step`` and ``preview``; ``batch_keys`` and ``check_data`` say what data they need."""

    family: ClassVar[str]
    divergence_hint: ClassVar[str] = "Try a lower {option:lr}."
    default_lr: ClassVar[float] = 1e-3  # Adam's learning rate when the run sets none (Kingma & Welling's for (V)AEs)
    default_beta1: ClassVar[float] = 0.9
    # a key of ``validate``'s metrics, higher is better: the loop keeps the model of the best score
    # so far as best.safetensors (None: the Task's validation does not rank models)
    best_metric: ClassVar[str | None] = None

    def __init__(self, model: nn.Module, cfg: TrainConfig, wrap: Wrap = _identity) -> None:
        self.model = model  # the plain model; the networks a Task runs are ``wrap``-ped (see each Task)
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    @classmethod
    def batch_keys(cls, model: nn.Module) -> tuple[str, ...]:
        """The keys every batch must hold for ``model``."""
        return ()

    @classmethod
    def check_data(cls, model: nn.Module, data: Dataset) -> None:
        """Raise ``TrainingOptionError`` when ``model`` cannot train on ``data``. A classmethod: the
        loop checks before it builds the Task (and its optimizers), so a refusal changes nothing."""
        have = data.batch(torch.arange(1)).keys()
        missing = [k for k in cls.batch_keys(model) if k not in have]
        if missing:
            raise TrainingOptionError(
                f"model '{getattr(model, 'name', '?')}' ({cls.family}) trains on batches with {', '.join(map(repr, missing))}, "
                f"which {data.name} does not give (it gives {', '.join(map(repr, have))}): choose other {{option:data}}"
            )

    def step(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def preview(self, model: nn.Module, data: Dataset) -> Grid:
        """What ``model`` (the training model or its EMA copy, in eval mode, under no_grad) makes of
        fixed inputs: the same inputs every call, so successive grids show progress."""
        raise NotImplementedError

    def validate(self, model: nn.Module, data: Dataset) -> dict[str, float]:
        """Held-out metrics of ``model`` (as ``preview``: eval mode, no_grad), logged by the loop every
        ``ckpt_every`` steps and at the end; {} (the default) logs nothing."""
        return {}


class GeneratorTask(Task):
    """For latent-to-image models (``ImageGenerator``): image batches, labels when conditional,
    previews decoded from fixed latents."""

    def __init__(self, model: nn.Module, cfg: TrainConfig, wrap: Wrap = _identity) -> None:
        super().__init__(model, cfg, wrap)
        self.latent_dim = model.config.latent_dim
        self.preview_seed = cfg.seed + 1

    @classmethod
    def batch_keys(cls, model: nn.Module) -> tuple[str, ...]:
        return ("image", "label") if model.num_classes else ("image",)

    @classmethod
    def check_data(cls, model: nn.Module, data: Dataset) -> None:
        super().check_data(model, data)
        image = data.batch(torch.arange(1))["image"]
        want, have = tuple(model.image_shape), tuple(image.shape[1:])
        if want != have:
            raise TrainingOptionError(
                f"model '{model.name}' makes {'x'.join(map(str, want))} images but {data.name} has "
                f"{'x'.join(map(str, have))}: set the model's {{option:image_size}}/{{option:channels}} or resize the data"
            )
        if model.num_classes:
            classes = getattr(data, "num_classes", 0)
            if classes == 0:
                raise TrainingOptionError(f"model '{model.name}' is conditional but {data.name} has no labels")
            if classes > model.num_classes:
                raise TrainingOptionError(f"{data.name} has {classes} classes but the model only {model.num_classes}")

    def labels(self, batch: Batch) -> torch.Tensor | None:
        """The batch's class labels when the model is class-conditional, else None."""
        return batch["label"] if self.model.num_classes else None

    def preview(self, model: nn.Module, data: Dataset) -> Grid:
        """Decoded fixed latents (one column per class when conditional). The latents are drawn from
        ``model``'s prior with a fixed seed at each call: the same for a GAN or VAE, and for an AE
        from its current fit of the codes."""
        z, y, nrow = grid_inputs(model, PREVIEW_IMAGES, self.preview_seed)
        device = next(model.parameters()).device
        return Grid(model.generate(z.to(device), None if y is None else y.to(device)), nrow)


@TASKS.register("gan")
class GANTask(GeneratorTask):
    """Alternating updates: D on real and generated images, then G through D (Goodfellow 2014),
    with the adversarial loss the model's config names (``turbopix.losses.adversarial``)."""

    family = "gan"
    default_lr, default_beta1 = 2e-4, 0.5  # DCGAN's Adam (Radford et al. 2016)
    divergence_hint = "Try a lower {option:lr}, or {option:loss='hinge'} / {option:spectral_norm=True}."

    def __init__(self, model: nn.Module, cfg: TrainConfig, wrap: Wrap = _identity) -> None:
        super().__init__(model, cfg, wrap)
        # both networks are wrapped (each DDP averages its own gradients); D_plain is D without the
        # wrapper, for the generator step below
        self.G, self.D, self.D_plain = wrap(model.generator), wrap(model.discriminator), model.discriminator
        self.loss = ADVERSARIAL.get(model.config.loss)
        self.optimizers = {"g": adam(self.G.parameters(), self, cfg), "d": adam(self.D.parameters(), self, cfg, cfg.d_lr)}

    def step(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        x, y = batch["image"], self.labels(batch)
        opt_g, opt_d = self.optimizers["g"], self.optimizers["d"]
        z = noise.randn(self.latent_dim).to(x.device)  # noise is drawn on the CPU; a no-op there
        # generated images use the real batch's labels when conditional; with the mode-seeking term
        # the second half repeats the first half's labels, so image i and i + half share a label
        # (a batch of one has no pair: the term is skipped)
        ms, half = getattr(self.model.config, "mode_seeking", 0.0), x.shape[0] // 2
        ms = ms if half else 0.0
        y_fake = torch.cat([y[:half], y[:half], y[2 * half:]]) if ms and y is not None else y
        fake = self.G(z, y_fake)

        # discriminator: push real up, fake down (real images keep their own labels)
        self.D_plain.requires_grad_(True)
        d_real, d_fake = self.D(x, y), self.D(fake.detach(), y_fake)
        loss_d = self.loss.discriminator(d_real, d_fake)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        # generator: D's weights are frozen so backward skips their (unused) gradients. D runs
        # without its DDP wrapper here: a DDP forward arms a gradient all-reduce for every D weight,
        # which would wait forever for gradients that frozen weights never get (and the next D step
        # would fail). G's own wrapper averages G's gradients. SyncBatchNorm layers inside D still
        # share batch statistics, as every rank runs this forward.
        self.D_plain.requires_grad_(False)
        loss_g = self.loss.generator(self.D_plain(fake, y_fake))
        if ms:  # MSGAN (Mao et al. 2019): 1 / (mean |G(z1) - G(z2)| / mean |z1 - z2|), pairs i, i + half
            a, b = slice(0, half), slice(half, 2 * half)
            ratio = (fake[a] - fake[b]).abs().mean() / (z[a] - z[b]).abs().mean()
            loss_g = loss_g + ms / (ratio + 1e-5)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}


class _ReconstructionTask(GeneratorTask):
    """One optimizer over the whole model, minimising ``terms(batch, noise)['loss']``."""

    def __init__(self, model: nn.Module, cfg: TrainConfig, wrap: Wrap = _identity) -> None:
        super().__init__(model, cfg, wrap)
        self.optimizers = {"model": adam(model.parameters(), self, cfg)}
        # the model's forward runs every trained parameter and returns what the loss needs, so
        # DDP's gradient hooks see all of them
        self.net = wrap(model)

    def terms(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def step(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        terms = self.terms(batch, noise)
        opt = self.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        opt.step()
        return {k: v.detach() for k, v in terms.items()}


def vae_terms(out: dict[str, torch.Tensor], x: torch.Tensor, config: Any) -> dict[str, torch.Tensor]:
    """The VAE objective from its forward outputs (``VAEBase.forward``) on images ``x`` in [-1, 1]:
    per-batch means of the reconstruction NLL (nats per image, ``config.likelihood`` on intensities
    (x + 1) / 2, averaged over the samples of z), KL(q(z|x) || N(0, I)) (analytic), the ELBO, and
    the training loss: recon + beta * KL with one sample of z per image; with K > 1 samples
    (``out["z"]`` of shape (K, B, D)) the negative IWAE bound, also reported as ``iwae``:

        log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x)    (Burda et al. 2016, eq. 8)

    Also what the test-set ELBO (``turbopix.evaluation.elbo``) reports."""
    z = out["z"]
    samples = z.shape[0] if z.dim() == 3 else 1
    t = (x + 1) / 2
    t = t.repeat(samples, *([1] * (t.dim() - 1))) if samples > 1 else t
    if config.likelihood == "bernoulli":
        nll = bernoulli_nll(out["logits"], t)
    else:
        nll = gaussian_nll(torch.sigmoid(out["logits"]), t, out["log_sigma"])
    kl_per_image = gaussian_kl(out["mu"], out["logvar"])
    recon, kl = nll.mean(), kl_per_image.mean()
    terms = {"loss": recon + config.beta * kl, "recon": recon, "kl": kl, "elbo": -(recon + kl)}
    if samples > 1:
        log_w = -nll.view(samples, -1) + gaussian_log_prob(z) - gaussian_log_prob(z, out["mu"], out["logvar"])
        iwae = (torch.logsumexp(log_w, dim=0) - math.log(samples)).mean()
        terms |= {"loss": -iwae, "iwae": iwae}
    return terms


@TASKS.register("vae")
class VAETask(_ReconstructionTask):
    """The negative ELBO (``vae_terms``) with one reparameterised sample of z per image, or the
    negative IWAE bound with ``config.importance_samples`` of them."""

    family = "vae"

    def terms(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        x = batch["image"]
        k = self.model.config.importance_samples
        # (B, D) for one sample keeps the noise of runs made before the option existed
        eps = noise.randn(self.latent_dim) if k == 1 else noise.randn(k, self.latent_dim).transpose(0, 1)
        return vae_terms(self.net(x, self.labels(batch), eps.to(x.device)), x, self.model.config)


@TASKS.register("ae")
class AETask(_ReconstructionTask):
    """Mean squared error of the reconstruction (images in [-1, 1]); each step also moves the
    model's running fit of its codes, which sampling draws from."""

    family = "ae"

    def terms(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        x = batch["image"]
        out = self.net(x)
        self.model.update_code_stats(out["code"])
        recon = mse(out["reconstruction"], x)
        return {"loss": recon, "mse": recon}
