"""InfoGANDataModule: the image datasets InfoGAN trains on.

MNIST is held as one uint8 tensor (60,000 x 1 x 28 x 28 = 47 MB) and served in whole batches through
``__getitems__``: no per-item PIL decode, no worker processes. Batches travel to the device as uint8 (4x less to
copy) and are scaled to [-1, 1] there, in :meth:`InfoGANDataModule.on_after_batch_transfer`. The validation set is
the test split, with labels, so the categorical code can be scored against the digits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

DATASETS = ("mnist",)
# dataset -> (channels, image size)
IMAGE_SHAPES = {"mnist": (1, 28)}
# dataset -> number of label classes (None: no labels, so no accuracy metrics)
NUM_CLASSES = {"mnist": 10}


class InMemoryImages(Dataset):
    """Images and labels held as tensors, fetched a whole batch at a time.

    Args:
        images: (N, C, H, W) uint8.
        labels: (N,) long.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"images must be a (N, C, H, W) uint8 tensor, got {images.dtype} {tuple(images.shape)}")
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[index], self.labels[index]

    def __getitems__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        # The DataLoader hands the batch's indices here at once; one gather replaces batch_size item calls.
        idx = torch.as_tensor(indices)
        return self.images[idx], self.labels[idx]


class EpochShuffle(Sampler[int]):
    """A random order of range(n) fixed by (seed, epoch).

    Why not ``shuffle=True``: that draws each epoch's order from the global RNG, which checkpoints do not hold, so a
    resumed run would see other batches than the uninterrupted one. Lightning calls :meth:`set_epoch` each epoch.
    """

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())


def _batch_is_ready(batch):
    """collate_fn for :class:`InMemoryImages`: ``__getitems__`` already returns a stacked batch."""
    return batch


def scale_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1] (the generator's tanh range)."""
    return images.float().div_(127.5).sub_(1.0)


def load_mnist(data_dir: str | Path, train: bool, download: bool = True) -> InMemoryImages:
    """MNIST's train or test split as an :class:`InMemoryImages` of (N, 1, 28, 28) uint8.

    Reads torchvision's layout ``<data_dir>/MNIST/raw/*-ubyte``. When the files are missing and ``download`` is
    on, torchvision fetches them; when that is off or fails, raises FileNotFoundError naming the folder.
    """
    from torchvision.datasets import MNIST

    raw = Path(data_dir) / "MNIST" / "raw"
    try:
        ds = MNIST(str(data_dir), train=train, download=False)
    except RuntimeError:
        if not download:
            raise FileNotFoundError(_missing_mnist(raw, "downloading is off")) from None
        try:
            ds = MNIST(str(data_dir), train=train, download=True)
        except Exception as err:  # noqa: BLE001 - any download failure gets the same advice
            raise FileNotFoundError(_missing_mnist(raw, f"the download failed: {err}")) from None
    return InMemoryImages(ds.data.unsqueeze(1).contiguous(), ds.targets.long())


def _missing_mnist(raw: Path, why: str) -> str:
    return (
        f"MNIST not found in {raw} ({why}). Put the four IDX files (train-images-idx3-ubyte, "
        f"train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) there, or pass "
        f"--data_dir pointing at the folder that contains MNIST/raw/, on a machine with internet access."
    )


class InfoGANDataModule(pl.LightningDataModule):
    """Training images (labels unused) and a labelled validation split.

    Args:
        dataset: one of :data:`DATASETS`.
        data_dir: the folder holding the dataset (torchvision's layout).
        batch_size: images per batch *per device*.
        num_workers: DataLoader worker processes (0 is fastest for in-memory MNIST).
        download: let torchvision download missing files.
        seed: seeds the training order of each epoch (see :class:`EpochShuffle`).

    Batches are ``(images, labels)``: images (B, C, H, W) float in [-1, 1] once on the device, labels (B,) long.
    """

    def __init__(
        self,
        dataset: str = "mnist",
        data_dir: str = "data",
        batch_size: int = 128,
        num_workers: int = 0,
        download: bool = True,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.dataset, self.data_dir = dataset, data_dir
        self.batch_size, self.num_workers, self.download, self.seed = batch_size, num_workers, download, seed
        self.train_set: Optional[InMemoryImages] = None
        self.val_set: Optional[InMemoryImages] = None

    @property
    def image_shape(self) -> tuple[int, int]:
        """(channels, image size)."""
        return IMAGE_SHAPES[self.dataset]

    @property
    def num_classes(self) -> Optional[int]:
        """Label classes of the validation split, or None when the dataset has no labels."""
        return NUM_CLASSES.get(self.dataset)

    def prepare_data(self) -> None:
        # Runs once per node before setup(): the only place a download may happen under DDP.
        load_mnist(self.data_dir, train=True, download=self.download)
        load_mnist(self.data_dir, train=False, download=self.download)

    def setup(self, stage: Optional[str] = None) -> None:
        if self.train_set is None:
            self.train_set = load_mnist(self.data_dir, train=True, download=False)
            self.val_set = load_mnist(self.data_dir, train=False, download=False)

    def _loader(self, ds: InMemoryImages, train: bool) -> DataLoader:
        return DataLoader(
            ds,
            batch_size=self.batch_size,
            sampler=EpochShuffle(len(ds), self.seed) if train else None,
            drop_last=train,  # a last batch of 1 would break BatchNorm, and a short one biases its statistics
            num_workers=self.num_workers,
            collate_fn=_batch_is_ready,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, train=False)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        images, labels = batch
        return scale_images(images), labels
