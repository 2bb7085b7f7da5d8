"""InfoGANDataModule: the image datasets InfoGAN trains on.

* ``mnist``, ``fashion_mnist``: torchvision's files, held in memory (below); the test split, with labels, validates.
* ``celeba``: ``<data_dir>/celeba/img_align_celeba/*.jpg`` (torchvision's layout) read directly, without the
  annotation files or md5 checks torchvision's class insists on; no labels.
* ``folder``: every image below ``data_dir`` (recursive); no labels.
* ``dsprites``: 64 x 64 sprites with known factors (:mod:`infogan.dsprites`): the original ``.npz`` from
  ``<data_dir>/dsprites/`` when there, else rendered batch by batch; scored by ``evaluate``, not by validation.

Folder-like sets are decoded lazily (CelebA is 200k files) with a center crop to a square and a resize, into uint8
tensors like MNIST's. A file that cannot be decoded stops training with an error naming it, unless
``skip_bad_images`` is on: then it is replaced by the next good image, counted, and warned about by name.

MNIST is held as one uint8 tensor (60,000 x 1 x 28 x 28 = 47 MB) and served in whole batches through
``__getitems__``: no per-item PIL decode, no worker processes. Batches travel to the device as uint8 (4x less to
copy) and are scaled to [-1, 1] there, in :meth:`InfoGANDataModule.on_after_batch_transfer`. The validation set is
the test split, with labels, so the categorical code can be scored against the digits.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Optional, Sequence

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from infogan.datasets import dataset_info
from infogan.dsprites import DSprites, classes_to_index, find_npz
from infogan.errors import InputError
from infogan.training_order import EpochShuffle, ResumableLoader

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")


class InMemoryImages(Dataset):
    """Images and labels held as tensors, fetched a whole batch at a time.

    Args:
        images: (N, C, H, W) uint8.
        labels: (N,) long.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise InputError(f"images must be a (N, C, H, W) uint8 tensor, got {images.dtype} {tuple(images.shape)}")
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[index], self.labels[index]

    def __getitems__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        # The DataLoader hands the batch's indices here at once; one gather replaces batch_size item calls.
        idx = torch.as_tensor(indices)
        return self.images[idx], self.labels[idx]


def _batch_is_ready(batch):
    """collate_fn for :class:`InMemoryImages`: ``__getitems__`` already returns a stacked batch."""
    return batch


