"""InfoGANDataModule: the image datasets InfoGAN trains on, served to Lightning.

* ``mnist``, ``fashion_mnist``: torchvision's files, held in memory; the test split, with labels, validates.
* ``celeba``: ``<data_dir>/celeba/img_align_celeba/*.jpg`` (torchvision's layout) read directly, without the
  annotation files or md5 checks torchvision's class insists on; no labels.
* ``folder``: every image below ``data_dir`` (recursive); no labels.
* ``dsprites``: 64 x 64 sprites with known factors (:mod:`infogan.data.dsprites`): the original ``.npz`` from
  ``<data_dir>/dsprites/`` when there, else rendered batch by batch; scored by ``evaluate``, not by validation.

The storages are read by pure loaders beside this file (:mod:`~infogan.data.idx`, :mod:`~infogan.data.image_files`,
:mod:`~infogan.data.dsprites`), picked by each record's ``storage`` (:mod:`~infogan.data.records`). Batches travel
to the device as uint8 (4x less to copy) and are scaled to [-1, 1] there, in
:meth:`InfoGANDataModule.on_after_batch_transfer`. The validation set is the test split, with labels, so the
categorical code can be scored against the digits.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Optional, Sequence

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from infogan.data.dsprites import DSprites, classes_to_index, find_npz
from infogan.data.idx import InMemoryImages, load_mnist
from infogan.data.image_files import BACKGROUND, ImageFiles, check_background, dataset_files
from infogan.data.pixels import scale_images
from infogan.data.records import dataset_info
from infogan.data.training_order import EpochShuffle, ResumableLoader
from infogan.errors import InputError


def _leave_signals_to_the_run(worker_id: int) -> None:
    """A DataLoader worker leaves the stop signals to the run. SLURM's preemption and a closing terminal signal every
    process of the job; a worker they killed made the run fail ("DataLoader worker is killed by signal") before it
    could save ``interrupted.ckpt``. The run handles the signal and shuts its workers down itself (they also exit when
    it dies). So a worker ignores SIGHUP and SIGINT, and obeys SIGTERM only from its parent: that is how the run (and
    ``multiprocessing``'s exit handler) ends a worker that does not stop by itself, and a worker deaf to it hung its
    parent's exit. Python's signal handlers cannot see the sender, so SIGTERM is blocked and a thread reads it with
    ``sigwaitinfo`` (where that is missing, macOS, SIGTERM keeps its default). A signal in the moment between a
    worker's start and this call still kills it, as before."""
    for name in ("SIGHUP", "SIGINT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    if not hasattr(signal, "sigwaitinfo"):
        return
    parent = os.getppid()

    def obey_the_parent_only() -> None:
        while signal.sigwaitinfo({signal.SIGTERM}).si_pid != parent:
            pass
        os._exit(0)  # what torch's own handler does for its parent's SIGTERM

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # before the thread starts: it inherits the mask
    threading.Thread(target=obey_the_parent_only, name="infogan-sigterm", daemon=True).start()


def _batch_is_ready(batch):
    """collate_fn for :class:`InMemoryImages`: ``__getitems__`` already returns a stacked batch."""
    return batch


class InfoGANDataModule(pl.LightningDataModule):
    """Training images and, for labelled datasets, a labelled validation split.

    Args:
        dataset: a key of :data:`infogan.data.records.DATASETS`.
        data_dir: the folder holding the dataset (torchvision's layout; for ``folder``, the images themselves).
        batch_size: images per batch *per device*.
        num_workers: DataLoader worker processes; None: 0 for in-memory sets (fastest), up to 8 for decoded ones.
        download: let torchvision download missing files. None (default): yes for MNIST / Fashion-MNIST, no for
            CelebA, whose Google Drive download fails often (True tries it).
        seed: seeds the training order of each epoch (see :mod:`infogan.data.training_order`).
        image_size: side of the square images: 28 for MNIST-like sets; 32 (default) or 64 for celeba and folder.
        channels: 1 or 3 for ``folder`` (default 3); fixed by the other datasets.
        skip_bad_images: skip undecodable files of celeba/folder (warned and counted) instead of stopping.
        background: the RGB colour (0-255) transparent pixels of image files are composited onto (default white).

    Batches are ``(images, labels)``: images (B, C, S, S) float in [-1, 1] once on the device, labels (B,) long
    (-1 for unlabelled sets).
    """

    def __init__(
        self,
        dataset: str = "mnist",
        data_dir: str = "data",
        batch_size: int = 128,
        num_workers: Optional[int] = None,
        download: Optional[bool] = None,
        seed: int = 0,
        image_size: Optional[int] = None,
        channels: Optional[int] = None,
        skip_bad_images: bool = False,
        background: Sequence[int] = BACKGROUND,
    ) -> None:
        super().__init__()
        self.info = info = dataset_info(dataset)
        if batch_size < 2:
            raise InputError(f"--batch_size {batch_size}: BatchNorm needs at least 2 images per batch on each "
                             f"device; use 16 or more (the paper uses 128)")
        image_size = image_size or info.image_sizes[0]
        if image_size not in info.image_sizes:
            raise InputError(f"--image_size {image_size}: dataset {dataset} supports "
                             f"{' or '.join(map(str, info.image_sizes))}")
        if channels is not None and channels not in info.channels:
            if len(info.channels) == 1:
                raise InputError(f"--channels {channels}: dataset {dataset} has {info.channels[0]} channel(s); "
                                 f"--channels applies to --dataset folder only")
            raise InputError(f"--channels must be {' or '.join(map(str, info.channels))}, got {channels}")
        batched = info.storage != "files"
        self.download = batched if download is None else download
        self.dataset, self.data_dir, self.batch_size, self.seed = dataset, data_dir, batch_size, seed
        self.image_size, self.skip_bad_images = image_size, skip_bad_images
        self.background = check_background(background)
        self.channels = channels or info.channels[0]
        self.num_workers = num_workers if num_workers is not None else (0 if batched else min(8, os.cpu_count() or 1))
        self.train_set: Optional[Dataset] = None
        self.val_set: Optional[InMemoryImages] = None

    @property
    def image_shape(self) -> tuple[int, int]:
        """(channels, image size)."""
        return self.channels, self.image_size

    @property
    def num_classes(self) -> Optional[int]:
        """Label classes of the validation split, or None when the dataset has no labels."""
        return self.info.num_classes

    def _files(self, download: bool) -> list[Path]:
        return dataset_files(self.data_dir, self.info, download)

    def prepare_data(self) -> None:
        # Runs once per node before setup(): the only place a download may happen under DDP.
        if self.info.storage == "memory":
            load_mnist(self.data_dir, train=True, download=self.download, dataset=self.dataset)
            load_mnist(self.data_dir, train=False, download=self.download, dataset=self.dataset)
        elif self.info.storage == "files":  # rendered sets need nothing (dSprites' original file is optional)
            self._files(self.download)

    def setup(self, stage: Optional[str] = None) -> None:
        if self.train_set is not None:
            return
        if self.info.storage == "memory":
            self.train_set = load_mnist(self.data_dir, train=True, download=False, dataset=self.dataset)
            self.val_set = load_mnist(self.data_dir, train=False, download=False, dataset=self.dataset)
        elif self.info.storage == "rendered":
            self.train_set = DSprites(find_npz(self.data_dir))
        else:
            self.train_set = ImageFiles(self._files(False), self.image_size, self.channels, self.skip_bad_images,
                                        self.background)
        if len(self.train_set) < self.batch_size:  # drop_last would leave no batch at all: nothing would train
            raise InputError(f"{self.dataset} at {self.data_dir} has {len(self.train_set)} images, fewer than one "
                             f"batch of {self.batch_size}: lower --batch_size or add images")

    def _loader(self, ds: Dataset, train: bool) -> DataLoader:
        batched = self.info.storage != "files"  # whole batches from __getitems__ in this process
        # training resumes at any batch in the same order (infogan.data.training_order); validation always runs whole
        return (ResumableLoader if train else DataLoader)(
            ds,
            batch_size=self.batch_size,
            sampler=EpochShuffle(len(ds), self.seed) if train else None,
            drop_last=train,  # a last batch of 1 would break BatchNorm, and a short one biases its statistics
            num_workers=self.num_workers,
            collate_fn=_batch_is_ready if batched else None,
            pin_memory=torch.cuda.is_available() and not batched,
            persistent_workers=self.num_workers > 0,
            worker_init_fn=_leave_signals_to_the_run,  # runs in worker processes only
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, train=True)

    def val_dataloader(self):
        # No labels, nothing to score: an empty list tells Lightning to skip validation.
        return self._loader(self.val_set, train=False) if self.val_set is not None else []

    def factor_representation(self, represent):
        """For sets with known factors (dSprites): a function from factor classes (N, F) to ``represent(images)`` of
        the images those factors make (scaled, on the representation's device), what the disentanglement metrics
        score (:func:`infogan.metrics.disentanglement_scores`). ``represent``: images (N, C, H, W) -> (N, D)."""
        self.setup("fit")

        def of_factors(classes: torch.Tensor) -> torch.Tensor:
            images, _ = self.train_set.__getitems__(classes_to_index(classes))
            return represent(scale_images(images))

        return of_factors

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        images, labels = batch
        return scale_images(images), labels
