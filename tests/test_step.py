"""The training step: who gets updated when."""

import math

import pytorch_lightning as pl
import torch

from infogan import InfoGAN
from tests.conftest import fake_batches


def _params(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def _changed(before: dict, module: torch.nn.Module) -> set[str]:
    return {k for k, v in module.named_parameters() if not torch.equal(before[k], v.detach())}


def test_one_step_updates_d_then_g_and_the_d_step_leaves_g_untouched():
    model = InfoGAN()
    g0, d0 = _params(model.generator), _params(model.discriminator)
    seen = {}
    g_step = model._generator_step

    def spy(fake, codes):  # runs between the D step and the G step of the same batch
        seen["g_changed_by_d_step"] = _changed(g0, model.generator)
        seen["d_changed_by_d_step"] = _changed(d0, model.discriminator)
        seen["d_after_d_step"] = _params(model.discriminator)
        return g_step(fake, codes)

    model._generator_step = spy
    trainer = pl.Trainer(max_steps=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(model, train_dataloaders=fake_batches())

    assert seen["g_changed_by_d_step"] == set()
    all_d = {k for k, _ in model.discriminator.named_parameters()}
    assert seen["d_changed_by_d_step"] == all_d  # trunk, D head and Q head all learn in the D step
    assert _changed(g0, model.generator) == {k for k, _ in model.generator.named_parameters()}
    # The G step does not move D (its parameters were toggled off and are not in G's optimizer).
    assert _changed(seen["d_after_d_step"], model.discriminator) == set()
    assert trainer.global_step == 2  # Lightning counts both optimizer steps of the one batch
    for name in ("loss/d", "loss/g", "mi/cat0", "info/cont0", "d(x)", "d(g(z))"):
        assert math.isfinite(float(trainer.callback_metrics[name])), name


def test_ranks_and_steps_draw_different_codes_and_a_rerun_draws_the_same():
    model = InfoGAN(seed=7)
    first = model._draw_codes(64)
    again = model._draw_codes(64)
    assert all(torch.equal(a, b) for a, b in zip(first, again))  # same (seed, rank, step): same stream
    model2 = InfoGAN(seed=8)
    assert not torch.equal(first.z, model2._draw_codes(64).z)


def test_sample_is_deterministic_with_a_seed_and_honours_fixed_codes():
    model = InfoGAN()
    a = model.sample(6, seed=1)
    assert a.shape == (6, 1, 28, 28) and torch.equal(a, model.sample(6, seed=1))
    assert not torch.equal(a, model.sample(6, seed=2))
    assert model.generator.training  # sample() restores the training flag it found
    by_cat = [model.sample(4, categorical=[k], seed=3) for k in (0, 5)]
    assert not torch.equal(*by_cat)  # same noise, other category -> other image
