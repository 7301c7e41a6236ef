"""Training of the translators (``turbopix.models.translators``): pix2pix and CycleGAN.

- ``pix2pix`` trains on paired batches (``image`` = domain A, ``target`` = domain B), what
  ``pairs:facades?direction=BtoA`` (label map -> photo) or ``paired:A,B`` give. Each step: D on
  (input, target) against (input, G(input)), its loss halved as the pix2pix code does; then G on
  ``gan_weight`` * adversarial + ``l1_weight`` * L1(G(input), target). With ``gan_weight=0`` there
  is no D step (a plain L1 U-Net). Validation (every ``ckpt_every`` steps and at the end) on the
  data's test split, as the restoration Task finds it: ``val_l1`` (mean absolute error on the
  [0, 1] scale) and ``val_psnr`` (dB, all channels) of the output against the target.
- ``cyclegan`` trains on unpaired batches (``image`` = domain A, ``domain_b`` = a random B image),
  what ``unpaired:DIR_A,DIR_B`` gives. Each step: both generators together (adversarial through
  the frozen discriminators, cycle L1 A->B->A and B->A->B weighted ``cycle_weight``, identity L1
  G_ab(b) ~ b and G_ba(a) ~ a weighted ``identity_weight * cycle_weight``), then both
  discriminators on real images against generated ones drawn from a history pool of ``pool_size``
  (Shrivastava et al. 2017: half the time an older fake replaces the newest). The pool is not saved
  in training checkpoints: a resumed run starts with an empty pool (its batches are still the same).
"""
from __future__ import annotations

import torch
from torch import nn

from ..core.config import TrainConfig
from ..data.base import Batch, Dataset
from ..losses import ADVERSARIAL, l1
from ..metrics.paired import psnr
from .errors import TrainingOptionError
from .restoration import RestorationTask, _to_unit
from .schedule import StepNoise
from .tasks import TASKS, Grid, Task, Wrap, _identity, adam

PREVIEW_EXAMPLES = 4


def _check_images(model: nn.Module, data: Dataset, keys: tuple[str, ...]) -> None:
    """Both sides have the model's channels, and sizes its generator can take."""
    batch = data.batch(torch.arange(1), torch.Generator().manual_seed(0))
    c, m, name = model.config.channels, model.size_multiple, model.name
    for key in keys:
        x = batch[key]
        if x.shape[1] != c:
            raise TrainingOptionError(f"model '{name}' translates {c}-channel images but {data.name} gives {x.shape[1]}-channel "
                                      f"'{key}' images: set the model's {{option:channels}} or the data's colour=grey/rgb")
        h, w = x.shape[-2:]
        if h % m or w % m:
            raise TrainingOptionError(f"model '{name}' needs sides that are multiples of {m}, but {data.name} gives {w}x{h} "
                                      f"'{key}' images: crop them with the data's patch_size or shrink them with downscale")


def _freeze(module: nn.Module, frozen: bool) -> None:
    module.requires_grad_(not frozen)


