"""Extra terms of the InfoGAN objective, one module each, all behind :class:`Term`.

A term reads its own settings (a weight of 0: not built), may own networks (each gets its own optimizer, stepped
first in a batch) and adds a part to the discriminator's and to the generator's loss. Adding a regulariser means
adding one module here, its name to :data:`TERMS`, and its settings to :mod:`infogan.config`; neither
:mod:`infogan.objective` nor the LightningModule changes. Pure torch, no Lightning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

import torch
from torch import nn

from infogan.latent import LatentSample, LatentSpec

Loss = tuple[torch.Tensor, dict[str, torch.Tensor]]  # (scalar loss, {log name: detached scalar})


@dataclass
class Batch:
    """What the terms of one batch see.

    Attributes:
        real: (B, C, H, W) real images in [-1, 1].
        codes: the batch's latent draw.
        rng: the batch's seeded stream (restyling, pairs), so a resumed run draws what the uninterrupted one did.
        index: training batches done before this one.
        drawn: what a term drew for this batch in :meth:`Term.begin`, by the term's name.
    """

    real: torch.Tensor
    codes: LatentSample
    rng: torch.Generator
    index: int
    drawn: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Nets:
    """The networks and codes every term works on: G, D (trunk, adversarial head, Q head) and the latent spec."""

    generator: nn.Module
    discriminator: nn.Module
    latent: LatentSpec


class Term:
    """One extra term. Every method has a do-nothing default; a term overrides what it adds."""

    name: str = ""
    #: its own networks, by the name they are registered (and their optimizer known) under
    networks: Mapping[str, nn.Module] = {}

    def begin(self, batch: Batch) -> None:
        """Draw what this batch needs (into ``batch.drawn``), before any step."""

    def own_steps(self, batch: Batch) -> dict[str, Callable[[], Loss]]:
        """Losses of its own networks this batch, by network name, stepped before D and G."""
        return {}

    def discriminator_loss(self, batch: Batch, h_real: torch.Tensor, fake: torch.Tensor) -> Optional[Loss]:
        """Its part of D + Q's loss; ``h_real`` the trunk's features of the real images, ``fake`` detached."""
        return None

    def generator_loss(self, batch: Batch, fake: torch.Tensor) -> Optional[Loss]:
        """Its part of G's loss on fakes that keep their graph."""
        return None


def build_terms(nets: Nets, hparams: Mapping) -> list[Term]:
    """The terms the settings switch on, in the order their parts are added."""
    from infogan.terms.contrastive import Contrastive
    from infogan.terms.fake_views import FakeViews
    from infogan.terms.real_views import RealViews

    return [term for kind in (RealViews, FakeViews, Contrastive) if (term := kind.build(nets, hparams)) is not None]
