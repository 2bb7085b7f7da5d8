"""InfoGAN as a LightningModule, and the training CLI behind ``python -m infogan.infogan_module``.

One training step (manual optimization, two optimizers):

1. draw z and the codes c from this rank's latent stream; ``fake = G(z, c)``: the only generator forward.
2. discriminator + Q step (optimizer 0 holds trunk, D head and Q head), on ``fake.detach()``::

       loss_d = bce(D(real), 1) + bce(D(fake), 0) + sum_k lambda_k NLL_k(Q(fake), c)

3. generator step (optimizer 1 holds G only)::

       loss_g = bce(D(fake), 1) + sum_k lambda_k NLL_k(Q(fake), c)

Q is stepped with D's optimizer, as in the authors' official code: the information term reaches Q (and the shared
trunk) in step 2 and G in step 3. During step 3 ``toggled_optimizer`` switches ``requires_grad`` off on D's
parameters, so the backward pass computes no weight gradients for D that would be thrown away.

Lightning counts every ``optimizer.step()`` in ``trainer.global_step``: two per batch here. The CLI's
``--max_steps`` counts batches (the paper's "iterations") and converts.
"""

from __future__ import annotations

import argparse
import inspect
import pickle
import sys
from pathlib import Path
from typing import Optional, Sequence

import pytorch_lightning as pl
import torch
import torch.nn.functional as F

from torchmetrics.clustering import AdjustedRandScore, NormalizedMutualInfoScore

from infogan.consistency import iic_loss, random_style
from infogan.data import DATASETS, BadImageError, InfoGANDataModule
from infogan.latent import PRIORS, CodeValues, LatentSample, LatentSpec
from infogan.metrics import ClusterAccuracy
from infogan.networks import PRESET_FOR_SIZE, build_networks

_MASK63 = (1 << 63) - 1
# Hyperparameters that fix the networks' shapes and the codes' meaning (noise_std: the z the generator was trained
# on): a checkpoint must agree on all of them.
ARCHITECTURE_KEYS = ("noise_dim", "categorical", "continuous", "continuous_prior", "learn_variance", "noise_std",
                     "preset", "channels", "spectral_norm")
