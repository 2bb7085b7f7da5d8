"""Callbacks that show what the generator learned.

They run on global rank zero only (no collective calls inside, so no other rank waits on them) and draw with
:meth:`InfoGAN.sample`, which uses its own seeded stream and never touches the training stream of latent codes.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Optional

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint, TQDMProgressBar
from pytorch_lightning.callbacks.progress.tqdm_progress import convert_inf
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.utilities import rank_zero_warn

from infogan import render
from infogan.data import dsprites
from infogan.errors import InputError
from infogan.files import write_atomically
from infogan.label_free import label_free_checks, model_generate
from infogan.metrics import disentanglement_scores


def logger_step(trainer: pl.Trainer) -> int:
    """The step scalars are logged at: training batches done (global_step counts every optimizer step)."""
    module = trainer.lightning_module
    return module.batches_done(trainer.global_step) if hasattr(module, "batches_done") else trainer.global_step


def _tensorboard(trainer: pl.Trainer):
    """The SummaryWriter of the trainer's TensorBoard logger, or None."""
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.experiment
    return None


class SampleGrid(pl.Callback):
    """Logs a fixed-noise sample grid (rows: noise, columns: the first categorical code) to TensorBoard each epoch.

    The noise is the same every epoch, so successive grids show the generator's progress, not resampling.
    """

    def __init__(self, rows: int = 8, seed: int = 1234) -> None:
        self.rows, self.seed = rows, seed

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module) -> None:
        writer = _tensorboard(trainer)
        if trainer.is_global_zero and writer is not None:
            writer.add_image("samples", render.category_grid(pl_module, self.rows, self.seed), logger_step(trainer))


