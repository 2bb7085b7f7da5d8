"""The InfoGAN objective and the order of one training step: pure torch, no Lightning.

One batch (:meth:`Objective.train_batch`)::

    1. each term's own networks (InfoGAN-CR's pair classifier), on what the term drew for the batch;
    2. discriminator + Q (one optimizer: trunk, D head and Q head, as in the authors' code), on detached fakes:
           loss_d = bce(D(T(real)), 1) + bce(D(T(fake)), 0) + sum_k lambda_k NLL_k(Q(fake), c) + the terms' parts
    3. the generator, ``g_steps`` times (each after the first draws its fakes anew from the same codes):
           loss_g = bce(D(T(fake)), 1) + sum_k lambda_k NLL_k(Q(fake), c) + the terms' parts

T is the identity, or with ``augment`` set a random differentiable augmentation (:mod:`infogan.augment`) of what the
adversarial head judges; Q then reads the fakes themselves, in a second pass of the trunk.

The information term reaches Q (and the shared trunk) in step 2 and G in step 3. Each update is handed to the caller
as ``update(network name, loss function)``: the LightningModule steps its optimizer of that name with Lightning's
manual optimisation, the speed benchmark's plain loop with ``backward()``; the order lives here alone.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from infogan.augment import augment
from infogan.latent import LatentSample
from infogan.terms import Batch, Loss, Nets, Term, build_terms

# update(name, loss_fn) -> the logs loss_fn returned: step the optimizer of network ``name`` on ``loss_fn()``
Update = Callable[[str, Callable[[], Loss]], dict]


@contextmanager
def running_statistics_kept(module: nn.Module) -> Iterator[None]:
    """Within: ``module``'s BatchNorm layers normalise by the batch as in training, but their running statistics
    (what eval mode normalises by) stay as they are (a momentum of 0)."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum


def adversarial_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Binary cross-entropy of the discriminator's logits (N,) against the label real (1) or fake (0)."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


class Objective:
    """The InfoGAN losses over G, D (trunk, D head, Q head), and the extra terms the settings switch on.

    Args:
        nets: the generator, discriminator and latent spec.
        hparams: the resolved settings (:mod:`infogan.config`).
    """

    def __init__(self, nets: Nets, hparams: Mapping) -> None:
        self.nets, self.hparams = nets, hparams
        self.terms: list[Term] = build_terms(nets, hparams)

    @property
    def networks(self) -> dict[str, nn.Module]:
        """Every network with an optimizer of its own, by name, in the order :meth:`train_batch` steps them last
        to first: ``discriminator``, ``generator``, then the terms' own."""
        own = {name: net for term in self.terms for name, net in term.networks.items()}
        return {"discriminator": self.nets.discriminator, "generator": self.nets.generator, **own}

    def term(self, name: str) -> Term | None:
        return next((t for t in self.terms if t.name == name), None)

    def _judged(self, images: torch.Tensor, batch: Batch) -> torch.Tensor:
        """D's trunk features of T(images) (N, C, H, W), T the ``augment`` setting's augmentations drawn from the
        batch's stream: the adversarial head's input only (with Q reading augmented fakes too, the codes were never
        learned; docs/results/emoji.md). The trunk's BatchNorm layers normalise these by their batch as usual but
        keep their running statistics for the images as they are, which the evaluation (eval mode) sees."""
        trunk, policy = self.nets.discriminator.trunk, self.hparams["augment"]
        if not policy:
            return trunk(images)
        with running_statistics_kept(trunk):
            return trunk(augment(images, policy, batch.rng))

    def _info(self, h_fake: torch.Tensor, codes: LatentSample) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        nll = self.nets.latent.nll(self.nets.discriminator.q(h_fake), codes)
        return self.nets.latent.info_loss(nll, self.hparams["lambda_cat"], self.hparams["lambda_cont"]), nll

    def discriminator_loss(self, batch: Batch, fake: torch.Tensor) -> Loss:
        """The loss of trunk, D head and Q head: real images (B, C, H, W) vs detached fakes, the information term on
        the fakes, and the terms' parts (which get the trunk's features of T(real), as the adversarial head does).
        Returns (scalar loss, logs)."""
        d = self.nets.discriminator
        h_real, h_fake = self._judged(batch.real, batch), self._judged(fake, batch)
        logit_real, logit_fake = d.head(h_real).squeeze(1), d.head(h_fake).squeeze(1)
        info, _ = self._info(d.trunk(fake) if self.hparams["augment"] else h_fake, batch.codes)
        loss = adversarial_loss(logit_real, True) + adversarial_loss(logit_fake, False) + info
        logs = {"d(x)": torch.sigmoid(logit_real.detach()).mean(), "d(g(z))": torch.sigmoid(logit_fake.detach()).mean()}
        for term in self.terms:
            part = term.discriminator_loss(batch, h_real, fake)
            if part is not None:
                loss, logs = loss + part[0], {**logs, **part[1]}
        return loss, logs

    def generator_loss(self, batch: Batch, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The generator's loss on fakes (B, C, H, W) that keep their graph: fool D, let Q recover the codes, and the
        terms' parts. Returns (scalar loss, {code name: -log Q(c_k | x)} in nats, with graph)."""
        d = self.nets.discriminator
        h = d.trunk(fake)
        info, nll = self._info(h, batch.codes)
        judged = self._judged(fake, batch) if self.hparams["augment"] else h
        loss = adversarial_loss(d.head(judged).squeeze(1), True) + info
        for term in self.terms:
            part = term.generator_loss(batch, fake)
            if part is not None:
                loss = loss + part[0]
        return loss, nll

    def train_batch(self, batch: Batch, update: Update) -> dict[str, torch.Tensor]:
        """One batch of training (the module doc's three steps) through ``update``; returns its logs."""
        g, latent = self.nets.generator, self.nets.latent
        for term in self.terms:
            term.begin(batch)
        fake = g(latent.to_input(batch.codes))  # drawn before the terms' steps, as in InfoGAN-CR's code
        logs: dict[str, torch.Tensor] = {}
        for term in self.terms:
            for name, loss_fn in term.own_steps(batch).items():
                logs.update(update(name, loss_fn))
        d_fake = fake.detach()
        logs.update(update("discriminator", lambda: self._with_loss("loss/d", self.discriminator_loss(batch, d_fake))))
        for i in range(self.hparams["g_steps"]):  # later updates: the same codes, the updated generator
            fake_i = fake if i == 0 else g(latent.to_input(batch.codes))
            logs.update(update("generator", lambda f=fake_i: self._generator_logs(batch, f)))
        return logs

    @staticmethod
    def _with_loss(name: str, loss: Loss) -> Loss:
        return loss[0], {name: loss[0].detach(), **loss[1]}

    def _generator_logs(self, batch: Batch, fake: torch.Tensor) -> Loss:
        loss, nll = self.generator_loss(batch, fake)
        logs = {"loss/g": loss.detach(), **{f"info/{k}": v.detach() for k, v in nll.items()}}
        logs.update({f"mi/{k}": v for k, v in self.nets.latent.mi_bound(nll).items()})
        return loss, logs