def scale_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1] (the generator's tanh range)."""
    return images.float().div_(127.5).sub_(1.0)


def load_mnist(data_dir: str | Path, train: bool, download: bool = True, dataset: str = "mnist") -> InMemoryImages:
    """MNIST's (or Fashion-MNIST's) train or test split as an :class:`InMemoryImages` of (N, 1, 28, 28) uint8.

    Reads torchvision's layout ``<data_dir>/MNIST/raw/*-ubyte`` (``FashionMNIST/raw`` for Fashion-MNIST). When the
    files are missing and ``download`` is on, torchvision fetches them; when that is off or fails, raises
    FileNotFoundError naming the folder.
    """
    import torchvision.datasets

    cls = getattr(torchvision.datasets, dataset_info(dataset).idx_name)
    raw = Path(data_dir) / cls.__name__ / "raw"
    damaged = [_idx_damage(raw / name) for name in IDX_FILES if (raw / name).is_file()]
    if any(damaged):
        raise InputError(next(d for d in damaged if d) + "; replace it (delete it to let torchvision download it)")
    try:
        ds = cls(str(data_dir), train=train, download=False)
    except RuntimeError:
        if not download:
            raise FileNotFoundError(_missing_idx(cls.__name__, raw, "downloading is off")) from None
        existed = [folder for folder in (raw.parent, raw) if folder.is_dir()]
        try:
            ds = cls(str(data_dir), train=train, download=True)
        except Exception as err:  # noqa: BLE001 - any download failure gets the same advice
            for folder in (raw, raw.parent):  # leave no empty folders behind a failed download
                if folder not in existed and folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            raise FileNotFoundError(_missing_idx(cls.__name__, raw, f"the download failed: {err}")) from None
    return InMemoryImages(ds.data.unsqueeze(1).contiguous(), ds.targets.long())


IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _idx_damage(path: Path) -> str:
    """What is wrong with an IDX file ('' when its size matches its header): truncated, padded or not IDX at all."""
    import struct

    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(4)
        if len(head) < 4 or head[:2] != b"\0\0" or head[2] != 0x08:
            return f"{path} is not an IDX file of unsigned bytes (its first bytes are {head!r})"
        ndim = head[3]
        dims_bytes = f.read(4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        return f"{path} is truncated: {size} bytes, shorter than its own header"
    count = 1
    for d in struct.unpack(f">{ndim}I", dims_bytes):
        count *= d
    expected = 4 + 4 * ndim + count
    if size != expected:
        return f"{path} is damaged: its header promises {expected} bytes, the file has {size}"
    return ""


def _missing_idx(name: str, raw: Path, why: str) -> str:
    return (
        f"{name} not found in {raw} ({why}). Put the four IDX files ({', '.join(IDX_FILES)}) there, or pass "
        f"--data_dir pointing at the folder that contains {name}/raw/, on a machine with internet access."
    )


class BadImageError(RuntimeError):
    """An image file that cannot be decoded."""


class ImageFiles(Dataset):
    """Image files decoded on demand: center crop to a square, resize, (C, S, S) uint8; label -1 (no labels).

    Args:
        files: the image paths.
        image_size: side S of the square output.
        channels: 1 (grayscale) or 3 (RGB); images of the other kind are converted (a grayscale photo in an RGB
            set is repeated over the three channels).
        skip_bad_images: replace an undecodable file by the next good one (warned about and counted in
            ``skipped``) instead of raising :class:`BadImageError`.
    """

    def __init__(self, files: Sequence[Path], image_size: int, channels: int = 3, skip_bad_images: bool = False):
        from torchvision.transforms import v2

        if channels not in (1, 3):
            raise InputError(f"channels must be 1 or 3, got {channels}")
        self.files, self.mode, self.skip = list(files), "L" if channels == 1 else "RGB", skip_bad_images
        # torchvision's transforms on uint8 tensors: crop the largest centred square, then resize with antialiasing.
        self.resize = v2.Resize(image_size, antialias=True)
        self.image_size = image_size
        self.skipped: list[Path] = []

    def __len__(self) -> int:
        return len(self.files)

    def decode(self, path: Path) -> torch.Tensor:
        from PIL import Image, UnidentifiedImageError
        from torchvision.transforms.v2 import functional as TF

        try:
            with Image.open(path) as im:
                image = TF.pil_to_tensor(_eight_bit(im).convert(self.mode))
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as err:
            raise BadImageError(f"cannot decode image {path}: {err}") from None
        side = min(image.shape[-2:])
        return self.resize(TF.center_crop(image, [side, side]))

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        for offset in range(len(self.files)):
            path = self.files[(index + offset) % len(self.files)]
            try:
                return self.decode(path), -1
            except BadImageError as err:
                if not self.skip:
                    raise BadImageError(f"{err}. Remove the file, or pass --skip_bad_images to skip such "
                                        f"files") from None
                if path not in self.skipped:
                    self.skipped.append(path)
                    warnings.warn(f"skipping ({len(self.skipped)} so far): {err}", stacklevel=2)
        raise BadImageError(f"no image in this set of {len(self.files)} files can be decoded")


def _eight_bit(im):
    """A PIL image with 8 bits per channel. 16- and 32-bit integer images (PNG ``I;16``, TIFF ``I``) are scaled to
    0..255; Pillow's own ``convert`` clips them, which turns a 16-bit photo white."""
    import numpy as np
    from PIL import Image

    if im.mode.startswith("I;16") or im.mode == "I":
        array = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") or array.max() <= 65535 else float(array.max())
        return Image.fromarray((array / top * 255).round().clip(0, 255).astype(np.uint8), mode="L")
    return im


def find_images(folder: Path) -> list[Path]:
    """Every image file below ``folder`` (by suffix, recursive, sorted); clear errors for a missing or empty folder."""
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} not found")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"no images in {folder} (looked recursively for {', '.join(IMAGE_SUFFIXES)})")
    return files


def celeba_files(data_dir: str | Path, download: bool = False) -> list[Path]:
    """The JPEGs of ``<data_dir>/celeba/img_align_celeba`` (torchvision's layout)."""
    folder = Path(data_dir) / "celeba" / "img_align_celeba"
    if not folder.is_dir() and download:
        from torchvision.datasets import CelebA

        try:
            CelebA(str(data_dir), split="all", download=True)
        except Exception as err:  # noqa: BLE001 - torchvision's Google Drive download fails often
            warnings.warn(f"torchvision's CelebA download failed: {err}", stacklevel=2)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"CelebA not found: looked for {folder}. Download img_align_celeba.zip from the CelebA site "
            f"(mmlab.ie.cuhk.edu.hk/projects/CelebA.html) and unzip it there, so that {folder}/000001.jpg exists "
            f"(--download tries torchvision's downloader, which often fails on Google Drive's quota)")
    return find_images(folder)


