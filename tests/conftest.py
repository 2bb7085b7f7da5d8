"""Shared fixtures: the real MNIST in ../shared/data, tiny in-memory batches, and quiet Lightning."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    if not (MNIST_DIR / "MNIST" / "raw" / "train-images-idx3-ubyte").exists():
        pytest.skip(f"real MNIST not found under {MNIST_DIR}/MNIST/raw")
    return MNIST_DIR


@pytest.fixture(autouse=True)
def _quiet_lightning():
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*LeafSpec.*")
        yield


def fake_batches(n: int = 16, seed: int = 0) -> torch.utils.data.DataLoader:
    """A loader of n random 28x28 images in [-1, 1] with zero labels, batch size 8."""
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1
    ds = torch.utils.data.TensorDataset(images, torch.zeros(n, dtype=torch.long))
    return torch.utils.data.DataLoader(ds, batch_size=8, drop_last=True)


@pytest.fixture(scope="session")
def tiny_run(mnist_dir, tmp_path_factory) -> Path:
    """A real 1-epoch, 2-batch MNIST training run with validation (logs, GIFs, checkpoints); its version folder."""
    from infogan.infogan_module import main

    log_dir = tmp_path_factory.mktemp("tiny_run")
    main(["--data_dir", str(mnist_dir), "--batch_size", "8", "--max_epochs", "1", "--limit_train_batches", "2",
          "--limit_val_batches", "2",
          "--log_dir", str(log_dir)])
    return log_dir / "version_0"


def make_jpegs(folder: Path, count: int, size=(178, 218), seed: int = 0, prefix: str = "") -> list[Path]:
    """Write ``count`` generated colour JPEGs (a coloured ellipse on a coloured background) into ``folder``."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
        x, y = rng.randrange(size[0] // 2), rng.randrange(size[1] // 2)
        ImageDraw.Draw(image).ellipse([x, y, x + size[0] // 2, y + size[1] // 2],
                                      fill=tuple(rng.randrange(256) for _ in range(3)))
        path = folder / f"{prefix}{i + 1:06d}.jpg"
        image.save(path, quality=90)
        paths.append(path)
    return paths


@pytest.fixture()
def fake_celeba(tmp_path) -> Path:
    """A data_dir with CelebA's real layout: celeba/img_align_celeba/000001.jpg ... (40 JPEGs, 178 x 218)."""
    make_jpegs(tmp_path / "data" / "celeba" / "img_align_celeba", 40)
    return tmp_path / "data"
