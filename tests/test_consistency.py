"""The invariance term on real images: its loss values and its transformations."""

import math

import pytest
import torch

from infogan import InfoGAN
from infogan.consistency import iic_loss, random_colour, random_style
from infogan.errors import SettingsError


def test_iic_loss_is_minus_ln_k_for_agreeing_confident_balanced_predictions_and_zero_for_collapse():
    k = 10
    perfect = torch.eye(k).repeat(20, 1)
    assert iic_loss(perfect, perfect).item() == pytest.approx(-math.log(k), abs=1e-4)
    constant = torch.zeros(200, k)
    constant[:, 3] = 1
    assert iic_loss(constant, constant).item() == pytest.approx(0.0, abs=1e-4)  # one category: no information
    independent = torch.eye(k)[torch.randint(k, (5000,), generator=torch.Generator().manual_seed(0))]
    shuffled = independent[torch.randperm(5000, generator=torch.Generator().manual_seed(1))]
    assert abs(iic_loss(independent, shuffled).item()) < 0.05  # views that disagree at random carry ~0 nats
    # hand-computed: 4 images, 2 categories, the views agree on 3: joint [[1/4, 1/4], [0, 1/2]], symmetrised
    # [[1/4, 1/8], [1/8, 1/2]], marginals (3/8, 5/8)
    a = torch.tensor([[1.0, 0], [1, 0], [0, 1], [0, 1]])
    b = torch.tensor([[1.0, 0], [0, 1], [0, 1], [0, 1]])
    expected = (0.25 * math.log(0.25 / (3 / 8) ** 2) + 2 * 0.125 * math.log(0.125 / (3 / 8 * 5 / 8))
                + 0.5 * math.log(0.5 / (5 / 8) ** 2))
    assert iic_loss(a, b).item() == pytest.approx(-expected, abs=1e-5)


def test_random_style_keeps_shape_range_and_is_reproducible_but_changes_images():
    images = -torch.ones(6, 1, 28, 28)
    images[:, :, 8:20, 12:16] = 1.0  # a bar of ink on the background
    a = random_style(images, torch.Generator().manual_seed(0))
    b = random_style(images, torch.Generator().manual_seed(0))
    assert a.shape == images.shape and torch.equal(a, b)
    assert a.min() >= -1 - 1e-5 and a.max() <= 1 + 1e-5
    assert a[:, :, :2].max() == pytest.approx(-1.0) and a[:, :, -2:].max() == pytest.approx(-1.0)  # background stays
    assert not torch.allclose(a, images, atol=1e-2)
    ink = ((a + 1) / 2).sum(dim=(1, 2, 3))
    assert (ink > 0.3 * 48).all() and (ink < 3 * 48).all()  # the stroke survives (48 ink pixels before)


def test_random_style_fills_what_a_warp_brings_in_with_each_images_own_background():
    """A white-background colour image (emoji) keeps white corners when rotated; padding with black would add dark
    wedges that exist in no real image."""
    images = torch.ones(8, 3, 32, 32)
    images[:, 0, 10:22, 10:22] = -0.5  # a coloured square on white
    styled = random_style(images, torch.Generator().manual_seed(0), max_rotation_deg=45)
    assert styled[..., :2, :2].min() > 0.99 and styled[..., -2:, -2:].min() > 0.99
    assert not torch.allclose(styled, images, atol=1e-2)


def test_random_colour_distorts_each_image_its_own_way_within_range_and_reproducibly():
    images = torch.ones(64, 3, 16, 16)  # white background
    images[:, 0, 4:12, 4:12], images[:, 1, 4:12, 4:12], images[:, 2, 4:12, 4:12] = 0.6, -0.2, -0.8  # an orange square
    a = random_colour(images, torch.Generator().manual_seed(0))
    assert a.shape == images.shape and torch.equal(a, random_colour(images, torch.Generator().manual_seed(0)))
    assert a.min() >= -1 and a.max() <= 1
    weak = random_colour(images, torch.Generator().manual_seed(0), strength=0.0)  # the same draws, no jitter
    gray = (weak - images).abs().amax((1, 2, 3)) > 1e-5  # strength 0: only the gray copies change...
    assert (weak[gray].amax(1) - weak[gray].amin(1)).max() < 1e-5  # ...and they are gray
    assert 3 <= gray.sum() <= 30  # about a fifth of the copies (SimCLR's p = 0.2)
    square = a[~gray][:, :, 8, 8]  # (N, 3): the square's colour in each coloured copy
    hues = torch.atan2(square[:, 1] - square[:, 2], 2 * square[:, 0] - square[:, 1] - square[:, 2])
    assert hues.std() > 0.2  # each rotated its own way


def test_the_invariance_term_distorts_colour_images_only_when_asked():
    assert InfoGAN(lambda_real=1.0).objective.term("real_views").colour == 0.0
    assert InfoGAN(lambda_real=1.0, style_colour=0.5).objective.term("real_views").colour == 0.5
    with pytest.raises(SettingsError, match="--style_colour 2.0: must be a number from 0 to 1"):
        InfoGAN(lambda_real=1.0, style_colour=2.0)