# Each dataset's default codes (the paper's settings for MNIST and CelebA); flags given override them, and a resumed
# run (--ckpt_path) takes the flags left out from its checkpoint instead.
RECIPES = {
    # MNIST: the paper's codes plus the invariance term on real images, which measurably avoids merged digits (README)
    "mnist": dict(categorical=[10], continuous=2, noise_dim=62, noise_std=1.0, lambda_real=1.0),
    "fashion_mnist": dict(categorical=[10], continuous=2, noise_dim=62, noise_std=1.0, lambda_real=0.0),
    "celeba": dict(categorical=[10] * 10, continuous=0, noise_dim=128, noise_std=1.0, lambda_real=0.0),
    "folder": dict(categorical=[10] * 10, continuous=0, noise_dim=128, noise_std=1.0, lambda_real=0.0),
    # dSprites: one continuous code per varying factor (5), a small noise; a starting point, not tuned yet
    "dsprites": dict(categorical=[], continuous=5, noise_dim=5, noise_std=1.0, lambda_real=0.0),
}


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
        noise_std: standard deviation of the noise z ~ N(0, noise_std^2).
        preset: network preset (see :data:`infogan.networks.PRESETS`).
        channels: image channels.
        spectral_norm: spectral normalisation on the discriminator's trunk and adversarial head.
        lr_g, lr_d: Adam learning rates of the generator and of discriminator + Q.
        beta1, beta2: Adam betas (the paper: 0.5, 0.999).
        lambda_cat, lambda_cont: weights of the information term for categorical and continuous codes.
        lambda_real: weight of the invariance term on real images (:mod:`infogan.consistency`); 0 turns it off.
        seed: seeds the latent stream; each rank and each batch gets its own stream derived from it.

    All arguments are plain data, so checkpoints load with ``weights_only=True``.
    """

    def __init__(
        self,
        noise_dim: int = 62,
        categorical: Sequence[int] = (10,),
        continuous: int = 2,
        continuous_prior: str = "uniform",
        learn_variance: bool = False,
        noise_std: float = 1.0,
        preset: str = "mnist",
        channels: int = 1,
        spectral_norm: bool = False,
        lr_g: float = 1e-3,
        lr_d: float = 2e-4,
        beta1: float = 0.5,
        beta2: float = 0.999,
        lambda_cat: float = 1.0,
        lambda_cont: float = 0.1,
        lambda_real: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        categorical = [int(k) for k in categorical]  # a list, never a tuple or tensor: plain data in checkpoints
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.latent = LatentSpec(noise_dim, tuple(categorical), continuous, continuous_prior, learn_variance,
                                 noise_std)
        self.generator, self.discriminator = build_networks(preset, self.latent.input_dim, self.latent.q_dim, channels,
                                                            spectral_norm)
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

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        real = batch[0]
        codes = self._draw_codes(real.shape[0])
        fake = self.generator(self.latent.to_input(codes))
        d_logs = self._discriminator_step(real, fake.detach(), codes)
        g_logs = self._generator_step(fake, codes)
        self.log("loss/d", d_logs.pop("loss/d"), prog_bar=True)
        self.log_dict(g_logs["progress"], prog_bar=True)
        self.log_dict({**d_logs, **g_logs["other"]})

    def _check_finite(self, name: str, loss: torch.Tensor) -> None:
        """Stop training on a NaN/inf loss before it reaches the weights (checkpoints keep the last good state)."""
        if not bool(torch.isfinite(loss)):
            batch = self.global_step // 2
            raise NonFiniteLossError(
                f"{name} became {float(loss)} at batch {batch}; training stopped before the optimizer step, so the "
                f"weights and the last checkpoint stay finite. Resume from last.ckpt with lower --lr_d/--lr_g, "
                f"or with --precision 32 if you trained in mixed precision"
            )

    def _discriminator_step(self, real: torch.Tensor, fake: torch.Tensor, codes: LatentSample) -> dict:
        """Update trunk, D head and Q head on real images and detached fakes."""
        opt_d = self.optimizers()[0]
        d = self.discriminator
        logs = {}
        with self.toggled_optimizer(opt_d):
            h_real = d.trunk(real)
            logit_real = d.head(h_real).squeeze(1)
            h_fake = d.trunk(fake)
            logit_fake = d.head(h_fake).squeeze(1)
            nll = self.latent.nll(d.q(h_fake), codes)
            info = self.latent.info_loss(nll, self.hparams.lambda_cat, self.hparams.lambda_cont)
            loss = adversarial_loss(logit_real, True) + adversarial_loss(logit_fake, False) + info
            if self.hparams.lambda_real and self.latent.categorical:
                invariance = self._real_invariance(h_real, d.trunk(random_style(real, self._latent_rng)))
                loss = loss + self.hparams.lambda_real * invariance
                logs["mi/real_views"] = -invariance.detach()
            self._check_finite("loss/d", loss)
            opt_d.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            opt_d.step()
        return {
            "loss/d": loss.detach(),
            "d(x)": torch.sigmoid(logit_real.detach()).mean(),
            "d(g(z))": torch.sigmoid(logit_fake.detach()).mean(),
            **logs,
        }

    def _real_invariance(self, h_real: torch.Tensor, h_styled: torch.Tensor) -> torch.Tensor:
        """Minus I(c; c') between Q's categories of real images and of their restyled copies, summed over codes."""
        logits, _, _ = self.latent.split_q(self.discriminator.q(h_real))
        logits_styled, _, _ = self.latent.split_q(self.discriminator.q(h_styled))
        return sum(iic_loss(a.float().softmax(1), b.float().softmax(1)) for a, b in zip(logits, logits_styled))

    def _generator_step(self, fake: torch.Tensor, codes: LatentSample) -> dict:
        """Update G: fool the (just updated) D and make the codes recoverable by Q."""
        opt_g = self.optimizers()[1]
        d = self.discriminator
        with self.toggled_optimizer(opt_g):
            h = d.trunk(fake)
            nll = self.latent.nll(d.q(h), codes)
            info = self.latent.info_loss(nll, self.hparams.lambda_cat, self.hparams.lambda_cont)
            loss = adversarial_loss(d.head(h).squeeze(1), True) + info
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

    def configure_optimizers(self):
        hp = self.hparams
        betas = (hp.beta1, hp.beta2)
        # Fused Adam updates all tensors in one kernel: the per-parameter loop is ~20% of a CPU step otherwise.
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=hp.lr_d, betas=betas, fused=True)
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=hp.lr_g, betas=betas, fused=True)
        return [opt_d, opt_g]


def check_compatible(ckpt_hparams: dict, hparams: dict, path: str | Path) -> None:
    """Raise ValueError naming every architecture setting on which a checkpoint and the requested model differ.

    A setting the checkpoint lacks (written before that setting existed) counts as InfoGAN's default for it.
    """
    defaults = _constructor_defaults()
    ckpt_hparams = {k: ckpt_hparams.get(k, defaults.get(k)) for k in ARCHITECTURE_KEYS}
    diffs = [f"{k}={ckpt_hparams[k]!r} (flags: {hparams.get(k)!r})" for k in ARCHITECTURE_KEYS
             if ckpt_hparams[k] != hparams.get(k)]
    if diffs:
        raise ValueError(f"checkpoint {path} was trained with another configuration: {', '.join(diffs)}. Pass the "
                         f"checkpoint's settings, or start a new run without --ckpt_path")


def _constructor_defaults() -> dict:
    """InfoGAN's default for each hyperparameter: what a checkpoint written before that setting existed used."""
    return {k: v.default for k, v in inspect.signature(InfoGAN.__init__).parameters.items() if k != "self"}


def _read_hparams(path: str | Path) -> dict:
    """The hyperparameters stored in a training checkpoint (ValueError when it holds none)."""
    checkpoint = _read_checkpoint(path)
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("hyper_parameters"), dict):
        raise ValueError(f"{path} is not an InfoGAN training checkpoint (no hyper_parameters)")
    return checkpoint["hyper_parameters"]


