"""InfoGAN as a LightningModule: the networks, the InfoGAN objective and its two-optimizer training step.

One training step (manual optimization, two optimizers):

1. draw z and the codes c from this rank's latent stream; ``fake = G(z, c)``: the only generator forward.
2. discriminator + Q step (optimizer 0 holds trunk, D head and Q head), on ``fake.detach()``::

       loss_d = bce(D(real), 1) + bce(D(fake), 0) + sum_k lambda_k NLL_k(Q(fake), c)

3. generator step (optimizer 1 holds G only)::

       loss_g = bce(D(fake), 1) + sum_k lambda_k NLL_k(Q(fake), c)

With ``lambda_cr`` (InfoGAN-CR), a pair classifier is stepped first (optimizer 2) on pairs of fakes sharing one
code, and the generator's loss adds ``lambda_cr`` times the classifier's cross-entropy on such pairs.

Q is stepped with D's optimizer, as in the authors' official code: the information term reaches Q (and the shared
trunk) in step 2 and G in step 3. During step 3 ``toggled_optimizer`` switches ``requires_grad`` off on D's
parameters, so the backward pass computes no weight gradients for D that would be thrown away.

The losses are computed by :meth:`InfoGAN.discriminator_loss` and :meth:`InfoGAN.generator_loss` alone (the one
place of the objective: the speed benchmark's plain loop calls them too); the ``_step`` methods only add the
optimizers. Lightning counts every ``optimizer.step()`` in ``trainer.global_step``: two per batch here. The CLI's
``--max_steps`` counts batches (the paper's "iterations").

``python -m infogan.infogan_module`` is the training CLI, :mod:`infogan.train` (kept as the design card's command).
"""

from __future__ import annotations

from typing import Optional, Sequence

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torchmetrics.clustering import AdjustedRandScore, NormalizedMutualInfoScore

from infogan.consistency import MAX_ROTATION_DEG, MAX_SHEAR, iic_loss, random_style
from infogan.latent import CodeValues, LatentSample, LatentSpec
from infogan.metrics import ClusterAccuracy
from infogan.networks import PIXEL_RANGES, build_networks, build_pair_classifier

