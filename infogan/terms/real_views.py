"""The invariance of Q's categories on real images (``lambda_real``): IIC between a real image and a restyled copy.

Why: :mod:`infogan.consistency` (the restyling and the IIC loss, and what they changed on MNIST).
"""

from __future__ import annotations

from typing import Mapping, Optional

import torch

from infogan.consistency import iic_loss, random_colour, random_style
from infogan.terms import Batch, Loss, Nets, Term


class RealViews(Term):
    """D + Q's loss adds ``weight * -I(c; c')`` between Q's categories of real images and of restyled copies."""

    name = "real_views"

    def __init__(self, nets: Nets, weight: float, rotation: float, shear: float, colour: float = 0.0) -> None:
        self.nets, self.weight, self.rotation, self.shear, self.colour = nets, weight, rotation, shear, colour

    @classmethod
    def build(cls, nets: Nets, hp: Mapping) -> Optional["RealViews"]:
        if not (hp["lambda_real"] and nets.latent.categorical):
            return None
        return cls(nets, hp["lambda_real"], hp["style_rotation"], hp["style_shear"], hp["style_colour"])

    def invariance(self, h_real: torch.Tensor, h_styled: torch.Tensor) -> torch.Tensor:
        """Minus I(c; c') between Q's categories of trunk features (B, F) of real images and of restyled copies,
        summed over the categorical codes."""
        q, split = self.nets.discriminator.q, self.nets.latent.split_q
        logits, logits_styled = split(q(h_real))[0], split(q(h_styled))[0]
        return sum(iic_loss(a.float().softmax(1), b.float().softmax(1)) for a, b in zip(logits, logits_styled))

    def discriminator_loss(self, batch: Batch, h_real: torch.Tensor, fake: torch.Tensor) -> Optional[Loss]:
        styled = random_style(batch.real, batch.rng, self.rotation, self.shear)
        if self.colour and styled.shape[1] == 3:
            styled = random_colour(styled, batch.rng, self.colour)
        invariance = self.invariance(h_real, self.nets.discriminator.trunk(styled))
        return self.weight * invariance, {"mi/real_views": -invariance.detach()}