class LatentTraversalGIF(pl.Callback):
    """Latent traversal GIFs, written to ``<log_dir>/media/`` and to TensorBoard as animated images (the progress grid
    as a still per epoch there: TensorBoard's step slider plays it, and the whole GIF logged each epoch would grow the
    log with the square of the epochs).

    * ``cat<i>.gif`` per categorical code: one frame per value 0..K-1; each frame an ``n``-image grid, one image
      per fixed noise vector, the other codes held fixed.
    * ``cont<i>.gif`` per continuous code: frames sweep the value from -r to +r and back (r = 2 for Unif(-1, 1),
      showing extrapolation as the paper does; 3 for N(0, 1)).
    * ``progress.gif``: :func:`infogan.render.progress_grid` once per epoch, one frame per epoch so far.

    Traversals are written every ``every_n_epochs`` epochs and at the end of training; the progress frame every
    epoch. Its own cost is logged as ``media/seconds`` so the overhead is measured in every run. The progress frames
    are saved in checkpoints (:meth:`state_dict`, as uint8: the GIF's own precision), so a resumed run's
    ``progress.gif`` holds every epoch since the start, not only those since the resume.

    Args:
        every_n_epochs: write traversal GIFs every this many epochs.
        n, nrow: images per frame and per row of a frame.
        frames: frames of a continuous sweep (one way).
        seed: seed of the fixed noise, so GIFs of different epochs are comparable.
        media_dir: where to write the GIFs; default ``<trainer.log_dir>/media``.
    """

    def __init__(self, every_n_epochs: int = 1, n: int = 64, nrow: int = 8, frames: int = 16, seed: int = 0,
                 media_dir: Optional[str] = None, duration_ms: int = 120) -> None:
        if every_n_epochs < 1:
            raise InputError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.every_n_epochs, self.n, self.nrow, self.frames = every_n_epochs, n, nrow, frames
        self.seed, self.media_dir, self.duration_ms = seed, media_dir, duration_ms
        self.progress_frames: list = []
        self._gif_frames: list = []  # progress_frames made into GIF frames (render.gif_frame)
        self.written_at: list[int] = []  # epochs (1-based) whose traversals were written
        self.seconds: list[float] = []  # wall time of each call, for the cost per epoch

    def setup(self, trainer: pl.Trainer, pl_module, stage: str) -> None:
        # Resolved here, on every rank: under DDP trainer.log_dir is a broadcast, and asking for it on rank zero
        # alone (in the epoch hooks below) leaves rank zero waiting for a broadcast the other ranks never join.
        self._media_path = Path(self.media_dir or Path(trainer.log_dir or trainer.default_root_dir) / "media")

    def state_dict(self) -> dict:
        return {"progress_frames": [(f.clamp(0, 1) * 255).round().to(torch.uint8) for f in self.progress_frames],
                "written_at": list(self.written_at)}

    def load_state_dict(self, state_dict: dict) -> None:
        self.progress_frames = [f.float() / 255 for f in state_dict.get("progress_frames", [])]
        self.written_at = list(state_dict.get("written_at", []))

    def _emit(self, trainer: pl.Trainer, name: str, frames: list, still: Optional[torch.Tensor] = None) -> None:
        """Write ``name``.gif of ``frames`` (tensors, or GIF frames made by :func:`render.gif_frame`); log it to
        TensorBoard animated (tensors), or only ``still`` where one is given."""
        data = render.gif_bytes(frames, self.duration_ms)
        write_atomically(self._media_path / f"{name}.gif", data)
        writer = _tensorboard(trainer)
        if writer is not None and still is None:
            render.add_tensorboard_gif(writer, f"media/{name}", data, tuple(frames[0].shape[1:]), logger_step(trainer))
        elif writer is not None:
            writer.add_image(f"media/{name}", still, logger_step(trainer))

    def write_traversals(self, trainer: pl.Trainer, pl_module, epoch: int) -> None:
        """Write every traversal GIF; ``epoch`` is the 1-based number of the epoch just finished."""
        spec = pl_module.latent
        for i in range(spec.num_categorical):
            frames = render.traversal_frames(pl_module, "cat", i, self.n, self.nrow, seed=self.seed)
            self._emit(trainer, f"cat{i}", frames)
        for i in range(spec.continuous):
            frames = render.traversal_frames(pl_module, "cont", i, self.n, self.nrow, self.frames, seed=self.seed)
            self._emit(trainer, f"cont{i}", frames)
        self.written_at.append(epoch)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module) -> None:
        # fast_dev_run writes nothing: Lightning drops the logger, and the media folder would fall back to the cwd
        if not trainer.is_global_zero or trainer.sanity_checking or trainer.fast_dev_run:
            return
        start = time.perf_counter()
        self.progress_frames.append(render.progress_grid(pl_module, seed=self.seed))
        # each frame made once (after a resume: the restored ones, once), not all of them every epoch
        self._gif_frames += [render.gif_frame(f) for f in self.progress_frames[len(self._gif_frames):]]
        self._emit(trainer, "progress", self._gif_frames, still=self.progress_frames[-1])
        if (trainer.current_epoch + 1) % self.every_n_epochs == 0:  # current_epoch is 0-based during the epoch
            self.write_traversals(trainer, pl_module, trainer.current_epoch + 1)
        self._record(pl_module, time.perf_counter() - start)

    def on_train_end(self, trainer: pl.Trainer, pl_module) -> None:
        # The end of training always leaves traversals of the final weights (unless the last epoch just wrote them).
        # After fit, current_epoch counts the epochs done, i.e. the 1-based number of the last one.
        if trainer.fast_dev_run or not trainer.is_global_zero:
            return
        if not self.written_at or self.written_at[-1] != trainer.current_epoch:
            start = time.perf_counter()
            self.write_traversals(trainer, pl_module, trainer.current_epoch)
            self.seconds.append(time.perf_counter() - start)

    def _record(self, pl_module, seconds: float) -> None:
        self.seconds.append(seconds)
        # rank_zero_only: the value exists on rank 0 alone, and nothing must wait for the other ranks.
        pl_module.log("media/seconds", seconds, rank_zero_only=True)