@TASKS.register("pix2pix")
class Pix2PixTask(RestorationTask):
    """Conditional GAN + L1 (see the module docstring). Shares the restoration Task's test split."""

    family = "pix2pix"
    default_lr, default_beta1 = 2e-4, 0.5  # the paper's Adam
    # its val_psnr is logged but ranks nothing: per-pixel scores reward blur over a sharp, slightly
    # misplaced result (docs/applications.md), so no best.safetensors is picked by it
    best_metric = None
    divergence_hint = "Try a lower {option:lr}, or {option:loss='lsgan'}."

    def __init__(self, model: nn.Module, cfg: TrainConfig, wrap: Wrap = _identity) -> None:
        Task.__init__(self, model, cfg, wrap)
        c = model.config
        self.G, self.D, self.D_plain = wrap(model.generator), wrap(model.discriminator), model.discriminator
        self.adv = ADVERSARIAL.get(c.loss)
        self.l1_weight, self.gan_weight = c.l1_weight, c.gan_weight
        self.optimizers = {"g": adam(self.G.parameters(), self, cfg)}
        if self.gan_weight > 0:
            self.optimizers["d"] = adam(self.D.parameters(), self, cfg)
        self._test = False

    @classmethod
    def batch_keys(cls, model: nn.Module) -> tuple[str, ...]:
        return ("image", "target")

    @classmethod
    def check_data(cls, model: nn.Module, data: Dataset) -> None:
        super(RestorationTask, cls).check_data(model, data)  # the keys; not the restorers' scale check
        _check_images(model, data, ("image", "target"))

    def step(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        x, y = batch["image"], batch["target"]
        fake = self.G(x)
        out: dict[str, torch.Tensor] = {}
        if self.gan_weight > 0:
            _freeze(self.D_plain, False)
            d_real, d_fake = self.D(torch.cat([x, y], 1)), self.D(torch.cat([x, fake.detach()], 1))
            loss_d = 0.5 * self.adv.discriminator(d_real, d_fake)
            opt_d = self.optimizers["d"]
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            _freeze(self.D_plain, True)  # G's step: no gradients for D (see GANTask on DDP)
            loss_adv = self.adv.generator(self.D_plain(torch.cat([x, fake], 1)))
            out.update(loss_d=loss_d.detach(), loss_adv=loss_adv.detach(), d_real=d_real.detach().mean(),
                       d_fake=d_fake.detach().mean())
        else:
            loss_adv = fake.new_zeros(())
        loss_l1 = l1(fake, y)
        loss_g = self.gan_weight * loss_adv + self.l1_weight * loss_l1
        opt_g = self.optimizers["g"]
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        return {"loss_g": loss_g.detach(), "l1": loss_l1.detach(), **out}

    def preview(self, model: nn.Module, data: Dataset) -> Grid:
        """Input, output and target of fixed training examples, one row each."""
        b = data.batch(torch.arange(min(PREVIEW_EXAMPLES, len(data))), torch.Generator().manual_seed(0))
        out = model.infer(b["image"].to(next(model.parameters()).device)).cpu()
        return Grid(torch.stack([b["image"].clamp(-1, 1), out, b["target"].clamp(-1, 1)], 1).flatten(0, 1), nrow=3)

    @torch.no_grad()
    def validate(self, model: nn.Module, data: Dataset) -> dict[str, float]:
        device = next(model.parameters()).device
        errors, psnrs = [], []
        for b in self.validation_batches(data):
            out, target = _to_unit(model.infer(b["image"].to(device)).cpu()), _to_unit(b["target"])
            errors.append((out - target).abs().flatten(1).mean(1))
            psnrs.append(psnr(out, target, reduction="none"))
        if not errors:
            return {}
        return {"val_l1": float(torch.cat(errors).mean()), "val_psnr": float(torch.cat(psnrs).mean())}


class ImagePool:
    """The last ``size`` generated images; ``query`` returns a batch where each image is, with
    probability 1/2 once the pool is full, an older one (which the new one replaces)."""

    def __init__(self, size: int) -> None:
        self.size, self.images = size, []

    def query(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif float(torch.rand((), generator=generator)) < 0.5:
                i = int(torch.randint(self.size, (), generator=generator))
                out.append(self.images[i])
                self.images[i] = image
            else:
                out.append(image)
        return torch.stack(out)


@TASKS.register("cyclegan")
class CycleGANTask(Task):
    """Two generators, two discriminators; adversarial + cycle + identity (see the module docstring)."""

    family = "cyclegan"
    default_lr, default_beta1 = 2e-4, 0.5  # the paper's Adam
    divergence_hint = "Try a lower {option:lr}."

    def __init__(self, model: nn.Module, cfg: TrainConfig, wrap: Wrap = _identity) -> None:
        super().__init__(model, cfg, wrap)
        c = model.config
        self.G = {d: wrap(g) for d, g in model.generators.items()}
        self.D = {d: wrap(m) for d, m in model.discriminators.items()}
        self.D_plain = model.discriminators
        self.adv = ADVERSARIAL.get(c.loss)
        self.cycle, self.identity = c.cycle_weight, c.identity_weight * c.cycle_weight
        self.pools = {d: ImagePool(c.pool_size) for d in ("a", "b")}
        self.optimizers = {"g": adam(model.generators.parameters(), self, cfg),
                           "d": adam(model.discriminators.parameters(), self, cfg)}

    @classmethod
    def batch_keys(cls, model: nn.Module) -> tuple[str, ...]:
        return ("image", "domain_b")

    @classmethod
    def check_data(cls, model: nn.Module, data: Dataset) -> None:
        super().check_data(model, data)
        _check_images(model, data, ("image", "domain_b"))

    def step(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        a, b = batch["image"], batch["domain_b"]
        g_ab, g_ba = self.G["a2b"], self.G["b2a"]
        # generators: D frozen (and run unwrapped, as GANTask does for DDP)
        _freeze(self.D_plain, True)
        fake_b, fake_a = g_ab(a), g_ba(b)
        loss_adv = self.adv.generator(self.D_plain["b"](fake_b)) + self.adv.generator(self.D_plain["a"](fake_a))
        loss_cycle = l1(g_ba(fake_b), a) + l1(g_ab(fake_a), b)
        loss_g = loss_adv + self.cycle * loss_cycle
        loss_idt = fake_b.new_zeros(())
        if self.identity > 0:  # a generator given an image of its output domain should leave it alone
            loss_idt = l1(g_ab(b), b) + l1(g_ba(a), a)
            loss_g = loss_g + self.identity * loss_idt
        opt_g = self.optimizers["g"]
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        # discriminators: real against generated images from the history pools
        _freeze(self.D_plain, False)
        pooled_b = self.pools["b"].query(fake_b, noise.gen)
        pooled_a = self.pools["a"].query(fake_a, noise.gen)
        loss_d_b = self.adv.discriminator(self.D["b"](b), self.D["b"](pooled_b))
        loss_d_a = self.adv.discriminator(self.D["a"](a), self.D["a"](pooled_a))
        opt_d = self.optimizers["d"]
        opt_d.zero_grad(set_to_none=True)
        (loss_d_a + loss_d_b).backward()
        opt_d.step()
        return {"loss_g": loss_g.detach(), "adv": loss_adv.detach(), "cycle": loss_cycle.detach(),
                "identity": loss_idt.detach(), "loss_d_a": loss_d_a.detach(), "loss_d_b": loss_d_b.detach()}

    def preview(self, model: nn.Module, data: Dataset) -> Grid:
        """Rows of A, G_ab(A), B, G_ba(B) for fixed training examples."""
        b = data.batch(torch.arange(min(PREVIEW_EXAMPLES, len(data))), torch.Generator().manual_seed(0))
        device = next(model.parameters()).device
        x, y = b["image"].to(device), b["domain_b"].to(device)
        rows = [x, model.translate(x, "a2b"), y, model.translate(y, "b2a")]
        return Grid(torch.stack([r.cpu().clamp(-1, 1) for r in rows], 1).flatten(0, 1), nrow=4)
