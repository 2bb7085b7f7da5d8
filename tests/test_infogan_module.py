"""The LightningModule: who gets updated when, the latent stream, sampling, the invariance term, and learning."""

import math

import pytest
import pytorch_lightning as pl
import torch

from infogan import InfoGAN
from infogan.consistency import random_style
from infogan.data.idx import load_mnist
from infogan.data.pixels import scale_images
from infogan.terms import Batch
from infogan.train import main
from tests.helpers import fake_batches


def _params(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def _changed(before: dict, module: torch.nn.Module) -> set[str]:
    return {k for k, v in module.named_parameters() if not torch.equal(before[k], v.detach())}


@pytest.mark.slow
def test_one_step_updates_d_then_g_and_the_d_step_leaves_g_untouched():
    model = InfoGAN()
    g0, d0 = _params(model.generator), _params(model.discriminator)
    seen = {}
    update = model._update

    def spy(name, loss_fn):
        if name == "generator":  # runs between the D step and the G step of the same batch
            seen["g_changed_by_d_step"] = _changed(g0, model.generator)
            seen["d_changed_by_d_step"] = _changed(d0, model.discriminator)
            seen["d_after_d_step"] = _params(model.discriminator)
        return update(name, loss_fn)

    model._update = spy
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


def _batch(model, real, codes, seed=1, index=0):
    return Batch(real, codes, torch.Generator().manual_seed(seed), index)


def test_the_invariance_term_trains_q_from_real_images_only(mnist_dir):
    torch.manual_seed(0)
    model = InfoGAN(lambda_real=1.0)
    real = scale_images(load_mnist(mnist_dir, train=False, download=False).images[:16])
    d, term = model.discriminator, model.objective.term("real_views")
    invariance = term.invariance(d.trunk(real), d.trunk(random_style(real, torch.Generator().manual_seed(0))))
    assert -math.log(10) - 1e-4 <= invariance.item() <= 1e-4  # -I(c; c'), between -ln 10 and 0
    invariance.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in d.q.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in d.trunk.parameters())
    assert all(p.grad is None for p in model.generator.parameters())  # real images only: G is untouched
    assert InfoGAN(lambda_real=0.0).objective.terms == []  # off: not built


def test_the_fake_views_term_asks_q_for_the_category_of_a_restyled_fake_and_trains_g_through_it():
    torch.manual_seed(0)
    model = InfoGAN(lambda_fake_views=1.0)
    codes = model.latent.sample(16, torch.Generator().manual_seed(0))
    fake = model.generator(model.latent.to_input(codes))
    term = model.objective.term("fake_views").nll(fake, codes, torch.Generator().manual_seed(1))
    assert 0 < term.item() < 2 * math.log(10)  # a cross-entropy over 10 categories, near ln 10 untrained
    plain = InfoGAN(lambda_fake_views=0.0)
    plain.load_state_dict(model.state_dict())
    real = torch.zeros(16, 1, 28, 28)
    with_term, _ = model.objective.generator_loss(_batch(model, real, codes), fake)
    without, _ = plain.objective.generator_loss(_batch(plain, real, codes), fake)
    assert torch.allclose(with_term - without, term, atol=1e-5)  # the generator's loss carries exactly this term
    term.backward()
    # the gradient reaches G through the (differentiable) restyling, and Q
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.generator.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.discriminator.q.parameters())


@pytest.mark.slow
def test_categorical_mi_bound_climbs_past_1_5_nats(mnist_dir, tmp_path):
    trainer = main(["--data_dir", str(mnist_dir), "--batch_size", "32", "--max_steps", "300",
                    "--limit_val_batches", "0", "--log_dir", str(tmp_path), "--seed", "0"])
    model = trainer.lightning_module
    at_start = main(["--data_dir", str(mnist_dir), "--fast_dev_run", "--log_dir", str(tmp_path)]).lightning_module
    mi = model.estimate_mi(n=2000, seed=123)  # fresh samples, eval mode
    assert mi["cat0"] > 1.5, mi  # ln 10 = 2.30 is the ceiling
    assert mi["cat0"] <= math.log(10) + 1e-6
    assert at_start.estimate_mi(n=2000, seed=123)["cat0"] < 1.0  # it was learned, not there from the start


