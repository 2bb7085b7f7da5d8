"""Traversal GIFs: frame counts, sizes, what differs, and when they are written."""

import pytorch_lightning as pl
import torch
from PIL import Image, ImageSequence
from pytorch_lightning.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from infogan import InfoGAN, render
from infogan.callbacks import LatentTraversalGIF
from tests.conftest import fake_batches


def _frames(path) -> list[torch.Tensor]:
    with Image.open(path) as im:
        return [torch.from_numpy(__import__("numpy").array(f.convert("L"))) for f in ImageSequence.Iterator(im)]


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
    cat, cont, progress = _frames(media / "cat0.gif"), _frames(media / "cont0.gif"), _frames(media / "progress.gif")
    assert len(cat) == 10 and all(f.shape == (side, side) for f in cat)
    assert len(cont) == 2 * 3 - 2  # -r..+r in 3 values, then back without repeating the ends
    assert len(progress) == 3  # one frame per epoch
    assert progress[0].shape == (10 * 30 + 2, 10 * 30 + 2)  # rows: 10 categories, columns: 10 sweep values
    assert not torch.equal(progress[0], progress[2])  # the generator changed between epochs

    events = EventAccumulator(str(tmp_path / "version_0")).Reload()
    assert [e.step for e in events.Images("media/cat0")] == [2, 3]
    assert [e.step for e in events.Images("media/progress")] == [1, 2, 3]
    assert events.Images("media/cat0")[0].encoded_image_string[:6] == b"GIF89a"  # animated in TensorBoard
    assert len(gif.seconds) == 4 and all(s > 0 for s in gif.seconds)


def test_frames_of_different_categories_differ_and_only_the_code_changes():
    model = InfoGAN()
    values, images = render.traversal_images(model, "cat", 0, n=6, seed=0)
    assert values == list(range(10)) and images.shape == (10, 6, 1, 28, 28)
    for a in range(10):
        for b in range(a + 1, 10):
            assert not torch.equal(images[a], images[b])
    again = render.traversal_images(model, "cat", 0, n=6, seed=0)[1]
    assert torch.equal(images, again)  # fixed noise: the same frames every time


def test_continuous_sweep_uses_the_prior_range():
    assert InfoGAN().latent.traversal_values("cont", 0, frames=5) == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert InfoGAN(continuous_prior="gaussian").latent.traversal_values("cont", 1, frames=3) == [-3.0, 0.0, 3.0]