class InfoGANDataModule(pl.LightningDataModule):
    """Training images and, for labelled datasets, a labelled validation split.

    Args:
        dataset: a key of :data:`infogan.datasets.DATASETS`.
        data_dir: the folder holding the dataset (torchvision's layout; for ``folder``, the images themselves).
        batch_size: images per batch *per device*.
        num_workers: DataLoader worker processes; None: 0 for in-memory sets (fastest), up to 8 for decoded ones.
        download: let torchvision download missing files. None (default): yes for MNIST / Fashion-MNIST, no for
            CelebA, whose Google Drive download fails often (True tries it).
        seed: seeds the training order of each epoch (see :mod:`infogan.training_order`).
        image_size: side of the square images: 28 for MNIST-like sets; 32 (default) or 64 for celeba and folder.
        channels: 1 or 3 for ``folder`` (default 3); fixed by the other datasets.
        skip_bad_images: skip undecodable files of celeba/folder (warned and counted) instead of stopping.

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
    ) -> None:
        super().__init__()
        self.info = info = dataset_info(dataset)
        if batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}")
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
        if self.dataset == "celeba":
            return celeba_files(self.data_dir, download)
        return find_images(Path(self.data_dir))

    def prepare_data(self) -> None:
        # Runs once per node before setup(): the only place a download may happen under DDP.
        if self.info.idx_name:
            load_mnist(self.data_dir, train=True, download=self.download, dataset=self.dataset)
            load_mnist(self.data_dir, train=False, download=self.download, dataset=self.dataset)
        elif self.info.storage == "files":  # rendered sets need nothing (dSprites' original file is optional)
            self._files(self.download)

    def setup(self, stage: Optional[str] = None) -> None:
        if self.train_set is not None:
            return
        if self.info.idx_name:
            self.train_set = load_mnist(self.data_dir, train=True, download=False, dataset=self.dataset)
            self.val_set = load_mnist(self.data_dir, train=False, download=False, dataset=self.dataset)
        elif self.info.storage == "rendered":
            self.train_set = DSprites(find_npz(self.data_dir))
        else:
            self.train_set = ImageFiles(self._files(False), self.image_size, self.channels, self.skip_bad_images)
        if len(self.train_set) < self.batch_size:  # drop_last would leave no batch at all: nothing would train
            raise InputError(f"{self.dataset} at {self.data_dir} has {len(self.train_set)} images, fewer than one "
                             f"batch of {self.batch_size}: lower --batch_size or add images")

    def _loader(self, ds: Dataset, train: bool) -> DataLoader:
        batched = self.info.storage != "files"  # whole batches from __getitems__ in this process
        # training resumes at any batch in the same order (infogan.training_order); validation always runs whole
        return (ResumableLoader if train else DataLoader)(
            ds,
            batch_size=self.batch_size,
            sampler=EpochShuffle(len(ds), self.seed) if train else None,
            drop_last=train,  # a last batch of 1 would break BatchNorm, and a short one biases its statistics
            num_workers=self.num_workers,
            collate_fn=_batch_is_ready if batched else None,
            pin_memory=torch.cuda.is_available() and not batched,
            persistent_workers=self.num_workers > 0,
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