def _read_checkpoint(path: str | Path) -> dict:
    """torch.load(weights_only=True) with one clear error per kind of bad file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(f"refused to load {path}: it holds pickled objects beyond tensors and plain data, which "
                         f"could run code ({str(err).strip().splitlines()[0]})") from None
    except Exception as err:  # noqa: BLE001 - truncated zip, not a torch file, ...
        raise ValueError(f"{path} is not a readable checkpoint (truncated or another kind of file): "
                         f"{str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__}") from None


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> InfoGAN:
    """A trained InfoGAN from a checkpoint file, in eval mode.

    Loads with ``weights_only=True``: checkpoints from strangers are untrusted, and a pickle that would run code is
    refused. Raises FileNotFoundError for a missing file and ValueError, naming the file, for anything unreadable.
    """
    checkpoint = _read_checkpoint(path)
    hparams = checkpoint.get("hyper_parameters") if isinstance(checkpoint, dict) else None
    if not isinstance(hparams, dict) or "state_dict" not in checkpoint:
        raise ValueError(f"{path} is a torch file but not an InfoGAN training checkpoint (no hyper_parameters or "
                         f"state_dict)")
    try:
        model = InfoGAN(**hparams)
        model.load_state_dict(checkpoint["state_dict"])
    except (TypeError, RuntimeError, ValueError) as err:
        raise ValueError(f"{path} does not hold an InfoGAN of this version: {str(err).strip().splitlines()[0]}") from None
    model.to(map_location)
    return model.eval()


# ---------------------------------------------------------------------- CLI
def _int_or_float(text: str) -> int | float:
    """Lightning's limit_*_batches convention: an int counts batches, a float is a fraction."""
    return float(text) if any(c in text for c in ".eE") else int(text)


