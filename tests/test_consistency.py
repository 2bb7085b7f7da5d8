"""The invariance term on real images: its loss values, its transformations, and its wiring into the D step."""

import math

import pytest
import torch

from infogan.consistency import iic_loss, random_style


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


@pytest.mark.parametrize("flags, lambda_real", [([], 1.0), (["--lambda_real", "0"], 0.0)])
def test_the_mnist_recipe_adds_the_invariance_term_and_the_flag_turns_it_off(mnist_dir, tmp_path, flags, lambda_real):
    from infogan.infogan_module import main

    trainer = main(["--dataset", "mnist", "--data_dir", str(mnist_dir), "--batch_size", "16", "--max_epochs", "1",
                    "--limit_train_batches", "2", "--limit_val_batches", "0", "--log_dir", str(tmp_path), *flags])
    assert trainer.lightning_module.hparams.lambda_real == lambda_real  # kept in the checkpoint's hyperparameters
    logged = trainer.logged_metrics
    if lambda_real:
        assert 0.0 <= float(logged["mi/real_views"]) <= math.log(10) + 1e-4  # I(c; c') in nats
    else:
        assert "mi/real_views" not in logged


def test_the_invariance_term_trains_q_from_real_images_only(mnist_dir):
    from infogan.data import load_mnist, scale_images
    from infogan.infogan_module import InfoGAN

    torch.manual_seed(0)
    model = InfoGAN(lambda_real=1.0)
    real = scale_images(load_mnist(mnist_dir, train=False, download=False).images[:16])
    d = model.discriminator
    term = model._real_invariance(d.trunk(real), d.trunk(random_style(real, torch.Generator().manual_seed(0))))
    assert -math.log(10) - 1e-4 <= term.item() <= 1e-4  # -I(c; c'), between -ln 10 and 0
    term.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in d.q.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in d.trunk.parameters())
    assert all(p.grad is None for p in model.generator.parameters())  # real images only: G is untouched
