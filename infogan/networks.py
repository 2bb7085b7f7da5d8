"""Generator, discriminator (shared trunk + adversarial head + Q head), InfoGAN-CR's pair classifier, weight init.

Presets: ``mnist`` is the paper's MNIST nets (Chen et al. 2016, appendix C.1) layer for layer, 28 x 28; ``celeba32``
the paper's CelebA nets (appendix C.3), 32 x 32; ``dcgan64`` DCGAN-style nets (Radford et al. 2016), 64 x 64. Fully
connected layers are
``nn.Linear``: written as 1x1/7x7 convolutions they run several times slower on CPU. Layers followed by BatchNorm
carry no bias (BatchNorm's shift makes it redundant). No Lightning here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Sequence

import torch
from torch import nn

from infogan.config import PIXEL_RANGES, check_settings

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
    """Q(c | x) from the trunk's features: FC ->128, BN, lReLU, FC 128->q_dim (without BN when ``batch_norm`` is off,
    as in InfoGAN-CR's networks).

    Input: (N, in_features). Output: (N, q_dim), laid out as :meth:`infogan.latent.LatentSpec.split_q` expects.
    """

    def __init__(self, in_features: int, q_dim: int, hidden: int = 128, *, batch_norm: bool = True,
                 slope: float = LRELU_SLOPE) -> None:
        super().__init__()
        norm = [nn.BatchNorm1d(hidden)] if batch_norm else []
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden, bias=not batch_norm),
            *norm,
            nn.LeakyReLU(slope, inplace=True),
            nn.Linear(hidden, q_dim),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


class Discriminator(nn.Module):
    """A trunk with two heads: the adversarial logit and Q's prediction of the latent codes.

    The heads are separate submodules so a training step can run the trunk once and use both heads on its features.
    ``forward(x)`` returns ``(logit (N,), q_out (N, q_dim))``.
    """

    def __init__(self, trunk: nn.Module, q_dim: int, q_head: Callable[[int, int], nn.Module] = QHead) -> None:
        super().__init__()
        self.trunk = trunk
        self.head = nn.Linear(trunk.out_features, 1)
        self.q = q_head(trunk.out_features, q_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.head(h).squeeze(1), self.q(h)


class CRGenerator(nn.Module):
    """InfoGAN-CR's dSprites generator (Lin et al. 2020), 64 x 64: batch norm after each activation.

    FC in->128, ReLU, BN; FC ->4*4*64, ReLU, BN; upconv 64 (8x8), lReLU(0.2), BN; upconv 32 (16x16), lReLU, BN;
    upconv 32 (32x32), lReLU, BN; upconv C (64x64); tanh. (Their output is a sigmoid in [0, 1]: ``build_networks``
    with ``pixel_range`` 0 1, dSprites' own, swaps the tanh for it.) About 16 MFLOP per image, against 204 for
    ``dcgan64``.

    Input: (N, input_dim). Output: (N, channels, 64, 64) in [-1, 1].
    """

    def __init__(self, input_dim: int, channels: int = 1) -> None:
        super().__init__()
        up = [(64, 64), (64, 32), (32, 32)]
        self.fc = nn.Sequential(
            nn.Linear(input_dim, 128), nn.ReLU(inplace=True), nn.BatchNorm1d(128),
            nn.Linear(128, 4 * 4 * 64), nn.ReLU(inplace=True), nn.BatchNorm1d(4 * 4 * 64),
        )
        layers: list[nn.Module] = []
        for w_in, w_out in up:
            layers += [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.BatchNorm2d(w_out)]
        self.deconv = nn.Sequential(*layers, nn.ConvTranspose2d(32, channels, 4, 2, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.fc(x).view(-1, 64, 4, 4))


class CRTrunk(nn.Module):
    """InfoGAN-CR's dSprites discriminator body: 4x4 stride-2 convs 32, 32, 64, 64 (64 -> 4 px), lReLU(0.2), no batch
    norm; FC 1024 -> 128, lReLU.

    Input: (N, channels, 64, 64). Output: (N, 128).
    """

    out_features = 128

    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for w_in, w_out in [(channels, 32), (32, 32), (32, 64), (64, 64)]:
            layers += [nn.Conv2d(w_in, w_out, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.LeakyReLU(0.2, inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PairClassifier(nn.Module):
    """InfoGAN-CR's contrastive discriminator (Lin et al. 2020): which code do the two images of a pair share?

    Its own network, not a head on D's trunk, as in their code. 4x4 stride-2 convs 32, 32, 64, 64, lReLU(0.2), batch
    norm after the activation of all but the first; FC 128, lReLU, BN; FC to one logit per code. Their layers are for
    64 x 64; the flattened size follows ``image_size`` here, so every preset can use it.

    Input: two image batches (N, C, S, S), stacked on channels. Output: (N, num_codes) logits.
    """

    def __init__(self, channels: int, image_size: int, num_codes: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, (w_in, w_out) in enumerate([(2 * channels, 32), (32, 32), (32, 64), (64, 64)]):
            layers += [nn.Conv2d(w_in, w_out, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            layers += [nn.BatchNorm2d(w_out)] if i else []
            image_size //= 2  # a 4x4 stride-2 conv with padding 1 halves the side (rounding down)
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * image_size**2, 128),
                                 nn.LeakyReLU(0.2, inplace=True), nn.BatchNorm1d(128), nn.Linear(128, num_codes))

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([first, second], dim=1))


class SigmoidPixels(nn.Module):
    """The output layer of a generator built for [0, 1] pixels: a sigmoid, handed on rescaled to [-1, 1] (the
    discriminator's :class:`UnitPixels` maps it back, so the networks see the sigmoid's own values)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x).mul(2).sub(1)


