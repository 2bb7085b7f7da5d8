"""MNIST-like sets in torchvision's IDX files, held in memory and served in whole batches.

MNIST is one uint8 tensor (60,000 x 1 x 28 x 28 = 47 MB) served through ``__getitems__``: no per-item PIL decode, no
worker processes. A damaged file (truncated, padded, not IDX) is named before torchvision reads it; a missing one is
downloaded by torchvision when allowed. Pure torch, no Lightning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from torch.utils.data import Dataset

from infogan.data.records import dataset_info
from infogan.errors import InputError

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


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


def load_mnist(data_dir: str | Path, train: bool, download: bool = True, dataset: str = "mnist") -> InMemoryImages:
    """MNIST's (or Fashion-MNIST's) train or test split as an :class:`InMemoryImages` of (N, 1, 28, 28) uint8.

    Reads torchvision's layout ``<data_dir>/MNIST/raw/*-ubyte`` (``FashionMNIST/raw`` for Fashion-MNIST). When the
    files are missing and ``download`` is on, torchvision fetches them; when that is off or fails, raises
    FileNotFoundError naming the folder.
    """
    import torchvision.datasets

    cls = getattr(torchvision.datasets, dataset_info(dataset).torchvision_name)
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
    check_split(ds.data, ds.targets, raw, train, dataset)
    return InMemoryImages(ds.data.unsqueeze(1).contiguous(), ds.targets.long())


def check_split(images: torch.Tensor, labels: torch.Tensor, raw: Path, train: bool, dataset: str) -> None:
    """InputError when a split's images and labels differ in number (files of two splits mixed), or when the split
    holds exactly the other split's number of images (the train and test files swapped, which would train on the
    test set and validate on the training set)."""
    split = "train" if train else "t10k"
    if len(images) != len(labels):
        raise InputError(f"{raw}: {split}-images holds {len(images):,} images but {split}-labels {len(labels):,} "
                         f"labels; the files come from different splits: put back the matching pair")
    sizes = dataset_info(dataset).split_sizes
    if sizes and len(images) != sizes[not train] and len(images) == sizes[train]:
        other = "t10k" if train else "train"
        raise InputError(f"{raw}: the {split} files hold {len(images):,} images, the size of the {other} split "
                         f"({sizes[train]:,}; {split} has {sizes[not train]:,}): the train and test files look "
                         f"swapped; give each its own name back")


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
