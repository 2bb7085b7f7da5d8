"""dSprites (Matthey et al. 2017): 64 x 64 binary sprites whose six generating factors are known.

Every combination of the factors occurs once, 737,280 images, in the original file's order (the last factor
varies fastest):

=========== ====== ===========================================================
factor      values value of class i
=========== ====== ===========================================================
color       1      white
shape       3      square, ellipse, heart
scale       6      0.5 + 0.1 i (0.5 ... 1)
orientation 40     2 pi i / 39 (0 ... 2 pi, both ends included, as the original)
pos_x       32     i / 31 (0 ... 1)
pos_y       32     i / 31 (0 ... 1)
=========== ====== ===========================================================

The original ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` is read when the user has it (``imgs`` 0/1 uint8,
``latents_classes``). Our machines cannot reach it, so by default the images are **rendered** from the factors by
:func:`render`, batch by batch and on demand (the 3 GB of pixels never sit in memory): same factors, value grids,
index order and image format, and the geometry measured on the 320 original images of the dataset's README animation
(``dsprites.gif``, which traverses each factor; docs/results/dsprites.md): at scale 1 a square 20 x 20 px, an
ellipse 26 x 14 and a heart of 222 px (at scale 0.5: 10 x 10, 12 x 8, 58 px); centres from pixel 15.5 to 47.5 on
each axis; orientation turns counter-clockwise on screen. A pixel is on when its centre lies inside the rotated shape,
with no anti-aliasing. Against those frames the square and the ellipse match but for a few edge pixels (IoU
0.98-1.00); the heart has the original's area but its lobes are a pixel narrower (18 x 16 px against 20 x 17; IoU
0.89-0.94). Like the original, a square repeats itself every quarter turn and an ellipse every half turn, so
orientation is not identifiable from those images alone.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Optional, Sequence

import torch
from torch.utils.data import Dataset

from infogan.errors import InputError

FACTORS = ("color", "shape", "scale", "orientation", "pos_x", "pos_y")
FACTOR_SIZES = (1, 3, 6, 40, 32, 32)
SHAPES = ("square", "ellipse", "heart")
SIZE = 64
NPZ_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
# The geometry, in canvas units ([0, 1] across), fitted to the original images (see the module doc)
_HALF_WIDTH = 0.15  # of the square at scale 1
_ELLIPSE_AXES = (1.34, 0.75)  # the ellipse's half axes, in square half widths
_HEART_STRETCH = (1.15, 1.3)  # the heart curve's units per square half width, in x and y
_POSITIONS = (0.25, 0.75)  # the centres of position 0 and 31


def num_images() -> int:
    return math.prod(FACTOR_SIZES)


def _strides() -> torch.Tensor:
    """The mixed-radix weight of each factor in the flat index (the last factor varies fastest)."""
    return torch.tensor([math.prod(FACTOR_SIZES[i + 1:]) for i in range(len(FACTOR_SIZES))])


def index_to_classes(index: torch.Tensor) -> torch.Tensor:
    """Flat indices (N,) -> factor classes (N, 6) long, in the original file's order."""
    index = torch.as_tensor(index, dtype=torch.long)
    return (index[:, None] // _strides()) % torch.tensor(FACTOR_SIZES)


def classes_to_index(classes: torch.Tensor) -> torch.Tensor:
    """Factor classes (N, 6) -> flat indices (N,); the inverse of :func:`index_to_classes`."""
    return (torch.as_tensor(classes, dtype=torch.long) * _strides()).sum(dim=1)


def render(classes: torch.Tensor, size: int = SIZE) -> torch.Tensor:
    """Sprites of the factor classes (N, 6): (N, 1, size, size) uint8, 0 or 255 (see the module doc)."""
    classes = torch.as_tensor(classes, dtype=torch.long)
    shape, scale_i, orient_i, x_i, y_i = classes[:, 1:].T
    scale = (0.5 + 0.1 * scale_i.float()) * _HALF_WIDTH
    theta = -orient_i.float() * (2 * math.pi / (FACTOR_SIZES[3] - 1))  # rows grow downwards: counter-clockwise
    low, high = _POSITIONS
    cx, cy = low + (high - low) * x_i.float() / 31, low + (high - low) * y_i.float() / 31
    grid = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    dx = grid[None, None, :] - cx[:, None, None]  # (N, 1, W)
    dy = grid[None, :, None] - cy[:, None, None]  # (N, H, 1); image rows grow downwards
    cos, sin = torch.cos(theta)[:, None, None], torch.sin(theta)[:, None, None]
    s = scale[:, None, None]
    u, v = (cos * dx + sin * dy) / s, (-sin * dx + cos * dy) / s  # shape coordinates, unit = half width
    square = torch.maximum(u.abs(), v.abs()) <= 1
    ellipse = (u / _ELLIPSE_AXES[0]) ** 2 + (v / _ELLIPSE_AXES[1]) ** 2 <= 1
    hx, hy = u * _HEART_STRETCH[0], -v * _HEART_STRETCH[1]  # the heart curve (x^2 + y^2 - 1)^3 <= x^2 y^3, point down
    heart = (hx**2 + hy**2 - 1) ** 3 - hx**2 * hy**3 <= 0
    pick = shape[:, None, None]
    on = torch.where(pick == 0, square, torch.where(pick == 1, ellipse, heart))
    return on.to(torch.uint8).mul_(255).unsqueeze(1)


class DSprites(Dataset):
    """dSprites served a whole batch at a time: ``(images (B, 1, 64, 64) uint8 0/255, classes (B, 6) long)``.

    Args:
        npz: the original ``.npz``; None renders the images from the factors (see the module doc).
    """

    def __init__(self, npz: Optional[str | Path] = None) -> None:
        self.images: Optional[torch.Tensor] = None
        if npz is not None:
            self.images = load_npz(npz)

    def __len__(self) -> int:
        return num_images()

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        images, classes = self.__getitems__([index])
        return images[0], classes[0]

    def __getitems__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        classes = index_to_classes(idx)
        if self.images is None:
            return render(classes), classes
        return self.images[idx].unsqueeze(1).mul(255), classes


def load_npz(path: str | Path) -> torch.Tensor:
    """The original file's ``imgs`` as (737280, 64, 64) uint8 0/1, checked against this module's factor order."""
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"dSprites file {path} not found")
    try:
        with np.load(path) as data:
            imgs, classes = data["imgs"], data["latents_classes"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise InputError(f"{path} is not the dSprites .npz (needs arrays imgs and latents_classes): {err}") from None
    expected = (num_images(), SIZE, SIZE)
    if imgs.shape != expected or classes.shape != (num_images(), len(FACTORS)):
        raise InputError(f"{path}: imgs {imgs.shape} / latents_classes {classes.shape}, expected {expected} / "
                         f"({num_images()}, {len(FACTORS)})")
    if not torch.equal(classes_to_index(torch.from_numpy(classes)), torch.arange(num_images())):
        raise InputError(f"{path}: rows are not in the original order of the factors {FACTORS}")
    return torch.from_numpy(np.ascontiguousarray(imgs, dtype=np.uint8))


def find_npz(data_dir: str | Path) -> Optional[Path]:
    """``<data_dir>/dsprites/<original name>`` when the user has the original file, else None."""
    path = Path(data_dir) / "dsprites" / NPZ_NAME
    return path if path.is_file() else None
