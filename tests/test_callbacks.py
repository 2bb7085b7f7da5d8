"""Traversal GIFs: frame counts, sizes, what differs, when they are written, and across a resume."""


import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from infogan import InfoGAN
from infogan.callbacks import LatentTraversalGIF
from tests.helpers import fake_batches, gif_frames


@pytest.mark.slow
def test_callback_writes_every_n_epochs_and_at_the_end(tmp_path):
    gif = LatentTraversalGIF(every_n_epochs=2, n=4, nrow=2, frames=3)
    trainer = pl.Trainer(max_epochs=3, limit_train_batches=1, logger=TensorBoardLogger(tmp_path, name=""),
                         callbacks=[gif], enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(InfoGAN(), train_dataloaders=fake_batches())
    assert gif.written_at == [2, 3]  # epoch 2 by the interval, epoch 3 because training ended
    media = tmp_path / "version_0" / "media"
    assert sorted(p.name for p in media.iterdir()) == ["cat0.gif", "cont0.gif", "cont1.gif", "progress.gif"]

    side = 2 * 30 + 2  # 2 x 2 grid of 28 px images with 2 px padding
    cat, cont, progress = (gif_frames(media / f"{name}.gif") for name in ("cat0", "cont0", "progress"))
    assert len(cat) == 10 and all(f.shape == (side, side) for f in cat)
    assert len(cont) == 2 * 3 - 2  # -r..+r in 3 values, then back without repeating the ends
    assert len(progress) == 3  # one frame per epoch
    assert progress[0].shape == (10 * 30 + 2, 10 * 30 + 2)  # rows: 10 categories, columns: 10 sweep values
    assert not torch.equal(progress[0], progress[2])  # the generator changed between epochs

    events = EventAccumulator(str(tmp_path / "version_0")).Reload()
    assert [e.step for e in events.Images("media/cat0")] == [2, 3]
    assert [e.step for e in events.Images("media/progress")] == [1, 2, 3]
    assert events.Images("media/cat0")[0].encoded_image_string[:6] == b"GIF89a"  # animated in TensorBoard
    # the progress grid goes to TensorBoard as a still per epoch (its step slider plays them), not a growing GIF
    stills = [e.encoded_image_string for e in events.Images("media/progress")]
    assert all(s[:4] == b"\x89PNG" for s in stills) and max(map(len, stills)) < 2 * min(map(len, stills))
    assert len(gif.seconds) == 4 and all(s > 0 for s in gif.seconds)


def _fit(callback, epochs: int, model=None):
    model = model if model is not None else InfoGAN()
    trainer = pl.Trainer(max_epochs=epochs, limit_train_batches=1, logger=False, callbacks=[callback],
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         accelerator="cpu")
    trainer.fit(model, train_dataloaders=fake_batches())
    return trainer, model


def test_the_label_free_checks_are_logged_each_epoch_as_evaluate_computes_them():
    from infogan.callbacks import LabelFreeChecks
    from infogan.label_free import label_free_checks, model_generate

    trainer, model = _fit(LabelFreeChecks(n=32), 1)
    expected = label_free_checks(model_generate(model), model.latent, n=32)  # evaluate's call, on the trained model
    logged = trainer.callback_metrics
    assert float(logged["label_free/noise"]) == pytest.approx(expected["noise"], abs=1e-6)
    assert float(logged["label_free/duplicates"]) == pytest.approx(expected["duplicates"])
    for name in ("cat0", "cont0", "cont1"):
        assert float(logged[f"label_free/{name}"]) == pytest.approx(expected["codes"][name], abs=1e-6)
    assert expected["noise"] > 0.1  # a fresh generator is not called collapsed


def _collapsing_in(epochs: set[int]) -> InfoGAN:
    """A model whose generator draws one image (zeros) in the given epochs and is itself in the others."""
    model = InfoGAN()
    model.generator.register_forward_hook(
        lambda module, inputs, output: output * 0 if model.current_epoch in epochs else output)
    return model


def test_a_collapse_is_warned_about_when_it_persists_once_per_episode_and_a_resumed_run_goes_on_counting():
    from infogan.callbacks import LabelFreeChecks

    checks = LabelFreeChecks(n=16)
    expected = "epoch 1, 2 epochs in a row: collapse: every sample is the same image"
    with pytest.warns(UserWarning, match=expected) as caught:
        trainer, _ = _fit(checks, 3, _collapsing_in({0, 1, 2}))
    assert sum("collapse" in str(w.message) for w in caught) == 1  # epoch 2 collapsed too: no second warning
    assert float(trainer.callback_metrics["label_free/duplicates"]) == 1.0 and checks.streaks == {"collapse": 3}
    resumed = LabelFreeChecks()
    resumed.load_state_dict(checks.state_dict())
    assert resumed.streaks == {"collapse": 3}
    old = LabelFreeChecks()
    old.load_state_dict({"warned": ["collapse"]})  # the state the first version saved: already warned
    assert old.streaks == {"collapse": 2}


def test_a_one_epoch_collapse_is_not_warned_about_and_a_collapse_that_comes_back_is_warned_about_again():
    import warnings

    from infogan.callbacks import LabelFreeChecks

    checks = LabelFreeChecks(n=16)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fit(checks, 7, _collapsing_in({0, 1, 3, 5, 6}))  # a collapse, a one-epoch blip (a GAN's swings), another
    warned = [str(w.message).split(":")[0] for w in caught if "in a row" in str(w.message)]
    assert warned == ["epoch 1, 2 epochs in a row", "epoch 6, 2 epochs in a row"]