def _devices(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _checkpointing(labelled: bool) -> list:
    """last.ckpt rewritten every epoch; with labels also best.ckpt, the epoch of the highest val/accuracy.

    Not ``save_last=True``: Lightning 2.6 writes "last" only in a step where a top-k checkpoint is saved too, so with
    save_top_k=0 it appears only when fit ends (a crash in epoch 10 would lose all ten epochs), and beside a monitored
    checkpoint it goes stale after every epoch that did not improve. An unmonitored top-1 checkpoint named "last"
    is rewritten every epoch (atomically: Lightning writes through a temporary file).
    """
    from pytorch_lightning.callbacks import ModelCheckpoint

    last = ModelCheckpoint(filename="last", monitor=None, save_top_k=1, enable_version_counter=False)
    if not labelled:
        return [last]
    return [last, ModelCheckpoint(monitor="val/accuracy", mode="max", save_top_k=1, filename="best",
                                  auto_insert_metric_name=False, enable_version_counter=False)]


def _strategy(strategy: str, devices) -> str:
    """The DDP variant that works with two partial backward passes per step (see README, Multi-GPU)."""
    several = (isinstance(devices, int) and devices > 1) or (isinstance(devices, str) and "," in devices) or devices == -1
    return "ddp_find_unused_parameters_true" if strategy == "auto" and several else strategy


def _resumed_version(ckpt_path: Optional[str], log_dir: str) -> Optional[int | str]:
    """The version a checkpoint under LOG_DIR/version_N/checkpoints/ came from, so a resumed run logs on there.

    N as an int where the folder is ``version_N`` (the logger then names it so, and the progress bar shows ``v_num=N``
    rather than the last 4 characters of a string), else the folder's name.
    """
    if not ckpt_path:
        return None
    ckpt = Path(ckpt_path).resolve()
    run_dir = ckpt.parent.parent
    if ckpt.parent.name == "checkpoints" and run_dir.parent == Path(log_dir).resolve():
        number = run_dir.name.removeprefix("version_")
        return int(number) if number.isdigit() else run_dir.name
    return None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m infogan.infogan_module",
        description="Train InfoGAN. The defaults are the paper's MNIST recipe (Chen et al. 2016).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default="mnist", choices=DATASETS,
                   help="mnist / fashion_mnist (in memory, labelled), celeba (DATA_DIR/celeba/img_align_celeba/*.jpg), "
                        "folder (every image below DATA_DIR), dsprites (64 px sprites with known factors: "
                        "DATA_DIR/dsprites/*.npz when there, else rendered)")
    g.add_argument("--data_dir", "--datadir", dest="data_dir", default="data",
                   help="folder holding the dataset in torchvision's layout (MNIST/raw/..., celeba/img_align_celeba/)")
    g.add_argument("--image_size", type=int, default=None,
                   help="28 for MNIST-like sets; 32 (default, the paper's CelebA nets) or 64 (DCGAN-style nets) for "
                        "celeba and folder")
    g.add_argument("--channels", type=int, choices=(1, 3), default=None, help="folder only: 1 or 3 (default 3)")
    g.add_argument("--skip_bad_images", action="store_true",
                   help="celeba/folder: skip files that cannot be decoded (each warned about) instead of stopping")
    g.add_argument("--download", action="store_true", default=None,
                   help="also try torchvision's CelebA downloader when the folder is missing (MNIST downloads anyway)")
    g.add_argument("--batch_size", type=int, default=128, help="images per batch on each device")
    g.add_argument("--num_workers", type=int, default=None,
                   help="DataLoader workers (default: 0 for in-memory MNIST-like sets, up to 8 for decoded images)")
    g.add_argument("--no_download", action="store_false", dest="download", default=None,
                   help="never download: fail at once with the folder it looked in when the data is missing")

    g = p.add_argument_group("latent codes (defaults: the dataset's recipe, see README)")
    g.add_argument("--categorical", type=int, nargs="*", default=None, metavar="K",
                   help="one categorical code per K given (e.g. --categorical 10 or --categorical 10 5); "
                        "recipe: mnist 10, celeba 10 codes of 10, dsprites none")
    g.add_argument("--continuous", type=int, default=None, help="number of continuous codes; recipe: mnist 2, celeba 0, dsprites 5")
    g.add_argument("--continuous_prior", choices=PRIORS, default="uniform",
                   help="prior of the continuous codes: Unif(-1, 1) or N(0, 1)")
    g.add_argument("--learn_variance", action="store_true",
                   help="Q predicts each continuous code's variance (default: fixed unit std, as the official code)")
    g.add_argument("--noise_dim", type=int, default=None,
                   help="size of the incompressible noise z; recipe: mnist 62, celeba 128, dsprites 5")
    g.add_argument("--noise_std", type=float, default=None,
                   help="standard deviation of z ~ N(0, std^2); recipe: 1 (see README, MNIST results)")

    g = p.add_argument_group("optimisation")
    g.add_argument("--lambda_cat", type=float, default=1.0, help="weight of the categorical information term")
    g.add_argument("--lambda_cont", type=float, default=0.1, help="weight of the continuous information term")
    g.add_argument("--lambda_real", type=float, default=None,
                   help="weight of the invariance of Q's categories on real images under random rotation, shear, "
                        "scale, shift and stroke width (IIC); 0: off, the paper's InfoGAN; recipe: mnist 1, others 0")
    g.add_argument("--lr_g", type=float, default=1e-3, help="generator Adam learning rate")
    g.add_argument("--lr_d", type=float, default=2e-4, help="discriminator + Q Adam learning rate")
    g.add_argument("--spectral_norm", action="store_true", help="spectral normalisation on the discriminator")
    g.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling and the latent stream")

    g = p.add_argument_group("trainer")
    g.add_argument("--max_epochs", type=int, default=11,
                   help="epochs to train (11 MNIST epochs = the official code's 5,000 iterations at batch 128)")
    g.add_argument("--max_steps", type=int, default=-1,
                   help="stop after this many training batches (iterations); -1: no limit. Lightning's "
                        "trainer.global_step counts both optimizer steps, so it reads 2x this number")
    g.add_argument("--limit_train_batches", type=_int_or_float, default=1.0,
                   help="batches per epoch: an int counts batches, a float is a fraction of the epoch")
    g.add_argument("--limit_val_batches", type=_int_or_float, default=1.0, help="like --limit_train_batches")
    g.add_argument("--accelerator", default="auto", help="cpu, gpu, mps or auto")
    g.add_argument("--devices", "--gpus", dest="devices", type=_devices, default="auto",
                   help="number of devices (or a list like 0,1, or auto)")
    g.add_argument("--num_nodes", type=int, default=1, help="machines to train on (each with --devices devices)")
    g.add_argument("--strategy", default="auto",
                   help="Lightning strategy; auto picks ddp_find_unused_parameters_true for several devices: each "
                        "of the two backward passes of a step reaches only D's or only G's parameters")
    g.add_argument("--precision", default="32-true", help="32-true, 16-mixed or bf16-mixed")
    g.add_argument("--sync_batchnorm", action="store_true",
                   help="with several devices, BatchNorm uses statistics of the whole batch across devices "
                        "(default: each device's own)")
    g.add_argument("--fast_dev_run", type=int, nargs="?", const=1, default=0, metavar="N",
                   help="run N (default 1) batches of training and validation to check the set-up, write nothing")
    g.add_argument("--log_dir", default="lightning_logs", help="TensorBoard logs and checkpoints go to LOG_DIR/version_N")
    g.add_argument("--log_every_n_steps", type=int, default=50, help="write scalars every N batches")
    g.add_argument("--gif_every_n_epochs", type=int, default=1,
                   help="write latent traversal GIFs (LOG_DIR/version_N/media, TensorBoard) every N epochs; "
                        "they are also written at the end of training")
    g.add_argument("--gif_samples", type=int, default=64, help="images per GIF frame (one per fixed noise vector)")
    g.add_argument("--ckpt_path", default=None, help="checkpoint to resume from (epoch, step and optimizer state)")
    g.add_argument("--debug", action="store_true", help="show full tracebacks instead of one-line errors")
    return p


