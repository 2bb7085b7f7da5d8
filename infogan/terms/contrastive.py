"""InfoGAN-CR's contrastive regulariser (Lin et al. 2020, section 4; ``lambda_cr``, from batch ``cr_start``).

A pair classifier, its own network with its own optimizer (D's learning rate), sees two fakes that share their noise
and exactly one code (:meth:`LatentSpec.sample_pairs`) and must name that code; it is stepped first in a batch, as in
their code. The generator's loss adds ``lambda_cr`` times the classifier's cross-entropy on such pairs. Before
``cr_start`` no pairs are drawn: the classifier stays untrained until then, as their code resets it.
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional

import torch
import torch.nn.functional as F

from infogan.errors import SettingsError
from infogan.networks import build_pair_classifier
from infogan.terms import Batch, Loss, Nets, Term


class Contrastive(Term):
    name = "contrastive"

    def __init__(self, nets: Nets, weight: float, start: int, preset: str, channels: int,
                 pixel_range) -> None:
        self.nets, self.weight, self.start = nets, weight, start
        self.classifier = build_pair_classifier(preset, channels, len(nets.latent.code_names), pixel_range)
        self.networks = {"pair_classifier": self.classifier}

    @classmethod
    def build(cls, nets: Nets, hp: Mapping) -> Optional["Contrastive"]:
        if hp["cr_start"] > 0 and hp["lambda_cr"] == 0:
            raise SettingsError(f"--cr_start {hp['cr_start']}: the batch the contrastive term starts at needs "
                                f"--lambda_cr > 0 to have a term to start")
        if not hp["lambda_cr"]:
            return None
        return cls(nets, hp["lambda_cr"], hp["cr_start"], hp["preset"], hp["channels"], hp["pixel_range"])

    def active(self, batch_index: int) -> bool:
        """Whether the term (and the classifier's step) is on in the batch after ``batch_index`` batches."""
        return batch_index >= self.start

    def begin(self, batch: Batch) -> None:
        if self.active(batch.index):  # the batch's seeded stream: resumes stay exact
            first, second, shared = self.nets.latent.sample_pairs(batch.real.shape[0], batch.rng)
            device = batch.real.device
            batch.drawn[self.name] = (first.to(device), second.to(device), shared.to(device))

    def _fakes(self, pairs) -> tuple[torch.Tensor, torch.Tensor]:
        g, latent = self.nets.generator, self.nets.latent
        return g(latent.to_input(pairs[0])), g(latent.to_input(pairs[1]))

    def pair_loss(self, first: torch.Tensor, second: torch.Tensor, shared: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-entropy of the classifier on image pairs (B, C, H, W) x 2 against the index of the code each pair
        shares (B,); generator and classifier both minimise it. Returns (scalar loss, detached accuracy)."""
        logits = self.classifier(first, second).float()
        accuracy = (logits.detach().argmax(dim=1) == shared).float().mean()
        return F.cross_entropy(logits, shared), accuracy

    def own_steps(self, batch: Batch) -> dict[str, Callable[[], Loss]]:
        pairs = batch.drawn.get(self.name)
        if pairs is None:
            return {}

        def classifier_loss() -> Loss:
            with torch.no_grad():  # G is not trained here
                first, second = self._fakes(pairs)
            loss, accuracy = self.pair_loss(first, second, pairs[2])
            return loss, {"loss/cr": loss.detach(), "cr/accuracy": accuracy}

        return {"pair_classifier": classifier_loss}

    def generator_loss(self, batch: Batch, fake: torch.Tensor) -> Optional[Loss]:
        pairs = batch.drawn.get(self.name)
        if pairs is None:
            return None
        return self.weight * self.pair_loss(*self._fakes(pairs), pairs[2])[0], {}
