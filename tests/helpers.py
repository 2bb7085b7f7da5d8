"""Helpers shared by the tests: where things are, small generated data, and reading what a CLI or a GIF says."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageSequence

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = REPO.parent / "shared" / "data"


def fake_batches(n: int = 16, seed: int = 0) -> torch.utils.data.DataLoader:
    """A loader of n random 28x28 images in [-1, 1] with zero labels, batch size 8."""
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1
    ds = torch.utils.data.TensorDataset(images, torch.zeros(n, dtype=torch.long))
    return torch.utils.data.DataLoader(ds, batch_size=8, drop_last=True)


def make_jpegs(folder: Path, count: int, size=(178, 218), seed: int = 0, prefix: str = "") -> list[Path]:
    """Write ``count`` generated colour JPEGs (a coloured ellipse on a coloured background) into ``folder``."""
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


def corrupt_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A folder of 30 good JPEGs (two levels deep), a truncated JPEG and a text file named .png; (folder, truncated)."""
    folder = tmp_path / "photos"
    good = make_jpegs(folder / "a", 15) + make_jpegs(folder / "b" / "nested", 15, seed=1, prefix="n")
    truncated = folder / "a" / "broken.jpg"
    truncated.write_bytes(good[0].read_bytes()[:400])
    (folder / "a" / "notes.png").write_text("not an image at all")
    return folder, truncated


def write_idx(path: Path, array: np.ndarray) -> None:
    """torchvision's raw IDX layout: magic (0, 0, dtype 0x08 = ubyte, ndim), big-endian dims, then the bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def fails(entry, argv, capsys) -> str:
    """Run a CLI entry point expecting exit status 2; return its single error line."""
    with pytest.raises(SystemExit) as exit_info:
        entry(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def gif_frames(path: Path) -> list[torch.Tensor]:
    """Every frame of a GIF as an (H, W) uint8 tensor (grayscale)."""
    with Image.open(path) as im:
        return [torch.from_numpy(np.array(f.convert("L"))) for f in ImageSequence.Iterator(im)]
