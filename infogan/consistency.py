"""The restyling of images and the invariance of Q's categories under it (on in the MNIST recipe, off elsewhere).

Why: InfoGAN's objective is indifferent between partitions. On MNIST a categorical code can split two digits by
style (slant, stroke width) while a continuous code carries their identity, and the MI bound is just as full (see
the README's results). This term asks Q's categorical prediction on a real image and on a randomly transformed copy
of it to carry as much information about each other as possible: the IIC objective (Ji, Henriques & Vedaldi,
*Invariant Information Clustering*, ICCV 2019, eq. 3). The transformations are exactly the style factors a category
should not split on: rotation and shear (slant), scale and translation (size, position), and thinner strokes. Not
bolder ones: dilating a 4 can close its top into a 9, asking Q to give both one category. Measured on the seed that
merged 4 and 9 (README, results): with bolder and thinner strokes, or with no stroke change at all, 4 and 9 still
shared two categories after 3 epochs; with thinner strokes only they were apart. Since the same Q head also predicts
the generator's codes, the generator's categories follow, mostly: on other seeds the generator still kept two
categories of 4s and 9s apart by slant, so the MNIST recipe also asks Q to recover the generator's category from a
restyled fake (``lambda_fake_views`` in :mod:`infogan.infogan_module`, with :func:`random_style` below).

Pure torch, no Lightning. Images are (N, C, H, W) in [-1, 1] with ink bright (+1), as in MNIST.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F

from infogan.config import DEFAULTS

# Ranges of the random transformations: wide enough to span the slants of one digit, mild enough that a digit keeps
# its identity (a 6 must not become a 9). Rotation and shear are settings (``style_rotation``, ``style_shear`` in
# infogan.config, default +-25 degrees and +-0.4): on a seed that merged 4 and 9 under +-15 degrees and +-0.2 the two
# categories split the 4s and 9s by slant (upright / slanted); at +-25 and +-0.4 they were apart (README, results).
MAX_ROTATION_DEG = DEFAULTS["style_rotation"]
MAX_SHEAR = DEFAULTS["style_shear"]
SCALE_RANGE = (0.85, 1.15)
MAX_SHIFT_PX = 2.0


def random_style(images: torch.Tensor, generator: Optional[torch.Generator] = None,
                 max_rotation_deg: float = MAX_ROTATION_DEG, max_shear: float = MAX_SHEAR) -> torch.Tensor:
    """A copy of ``images`` (N, C, H, W), each randomly warped (affine); half of them also get thinner strokes.

    Rotation is drawn from +-``max_rotation_deg`` degrees, shear from +-``max_shear``. The random numbers are drawn
    on the CPU from ``generator`` (reproducible) and moved to the images' device. Returns (N, C, H, W), same dtype and
    device.
    """
    n, _, h, w = images.shape

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, generator=generator) * (hi - lo) + lo

    angle = uniform(-max_rotation_deg, max_rotation_deg) * math.pi / 180
    shear, scale = uniform(-max_shear, max_shear), uniform(*SCALE_RANGE)
    shift = torch.stack([uniform(-MAX_SHIFT_PX, MAX_SHIFT_PX) * 2 / w, uniform(-MAX_SHIFT_PX, MAX_SHIFT_PX) * 2 / h], 1)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    # theta maps output coordinates to input coordinates (affine_grid's convention): rotation, then shear in x
    theta = torch.stack([torch.stack([cos + shear * sin, -sin + shear * cos, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    thin = torch.randint(2, (n,), generator=generator)  # 1: erode
    theta, thin = theta.to(images.device, images.dtype), thin.to(images.device).view(n, 1, 1, 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    # what comes in from outside is each image's background (the mean of its border pixels per channel: black for
    # MNIST, white for emoji), not 0, which would be mid-gray here
    border = torch.cat([images[..., 0, :], images[..., -1, :], images[..., :, 0], images[..., :, -1]], -1)
    background = border.mean(-1, keepdim=True).unsqueeze(-1)  # (N, C, 1, 1)
    warped = F.grid_sample(images - background, grid, mode="bilinear", padding_mode="zeros",
                           align_corners=False) + background
    # a full 3x3 erosion erases MNIST's 2-3 px strokes; halfway to it thins them and keeps the digit
    eroded = (warped - F.max_pool2d(-warped, 3, stride=1, padding=1)) / 2
    return torch.where(thin == 1, eroded, warped)


def iic_loss(p: torch.Tensor, p_other: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Minus the mutual information between two categorical predictions of the same images (IIC, eq. 3).

    Args:
        p, p_other: (N, K) probabilities (rows sum to 1) for the images and their transformed copies.

    Returns:
        A scalar in nats, ``-I(c; c')``, at least ``-ln K``: reached when both predictions agree, are confident, and
        use all K categories equally often. A constant prediction scores 0, so the term cannot be won by collapse.
    """
    joint = p.t() @ p_other / p.shape[0]  # (K, K)
    joint = ((joint + joint.t()) / 2).clamp_min(eps)
    marginal_a, marginal_b = joint.sum(dim=1, keepdim=True), joint.sum(dim=0, keepdim=True)
    return -(joint * (joint.log() - marginal_a.log() - marginal_b.log())).sum()
