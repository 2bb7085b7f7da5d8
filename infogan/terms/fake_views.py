"""The information term on restyled fakes (``lambda_fake_views``): Q must recover the generator's category from a
randomly rotated, sheared, scaled, shifted or thinned copy of a fake, so the generator cannot tell its categories
apart by slant or stroke width alone (:mod:`infogan.consistency`)."""

from __future__ import annotations

from typing import Mapping, Optional

import torch
import torch.nn.functional as F

from infogan.consistency import random_style
from infogan.latent import LatentSample
from infogan.terms import Batch, Loss, Nets, Term


class FakeViews(Term):
    """Both losses add ``weight * -log Q(c | restyled fake)`` summed over the categorical codes."""

    name = "fake_views"

    def __init__(self, nets: Nets, weight: float, rotation: float, shear: float) -> None:
        self.nets, self.weight, self.rotation, self.shear = nets, weight, rotation, shear

    @classmethod
    def build(cls, nets: Nets, hp: Mapping) -> Optional["FakeViews"]:
        if not (hp["lambda_fake_views"] and nets.latent.categorical):
            return None
        return cls(nets, hp["lambda_fake_views"], hp["style_rotation"], hp["style_shear"])

    def nll(self, fake: torch.Tensor, codes: LatentSample, rng: torch.Generator) -> torch.Tensor:
        """-log Q(c_k | restyled fake) summed over the categorical codes; fakes (B, C, H, W), differentiable."""
        d = self.nets.discriminator
        logits = self.nets.latent.split_q(d.q(d.trunk(random_style(fake, rng, self.rotation, self.shear))))[0]
        return sum(F.cross_entropy(lg.float(), codes.categorical[:, i]) for i, lg in enumerate(logits))

    def discriminator_loss(self, batch: Batch, h_real: torch.Tensor, fake: torch.Tensor) -> Optional[Loss]:
        nll = self.nll(fake, batch.codes, batch.rng)
        return self.weight * nll, {"info/fake_views": nll.detach()}

    def generator_loss(self, batch: Batch, fake: torch.Tensor) -> Optional[Loss]:
        return self.weight * self.nll(fake, batch.codes, batch.rng), {}
