"""Generator, discriminator (shared trunk + adversarial head + Q head) and weight init.

Presets: ``mnist`` is the paper's MNIST nets (Chen et al. 2016, appendix C.1) layer for layer, 28 x 28; ``celeba32``
the paper's CelebA nets (appendix C.3), 32 x 32; ``dcgan64`` DCGAN-style nets (Radford et al. 2016), 64 x 64. Fully
connected layers are
``nn.Linear``: written as 1x1/7x7 convolutions they run several times slower on CPU. Layers followed by BatchNorm
carry no bias (BatchNorm's shift makes it redundant). No Lightning here.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Sequence

import torch
from torch import nn

LRELU_SLOPE = 0.1


def _lrelu() -> nn.Module:
    return nn.LeakyReLU(LRELU_SLOPE, inplace=True)


class MNISTGenerator(nn.Module):
    """The paper's MNIST generator.

    FC in->1024, BN, ReLU; FC 1024->7*7*128, BN, ReLU; upconv 128->64 (4x4, s2), BN, ReLU; upconv 64->C (4x4, s2); tanh.

    Input: (N, input_dim) latent vector. Output: (N, channels, 28, 28) in [-1, 1].
    """

    def __init__(self, input_dim: int, channels: int = 1) -> None:
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(input_dim, 1024, bias=False),
            nn.BatchNorm1d(1024),
            nn.ReLU(inplace=True),
            nn.Linear(1024, 128 * 7 * 7, bias=False),
            nn.BatchNorm1d(128 * 7 * 7),
            nn.ReLU(inplace=True),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(64, channels, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.fc(x).view(-1, 128, 7, 7))


class MNISTTrunk(nn.Module):
    """The paper's MNIST discriminator body, shared by the D head and the Q head.

    conv C->64 (4x4, s2), lReLU(0.1); conv 64->128 (4x4, s2), BN, lReLU; FC 6272->1024, BN, lReLU.

    Input: (N, channels, 28, 28). Output: (N, 1024) features.
    """

    out_features = 1024

    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 64, 4, 2, 1),
            _lrelu(),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            _lrelu(),
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 1024, bias=False),
            nn.BatchNorm1d(1024),
            _lrelu(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvGenerator(nn.Module):
    """FC to a (widths[0], start, start) map, stride-2 4x4 upconvs (BN, ReLU) through ``widths``, upconv to C, tanh.

    Input: (N, input_dim). Output: (N, channels, start * 2**len(widths), same) in [-1, 1].
    """

    def __init__(self, input_dim: int, channels: int, start: int, widths: Sequence[int]) -> None:
        super().__init__()
        self.start, self.width = start, widths[0]
        self.fc = nn.Sequential(
            nn.Linear(input_dim, widths[0] * start * start, bias=False),
            nn.BatchNorm1d(widths[0] * start * start),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        for w_in, w_out in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=False), nn.BatchNorm2d(w_out),
                       nn.ReLU(inplace=True)]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.deconv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.fc(x).view(-1, self.width, self.start, self.start))


class ConvTrunk(nn.Module):
    """Stride-2 4x4 convs through ``widths`` (lReLU(0.1); BN on all but the first), flattened.

    Input: (N, channels, image_size, image_size). Output: (N, widths[-1] * (image_size / 2**len(widths))**2).
    """

    def __init__(self, channels: int, image_size: int, widths: Sequence[int]) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1), _lrelu()]
        for w_in, w_out in zip(widths, widths[1:]):
            layers += [nn.Conv2d(w_in, w_out, 4, 2, 1, bias=False), nn.BatchNorm2d(w_out), _lrelu()]
        self.net = nn.Sequential(*layers, nn.Flatten())
        self.out_features = widths[-1] * (image_size // 2 ** len(widths)) ** 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class QHead(nn.Module):
    """Q(c | x) from the trunk's features: FC ->128, BN, lReLU, FC 128->q_dim.

    Input: (N, in_features). Output: (N, q_dim), laid out as :meth:`infogan.latent.LatentSpec.split_q` expects.
    """

    def __init__(self, in_features: int, q_dim: int, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            _lrelu(),
            nn.Linear(hidden, q_dim),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


class Discriminator(nn.Module):
    """A trunk with two heads: the adversarial logit and Q's prediction of the latent codes.

    The heads are separate submodules so a training step can run the trunk once and use both heads on its features.
    ``forward(x)`` returns ``(logit (N,), q_out (N, q_dim))``.
    """

    def __init__(self, trunk: nn.Module, q_dim: int) -> None:
        super().__init__()
        self.trunk = trunk
        self.head = nn.Linear(trunk.out_features, 1)
        self.q = QHead(trunk.out_features, q_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.head(h).squeeze(1), self.q(h)


def init_weights(module: nn.Module) -> None:
    """DCGAN/InfoGAN init: conv and linear weights ~ N(0, 0.02), biases 0; BatchNorm scale ~ N(1, 0.02), shift 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


# preset name -> (image size, generator factory(input_dim, channels), trunk factory(channels))
PRESETS: dict[str, tuple[int, Callable[[int, int], nn.Module], Callable[[int], nn.Module]]] = {
    "mnist": (28, MNISTGenerator, MNISTTrunk),
    "celeba32": (32, partial(ConvGenerator, start=2, widths=(448, 256, 128, 64)),
                 partial(ConvTrunk, image_size=32, widths=(64, 128, 256))),
    "dcgan64": (64, partial(ConvGenerator, start=4, widths=(512, 256, 128, 64)),
                partial(ConvTrunk, image_size=64, widths=(64, 128, 256, 512))),
}


def build_networks(preset: str, input_dim: int, q_dim: int, channels: int,
                   spectral_norm: bool = False) -> tuple[nn.Module, Discriminator]:
    """Build and initialise (generator, discriminator) of a preset.

    Args:
        preset: a key of :data:`PRESETS`.
        input_dim: generator input size (:attr:`LatentSpec.input_dim`).
        q_dim: Q output size (:attr:`LatentSpec.q_dim`).
        channels: image channels (1 for MNIST).
        spectral_norm: spectrally normalise the discriminator's trunk and adversarial head (not Q, whose job is to
            fit the codes, not to stay 1-Lipschitz).
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown network preset {preset!r}; choose one of {sorted(PRESETS)}")
    _, make_generator, make_trunk = PRESETS[preset]
    generator = make_generator(input_dim, channels)
    discriminator = Discriminator(make_trunk(channels), q_dim)
    generator.apply(init_weights)
    discriminator.apply(init_weights)
    if spectral_norm:
        for part in (discriminator.trunk, discriminator.head):
            for module in list(part.modules()):
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    nn.utils.parametrizations.spectral_norm(module)
    return generator, discriminator