class DisentanglementScores(pl.Callback):
    """The FactorVAE metric and MIG of Q after every epoch, on a fixed set of factors: the run draws its own learning
    curve (TensorBoard ``val/factor_vae``, ``val/mig``) on data with known factors (dSprites).

    Args:
        protocol: a key of :data:`infogan.protocols.PROTOCOLS`; the default "quick" costs about 23,000 images of Q.
        batch_size: images per forward pass of Q.

    Every rank computes the same numbers (same weights, same fixed factors) and no collective is called; the scores
    are kept in ``history`` as (batches, scores).
    """

    def __init__(self, protocol: str = "quick", batch_size: int = 500) -> None:
        self.protocol, self.batch_size = protocol, batch_size
        self.history: list[tuple[int, dict]] = []

    @torch.no_grad()
    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module) -> None:
        if trainer.sanity_checking or trainer.fast_dev_run:
            return
        was_training = pl_module.training
        pl_module.eval()
        try:
            represent = trainer.datamodule.factor_representation(lambda x: pl_module.represent(x.to(pl_module.device)))
            scores = disentanglement_scores(represent, dsprites.FACTOR_SIZES, self.protocol,
                                            factor_names=dsprites.FACTORS, batch_size=self.batch_size)
        finally:
            pl_module.train(was_training)
        self.history.append((logger_step(trainer), scores))
        pl_module.log_dict({"val/factor_vae": scores["factor_vae"], "val/mig": scores["mig"]}, sync_dist=False)

    def state_dict(self) -> dict:
        return {"history": [[batches, {k: v for k, v in s.items() if k in ("factor_vae", "mig")}]
                            for batches, s in self.history]}

    def load_state_dict(self, state_dict: dict) -> None:
        self.history = [(int(b), s) for b, s in state_dict.get("history", [])]


class LabelFreeChecks(pl.Callback):
    """The label-free checks (:mod:`infogan.label_free`) after every epoch, on every dataset: TensorBoard
    ``label_free/noise``, ``label_free/duplicates`` and ``label_free/<code>``, and a warning when the generator has
    ignored its noise or collapsed ``persist`` epochs in a row, so the failure users of colour InfoGANs report is seen
    while the run goes on, with the epoch checkpoints from before it still there. Its own cost is logged as
    ``label_free/seconds``.

    Why ``persist``: a GAN's samples swing from epoch to epoch, and one epoch with a fifth of its samples blank is not
    a collapse that stays (the emoji recipe: near-duplicates 21%, 0%, 3%, 28%, 1% in consecutive epochs). A failure
    that clears and comes back is warned about again. The same ``n`` sample pairs of seed 0 as ``evaluate``'s
    checks, so an epoch's values are what ``evaluate`` reports for that epoch's checkpoint. Nothing is drawn from the
    global random stream (resume stays exact); every rank computes the same numbers and none is collected across
    ranks. ``streaks`` (epochs in a row each failure has been read) is saved in checkpoints, so a resumed run goes on
    counting and does not warn twice for one failure.
    """

    WATCHED = ("noise ignored", "collapse")  # of label_free.FAILURES: a code that changes nothing is no emergency

    def __init__(self, n: int = 256, persist: int = 2) -> None:
        self.n, self.persist = n, persist
        self.streaks: dict[str, int] = {}

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module) -> None:
        if trainer.sanity_checking or trainer.fast_dev_run:
            return
        start = time.perf_counter()
        checks = label_free_checks(model_generate(pl_module), pl_module.latent, self.n)
        pl_module.log_dict({"label_free/noise": checks["noise"], "label_free/duplicates": checks["duplicates"],
                            **{f"label_free/{name}": v for name, v in checks["codes"].items()},
                            "label_free/seconds": time.perf_counter() - start}, sync_dist=False)
        self.streaks = {failure: self.streaks.get(failure, 0) + 1 for failure in checks["failures"]
                        if failure in self.WATCHED}
        for failure, epochs in self.streaks.items():
            if epochs == self.persist:
                rank_zero_warn(f"epoch {trainer.current_epoch}, {epochs} epochs in a row: "
                               f"{checks['failures'][failure]}; earlier epochs' checkpoints (kept with "
                               "--epoch_checkpoints) hold the generator from before it (docs/evaluation.md, "
                               "label-free checks)")

    def state_dict(self) -> dict:
        return {"streaks": dict(self.streaks)}

    def load_state_dict(self, state_dict: dict) -> None:
        # checkpoints of the first version kept the failures already warned about as "warned"
        self.streaks = dict(state_dict.get("streaks", dict.fromkeys(state_dict.get("warned", []), self.persist)))


