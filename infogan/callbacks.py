"""Callbacks that show what the generator learned. They run on global rank zero only and draw with
:meth:`InfoGAN.sample`, so they never touch the training stream of latent codes.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger
from torchvision.utils import make_grid


def logger_step(trainer: pl.Trainer) -> int:
    """The step scalars are logged at: training batches done (global_step counts every optimizer step)."""
    return trainer.global_step // max(1, len(trainer.optimizers))


def categorical_grid(model, rows: int, seed: int) -> torch.Tensor:
    """A fixed-noise image grid: column j has categorical code 0 = j, each row one noise vector (rows x K images).

    Other codes are drawn once per row and held along it. Returns (C, H', W') float in [0, 1].
    """
    k = model.latent.categorical[0] if model.latent.categorical else 1
    base = model.latent.sample(rows, torch.Generator().manual_seed(seed))
    rep = lambda t: t.repeat_interleave(k, dim=0)  # noqa: E731 - row r, column j -> index r * k + j
    cat = rep(base.categorical)
    if model.latent.categorical:
        cat[:, 0] = torch.arange(k).repeat(rows)
    images = model.sample(rows * k, categorical=cat, continuous=rep(base.continuous), z=rep(base.z))
    return make_grid(images, nrow=k, normalize=True, value_range=(-1, 1))


class SampleGrid(pl.Callback):
    """Logs a fixed-noise sample grid (rows: noise, columns: the first categorical code) each training epoch.

    The noise is the same every epoch so the grids show the generator's progress, not resampling.
    """

    def __init__(self, rows: int = 8, seed: int = 1234) -> None:
        self.rows, self.seed = rows, seed

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module) -> None:
        if not trainer.is_global_zero or not isinstance(trainer.logger, TensorBoardLogger):
            return
        grid = categorical_grid(pl_module, self.rows, self.seed)
        trainer.logger.experiment.add_image("samples", grid, global_step=logger_step(trainer))