class UnitPixels:
    """A forward pre-hook: [-1, 1] images -> [0, 1] before a network built for [0, 1] pixels sees them.

    A hook, not a layer, so it adds no ``state_dict`` key and the weights keep the names of the [-1, 1] networks; a
    class, not a lambda, so the networks still pickle (DDP spawn).
    """

    def __call__(self, module: nn.Module, args: tuple) -> tuple:
        return tuple(x.add(1).mul(0.5) for x in args)


def _see_unit_pixels(generator: nn.Module, *readers: nn.Module) -> None:
    """Rebuild networks for [0, 1] pixels: the generator's final tanh becomes :class:`SigmoidPixels`, and each
    reader (trunk, pair classifier) gets :class:`UnitPixels` in front."""
    if not isinstance(generator.deconv[-1], nn.Tanh):
        raise TypeError(f"{type(generator).__name__} does not end in a tanh to replace")
    generator.deconv[-1] = SigmoidPixels()
    for reader in readers:
        reader.register_forward_pre_hook(UnitPixels())


def init_weights(module: nn.Module) -> None:
    """DCGAN/InfoGAN init: conv and linear weights ~ N(0, 0.02), biases 0; BatchNorm scale ~ N(1, 0.02), shift 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


@dataclass(frozen=True)
class Preset:
    """A network preset: the image size it makes, and factories of its generator (input_dim, channels), trunk
    (channels) and Q head (in_features, q_dim)."""

    size: int
    generator: Callable[[int, int], nn.Module]
    trunk: Callable[[int], nn.Module]
    q_head: Callable[[int, int], nn.Module] = QHead


PRESETS: dict[str, Preset] = {
    "mnist": Preset(28, MNISTGenerator, MNISTTrunk),
    "celeba32": Preset(32, partial(ConvGenerator, start=2, widths=(448, 256, 128, 64)),
                       partial(ConvTrunk, image_size=32, widths=(64, 128, 256))),
    "dcgan64": Preset(64, partial(ConvGenerator, start=4, widths=(512, 256, 128, 64)),
                      partial(ConvTrunk, image_size=64, widths=(64, 128, 256, 512))),
    "cr64": Preset(64, CRGenerator, CRTrunk, partial(QHead, batch_norm=False, slope=0.2)),
}


def build_networks(preset: str, input_dim: int, q_dim: int, channels: int, spectral_norm: bool = False,
                   spectral_norm_q: bool = False, pixel_range: Sequence[float] = PIXEL_RANGES[0]
                   ) -> tuple[nn.Module, Discriminator]:
    """Build and initialise (generator, discriminator) of a preset.

    Args:
        preset: a key of :data:`PRESETS`.
        input_dim: generator input size (:attr:`LatentSpec.input_dim`).
        q_dim: Q output size (:attr:`LatentSpec.q_dim`).
        channels: image channels (1 for MNIST).
        spectral_norm: spectrally normalise the discriminator's trunk and adversarial head.
        spectral_norm_q: also Q's layers (InfoGAN-CR does; by default Q is left free to fit the codes).
        pixel_range: the pixel range the networks see, one of :data:`infogan.config.PIXEL_RANGES`; they take and
            return [-1, 1].
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown network preset {preset!r}; choose one of {sorted(PRESETS)}")
    check_settings(dict(pixel_range=pixel_range))
    nets = PRESETS[preset]
    generator = nets.generator(input_dim, channels)
    discriminator = Discriminator(nets.trunk(channels), q_dim, nets.q_head)
    generator.apply(init_weights)
    discriminator.apply(init_weights)
    normalised = (discriminator.trunk, discriminator.head) if spectral_norm else ()
    normalised += (discriminator.q,) if spectral_norm_q else ()
    for part in normalised:
        for module in list(part.modules()):
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.utils.parametrizations.spectral_norm(module)
    if tuple(pixel_range) == (0.0, 1.0):
        _see_unit_pixels(generator, discriminator.trunk)
    return generator, discriminator


def build_pair_classifier(preset: str, channels: int, num_codes: int,
                          pixel_range: Sequence[float] = PIXEL_RANGES[0]) -> PairClassifier:
    """An initialised :class:`PairClassifier` for the images of a preset, seeing ``pixel_range``."""
    classifier = PairClassifier(channels, PRESETS[preset].size, num_codes)
    classifier.apply(init_weights)
    if tuple(pixel_range) == (0.0, 1.0):
        classifier.register_forward_pre_hook(UnitPixels())
    return classifier

