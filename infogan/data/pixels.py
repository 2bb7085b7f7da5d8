"""The one pixel convention outside the networks: images are uint8 0..255 in storage and float [-1, 1] in a batch.

(Networks that see another range map to it themselves: :data:`infogan.config.PIXEL_RANGES`.)
"""

from __future__ import annotations

import torch


def scale_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images.float().div_(127.5).sub_(1.0)
