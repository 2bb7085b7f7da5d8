"""Image files decoded lazily: CelebA (200k files) and any folder of images.

Each file is center-cropped to a square and resized into a uint8 tensor like MNIST's. A file that cannot be decoded
stops training with an error naming it, unless ``skip_bad_images`` is on: then it is replaced by the next good image,
counted, and warned about by name. Pure torch, no Lightning.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import torch
from torch.utils.data import Dataset

from infogan.data.records import BACKGROUND, DatasetInfo
from infogan.errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")


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
        background: the RGB colour (0-255) transparent pixels are composited onto (:func:`flatten_alpha`).
    """

    def __init__(self, files: Sequence[Path], image_size: int, channels: int = 3, skip_bad_images: bool = False,
                 background: Sequence[int] = BACKGROUND):
        from torchvision.transforms import v2

        if channels not in (1, 3):
            raise InputError(f"channels must be 1 or 3, got {channels}")
        self.files, self.mode, self.skip = list(files), "L" if channels == 1 else "RGB", skip_bad_images
        self.background = check_background(background)
        # torchvision's transforms on uint8 tensors: crop the largest centred square, then resize with antialiasing.
        self.resize = v2.Resize(image_size, antialias=True)
        self.image_size = image_size
        self.skipped: list[Path] = []

    def __len__(self) -> int:
        return len(self.files)

    def decode(self, path: Path) -> torch.Tensor:
        from PIL import Image, ImageOps, UnidentifiedImageError
        from torchvision.transforms.v2 import functional as TF

        try:
            with Image.open(path) as im:
                upright = ImageOps.exif_transpose(im)  # a photo's EXIF orientation, applied as a viewer would
                image = TF.pil_to_tensor(flatten_alpha(_eight_bit(upright), self.background).convert(self.mode))
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
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


def check_background(background: Sequence[int]) -> tuple[int, int, int]:
    """The colour as an (R, G, B) tuple of 0-255 ints; InputError naming ``--background`` otherwise."""
    values = tuple(background)
    if len(values) != 3 or not all(isinstance(v, int) and 0 <= v <= 255 for v in values):
        raise InputError(f"--background {' '.join(map(str, values))}: give three whole numbers from 0 to 255 (R G B), "
                         f"e.g. --background 255 255 255 for white")
    return values  # type: ignore[return-value]


def flatten_alpha(im, background: tuple[int, int, int]):
    """A PIL image without transparency: one with an alpha channel (RGBA, LA, PA) or a transparent palette colour is
    composited onto ``background``; others are returned as they are.

    Why: converting RGBA to RGB drops the alpha channel and keeps whatever colour the transparent pixels happen to
    hold (emoji sets store black, white or stray colours there), so the background would be noise to learn.
    """
    from PIL import Image

    if im.mode not in ("RGBA", "LA", "PA") and "transparency" not in im.info:
        return im
    rgba = im.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, (*background, 255)), rgba).convert("RGB")


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


def dataset_files(data_dir: str | Path, info: DatasetInfo, download: bool = False) -> list[Path]:
    """The image files of a "files" dataset: below ``<data_dir>/<info.image_folder>`` (the data folder itself when
    the record names none). When that folder is missing and ``download`` is on, the record's torchvision class
    tries to fetch it; still missing, FileNotFoundError with the record's ``how_to_get``."""
    folder = Path(data_dir) / info.image_folder if info.image_folder else Path(data_dir)
    if not folder.is_dir() and download and info.torchvision_name:
        import torchvision.datasets

        try:
            getattr(torchvision.datasets, info.torchvision_name)(str(data_dir), split="all", download=True)
        except Exception as err:  # noqa: BLE001 - torchvision's Google Drive downloads fail often
            warnings.warn(f"torchvision's {info.torchvision_name} download failed: {err}", stacklevel=2)
    if not folder.is_dir() and info.how_to_get:
        raise FileNotFoundError(f"{info.name} not found: looked for {folder}. {info.how_to_get}")
    return find_images(folder)