def test_g_steps_updates_the_generator_that_often_per_batch():
    model = InfoGAN(g_steps=2, lambda_real=0.0)
    calls = []
    g_loss = model.objective.generator_loss

    def counting(batch, fake):
        calls.append(float(fake.detach().sum()))
        return g_loss(batch, fake)

    model.objective.generator_loss = counting
    trainer = pl.Trainer(max_steps=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(model, train_dataloaders=fake_batches())
    assert model.optimizer_steps(1) == 3 and trainer.global_step == 3 and len(calls) == 2
    assert calls[0] != calls[1]  # the second update draws its fakes anew from the updated generator
    with pytest.raises(ValueError, match="--g_steps 0: must be a finite number >= 1"):
        InfoGAN(g_steps=0)


def test_the_contrastive_term_adds_the_pair_classifiers_loss_to_g_and_trains_the_classifier_first():
    torch.manual_seed(0)
    model = InfoGAN(lambda_cr=2.0)
    off = InfoGAN()
    assert "pair_classifier" not in dict(off.named_children()) and len(off.configure_optimizers()) == 2  # nothing built
    term = model.objective.term("contrastive")
    g = torch.Generator().manual_seed(0)
    codes = model.latent.sample(16, g)
    batch = _batch(model, torch.zeros(16, 1, 28, 28), codes, seed=2)
    term.begin(batch)
    first, second, shared = batch.drawn["contrastive"]
    fake = model.generator(model.latent.to_input(codes))
    with_term, _ = model.objective.generator_loss(batch, fake)
    without = model.objective.generator_loss(_batch(model, batch.real, codes), fake)[0]  # nothing drawn: no pairs
    pair, accuracy = term.pair_loss(*(model.generator(model.latent.to_input(p)) for p in (first, second)), shared)
    assert torch.allclose(with_term - without, 2.0 * pair, atol=1e-5)  # exactly lambda_cr times the classifier's loss
    assert 0 < pair.item() < 2 * math.log(len(model.latent.code_names)) and 0 <= accuracy <= 1

    g0, cr0 = _params(model.generator), _params(model.pair_classifier)
    seen, order = {}, []
    update = model._update

    def spy(name, loss_fn):  # the classifier's step comes before any G update of the batch
        order.append(name)
        if name == "pair_classifier":
            seen["g_changed_before"] = _changed(g0, model.generator)
        return update(name, loss_fn)

    model._update = spy
    trainer = pl.Trainer(max_steps=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(model, train_dataloaders=fake_batches())
    assert model.optimizer_steps(1) == 3 and trainer.global_step == 3  # the classifier, D + Q, G: one batch
    assert order == ["pair_classifier", "discriminator", "generator"] and seen["g_changed_before"] == set()
    assert _changed(cr0, model.pair_classifier) == set(cr0)
    assert math.isfinite(float(trainer.callback_metrics["loss/cr"])) and "cr/accuracy" in trainer.callback_metrics
    with pytest.raises(ValueError, match="--lambda_cr -1.0: must be a finite number >= 0"):
        InfoGAN(lambda_cr=-1.0)


def test_before_cr_start_neither_the_generator_nor_the_classifier_sees_pairs():
    model = InfoGAN(lambda_cr=2.0, cr_start=2)
    cr0, seen = _params(model.pair_classifier), []
    update, g_loss = model._update, model.objective.generator_loss

    def spy_update(name, loss_fn):
        if name == "pair_classifier":
            seen.append(("classifier", model.batches_done()))
        return update(name, loss_fn)

    def spy_g(batch, fake):
        seen.append(("g with pairs" if "contrastive" in batch.drawn else "g", model.batches_done()))
        return g_loss(batch, fake)

    class Snapshot(pl.Callback):  # after batch 1, the last before cr_start
        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            if batch_idx == 1:
                self.cr_changed = _changed(cr0, module.pair_classifier)
                self.cr_state = dict(trainer.optimizers[2].state)

    model._update, model.objective.generator_loss, snapshot = spy_update, spy_g, Snapshot()
    trainer = pl.Trainer(max_steps=model.optimizer_steps(3), logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", callbacks=[snapshot])
    trainer.fit(model, train_dataloaders=fake_batches(24))
    assert seen == [("g", 0), ("g", 1), ("classifier", 2), ("g with pairs", 2)]
    assert trainer.global_step == 2 * 2 + 3 == model.optimizer_steps(3)  # D + Q, G; from batch 2 the classifier too
    assert [model.batches_done(step) for step in range(11)] == [0, 0, 1, 1, 2, 2, 2, 3, 3, 3, 4]
    assert snapshot.cr_changed == set() and snapshot.cr_state == {}  # untouched, no Adam state: fresh at cr_start
    assert _changed(cr0, model.pair_classifier) == set(cr0) and "loss/cr" in trainer.callback_metrics
    with pytest.raises(ValueError, match="--cr_start 5: .* needs --lambda_cr > 0"):
        InfoGAN(cr_start=5)
