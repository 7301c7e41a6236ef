"""How each family trains: its optimizers, losses and optimizer steps (one Task per family).

The loop in ``loop.py`` is the same for all; it hands a Task one batch at a time (on several
processes: this rank's shard of the global batch), as a dict of tensors from which the Task reads
the keys it needs (``image``, ``label``; see ``turbopix.data.base``). A Task's ``step`` returns detached scalar losses
for logging.

Every loss is a mean over the images of the batch (the VAE's: summed over pixels, averaged over
images). DistributedDataParallel averages gradients over ranks, and the shards are equal in size, so
on W processes each update equals the single-process update on the whole global batch.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..core.config import TrainConfig
from ..data.base import Batch
from ..core.registry import Registry
from .schedule import StepNoise

TASKS: Registry[type["Task"]] = Registry("training task")

# family defaults: DCGAN's Adam(2e-4, beta1 0.5); Kingma & Welling style Adam(1e-3) for (V)AEs
DEFAULT_LR = {"gan": 2e-4, "vae": 1e-3, "ae": 1e-3}
DEFAULT_BETA1 = {"gan": 0.5, "vae": 0.9, "ae": 0.9}


def adam(params, family: str, cfg: TrainConfig) -> torch.optim.Adam:
    lr = cfg.lr if cfg.lr is not None else DEFAULT_LR[family]
    beta1 = cfg.beta1 if cfg.beta1 is not None else DEFAULT_BETA1[family]
    return torch.optim.Adam(params, lr=lr, betas=(beta1, cfg.beta2))


Wrap = Callable[[nn.Module], nn.Module]  # DDP on several processes (distributed.Dist.wrap), else identity


def _identity(module: nn.Module) -> nn.Module:
    return module


class Task:
    family: str

    def __init__(self, model: nn.Module, cfg: TrainConfig, wrap: Wrap = _identity) -> None:
        self.model = model  # the plain model; the networks a Task runs are ``wrap``-ped (see each Task)
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    def step(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def labels(self, batch: Batch) -> torch.Tensor | None:
        """The batch's class labels when the model is class-conditional, else None."""
        return batch["label"] if getattr(self.model, "num_classes", 0) else None


@TASKS.register("gan")
class GANTask(Task):
    """Alternating updates: D on real and generated images, then G through D (Goodfellow 2014)."""

    def __init__(self, model: nn.Module, cfg: TrainConfig, wrap: Wrap = _identity) -> None:
        super().__init__(model, cfg, wrap)
        # both networks are wrapped (each DDP averages its own gradients); D_plain is D without the
        # wrapper, for the generator step below
        self.G, self.D, self.D_plain = wrap(model.generator), wrap(model.discriminator), model.discriminator
        self.loss = model.config.loss
        self.latent_dim = model.config.latent_dim
        self.optimizers = {"g": adam(self.G.parameters(), "gan", cfg), "d": adam(self.D.parameters(), "gan", cfg)}

    def step(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        x, y = batch["image"], self.labels(batch)
        opt_g, opt_d = self.optimizers["g"], self.optimizers["d"]
        z = noise.randn(self.latent_dim).to(x.device)  # noise is drawn on the CPU; a no-op there
        fake = self.G(z, y)  # generated images use the real batch's labels when conditional

        # discriminator: push real up, fake down
        self.D_plain.requires_grad_(True)
        d_real, d_fake = self.D(x, y), self.D(fake.detach(), y)
        if self.loss == "hinge":
            loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
        else:  # non-saturating BCE on logits
            loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        # generator: D's weights are frozen so backward skips their (unused) gradients. D runs
        # without its DDP wrapper here: a DDP forward arms a gradient all-reduce for every D weight,
        # which would wait forever for gradients that frozen weights never get (and the next D step
        # would fail). G's own wrapper averages G's gradients. SyncBatchNorm layers inside D still
        # share batch statistics, as every rank runs this forward.
        self.D_plain.requires_grad_(False)
        d_gen = self.D_plain(fake, y)
        loss_g = -d_gen.mean() if self.loss == "hinge" else F.softplus(-d_gen).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}


class _ReconstructionTask(Task):
    """One optimizer over the whole model, minimising ``model.loss_terms(...)['loss']``."""

    def __init__(self, model: nn.Module, cfg: TrainConfig, wrap: Wrap = _identity) -> None:
        super().__init__(model, cfg, wrap)
        self.optimizers = {"model": adam(model.parameters(), self.family, cfg)}
        self.latent_dim = model.config.latent_dim
        self.net = wrap(model)  # the model's forward returns its loss terms, so DDP's hooks see it

    def terms(self, x, y, noise) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def step(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        terms = self.terms(batch["image"], self.labels(batch), noise)
        opt = self.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        opt.step()
        return {k: v.detach() for k, v in terms.items()}


@TASKS.register("vae")
class VAETask(_ReconstructionTask):
    family = "vae"

    def terms(self, x, y, noise):
        return self.net(x, y, noise.randn(self.latent_dim).to(x.device))


@TASKS.register("ae")
class AETask(_ReconstructionTask):
    family = "ae"

    def terms(self, x, y, noise):
        return self.net(x)
