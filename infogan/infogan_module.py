"""InfoGAN as a LightningModule: the networks, the objective's optimizers, sampling and validation.

The objective and the order of a training step live in :mod:`infogan.objective` (pure torch); this module holds the
networks, draws each batch's codes from a seeded stream, and steps the optimizer each update names, with Lightning's
manual optimisation. Lightning counts every ``optimizer.step()`` in ``trainer.global_step`` (two or more per batch);
:meth:`InfoGAN.optimizer_steps` and :meth:`InfoGAN.batches_done` convert between that count and batches, the one place
that does. The CLI's ``--max_steps`` counts batches (the paper's "iterations").

``python -m infogan.infogan_module`` is the training CLI, :mod:`infogan.train` (kept as the design card's command).
"""

from __future__ import annotations

if __name__ == "__main__":  # the design card's command: hand over to the training CLI before defining anything, so
    from infogan.train import main  # the InfoGAN class that train imports is the only one in the process

    main()
    raise SystemExit(0)

from typing import Callable, Optional

import pytorch_lightning as pl
import torch
from torchmetrics.clustering import AdjustedRandScore, NormalizedMutualInfoScore

from infogan import __version__, config
from infogan.errors import InputError
from infogan.latent import CodeValues, LatentSample, LatentSpec
from infogan.metrics import ClusterAccuracy
from infogan.networks import build_networks
from infogan.objective import Objective
from infogan.terms import Batch, Loss, Nets

_MASK63 = (1 << 63) - 1
_LOSS_NAMES = {"discriminator": "loss/d", "generator": "loss/g", "pair_classifier": "loss/cr"}  # as logged


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; raised before the optimizer step, so no weights are touched."""


class InfoGAN(pl.LightningModule):
    """Generator, discriminator and Q head trained with the InfoGAN objective.

    Args:
        settings: any of :mod:`infogan.config`'s settings by name (``noise_dim=62``, ``lambda_cr=2.0``, ...); the
            rest take their defaults (the paper's MNIST setting). All plain data, so checkpoints load with
            ``weights_only=True``. A bad value raises :class:`infogan.config.SettingsError` naming the flag.
    """

    def __init__(self, **settings) -> None:
        super().__init__()
        self.save_hyperparameters(config.resolve(settings))
        hp = self.hparams
        self.automatic_optimization = False
        self.latent = LatentSpec(hp.noise_dim, tuple(hp.categorical), hp.continuous, hp.continuous_prior,
                                 hp.learn_variance, hp.noise_std, hp.noise_prior, hp.traversal_range)
        self.generator, self.discriminator = build_networks(hp.preset, self.latent.input_dim, self.latent.q_dim,
                                                            hp.channels, hp.spectral_norm, hp.spectral_norm_q,
                                                            hp.pixel_range)
        self.objective = Objective(Nets(self.generator, self.discriminator, self.latent), hp)
        self._optimizer_names = list(self.objective.networks)
        for name in self._optimizer_names[2:]:  # the terms' own networks (``pair_classifier``) are submodules too
            self.add_module(name, self.objective.networks[name])
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
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"sample(n): n is the number of images, a whole number of 1 or more, got {n!r}")
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
        and ``g_steps`` for G in each batch, and one for each term's own network in the batches it is on in.

        Why resumes refuse another ``g_steps`` or ``cr_start``: the batch position of a checkpoint is read back
        from its optimizer-step count through this function, which depends on both."""
        plain = 1 + self.hparams.g_steps
        contrastive = self.objective.term("contrastive")
        return batches * plain + (0 if contrastive is None else max(0, batches - contrastive.start))

    def batches_done(self, global_step: Optional[int] = None) -> int:
        """Training batches done after ``global_step`` optimizer steps (default: this run's), the inverse of
        :meth:`optimizer_steps`: the batch position that callbacks, the latent schedule and messages report."""
        step = self.global_step if global_step is None else global_step
        low, high = step // (self.optimizer_steps(1) + 1), step // (1 + self.hparams.g_steps)
        while low < high:  # the largest batch count whose steps do not exceed ``step`` (steps grow with batches)
            mid = (low + high + 1) // 2
            low, high = (mid, high) if self.optimizer_steps(mid) <= step else (low, mid - 1)
        return low

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        real = batch[0]
        codes = self._draw_codes(real.shape[0])
        logs = self.objective.train_batch(Batch(real, codes, self._latent_rng, self.batches_done()), self._update)
        self.log_dict({k: logs.pop(k) for k in ("loss/d", "loss/g", "mi/cat0") if k in logs}, prog_bar=True)
        self.log_dict(logs)

    def _update(self, name: str, loss_fn: Callable[[], Loss]) -> dict:
        """Step optimizer ``name`` on ``loss_fn()`` (the others' parameters frozen meanwhile); its logs."""
        optimizer = self.optimizers()[self._optimizer_names.index(name)]
        with self.toggled_optimizer(optimizer):
            loss, logs = loss_fn()
            self._check_finite(_LOSS_NAMES.get(name, f"loss/{name}"), loss)
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            optimizer.step()
        return logs

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

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Record the package version that wrote the checkpoint (:mod:`infogan.checkpoint` names it when an older
        package meets settings it does not know)."""
        checkpoint["infogan_version"] = __version__

    def learning_rate(self, name: str) -> float:
        """The rate of optimizer ``name``: the generator's ``lr_g``; D + Q's ``lr_d``, and so the terms' own
        networks (InfoGAN-CR trains its pair classifier with D's rate)."""
        return self.hparams.lr_g if name == "generator" else self.hparams.lr_d

    def on_train_start(self) -> None:
        # A resumed run restores its optimizers' state, learning rates included; the rates given now win, so that
        # "resume with a lower --lr_g" (the advice after a diverged run) does what it says.
        for optimizer, name in zip(self.trainer.optimizers, self._optimizer_names):
            for group in optimizer.param_groups:
                group["lr"] = self.learning_rate(name)

    def configure_optimizers(self):
        """One Adam per network of :attr:`Objective.networks`, in its order (``_update`` finds them by name).
        Fused: the per-parameter loop is ~20% of a CPU step otherwise."""
        betas = (self.hparams.beta1, self.hparams.beta2)
        return [torch.optim.Adam(net.parameters(), lr=self.learning_rate(name), betas=betas, fused=True)
                for name, net in self.objective.networks.items()]

