"""A learned prior of the categorical codes (``prior_momentum``): the generator draws each value as often as Q finds
it in the real images.

Why: with the paper's uniform Cat(K) every value is a tenth of the samples, so the generator must split the data
into K parts of equal mass, and a kind of image that fills 60% of a folder (emoji's ``People & Body``) takes six
values of ten, split by whatever varies most (skin tone, colour). Re-estimating the prior as Q's mean category
probabilities on real images is EM's update of a mixture's weights (Q's probabilities are the responsibilities);
the floor keeps a value from dying out, since a value drawn rarely is learned less and found less.
"""

from __future__ import annotations

from typing import Mapping, Optional

import torch

from infogan.terms import Batch, Loss, Nets, Term

FLOOR = 0.2  # no value's probability falls below FLOOR / K


class CodePrior(Term):
    """Adds nothing to the losses; in the discriminator's step it moves the prior (a buffer of the discriminator,
    so checkpoints keep it and a resumed run draws what the uninterrupted one did) towards Q's mean category
    probabilities on the batch's real images."""

    name = "code_prior"

    def __init__(self, nets: Nets, momentum: float) -> None:
        self.nets, self.momentum = nets, momentum
        sizes = nets.latent.categorical
        nets.discriminator.register_buffer("code_prior", torch.cat([torch.full((k,), 1 / k) for k in sizes]))

    @classmethod
    def build(cls, nets: Nets, hp: Mapping) -> Optional["CodePrior"]:
        if not (hp["prior_momentum"] and nets.latent.categorical):
            return None
        return cls(nets, hp["prior_momentum"])

    def prior(self) -> list[torch.Tensor]:
        """The current prior: one (K_k,) tensor of probabilities per categorical code."""
        return list(torch.split(self.nets.discriminator.code_prior, list(self.nets.latent.categorical)))

    @torch.no_grad()
    def discriminator_loss(self, batch: Batch, h_real: torch.Tensor, fake: torch.Tensor) -> Optional[Loss]:
        logits = self.nets.latent.split_q(self.nets.discriminator.q(h_real.detach()))[0]
        logs = {}
        for i, (p, lg) in enumerate(zip(self.prior(), logits)):  # views of the buffer: updated in place
            k = p.numel()
            p.mul_(1 - self.momentum).add_(lg.float().softmax(1).mean(0), alpha=self.momentum)
            p.clamp_(min=FLOOR / k).div_(p.sum())
            logs[f"prior/cat{i}_entropy"] = -(p * p.log()).sum()
        return h_real.new_zeros(()), logs
