"""How each family trains: its optimizers, losses and optimizer steps (one Task per family).

The loop in ``loop.py`` is the same for all; it hands a Task one batch at a time. A Task's
``step`` returns detached scalar losses for logging.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import TrainConfig
from ..registry import Registry
from .schedule import StepNoise

TASKS: Registry[type["Task"]] = Registry("training task")

# family defaults: DCGAN's Adam(2e-4, beta1 0.5); Kingma & Welling style Adam(1e-3) for (V)AEs
DEFAULT_LR = {"gan": 2e-4, "vae": 1e-3, "ae": 1e-3}
DEFAULT_BETA1 = {"gan": 0.5, "vae": 0.9, "ae": 0.9}


def adam(params, family: str, cfg: TrainConfig) -> torch.optim.Adam:
    lr = cfg.lr if cfg.lr is not None else DEFAULT_LR[family]
    beta1 = cfg.beta1 if cfg.beta1 is not None else DEFAULT_BETA1[family]
    return torch.optim.Adam(params, lr=lr, betas=(beta1, cfg.beta2))


class Task:
    family: str

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        self.model = model  # possibly DDP-wrapped parts; see the family's Task
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    def step(self, x: torch.Tensor, y: torch.Tensor | None, noise: StepNoise) -> dict[str, torch.Tensor]:
        raise NotImplementedError


@TASKS.register("gan")
class GANTask(Task):
    """Alternating updates: D on real and generated images, then G through D (Goodfellow 2014)."""

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        super().__init__(model, cfg)
        self.G, self.D = model.generator, model.discriminator
        self.loss = model.config.loss
        self.latent_dim = model.config.latent_dim
        self.optimizers = {"g": adam(self.G.parameters(), "gan", cfg), "d": adam(self.D.parameters(), "gan", cfg)}

    def step(self, x: torch.Tensor, y: torch.Tensor | None, noise: StepNoise) -> dict[str, torch.Tensor]:
        opt_g, opt_d = self.optimizers["g"], self.optimizers["d"]
        z = noise.randn(self.latent_dim)
        fake = self.G(z, y)  # generated images use the real batch's labels when conditional

        # discriminator: push real up, fake down
        self.D.requires_grad_(True)
        d_real, d_fake = self.D(x, y), self.D(fake.detach(), y)
        if self.loss == "hinge":
            loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
        else:  # non-saturating BCE on logits
            loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        # generator: D's weights are frozen so backward skips their (unused) gradients
        self.D.requires_grad_(False)
        d_gen = self.D(fake, y)
        loss_g = -d_gen.mean() if self.loss == "hinge" else F.softplus(-d_gen).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}


class _ReconstructionTask(Task):
    """One optimizer over the whole model, minimising ``model.loss_terms(...)['loss']``."""

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        super().__init__(model, cfg)
        self.optimizers = {"model": adam(model.parameters(), self.family, cfg)}
        self.latent_dim = model.config.latent_dim

    def terms(self, x, y, noise) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def step(self, x: torch.Tensor, y: torch.Tensor | None, noise: StepNoise) -> dict[str, torch.Tensor]:
        terms = self.terms(x, y, noise)
        opt = self.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        opt.step()
        return {k: v.detach() for k, v in terms.items()}


@TASKS.register("vae")
class VAETask(_ReconstructionTask):
    family = "vae"

    def terms(self, x, y, noise):
        return self.model(x, y, noise.randn(self.latent_dim))


@TASKS.register("ae")
class AETask(_ReconstructionTask):
    family = "ae"

    def terms(self, x, y, noise):
        return self.model(x)