def main(argv: Optional[Sequence[str]] = None) -> pl.Trainer:
    """Train from command-line arguments; returns the fitted Trainer.

    Bad input and faults end with a one-line error and exit status 2 (a traceback only with --debug).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return train(args)
    except (ValueError, FileNotFoundError, NonFiniteLossError, BadImageError) as err:
        if args.debug:
            raise
        parser.exit(2, f"{parser.prog}: error: {err}\n")


def train(args: argparse.Namespace) -> pl.Trainer:
    """Build data, model and Trainer from parsed CLI arguments and fit."""
    from pytorch_lightning.loggers import TensorBoardLogger

    from infogan.callbacks import LatentTraversalGIF, SampleGrid

    if args.batch_size < 2:
        raise ValueError(f"--batch_size {args.batch_size}: BatchNorm needs at least 2 images per batch on each "
                         f"device; use 16 or more (the paper uses 128)")
    resumed = _read_hparams(args.ckpt_path) if args.ckpt_path else None
    defaults = _constructor_defaults()
    for key, value in RECIPES[args.dataset].items():  # flags left out: the resumed run's setting, else the recipe
        if getattr(args, key) is None:
            setattr(args, key, value if resumed is None else resumed.get(key, defaults[key]))
    pl.seed_everything(args.seed, workers=True, verbose=False)
    data = InfoGANDataModule(args.dataset, args.data_dir, args.batch_size, args.num_workers, download=args.download,
                             seed=args.seed, image_size=args.image_size, channels=args.channels,
                             skip_bad_images=args.skip_bad_images)
    channels, size = data.image_shape
    model = InfoGAN(
        noise_dim=args.noise_dim, categorical=args.categorical, continuous=args.continuous,
        continuous_prior=args.continuous_prior, learn_variance=args.learn_variance, noise_std=args.noise_std,
        preset=PRESET_FOR_SIZE[size], channels=channels, spectral_norm=args.spectral_norm, lr_g=args.lr_g, lr_d=args.lr_d,
        lambda_cat=args.lambda_cat, lambda_cont=args.lambda_cont, lambda_real=args.lambda_real, seed=args.seed,
    )
    if resumed is not None:
        check_compatible(resumed, dict(model.hparams), args.ckpt_path)
    trainer = pl.Trainer(
        accelerator=args.accelerator,
        devices=args.devices,
        num_nodes=args.num_nodes,
        strategy=_strategy(args.strategy, args.devices if args.num_nodes == 1 else 2),
        precision=args.precision,
        sync_batchnorm=args.sync_batchnorm,
        max_epochs=args.max_epochs,
        max_steps=2 * args.max_steps if args.max_steps > 0 else -1,  # two optimizer steps per batch
        limit_train_batches=args.limit_train_batches,
        # no labels, no validation: 0 says so to Lightning, which otherwise warns about the empty val loader
        limit_val_batches=args.limit_val_batches if data.num_classes is not None else 0,
        fast_dev_run=2 * args.fast_dev_run,  # Lightning's N counts optimizer steps: two per batch
        logger=TensorBoardLogger(args.log_dir, name="", version=_resumed_version(args.ckpt_path, args.log_dir)),
        callbacks=[*_checkpointing(data.num_classes is not None), SampleGrid(),
                   LatentTraversalGIF(every_n_epochs=args.gif_every_n_epochs, n=args.gif_samples,
                                      nrow=max(1, round(args.gif_samples ** 0.5)))],
        log_every_n_steps=args.log_every_n_steps,
    )
    if args.sync_batchnorm and trainer.accelerator.__class__.__name__ == "CPUAccelerator":
        raise ValueError("--sync_batchnorm needs GPUs: torch's SyncBatchNorm runs on CUDA only; drop the flag on CPU")
    trainer.fit(model, datamodule=data, ckpt_path=args.ckpt_path)
    log_dir = trainer.log_dir  # a broadcast under DDP: every rank must ask, not rank zero alone
    if trainer.is_global_zero and not args.fast_dev_run:
        print(f"logs and checkpoints: {log_dir}", file=sys.stderr)
    return trainer


if __name__ == "__main__":
    main()
