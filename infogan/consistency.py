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


# RGB -> YIQ (NTSC): Y is the luminance, (I, Q) the chroma plane a hue change rotates
_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def random_colour(images: torch.Tensor, generator: Optional[torch.Generator] = None,
                  strength: float = 1.0) -> torch.Tensor:
    """A copy of colour ``images`` (N, 3, H, W) in [-1, 1], each with its own random colour distortion (SimCLR's,
    Chen et al. 2020, at ``strength`` s in [0, 1]): with probability 0.8 a brightness, contrast and saturation factor
    each from [1 - 0.8 s, 1 + 0.8 s] and a hue rotation of up to 0.2 s of a turn; with probability 0.2 gray.

    Why: Q's categories on colour images follow colour first (skin tone, a yellow face), where a kind of image keeps
    its category in any colour. Every change is linear in the pixels (one 3 x 3 matrix and an offset per image), so
    the batch is distorted at once. Returns (N, 3, H, W) in [-1, 1], same dtype and device.
    """
    n = images.shape[0]

    def factor(spread: float) -> torch.Tensor:  # (N,) from [1 - spread, 1 + spread]
        return 1 + (torch.rand(n, generator=generator) * 2 - 1) * spread

    brightness, contrast, saturation = factor(0.8 * strength), factor(0.8 * strength), factor(0.8 * strength)
    turn = (torch.rand(n, generator=generator) * 2 - 1) * 0.2 * strength * 2 * math.pi
    jitter = torch.rand(n, generator=generator) < 0.8
    gray = torch.rand(n, generator=generator) < 0.2
    cos, sin, one, zero = torch.cos(turn), torch.sin(turn), torch.ones(n), torch.zeros(n)
    # in YIQ: keep Y, scale the chroma by the saturation and rotate it by the hue turn
    chroma = torch.stack([torch.stack([one, zero, zero], 1),
                          torch.stack([zero, saturation * cos, -saturation * sin], 1),
                          torch.stack([zero, saturation * sin, saturation * cos], 1)], 1)  # (N, 3, 3)
    matrix = _YIQ.inverse() @ chroma @ _YIQ
    matrix = torch.where(jitter[:, None, None], matrix, torch.eye(3))
    matrix = torch.where(gray[:, None, None], _YIQ[:1].expand(3, 3), matrix)  # every channel the luminance
    scale, contrast = torch.where(jitter, brightness, one).view(n, 1, 1, 1), torch.where(jitter, contrast, one)
    matrix, scale, contrast, luma = (t.to(images.device, images.dtype) for t in (matrix, scale, contrast, _YIQ[0]))
    pixels = torch.einsum("nij,njhw->nihw", matrix, (images + 1) / 2) * scale
    mean_luminance = torch.einsum("j,njhw->nhw", luma, pixels).mean((1, 2))  # (N,)
    pixels = contrast.view(n, 1, 1, 1) * pixels + ((1 - contrast) * mean_luminance).view(n, 1, 1, 1)
    return pixels.clamp(0, 1) * 2 - 1


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