class StopAfterBatches(pl.Callback):
    """Ends training once ``batches`` training batches have run in all, resumed runs included (``--max_steps``).

    Not Lightning's ``max_steps``: that counts optimizer steps (several per batch here), and with it set,
    Lightning 2.6 resumes an epoch-end checkpoint with its sampler one epoch ahead of ``current_epoch`` (other
    batches than the uninterrupted run's) and records epochs it never trained. Setting ``trainer.should_stop``
    leaves Lightning's epoch bookkeeping alone. Run before the checkpoint callbacks (Lightning orders those last), so
    ``last.ckpt`` sees the stop at the batch it happens (``infogan.train``).
    """

    def __init__(self, batches: int) -> None:
        self.batches = batches

    def _check(self, trainer: pl.Trainer, pl_module) -> None:
        if pl_module.batches_done(trainer.global_step) >= self.batches:
            trainer.should_stop = True

    def on_train_start(self, trainer: pl.Trainer, pl_module) -> None:
        self._check(trainer, pl_module)  # a checkpoint already that far trains nothing

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self._check(trainer, pl_module)


class SaveOnInterrupt(pl.Callback):
    """On SIGTERM (a scheduler's preemption, ``kill``), SIGHUP (an ssh session dropping) or Ctrl-C, save the current
    step as ``interrupted.ckpt`` beside ``last.ckpt`` (atomically, through the trainer's checkpoint writer), so the
    partial epoch is not lost.

    Lightning stops at the next batch boundary and calls ``on_exception``; the CLI then names the file and exits with
    143 (SIGTERM), 129 (SIGHUP) or 130 (Ctrl-C), so a scheduler sees that the run did not finish. ``saved`` holds the
    path written and ``reason`` the signal's name. SIGHUP is turned into Lightning's SIGTERM stop, whose handler
    Lightning installs (this one is installed at the start of training, in the main thread only).
    """

    def __init__(self) -> None:
        self.saved: Path | None = None
        self.reason: str | None = None
        self._hangup = False
        self._previous_hangup = None

    def on_train_start(self, trainer: pl.Trainer, pl_module) -> None:
        if hasattr(signal, "SIGHUP") and threading.current_thread() is threading.main_thread():
            self._previous_hangup = signal.signal(signal.SIGHUP, self._on_hangup)

    def teardown(self, trainer: pl.Trainer, pl_module, stage: str) -> None:
        if self._previous_hangup is not None:  # Lightning puts its SIGTERM handler back at teardown: so does this
            signal.signal(signal.SIGHUP, self._previous_hangup)
            self._previous_hangup = None

    def _on_hangup(self, signum, frame) -> None:
        self._hangup = True
        os.kill(os.getpid(), signal.SIGTERM)

    def on_exception(self, trainer: pl.Trainer, pl_module, exception: BaseException) -> None:
        from pytorch_lightning.utilities.exceptions import SIGTERMException

        if isinstance(exception, SIGTERMException):
            self.reason = "SIGHUP" if self._hangup else "SIGTERM"
        elif isinstance(exception, KeyboardInterrupt):
            self.reason = "Ctrl-C"
        else:
            return
        folder = Path(trainer.checkpoint_callback.dirpath) if trainer.checkpoint_callback else None
        if folder is None or trainer.global_step == 0:
            return  # nothing trained yet, nothing to keep
        target = folder / "interrupted.ckpt"
        trainer.save_checkpoint(target, weights_only=False)  # a full one (optimizers too); every rank takes part
        self.saved = target