_MASK63 = (1 << 63) - 1


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; raised before the optimizer step, so no weights are touched."""


def adversarial_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Binary cross-entropy of the discriminator's logits (N,) against the label real (1) or fake (0)."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


class InfoGAN(pl.LightningModule):
    """Generator, discriminator and Q head trained with the InfoGAN objective.

    Args:
        noise_dim: size of the noise z.
        categorical: K of each categorical code, e.g. ``[10]``.
        continuous: number of continuous codes.
        continuous_prior: ``"uniform"`` (Unif(-1, 1)) or ``"gaussian"`` (N(0, 1)).
        learn_variance: Q predicts each continuous code's log-variance (else unit std, as the official code).
        noise_std: the scale of the noise z (its standard deviation for the gaussian prior).
        noise_prior: ``"gaussian"`` (z ~ N(0, noise_std^2), the paper's) or ``"uniform"`` (Unif(-noise_std, noise_std)).
        preset: network preset (see :data:`infogan.networks.PRESETS`).
        channels: image channels.
        pixel_range: the pixel range the networks see (:data:`infogan.networks.PIXEL_RANGES`; the dataset's record
            names it): [-1, 1] with a tanh output, or [0, 1] with a sigmoid, where zero padding is a black
            background. Images outside the networks (data batches, ``sample``, ``represent``) are in [-1, 1] either
            way.
        spectral_norm: spectral normalisation on the discriminator's trunk and adversarial head.
        spectral_norm_q: spectral normalisation on Q's layers too (InfoGAN-CR's dSprites networks).
        g_steps: generator updates per batch (InfoGAN-CR: 2); each after the first draws the fakes anew from the
            same codes with the updated generator.
        lr_g, lr_d: Adam learning rates of the generator and of discriminator + Q.
        beta1, beta2: Adam betas (the paper: 0.5, 0.999).
        lambda_cat, lambda_cont: weights of the information term for categorical and continuous codes.
        lambda_real: weight of the invariance term on real images (:mod:`infogan.consistency`); 0 turns it off.
        lambda_fake_views: weight of the categorical information term on restyled fakes: Q must recover the
            generator's category from a randomly rotated, sheared, scaled, shifted or thinned copy of the image, so
            the generator cannot tell its categories apart by slant or stroke width alone; 0 turns it off.
        style_rotation, style_shear: the restyling's largest rotation (degrees) and shear, for both terms above.
        lambda_cr: weight of InfoGAN-CR's contrastive term (Lin et al. 2020) in the generator's loss: a pair
            classifier, trained with D's learning rate, must tell which code two generated images share
            (:meth:`LatentSpec.sample_pairs`); 0 turns it off and builds no classifier.
        cr_start: the batch from which the contrastive term is on (InfoGAN-CR's schedule: 288,000, after a plain
            run); before it neither the classifier nor the generator sees pairs (a batch costs what a plain one does),
            so the classifier starts fresh then, as their code resets it. 0: from the first batch.
        traversal_range: how far the continuous codes' traversals (GIFs, explorer) sweep; None: 2 for uniform
            codes, 3 for gaussian ones (:attr:`LatentSpec.default_range`). Changes nothing in training.
        seed: seeds the latent stream; each rank and each batch gets its own stream derived from it.

    All arguments are plain data, so checkpoints load with ``weights_only=True``.
    """

    def __init__(
        self,
        noise_dim: int = LatentSpec.noise_dim,  # the codes' defaults are LatentSpec's: the paper's MNIST codes
        categorical: Sequence[int] = LatentSpec.categorical,
        continuous: int = LatentSpec.continuous,
        continuous_prior: str = LatentSpec.continuous_prior,
        learn_variance: bool = LatentSpec.learn_variance,
        noise_std: float = LatentSpec.noise_std,
        noise_prior: str = LatentSpec.noise_prior,
        preset: str = "mnist",
        channels: int = 1,
        pixel_range: Sequence[float] = PIXEL_RANGES[0],
        spectral_norm: bool = False,
        spectral_norm_q: bool = False,
        g_steps: int = 1,
        lr_g: float = 1e-3,
        lr_d: float = 2e-4,
        beta1: float = 0.5,
        beta2: float = 0.999,
        lambda_cat: float = 1.0,
        lambda_cont: float = 0.1,
        lambda_real: float = 0.0,
        lambda_fake_views: float = 0.0,
        style_rotation: float = MAX_ROTATION_DEG,
        style_shear: float = MAX_SHEAR,
        lambda_cr: float = 0.0,
        cr_start: int = 0,
        traversal_range: Optional[float] = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        categorical = [int(k) for k in categorical]  # a list, never a tuple or tensor: plain data in checkpoints
        pixel_range = [float(v) for v in pixel_range]
        self.save_hyperparameters()
        self.automatic_optimization = False
        if not 0 <= lambda_cr < float("inf"):
            raise ValueError(f"--lambda_cr must be a finite number >= 0 (0: off), got {lambda_cr}")
        if cr_start < 0 or (cr_start > 0 and lambda_cr == 0):
            raise ValueError(f"--cr_start {cr_start}: the batch the contrastive term starts at must be >= 0, and "
                             f"needs --lambda_cr > 0 to have a term to start")
        if g_steps < 1:
            raise ValueError(f"g_steps must be >= 1 (generator updates per batch), got {g_steps}")
        for name, lr in (("lr_g", lr_g), ("lr_d", lr_d)):
            if not 0 < lr < float("inf"):
                raise ValueError(f"--{name} must be a finite number > 0, got {lr}")
        self.latent = LatentSpec(noise_dim, tuple(categorical), continuous, continuous_prior, learn_variance,
                                 noise_std, noise_prior, traversal_range)
        self.generator, self.discriminator = build_networks(preset, self.latent.input_dim, self.latent.q_dim, channels,
                                                            spectral_norm, spectral_norm_q, pixel_range)
        self.pair_classifier = (build_pair_classifier(preset, channels, len(self.latent.code_names), pixel_range)
                                if lambda_cr > 0 else None)
        self._latent_rng = torch.Generator()
        self.val_metrics = torch.nn.ModuleDict()  # filled in setup() once the data's classes are known

    def setup(self, stage: str) -> None:
        """Build the validation metrics when the data has labels and the model a categorical code."""
        num_classes = getattr(self.trainer.datamodule, "num_classes", None) if self._trainer else None
        if num_classes and self.latent.categorical and not len(self.val_metrics):
            k = self.latent.categorical[0]
            self.val_metrics["accuracy"] = ClusterAccuracy(k, num_classes)
            if k > num_classes:  # then also the fairer many-to-one number (see infogan.metrics)
                self.val_metrics["accuracy_many_to_one"] = ClusterAccuracy(k, num_classes, many_to_one=True)
            self.val_metrics["nmi"] = NormalizedMutualInfoScore()
            self.val_metrics["ari"] = AdjustedRandScore()

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(
        self,
        n: int,
        categorical: CodeValues = None,
        continuous: CodeValues = None,
        z: Optional[torch.Tensor] = None,
        seed: Optional[int] = None,
    ) -> torch.Tensor:
        """Generate n images with the generator in eval mode (BatchNorm running statistics).

        Args:
            n: number of images.
            categorical: None (drawn), one value per categorical code (int or None), or an (n, num_categorical)
                long tensor.
            continuous: None, one value per continuous code (float or None), or an (n, num_continuous) tensor.
            z: (n, noise_dim) noise to use instead of drawing it.
            seed: makes the draw reproducible (same seed, same images).

        Returns:
            (n, C, H, W) float tensor in [-1, 1], on the model's device.
        """
        rng = torch.Generator().manual_seed(seed) if seed is not None else None
        codes = self.latent.sample(n, rng, categorical, continuous, z).to(self.device)
        was_training = self.generator.training
        self.generator.eval()
        try:
            return self.generator(self.latent.to_input(codes)).float()
        finally:
            self.generator.train(was_training)

    @torch.no_grad()
    def estimate_mi(self, n: int = 1000, seed: int = 0) -> dict[str, float]:
        """The MI lower bound H(c_k) - NLL_k per code on n fresh samples (all networks in eval mode)."""
        codes = self.latent.sample(n, torch.Generator().manual_seed(seed)).to(self.device)
        was_training = self.training
        self.eval()
        try:
            _, q_out = self.discriminator(self.generator(self.latent.to_input(codes)))
            return {k: float(v) for k, v in self.latent.mi_bound(self.latent.nll(q_out, codes)).items()}
        finally:
            self.train(was_training)

    # ------------------------------------------------------------------ training
    def _draw_codes(self, n: int) -> LatentSample:
        """This batch's latent draw: a stream derived from (seed, global rank, step).

        Deriving it rather than carrying one generator along means every rank draws different codes, and a resumed
        run draws exactly what the uninterrupted run would have, with no generator state to checkpoint.
        """
        mix = (self.hparams.seed * 1_000_003 + self.global_rank) * 1_000_003 + self.global_step
        self._latent_rng.manual_seed(mix & _MASK63)
        return self.latent.sample(n, self._latent_rng).to(self.device, non_blocking=True)

    def optimizer_steps(self, batches: int) -> int:
        """Lightning's ``global_step`` after ``batches`` training batches: it counts optimizer steps, one for D + Q
        and ``g_steps`` for G in each batch, and one for the pair classifier in each batch from ``cr_start`` on."""
        plain = 1 + self.hparams.g_steps
        contrastive = 0 if self.pair_classifier is None else max(0, batches - self.hparams.cr_start)
        return batches * plain + contrastive

    def batches_done(self, global_step: Optional[int] = None) -> int:
        """Training batches done after ``global_step`` optimizer steps (default: this run's), the inverse of
        :meth:`optimizer_steps`: the batch position that callbacks, the latent schedule and messages report."""
        step = self.global_step if global_step is None else global_step
        plain, before = 1 + self.hparams.g_steps, self.optimizer_steps(self.hparams.cr_start)
        if self.pair_classifier is None or step < before:
            return step // plain
        return self.hparams.cr_start + (step - before) // (plain + 1)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        real = batch[0]
        codes = self._draw_codes(real.shape[0])
        pairs = None
        if self.pair_classifier is not None and self.batches_done() >= self.hparams.cr_start:
            # InfoGAN-CR's pairs: the same seeded stream, so resumes stay exact
            first, second, shared = self.latent.sample_pairs(real.shape[0], self._latent_rng)
            pairs = (first.to(self.device), second.to(self.device), shared.to(self.device))
        fake = self.generator(self.latent.to_input(codes))
        cr_logs = self._pair_step(pairs) if pairs is not None else {}  # first, as in InfoGAN-CR's code
        d_logs = self._discriminator_step(real, fake.detach(), codes)
        g_logs = self._generator_step(fake, codes, pairs)
        for _ in range(self.hparams.g_steps - 1):  # further generator updates: the same codes, the updated generator
            g_logs = self._generator_step(self.generator(self.latent.to_input(codes)), codes, pairs)
        self.log("loss/d", d_logs.pop("loss/d"), prog_bar=True)
        self.log_dict(cr_logs)
        self.log_dict(g_logs["progress"], prog_bar=True)
        self.log_dict({**d_logs, **g_logs["other"]})

    def _check_finite(self, name: str, loss: torch.Tensor) -> None:
        """Stop training on a NaN/inf loss before it reaches the weights (checkpoints keep the last good state)."""
        if not bool(torch.isfinite(loss)):
            batch = self.batches_done()
            written = [cb.last_model_path or cb.best_model_path for cb in self.trainer.checkpoint_callbacks]
            if any(written) or self.trainer.ckpt_path:
                advice = ("the weights and the last checkpoint stay finite. Resume from last.ckpt with lower "
                          "--lr_d/--lr_g, or with --precision 32 if you trained in mixed precision")
            else:
                advice = ("no checkpoint was written yet (it is written at the end of each epoch). Start again with "
                          "lower --lr_d/--lr_g, or with --precision 32 if you trained in mixed precision")
            raise NonFiniteLossError(f"{name} became {float(loss.detach())} at batch {batch}; training stopped before "
                                     f"the optimizer step, so {advice}")

    def discriminator_loss(self, real: torch.Tensor, fake: torch.Tensor, codes: LatentSample
                           ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss of trunk, D head and Q head: real (B, C, H, W) vs detached fakes, plus the information term
        on the fakes and, with ``lambda_real``, the invariance term on the real images.

        Returns (scalar loss, {log name: detached scalar}).
        """
        d = self.discriminator
        h_real = d.trunk(real)
        logit_real = d.head(h_real).squeeze(1)
        h_fake = d.trunk(fake)
        logit_fake = d.head(h_fake).squeeze(1)
        nll = self.latent.nll(d.q(h_fake), codes)
        info = self.latent.info_loss(nll, self.hparams.lambda_cat, self.hparams.lambda_cont)
        loss = adversarial_loss(logit_real, True) + adversarial_loss(logit_fake, False) + info
        logs = {"d(x)": torch.sigmoid(logit_real.detach()).mean(), "d(g(z))": torch.sigmoid(logit_fake.detach()).mean()}
        if self.hparams.lambda_real and self.latent.categorical:
            invariance = self._real_invariance(h_real, d.trunk(self._restyle(real)))
            loss = loss + self.hparams.lambda_real * invariance
            logs["mi/real_views"] = -invariance.detach()
        if self.hparams.lambda_fake_views and self.latent.categorical:
            view_nll = self._fake_view_nll(fake, codes)
            loss = loss + self.hparams.lambda_fake_views * view_nll
            logs["info/fake_views"] = view_nll.detach()
        return loss, logs

    def generator_loss(self, fake: torch.Tensor, codes: LatentSample, pairs: Optional[tuple] = None
                       ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The generator's loss on fakes (B, C, H, W) that keep their graph: fool D, and let Q recover the codes;
        with ``pairs`` (:meth:`LatentSpec.sample_pairs`, on this device) and ``lambda_cr``, also let the pair
        classifier tell which code each pair of fakes drawn from them shares.

        Returns (scalar loss, {code name: -log Q(c_k | x)} in nats, with graph).
        """
        d = self.discriminator
        h = d.trunk(fake)
        nll = self.latent.nll(d.q(h), codes)
        loss = adversarial_loss(d.head(h).squeeze(1), True)
        loss = loss + self.latent.info_loss(nll, self.hparams.lambda_cat, self.hparams.lambda_cont)
        if self.hparams.lambda_fake_views and self.latent.categorical:
            loss = loss + self.hparams.lambda_fake_views * self._fake_view_nll(fake, codes)
        if pairs is not None:
            first, second, shared = pairs
            pair_fakes = (self.generator(self.latent.to_input(first)), self.generator(self.latent.to_input(second)))
            loss = loss + self.hparams.lambda_cr * self.pair_loss(*pair_fakes, shared)[0]
        return loss, nll

    def pair_loss(self, first: torch.Tensor, second: torch.Tensor, shared: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """InfoGAN-CR's contrastive term: cross-entropy of the pair classifier on image pairs (B, C, H, W) x 2
        against the index of the code each pair shares (B,). Generator and classifier both minimise it.

        Returns (scalar loss, detached accuracy).
        """
        logits = self.pair_classifier(first, second).float()
        accuracy = (logits.detach().argmax(dim=1) == shared).float().mean()
        return F.cross_entropy(logits, shared), accuracy

    def _restyle(self, images: torch.Tensor) -> torch.Tensor:
        """A random restyling of images (B, C, H, W) (:func:`infogan.consistency.random_style`), differentiable."""
        return random_style(images, self._latent_rng, self.hparams.style_rotation, self.hparams.style_shear)

    def _fake_view_nll(self, fake: torch.Tensor, codes: LatentSample) -> torch.Tensor:
        """-log Q(c_k | restyled fake) summed over the categorical codes: the information term on another view."""
        logits, _, _ = self.latent.split_q(self.discriminator.q(self.discriminator.trunk(self._restyle(fake))))
        return sum(F.cross_entropy(lg.float(), codes.categorical[:, i]) for i, lg in enumerate(logits))

    def _real_invariance(self, h_real: torch.Tensor, h_styled: torch.Tensor) -> torch.Tensor:
        """Minus I(c; c') between Q's categories of real images and of their restyled copies, summed over codes."""
        logits, _, _ = self.latent.split_q(self.discriminator.q(h_real))
        logits_styled, _, _ = self.latent.split_q(self.discriminator.q(h_styled))
        return sum(iic_loss(a.float().softmax(1), b.float().softmax(1)) for a, b in zip(logits, logits_styled))

    def _discriminator_step(self, real: torch.Tensor, fake: torch.Tensor, codes: LatentSample) -> dict:
        """Update trunk, D head and Q head on real images and detached fakes."""
        opt_d = self.optimizers()[0]
        with self.toggled_optimizer(opt_d):
            loss, logs = self.discriminator_loss(real, fake, codes)
            self._check_finite("loss/d", loss)
            opt_d.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            opt_d.step()
        return {"loss/d": loss.detach(), **logs}

    def _pair_step(self, pairs: tuple) -> dict:
        """Update the pair classifier on pairs of fakes drawn without a graph (G is not trained here)."""
        opt_cr = self.optimizers()[2]
        with torch.no_grad():
            first, second = (self.generator(self.latent.to_input(p)) for p in pairs[:2])
        with self.toggled_optimizer(opt_cr):
            loss, accuracy = self.pair_loss(first, second, pairs[2])
            self._check_finite("loss/cr", loss)
            opt_cr.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            opt_cr.step()
        return {"loss/cr": loss.detach(), "cr/accuracy": accuracy}

    def _generator_step(self, fake: torch.Tensor, codes: LatentSample, pairs: Optional[tuple] = None) -> dict:
        """Update G: fool the (just updated) D and make the codes recoverable by Q (and, with ``pairs``, by the
        pair classifier)."""
        opt_g = self.optimizers()[1]
        with self.toggled_optimizer(opt_g):
            loss, nll = self.generator_loss(fake, codes, pairs)
            self._check_finite("loss/g", loss)
            opt_g.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            opt_g.step()
        mi = self.latent.mi_bound(nll)
        progress = {"loss/g": loss.detach()}
        if "cat0" in mi:
            progress["mi/cat0"] = mi.pop("cat0")
        other = {f"info/{k}": v.detach() for k, v in nll.items()}
        other.update({f"mi/{k}": v for k, v in mi.items()})
        return {"progress": progress, "other": other}

    # ------------------------------------------------------------------ validation
    def predict_category(self, images: torch.Tensor, code: int = 0) -> torch.Tensor:
        """Q's guess of categorical code ``code`` for images (N, C, H, W) in [-1, 1]: (N,) cluster indices."""
        _, q_out = self.discriminator(images)
        return self.latent.split_q(q_out)[0][code].argmax(dim=1)

    def represent(self, images: torch.Tensor) -> torch.Tensor:
        """Q's reading of every code from images (N, C, H, W) in [-1, 1]: (N, n_cat + n_cont) float.

        Columns: the argmax of each categorical code, then the mean of each continuous code; the representation
        the disentanglement metrics score (:mod:`infogan.metrics`).
        """
        _, q_out = self.discriminator(images)
        logits, mean, _ = self.latent.split_q(q_out)
        return torch.cat([lg.argmax(dim=1, keepdim=True).float() for lg in logits] + [mean.float()], dim=1)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        """Score the first categorical code against the labels of real images (metrics synced across ranks)."""
        if not len(self.val_metrics):
            return
        images, labels = batch
        pred = self.predict_category(images)
        for name, metric in self.val_metrics.items():
            metric.update(pred, labels)
            self.log(f"val/{name}", metric, on_step=False, on_epoch=True, prog_bar=name == "accuracy")

    def on_train_start(self) -> None:
        # A resumed run restores its optimizers' state, learning rates included; the rates given now win, so that
        # "resume with a lower --lr_g" (the advice after a diverged run) does what it says.
        for optimizer, lr in zip(self.trainer.optimizers, (self.hparams.lr_d, self.hparams.lr_g, self.hparams.lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = lr

    def configure_optimizers(self):
        hp = self.hparams
        betas = (hp.beta1, hp.beta2)
        # Fused Adam updates all tensors in one kernel: the per-parameter loop is ~20% of a CPU step otherwise.
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=hp.lr_d, betas=betas, fused=True)
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=hp.lr_g, betas=betas, fused=True)
        if self.pair_classifier is None:
            return [opt_d, opt_g]
        # InfoGAN-CR trains its pair classifier with D's learning rate (2e-3 on dSprites)
        return [opt_d, opt_g, torch.optim.Adam(self.pair_classifier.parameters(), lr=hp.lr_d, betas=betas, fused=True)]


if __name__ == "__main__":  # the design card's command; the training CLI lives in infogan.train (imported only here)
    from infogan.train import main

    main()
