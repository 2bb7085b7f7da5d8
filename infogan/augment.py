"""Differentiable augmentation of everything the discriminator judges (DiffAugment; Zhao et al., *Differentiable
Augmentation for Data-Efficient GAN Training*, NeurIPS 2020).

Why: on a small folder (a few thousand images) D memorises the real images and its gradient stops telling G what a
real image looks like. Augmenting only the real images would teach G the augmentations; DiffAugment applies the same
kind of random transformation to real and generated images alike, differentiably, so G's gradient passes through
it. Only the adversarial head judges augmented images; Q reads the fakes as generated (:mod:`infogan.objective`).
Shifts and cut-out squares only (DiffAugment's colour jitter would teach D to ignore colour, which colour codes use).

Pure torch, no Lightning. Images are (N, C, H, W); random numbers are drawn on the CPU from the batch's generator
(reproducible, so a resumed run augments as the uninterrupted one did) and moved to the images' device.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch

from infogan.config import AUGMENTATIONS

SHIFT_RATIO = 1 / 8  # the largest shift, of the image side (DiffAugment's)
CUTOUT_RATIO = 1 / 2  # the side of the cut-out square, of the image side (DiffAugment's)


def translate(images: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Each image shifted by a whole number of pixels, up to 1/8 of its side each way; what comes in repeats the
    edge pixels (the background: black for MNIST, white for emoji; DiffAugment's zeros would be mid-gray here)."""
    n, _, h, w = images.shape
    ry, rx = max(1, round(h * SHIFT_RATIO)), max(1, round(w * SHIFT_RATIO))
    dy = torch.randint(-ry, ry + 1, (n, 1), generator=generator).to(images.device)
    dx = torch.randint(-rx, rx + 1, (n, 1), generator=generator).to(images.device)
    rows = (torch.arange(h, device=images.device) - dy).clamp(0, h - 1)  # (N, H): the source row of each row
    cols = (torch.arange(w, device=images.device) - dx).clamp(0, w - 1)  # (N, W)
    batch = torch.arange(n, device=images.device)[:, None, None]
    # advanced indices split by the channel slice: the result is (N, H, W, C)
    return images[batch, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def cutout(images: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Each image with a square of half its side set to 0, centred anywhere in it (clipped at the edges)."""
    n, _, h, w = images.shape
    sy, sx = round(h * CUTOUT_RATIO), round(w * CUTOUT_RATIO)
    cy = torch.randint(0, h, (n, 1), generator=generator).to(images.device)
    cx = torch.randint(0, w, (n, 1), generator=generator).to(images.device)
    row = torch.arange(h, device=images.device) - (cy - sy // 2)  # (N, H): the row's place in the square
    col = torch.arange(w, device=images.device) - (cx - sx // 2)  # (N, W)
    inside_y, inside_x = (row >= 0) & (row < sy), (col >= 0) & (col < sx)
    keep = ~(inside_y[:, :, None] & inside_x[:, None, :])
    return images * keep[:, None].to(images.dtype)


_BY_NAME = {"translation": translate, "cutout": cutout}
assert tuple(_BY_NAME) == AUGMENTATIONS


def augment(images: torch.Tensor, policy: Sequence[str], generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """``images`` (N, C, H, W) through each augmentation named in ``policy`` (of :data:`AUGMENTATIONS`), in order;
    the same shape, dtype and device, differentiable with respect to ``images``."""
    for name in policy:
        images = _BY_NAME[name](images, generator)
    return images