class EpochProgressBar(TQDMProgressBar):
    """Lightning's tqdm bar, also titled and sized in an epoch resumed in its middle.

    Lightning does not call ``on_train_epoch_start`` for an epoch a checkpoint was written inside (it had started),
    so its bar would read ``Training: 1346/?``, as if the resumed epoch had no end. Here it reads ``Epoch 5:
    1346/2000`` and counts its rate and time left from the resumed batch on.
    """

    def on_train_start(self, trainer: pl.Trainer, pl_module) -> None:
        super().on_train_start(trainer, pl_module)
        if trainer.fit_loop.restarted_mid_epoch:
            done = trainer.fit_loop.epoch_loop.batch_progress.current.completed
            self.train_progress_bar.reset(total=convert_inf(self.total_train_batches))
            self.train_progress_bar.initial = self.train_progress_bar.n = done
            self.train_progress_bar.set_description(f"Epoch {trainer.current_epoch}")


class _EpochCheckpoints(ModelCheckpoint):
    """Weights-only ``epochNN.ckpt`` after every epoch (NN 0-based, Lightning's count), for learning curves.

    Its own state key: Lightning keys a checkpoint callback's state by its settings, which here match ``last``'s.
    """

    def __init__(self) -> None:
        super().__init__(filename="epoch{epoch:02d}", monitor=None, save_top_k=-1, every_n_epochs=1,
                         save_weights_only=True, auto_insert_metric_name=False, enable_version_counter=False)

    @property
    def state_key(self) -> str:
        return "EpochCheckpoints"


class _LastCheckpoint(ModelCheckpoint):
    """``last.ckpt``: written at every epoch's end, and after the batch where training stops mid-epoch
    (``--max_steps``, :class:`~infogan.callbacks.StopAfterBatches`).

    Why the second: when a stop cuts an epoch short, Lightning still runs the epoch-end hooks, and a checkpoint
    written there records the epoch as finished, so a resumed run would skip the rest of it. Written after the batch,
    the checkpoint records the position within the epoch, which Lightning and the training loader
    (:mod:`infogan.data.training_order`) resume from exactly; the epoch-end save at the same step is then skipped.
    """

    def __init__(self) -> None:
        super().__init__(filename="last", monitor=None, save_top_k=1, enable_version_counter=False)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch,
                           batch_idx: int) -> None:
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        if trainer.should_stop and batch_idx + 1 < trainer.num_training_batches:
            self.on_train_epoch_end(trainer, pl_module)  # the save of an epoch's end, with this batch's state

    def _save_checkpoint(self, trainer: pl.Trainer, filepath: str) -> None:
        super()._save_checkpoint(trainer, filepath)
        if trainer.is_global_zero:  # the run has gone past any interrupted.ckpt of its own: it is no longer a resume
            (Path(filepath).parent / "interrupted.ckpt").unlink(missing_ok=True)  # point, only a trap

    @property
    def state_key(self) -> str:
        # the key a plain ModelCheckpoint had, so checkpoints written before this class still restore its state
        return super().state_key.replace(type(self).__qualname__, "ModelCheckpoint", 1)


def checkpointing(labelled: bool, every_epoch: bool = False) -> list[pl.Callback]:
    """last.ckpt rewritten every epoch (:class:`_LastCheckpoint`); with labels also best.ckpt, the epoch of the
    highest val/accuracy; with ``every_epoch`` also a weights-only epochNN.ckpt per epoch (:class:`_EpochCheckpoints`).

    Not ``save_last=True``: Lightning 2.6 writes "last" only in a step where a top-k checkpoint is saved too, so with
    save_top_k=0 it appears only when fit ends (a crash in epoch 10 would lose all ten epochs), and beside a monitored
    checkpoint it goes stale after every epoch that did not improve. An unmonitored top-1 checkpoint named "last"
    is rewritten every epoch (atomically: Lightning writes through a temporary file).
    """
    out = [_LastCheckpoint()]
    if labelled:
        out.append(ModelCheckpoint(monitor="val/accuracy", mode="max", save_top_k=1, filename="best",
                                   auto_insert_metric_name=False, enable_version_counter=False))
    if every_epoch:
        out.append(_EpochCheckpoints())
    return out
