"""DiffAugment (--augment): what each augmentation does to an image, that G's gradient passes through it, and that
the adversarial head alone judges augmented images, real and fake, and only when the setting asks."""

import copy

import pytest
import torch

from infogan import InfoGAN
from infogan.augment import augment, cutout, translate
from infogan.errors import SettingsError
from infogan.terms import Batch


def _dot_images(n: int = 32, side: int = 32) -> torch.Tensor:
    """White images (N, 3, side, side) with one dark pixel at the centre."""
    images = torch.ones(n, 3, side, side)
    images[:, :, side // 2, side // 2] = -1.0
    return images


def test_translation_moves_each_image_by_a_whole_shift_of_at_most_an_eighth_and_fills_with_the_edge():
    images = _dot_images()
    shifted = translate(images, torch.Generator().manual_seed(0))
    assert shifted.shape == images.shape
    assert torch.equal((shifted == -1).sum(dim=(1, 2, 3)), torch.full((32,), 3))  # the dot, once per channel
    where = (shifted[:, 0] == -1).nonzero()[:, 1:] - 16  # (N, 2): each dot's offset from the centre
    assert where.abs().max() <= 4 and (where != 0).any(dim=1).float().mean() > 0.5
    assert len({tuple(w.tolist()) for w in where}) > 10  # shifts drawn per image
    assert shifted[:, :, :, :2].min() == 1.0  # what comes in at the edges is the white background, not gray
    again = translate(images, torch.Generator().manual_seed(0))
    assert torch.equal(shifted, again)  # the batch's stream decides: a resumed run augments alike


def test_cutout_zeroes_one_square_of_half_the_side_in_each_image():
    images = torch.ones(64, 1, 32, 32)
    out = cutout(images, torch.Generator().manual_seed(0))
    zeroed = out == 0
    assert torch.equal(out[~zeroed], images[~zeroed])  # the rest is untouched
    counts = zeroed.sum(dim=(1, 2, 3))
    assert counts.max() == 16 * 16 and counts.min() >= 8 * 8  # whole inside, or clipped to a corner at worst
    rows, cols = zeroed.any(dim=3)[:, 0], zeroed.any(dim=2)[:, 0]
    assert torch.equal(rows.sum(1) * cols.sum(1), counts)  # a rectangle: rows x columns


def test_the_generators_gradient_passes_through_the_augmentation():
    images = _dot_images(8).requires_grad_()
    out = augment(images, ["translation", "cutout"], torch.Generator().manual_seed(0))
    (out * torch.randn_like(out)).sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    assert augment(images, [], None) is images  # no policy: the images themselves


def _trunk_inputs(model: InfoGAN, real: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor, dict]:
    """What D's trunk saw in one D step and one G step, in order; the fakes; and the G step's NLL per code."""
    seen: list[torch.Tensor] = []
    model.discriminator.trunk.register_forward_pre_hook(lambda _, args: seen.append(args[0].detach().clone()))
    codes = model.latent.sample(real.shape[0], torch.Generator().manual_seed(0))
    fake = model.generator(model.latent.to_input(codes))
    batch = Batch(real, codes, torch.Generator().manual_seed(1), 0)
    model.objective.discriminator_loss(batch, fake.detach())
    _, nll = model.objective.generator_loss(batch, fake)
    return seen, fake.detach(), nll


def test_the_adversarial_head_judges_augmented_images_and_q_reads_the_fakes_as_generated():
    torch.manual_seed(0)
    real = _dot_images(16, 28)[:, :1]
    plain = InfoGAN()
    seen, fake, nll_plain = _trunk_inputs(plain, real)
    assert len(seen) == 3 and torch.equal(seen[0], real) and all(torch.equal(x, fake) for x in seen[1:])
    augmented = InfoGAN(augment=["translation"])
    augmented.load_state_dict(plain.state_dict())
    seen, fake, nll = _trunk_inputs(augmented, real)
    # D step: T(real), T(fake) for the adversarial head, the fake itself for Q; G step: the fake for Q, T(fake)
    real_in, fake_in, q_in, q_in_g, fake_in_g = seen
    for judged, source in ((real_in, real), (fake_in, fake), (fake_in_g, fake)):
        assert judged.shape == source.shape and not torch.equal(judged, source)
    assert torch.equal((real_in == -1).sum(dim=(1, 2, 3)), torch.ones(16, dtype=torch.long))  # moved, not redrawn
    assert torch.equal(q_in, fake) and torch.equal(q_in_g, fake)
    assert all(torch.allclose(nll[k], nll_plain[k]) for k in nll)  # the information term is untouched


def test_the_trunks_running_statistics_describe_the_images_as_they_are_not_their_augmented_copies():
    """Eval mode (evaluate, Q on real images) normalises by the running statistics: augmented passes must not move
    them, or Q reads un-augmented images through statistics of cut-out ones (on emoji, the MI bound evaluate measured
    for the same generator was 0.29 nats with them moved, 0.51 without)."""
    torch.manual_seed(0)
    model = InfoGAN(augment=["translation", "cutout"])
    expected = copy.deepcopy(model.discriminator.trunk)
    real = _dot_images(16, 28)[:, :1]
    _, fake, _ = _trunk_inputs(model, real)
    expected(fake)  # the two passes of the fakes as generated: Q's, in the D step and in the G step
    expected(fake)
    got, want = model.discriminator.trunk.state_dict(), expected.state_dict()
    stats = [k for k in want if k.endswith(("running_mean", "running_var"))]
    assert stats and all(torch.allclose(got[k], want[k]) for k in stats)


@pytest.mark.parametrize("value", [["blur"], ["cutout", "cutout"]])
def test_an_unknown_or_repeated_augmentation_is_refused_in_one_line(value):
    with pytest.raises(SettingsError, match="--augment .*translation, cutout"):
        InfoGAN(augment=value)
