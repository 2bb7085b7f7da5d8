"""The training CLI: flags, recipes, resume, faults, every dataset through it, and two-process DDP."""

import math
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from PIL import Image, ImageSequence
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from infogan.checkpoint import load_model
from infogan.data.datamodule import InfoGANDataModule
from infogan.train import build_parser, main
from tests.helpers import REPO, corrupt_folder, fails, gif_frames, make_jpegs, write_idx


def test_help_lists_every_flag_with_its_default():
    text = build_parser().format_help()
    for flag in ("--dataset", "--data_dir", "--datadir", "--batch_size", "--max_epochs", "--max_steps",
                 "--limit_train_batches", "--limit_val_batches", "--devices", "--gpus", "--accelerator",
                 "--strategy", "--precision", "--num_workers", "--seed", "--log_dir", "--ckpt_path",
                 "--categorical", "--continuous", "--continuous_prior", "--noise_dim", "--lambda_cat",
                 "--lambda_cont", "--lr_g", "--lr_d", "--fast_dev_run", "--noise_prior", "--g_steps",
                 "--spectral_norm_q", "--epoch_checkpoints", "--style_rotation", "--style_shear"):
        assert flag in text, flag
    flat = " ".join(text.split())
    assert "epochs to train; mnist 11" in flat and "folder 60" in flat  # from the records
    assert "global_step counts every optimizer step" in flat
    assert "images per batch on each device; mnist 128" in flat and "dsprites 64" in flat  # from the records


@pytest.mark.slow
def test_fast_dev_run_on_real_mnist_as_a_user_runs_it(mnist_dir, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "infogan.infogan_module", "--dataset", "mnist", "--datadir", str(mnist_dir),
         "--fast_dev_run", "--log_dir", str(tmp_path / "logs")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    for shown in ("loss/d=", "loss/g=", "mi/cat0="):  # the progress bar
        assert shown in out.stderr + out.stdout
    assert not (tmp_path / "logs").exists()  # fast_dev_run writes nothing
    # not even GIFs in the working directory (a repository's media/ was once overwritten so)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_short_run_writes_tensorboard_scalars_images_and_last_ckpt(mnist_dir, tmp_path):
    trainer = main(["--data_dir", str(mnist_dir), "--batch_size", "16", "--max_epochs", "2",
                    "--limit_train_batches", "3", "--limit_val_batches", "2", "--log_every_n_steps", "1",
                    "--log_dir", str(tmp_path), "--seed", "3"])
    version = tmp_path / "version_0"
    assert trainer.global_step == 2 * 2 * 3  # 2 epochs x 3 batches x 2 optimizer steps
    ckpt = torch.load(version / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 12
    assert ckpt["hyper_parameters"]["categorical"] == [10] and ckpt["hyper_parameters"]["seed"] == 3
    events = EventAccumulator(str(version)).Reload()
    scalars = set(events.Tags()["scalars"])
    assert {"loss/d", "loss/g", "info/cat0", "info/cont0", "info/cont1", "mi/cat0", "mi/cont0", "d(x)",
            "d(g(z))"} <= scalars
    assert len(events.Scalars("mi/cat0")) == 6  # one per batch at --log_every_n_steps 1
    assert [e.step for e in events.Images("samples")] == [3, 6]  # one grid per epoch, at the batch count
    # the collapse watch, once per epoch at the step of the epoch's last batch, as Lightning steps every scalar
    assert [e.step for e in events.Scalars("label_free/noise")] == [e.step for e in events.Scalars("val/nmi")] == [2, 5]
    assert {"label_free/duplicates", "label_free/cat0", "label_free/cont1", "label_free/seconds"} <= scalars


@pytest.mark.slow
def test_max_steps_counts_batches(mnist_dir, tmp_path):
    trainer = main(["--data_dir", str(mnist_dir), "--batch_size", "8", "--max_steps", "4",
                    "--limit_val_batches", "0", "--log_dir", str(tmp_path), "--label_free_samples", "0"])
    assert trainer.fit_loop.epoch_loop.batch_progress.total.completed == 4 and trainer.global_step == 8
    assert not any(name.startswith("label_free/") for name in trainer.callback_metrics)  # 0: the watch is off


@pytest.mark.slow
def test_bf16_mixed_precision_trains_on_cpu(mnist_dir, tmp_path):
    trainer = main(["--data_dir", str(mnist_dir), "--batch_size", "8", "--fast_dev_run", "2",
                    "--precision", "bf16-mixed", "--log_dir", str(tmp_path)])
    assert trainer.fit_loop.epoch_loop.batch_progress.total.completed == 2  # --fast_dev_run counts batches
    assert trainer.precision == "bf16-mixed"
    for name in ("loss/d", "loss/g", "mi/cat0"):
        assert torch.isfinite(trainer.callback_metrics[name]), name
    assert all(p.dtype == torch.float32 for p in trainer.lightning_module.parameters())  # fp32 master weights


def test_training_logs_validation_metrics_and_keeps_the_best_checkpoint(tiny_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = set(EventAccumulator(str(tiny_run)).Reload().Tags()["scalars"])
    assert {"val/accuracy", "val/nmi", "val/ari"} <= tags
    assert (tiny_run / "checkpoints" / "best.ckpt").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("flags, weight", [([], 1.0), (["--lambda_real", "0", "--lambda_fake_views", "0"], 0.0)])
def test_the_mnist_recipe_adds_both_terms_and_the_flags_turn_them_off(mnist_dir, tmp_path, flags, weight):
    trainer = main(["--dataset", "mnist", "--data_dir", str(mnist_dir), "--batch_size", "16", "--max_epochs", "1",
                    "--limit_train_batches", "2", "--limit_val_batches", "0", "--log_dir", str(tmp_path), *flags])
    hparams = trainer.lightning_module.hparams  # kept in the checkpoint's hyperparameters
    assert hparams.lambda_real == hparams.lambda_fake_views == weight
    logged = trainer.logged_metrics
    if weight:
        assert 0.0 <= float(logged["mi/real_views"]) <= math.log(10) + 1e-4  # I(c; c') in nats
        assert 0.0 < float(logged["info/fake_views"]) < 2 * math.log(10)  # -log Q(c | restyled fake) in nats
    else:
        assert "mi/real_views" not in logged and "info/fake_views" not in logged


@pytest.mark.slow
def test_resume_continues_epoch_step_and_optimizer_state(mnist_dir, tmp_path):
    common = ["--data_dir", str(mnist_dir), "--batch_size", "16", "--limit_train_batches", "3",
              "--limit_val_batches", "0", "--log_dir", str(tmp_path)]
    main(common + ["--max_epochs", "1", "--continuous", "1", "--noise_std", "0.5", "--lambda_real", "0.5",
                   "--continuous_prior", "gaussian", "--spectral_norm", "--lr_g", "0.002", "--seed", "4"])
    ckpt = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    saved = torch.load(ckpt, weights_only=True)
    assert len(saved["optimizer_states"]) == 2 and saved["optimizer_states"][0]["state"]

    resumed = main(common + ["--max_epochs", "2", "--ckpt_path", str(ckpt)])  # the run's settings not repeated
    assert resumed.current_epoch == 2 and resumed.global_step == 2 * 2 * 3
    hparams = resumed.lightning_module.hparams  # flags left out came from the checkpoint, not the MNIST recipe
    assert (hparams.continuous, hparams.noise_std, hparams.lambda_real) == (1, 0.5, 0.5)
    assert (hparams.continuous_prior, hparams.spectral_norm, hparams.lr_g, hparams.seed) == ("gaussian", True, 0.002, 4)
    # the traversal callback's progress frames travelled in the checkpoint: one frame per epoch since the start
    assert len(gif_frames(tmp_path / "version_0" / "media" / "progress.gif")) == 2
    assert not (tmp_path / "version_1").exists()  # the resumed run logs on in its own version folder
    assert resumed.logger.version == 0  # an int: the progress bar shows v_num=0, not "on_0"
    final = torch.load(ckpt, weights_only=True)
    # Adam's step counter went on from the saved one instead of restarting at zero.
    step_before = float(saved["optimizer_states"][1]["state"][0]["step"])
    assert float(final["optimizer_states"][1]["state"][0]["step"]) == step_before + 3


class _RecordBatches(pl.Callback):
    """Records (epoch, index in epoch, label sum) of every trained batch, and what the progress bar shows then;
    sends SIGTERM after batch ``sigterm_at``."""

    def __init__(self, sigterm_at: int = 0) -> None:
        self.seen: list[tuple[int, int, int]] = []
        self.bars: list[tuple[str, int, int]] = []
        self.sigterm_at = sigterm_at

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.seen.append((trainer.current_epoch, batch_idx, int(batch[1].sum())))
        bar = trainer.progress_bar_callback.train_progress_bar
        self.bars.append((bar.desc, bar.n, bar.total))
        if len(self.seen) == self.sigterm_at:
            os.kill(os.getpid(), signal.SIGTERM)  # Lightning stops after this batch, as for a scheduler's kill


def _same_weights_and_optimizer_state(a: dict, b: dict) -> bool:
    same = a["global_step"] == b["global_step"] and all(torch.equal(v, b["state_dict"][k])
                                                        for k, v in a["state_dict"].items())
    for opt_a, opt_b in zip(a["optimizer_states"], b["optimizer_states"]):
        for pa, pb in zip(opt_a["state"].values(), opt_b["state"].values()):
            same = same and all(torch.equal(pa[k], pb[k]) for k in ("exp_avg", "exp_avg_sq"))
    return same


@pytest.mark.slow
def test_a_run_stopped_mid_epoch_resumes_at_its_batch_exactly(mnist_dir, tmp_path):
    """Stopped by --max_steps or by SIGTERM in the middle of an epoch, then resumed: the same batches in the same
    order as one uninterrupted run, and exactly its weights and Adam moments (CPU fp32)."""
    common = ["--data_dir", str(mnist_dir), "--batch_size", "8", "--limit_train_batches", "3", "--limit_val_batches",
              "1", "--seed", "5", "--max_epochs", "3", "--gif_every_n_epochs", "9"]

    def run(log_dir: str, *extra: str, sigterm_at: int = 0) -> list:
        record = _RecordBatches(sigterm_at)
        try:
            main(common + ["--log_dir", str(tmp_path / log_dir), *extra], callbacks=[record])
        except SystemExit as stop:
            assert stop.code == 143 and sigterm_at
        # the bar names the epoch and its length in a resumed epoch too (Lightning's own read "Training: 2/?")
        assert record.bars == [(f"Epoch {e}: ", i + 1, 3) for e, i, _ in record.seen], log_dir
        return record.seen

    def last(log_dir: str, name: str = "last") -> Path:
        return tmp_path / log_dir / "version_0" / "checkpoints" / f"{name}.ckpt"

    straight = run("straight")
    assert [(e, i) for e, i, _ in straight] == [(e, i) for e in range(3) for i in range(3)]
    # --max_steps 4 stops after the first batch of epoch 1; last.ckpt must say so, not "epoch 1 done"
    split = run("steps", "--max_steps", "4")
    split += run("steps", "--ckpt_path", str(last("steps")))
    # an epoch-end checkpoint resumed with --max_steps, then without: Lightning's own max_steps got this wrong
    twice = run("twice", "--max_epochs", "1")
    twice += run("twice", "--max_steps", "4", "--ckpt_path", str(last("twice")))
    twice += run("twice", "--ckpt_path", str(last("twice")))
    # SIGTERM after batch 5 (the second of epoch 1): resume from interrupted.ckpt
    killed = run("killed", sigterm_at=5)
    killed += run("killed", "--ckpt_path", str(last("killed", "interrupted")))

    reference = torch.load(last("straight"), weights_only=True)
    for name, seen in (("steps", split), ("twice", twice), ("killed", killed)):
        assert seen == straight, name
        assert _same_weights_and_optimizer_state(torch.load(last(name), weights_only=True), reference), name
        # one progress frame per epoch, also for the epoch that was cut short and finished after the resume
        assert len(gif_frames(tmp_path / name / "version_0" / "media" / "progress.gif")) == 3, name


@pytest.mark.slow
def test_a_contrastive_run_stopped_mid_epoch_resumes_exactly(tmp_path):
    """With --lambda_cr the pairs come from the seeded latent stream and the classifier has its own optimizer: a run
    stopped after batch 3 (mid-epoch) and resumed ends with the weights and Adam moments of one uninterrupted run."""
    common = ["--dataset", "dsprites", "--data_dir", str(tmp_path), "--batch_size", "4", "--limit_train_batches", "2",
              "--max_epochs", "2", "--lambda_cr", "2", "--seed", "3", "--gif_every_n_epochs", "9", "--gif_samples", "4"]

    def last(name: str) -> Path:
        return tmp_path / name / "version_0" / "checkpoints" / "last.ckpt"

    main(common + ["--log_dir", str(tmp_path / "straight")])
    main(common + ["--log_dir", str(tmp_path / "split"), "--max_steps", "3"])
    main(common + ["--log_dir", str(tmp_path / "split"), "--ckpt_path", str(last("split"))])
    reference, split = torch.load(last("straight"), weights_only=True), torch.load(last("split"), weights_only=True)
    assert len(reference["optimizer_states"]) == 3  # D + Q, G, and the pair classifier's
    assert any(k.startswith("pair_classifier.") for k in reference["state_dict"])
    assert _same_weights_and_optimizer_state(split, reference)


def test_resume_from_a_checkpoint_of_another_configuration(ckpt, mnist_dir, capsys, tmp_path):
    line = fails(main, ["--data_dir", str(mnist_dir), "--categorical", "10", "5", "--continuous", "3",
                         "--ckpt_path", str(ckpt), "--log_dir", str(tmp_path)], capsys)
    assert "was trained with another configuration" in line
    assert "categorical=[10] (flags: [10, 5])" in line and "continuous=2 (flags: 3)" in line


def test_the_contrastive_option_trains_saves_and_stays_on_for_the_run(tmp_path, capsys):
    log_dir = tmp_path / "logs"
    common = ["--dataset", "dsprites", "--data_dir", str(tmp_path), "--batch_size", "4", "--limit_train_batches",
              "2", "--max_epochs", "1", "--log_dir", str(log_dir), "--gif_samples", "4"]
    trainer = main(common + ["--lambda_cr", "2"])
    assert trainer.global_step == 2 * 4  # 2 batches x (classifier, D + Q, two G updates: the dSprites recipe)
    assert 0 <= float(trainer.callback_metrics["cr/accuracy"]) <= 1
    ckpt = log_dir / "version_0" / "checkpoints" / "last.ckpt"
    model = load_model(ckpt)
    assert model.hparams.lambda_cr == 2.0 and model.pair_classifier is not None  # saved with its classifier
    assert model.latent.default_range == 1.0  # the recipe's traversals stay inside the codes' Unif(-1, 1)
    line = fails(main, common + ["--max_epochs", "2", "--lambda_cr", "0", "--ckpt_path", str(ckpt)], capsys)
    assert "lambda_cr=2.0 (flags: 0.0; the contrastive term cannot be switched on or off" in line
    line = fails(main, common + ["--max_epochs", "2", "--g_steps", "1", "--ckpt_path", str(ckpt)], capsys)
    assert "g_steps=2 (flags: 1; the generator updates per batch cannot change in a resumed run" in line
    line = fails(main, common + ["--max_epochs", "2", "--cr_start", "5", "--ckpt_path", str(ckpt)], capsys)
    assert "cr_start=0 (flags: 5; the batch the contrastive term starts at cannot change in a resumed run" in line
    quick = main(common + ["--lambda_cr", "2", "--fast_dev_run", "4"])
    assert quick.fit_loop.epoch_loop.batch_progress.total.completed == 4  # --fast_dev_run counts batches here too
    late = main(common + ["--lambda_cr", "2", "--cr_start", "2", "--fast_dev_run", "4"])
    assert late.fit_loop.epoch_loop.batch_progress.total.completed == 4
    assert late.global_step == 2 * 3 + 2 * 4  # D + Q and two G updates; the classifier's step from batch 2 on


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dataset", "imagenet"], "invalid choice: 'imagenet'"),
        (["--categorical", "1"], "categorical code 0 has K=1: a categorical code needs 2 to 100,000 values"),
        (["--categorical", "0"], "has K=0"),
        (["--categorical", "10", "-3"], "categorical code 1 has K=-3"),
        (["--continuous", "-1"], "--continuous -1: must be a whole number from 0 to 100,000"),
        (["--batch_size", "1"], "BatchNorm needs at least 2 images per batch"),
        (["--accelerator", "cpu", "--sync_batchnorm"], "--sync_batchnorm needs GPUs"),
        (["--lr_g", "-1"], "--lr_g -1.0: must be a finite number > 0"),
        (["--lr_d", "inf"], "--lr_d inf: must be a finite number > 0"),
        (["--traversal_range", "-1"], "--traversal_range -1.0: must be a finite number > 0"),
    ],
)
def test_bad_training_flags(argv, message, capsys, tmp_path):
    line = fails(main, ["--log_dir", str(tmp_path), "--no_download", *argv], capsys)
    assert message in line


@pytest.mark.parametrize("make_dir", [False, True], ids=["missing", "empty"])
def test_missing_or_empty_data_dir_names_the_folder(make_dir, capsys, tmp_path):
    data_dir = tmp_path / "data"
    if make_dir:
        data_dir.mkdir()
    line = fails(main, ["--data_dir", str(data_dir), "--no_download", "--log_dir", str(tmp_path)], capsys)
    assert f"MNIST not found in {data_dir}/MNIST/raw" in line and "--data_dir" in line


@pytest.mark.slow
def test_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(mnist_dir, monkeypatch, capsys, tmp_path):
    transfer = InfoGANDataModule.on_after_batch_transfer
    seen = {"batches": 0}

    def poisoned(self, batch, dataloader_idx):
        images, labels = transfer(self, batch, dataloader_idx)
        if self.trainer.training:
            seen["batches"] += 1
            if seen["batches"] > 3:  # epoch 1 (2 batches) trains cleanly; epoch 2's second batch is NaN
                images = torch.full_like(images, float("nan"))
        return images, labels

    monkeypatch.setattr(InfoGANDataModule, "on_after_batch_transfer", poisoned)
    line = fails(main, ["--data_dir", str(mnist_dir), "--batch_size", "8", "--max_epochs", "3",
                         "--limit_train_batches", "2", "--limit_val_batches", "0", "--log_dir", str(tmp_path)], capsys)
    assert "loss/d became nan at batch 3" in line and "last checkpoint stay finite" in line
    last = torch.load(tmp_path / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 4  # written after epoch 1, untouched by the failed epoch 2
    assert all(torch.isfinite(v).all() for v in last["state_dict"].values() if v.is_floating_point())
    assert torch.isfinite(load_model(tmp_path / "version_0" / "checkpoints" / "last.ckpt").sample(2, seed=0)).all()


@pytest.mark.slow
@pytest.mark.parametrize("size, preset", [(32, "celeba32"), (64, "dcgan64")])
def test_fake_celeba_trains_and_writes_rgb_gifs(fake_celeba, tmp_path, size, preset):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer = main(["--dataset", "celeba", "--data_dir", str(fake_celeba), "--image_size", str(size),
                        "--batch_size", "8", "--max_epochs", "1", "--limit_train_batches", "2", "--num_workers", "0",
                        "--gif_samples", "4", "--log_dir", str(tmp_path / "logs")])
    assert not [w for w in caught if "across ranks is zero" in str(w.message)]  # no validation, and no alarm about it
    model = trainer.lightning_module
    assert trainer.global_step == 4
    assert model.hparams.preset == preset and model.latent.categorical == (10,) * 10 and model.latent.noise_dim == 128
    assert model.sample(2).shape == (2, 3, size, size)
    media = tmp_path / "logs" / "version_0" / "media"
    assert sorted(p.name for p in media.iterdir()) == sorted([f"cat{i}.gif" for i in range(10)] + ["progress.gif"])
    with Image.open(media / "cat9.gif") as gif:
        assert gif.n_frames == 10 and gif.size == (2 * (size + 2) + 2,) * 2
        frame = np.asarray(next(ImageSequence.Iterator(gif)).convert("RGB")).astype(int)
        assert (frame[..., 0] != frame[..., 1]).any()  # colour, not grey
    assert not (tmp_path / "logs" / "version_0" / "checkpoints" / "best.ckpt").exists()  # no labels, no best


EMOJI = REPO.parent / "shared" / "data" / "emoji"


@pytest.mark.slow
@pytest.mark.skipif(not (EMOJI / "google64").is_dir(), reason=f"the emoji folder is not at {EMOJI}")
def test_a_real_colour_folder_trains_the_screened_folder_recipe_from_the_folder_alone(tmp_path):
    """The run of docs/results/emoji.md with no model flag: the recipe (one Cat(10), two continuous codes, 62 noise
    dimensions, lr_g 2e-4, the invariance term, DiffAugment, batch 64, 60 epochs) comes from the folder record;
    transparent emoji arrive on white."""
    trainer = main(["--dataset", "folder", "--data_dir", str(EMOJI), "--max_steps", "2", "--num_workers", "0",
                    "--gif_samples", "4", "--log_dir", str(tmp_path)])
    model = trainer.lightning_module
    assert model.latent.categorical == (10,) and model.latent.continuous == 2 and model.latent.noise_dim == 62
    assert model.hparams.lr_g == 2e-4 and trainer.max_epochs == 60 and trainer.global_step == 2 * 2
    assert model.hparams.lambda_real == 1.0 and model.hparams.augment == ["translation", "cutout"]
    gifs = next(c for c in trainer.callbacks if type(c).__name__ == "LatentTraversalGIF")
    assert gifs.every_n_epochs == 5  # a dozen traversal writes in 60 epochs, not 60
    images, _ = next(iter(trainer.datamodule.train_dataloader()))
    assert images.shape == (64, 3, 32, 32)
    corners_white = (images[:, :, 0, 0] == 255).all(1).float().mean()
    assert corners_white > 0.8  # transparent corners composited onto white (a few emoji, flags, fill their corner)


def test_empty_folder_errors(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "folder", "--data_dir", str(tmp_path / "empty"), "--log_dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert f"no images in {tmp_path / 'empty'}" in capsys.readouterr().err


@pytest.mark.slow
def test_a_corrupt_jpeg_stops_training_with_its_name(tmp_path, capsys):
    folder, truncated = corrupt_folder(tmp_path)
    with pytest.raises(SystemExit):
        main(["--dataset", "folder", "--data_dir", str(folder), "--batch_size", "32", "--max_epochs", "1",
              "--num_workers", "0", "--log_dir", str(tmp_path / "logs")])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "cannot decode image" in err and "--skip_bad_images" in err
    assert str(truncated) in err or str(folder / "a" / "notes.png") in err


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "mnist", "--image_size", "32"], "--image_size 32: dataset mnist supports 28"),
    (["--dataset", "celeba", "--image_size", "48"], "--image_size 48: dataset celeba supports 32 or 64"),
    (["--dataset", "mnist", "--channels", "3"], "--channels applies to --dataset folder only"),
])
def test_unsupported_image_sizes_and_channels(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([*argv, "--log_dir", str(tmp_path), "--no_download"])
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_fashion_mnist_reads_torchvision_layout_and_trains_with_metrics(tmp_path):
    rng = np.random.default_rng(0)
    raw = tmp_path / "data" / "FashionMNIST" / "raw"
    for split, n in (("train", 64), ("t10k", 32)):
        write_idx(raw / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(raw / f"{split}-labels-idx1-ubyte", np.arange(n) % 10)
    trainer = main(["--dataset", "fashion_mnist", "--data_dir", str(tmp_path / "data"), "--batch_size", "16",
                    "--max_epochs", "1", "--no_download", "--gif_samples", "4", "--log_dir", str(tmp_path / "logs")])
    assert trainer.global_step == 2 * 4  # 64 images / 16
    assert "val/accuracy" in trainer.callback_metrics and "val/nmi" in trainer.callback_metrics
    assert (tmp_path / "logs" / "version_0" / "checkpoints" / "best.ckpt").is_file()


def test_missing_fashion_mnist_names_its_folder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--dataset", "fashion_mnist", "--data_dir", str(tmp_path), "--no_download", "--log_dir", str(tmp_path)])
    assert f"FashionMNIST not found in {tmp_path}/FashionMNIST/raw" in capsys.readouterr().err


@pytest.fixture(scope="module")
def ddp_run(mnist_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    cmd = [sys.executable, str(REPO / "tests" / "scripts" / "ddp_run.py"), str(out), str(mnist_dir),
           "--accelerator", "cpu", "--devices", "2", "--batch_size", "8", "--max_epochs", "2",
           "--limit_train_batches", "3", "--limit_val_batches", "2"]
    try:
        proc = subprocess.run(cmd, cwd=out, capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired:
        pytest.fail("the 2-process DDP run hung (a collective called on one rank only?)")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out, [torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1)]


@pytest.mark.slow
def test_both_ranks_end_with_identical_weights(ddp_run):
    _, (rank0, rank1) = ddp_run
    assert rank0["world_size"] == rank1["world_size"] == 2
    for name, value in rank0["params"].items():
        assert torch.equal(value, rank1["params"][name]), name  # gradients averaged for both optimizers


@pytest.mark.slow
def test_each_rank_draws_its_own_latent_codes(ddp_run):
    _, (rank0, rank1) = ddp_run
    assert rank0["draws"].shape == rank1["draws"].shape == (6, 8, 62)  # 6 batches of 8 noise vectors each
    assert not torch.equal(rank0["draws"], rank1["draws"])


@pytest.mark.slow
def test_media_is_written_once_by_rank_zero_and_metrics_agree(ddp_run):
    out, (rank0, rank1) = ddp_run
    assert rank0["gif_written_at"] == [1, 2] and rank1["gif_written_at"] == []
    media = out / "logs" / "version_0" / "media"
    assert sorted(p.name for p in media.iterdir()) == ["cat0.gif", "cont0.gif", "cont1.gif", "progress.gif"]
    assert not (out / "logs" / "version_1").exists()
    assert rank0["val_accuracy"] == rank1["val_accuracy"]  # the contingency table is summed across ranks
    assert (out / "logs" / "version_0" / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.slow
def test_every_rank_destroys_its_process_group_when_training_ends(ddp_run):
    out, _ = ddp_run
    assert [(out / f"rank{r}.group_alive").read_text() for r in (0, 1)] == ["False", "False"]


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without a GPU")
def test_asking_for_a_gpu_on_a_machine_without_one_is_one_line(mnist_dir, capsys, tmp_path):
    line = fails(main, ["--data_dir", str(mnist_dir), "--accelerator", "gpu", "--log_dir", str(tmp_path)], capsys)
    assert "--accelerator gpu" in line and not list(tmp_path.iterdir())


def test_a_file_as_log_dir_and_a_failed_start_leave_nothing_behind(mnist_dir, capsys, tmp_path):
    (tmp_path / "logs").write_text("a file")
    line = fails(main, ["--data_dir", str(mnist_dir), "--log_dir", str(tmp_path / "logs")], capsys)
    assert f"--log_dir {tmp_path / 'logs'} is a file" in line
    fails(main, ["--data_dir", str(mnist_dir), "--lr_g", "-1", "--log_dir", str(tmp_path / "fresh")], capsys)
    assert not (tmp_path / "fresh").exists()  # no empty version_0 folder from a run that never started


@pytest.mark.slow
def test_a_loss_that_breaks_before_any_checkpoint_says_so(mnist_dir, monkeypatch, capsys, tmp_path):
    from infogan.data.datamodule import InfoGANDataModule

    transfer = InfoGANDataModule.on_after_batch_transfer

    def poisoned(self, batch, dataloader_idx):
        images, labels = transfer(self, batch, dataloader_idx)
        return torch.full_like(images, float("nan")), labels

    monkeypatch.setattr(InfoGANDataModule, "on_after_batch_transfer", poisoned)
    line = fails(main, ["--data_dir", str(mnist_dir), "--batch_size", "8", "--max_epochs", "1",
                        "--limit_train_batches", "2", "--limit_val_batches", "0", "--log_dir", str(tmp_path)], capsys)
    assert "loss/d became nan at batch 0" in line and "no checkpoint was written yet" in line
    assert "Resume from last.ckpt" not in line


@pytest.mark.slow
def test_a_resumed_run_trains_with_the_learning_rates_it_is_given(mnist_dir, tmp_path):
    common = ["--data_dir", str(mnist_dir), "--batch_size", "8", "--limit_train_batches", "2",
              "--limit_val_batches", "0", "--log_dir", str(tmp_path)]
    main(common + ["--max_epochs", "1"])
    ckpt = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    resumed = main(common + ["--max_epochs", "2", "--lr_g", "0.0001", "--ckpt_path", str(ckpt)])
    opt_d, opt_g = resumed.optimizers
    assert opt_g.param_groups[0]["lr"] == 1e-4 and opt_d.param_groups[0]["lr"] == 2e-4  # not the saved 1e-3


@pytest.mark.slow
def test_a_bad_image_read_by_a_worker_process_is_still_one_line(tmp_path, capsys):
    folder, truncated = corrupt_folder(tmp_path)
    line = fails(main, ["--dataset", "folder", "--data_dir", str(folder), "--batch_size", "32", "--max_epochs", "1",
                        "--num_workers", "1", "--log_dir", str(tmp_path / "logs")], capsys)
    assert line.startswith("python -m infogan.train: error: cannot decode image") and "--skip_bad_images" in line
    assert "Traceback" not in line and "worker" not in line


def _signalled(cmd: list[str], signame: str, whole_group: bool = False,
               started: bytes = b"Epoch 0:") -> tuple[int, str]:
    """Run ``cmd``, send it ``signame`` once its output shows ``started`` (to its whole process group with
    ``whole_group``, as a terminal or SLURM does), and return its exit status and output."""
    import threading
    import time

    # the progress bar is on stdout; a group of its own, so that killpg reaches the run and its workers only
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=whole_group)
    chunks: list[bytes] = []

    def read() -> None:
        while chunk := proc.stdout.read1(4096):
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.time() + 600  # generous: a loaded machine takes minutes to import torch and start training
    while started not in b"".join(chunks) and time.time() < deadline:  # the progress bar: training runs
        time.sleep(0.1)
    # a signal before Lightning installs its handler would kill the process outright: wait for training, or fail
    assert started in b"".join(chunks), b"".join(chunks).decode(errors="replace")[-2000:]
    if whole_group:
        os.killpg(proc.pid, getattr(signal, signame))
    else:
        proc.send_signal(getattr(signal, signame))
    proc.wait(timeout=240)
    reader.join(timeout=10)
    return proc.returncode, b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
@pytest.mark.parametrize("signame, status", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_signal_ends_the_run_with_its_status_and_its_checkpoint_resumes_exactly(mnist_dir, tmp_path, signame, status):
    """SIGTERM (a scheduler) and SIGHUP (an ssh session dropping) both save interrupted.ckpt and name it."""
    flags = ["--data_dir", str(mnist_dir), "--batch_size", "16", "--limit_train_batches", "20", "--limit_val_batches",
             "0", "--max_epochs", "2"]
    returncode, err = _signalled([sys.executable, "-m", "infogan.train", *flags, "--log_dir", str(tmp_path)], signame)
    assert returncode == status, err[-2000:]  # a scheduler sees that the run did not finish
    saved = tmp_path / "version_0" / "checkpoints" / "interrupted.ckpt"
    assert saved.is_file() and f"--ckpt_path {saved}" in err and f"stopped by {signame} at batch" in err
    state = torch.load(saved, weights_only=True)
    assert 0 < state["global_step"] < 2 * 20 and state["epoch"] == 0  # the partial first epoch was kept
    assert not list(saved.parent.glob(".*tmp"))

    main(flags + ["--log_dir", str(tmp_path), "--ckpt_path", str(saved)])  # resumed where the signal stopped it
    assert not saved.exists()  # the resumed run went past it: left there, it would be a trap (a rollback)
    main(flags + ["--log_dir", str(tmp_path / "straight")])
    resumed, straight = (torch.load(d / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
                         for d in (tmp_path, tmp_path / "straight"))
    assert _same_weights_and_optimizer_state(resumed, straight)


@pytest.mark.slow
@pytest.mark.parametrize("signame, status", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_signal_to_the_whole_process_group_still_saves_the_run_that_has_loader_workers(tmp_path, signame, status):
    """SLURM's preemption and a closed terminal signal every process of the job, the DataLoader's workers too. A
    worker killed by it made the run fail with "DataLoader worker is killed by signal" before it could save
    interrupted.ckpt: the partial epoch was lost. The workers now leave the signal to the run."""
    folder = tmp_path / "images"
    make_jpegs(folder, 64, size=(40, 40))
    flags = ["--dataset", "folder", "--data_dir", str(folder), "--batch_size", "8", "--num_workers", "2",
             "--limit_val_batches", "0", "--max_epochs", "100"]
    returncode, out = _signalled([sys.executable, "-m", "infogan.train", *flags, "--log_dir", str(tmp_path / "logs")],
                                 signame, whole_group=True, started=b" 1/8 [")  # the workers have started
    assert returncode == status, out[-2000:]
    saved = tmp_path / "logs" / "version_0" / "checkpoints" / "interrupted.ckpt"
    assert saved.is_file() and f"stopped by {signame} at batch" in out and "killed by signal" not in out
    assert torch.load(saved, weights_only=True)["global_step"] > 0


def test_loader_workers_still_obey_their_run_so_that_it_can_exit(tmp_path):
    """Workers deaf to SIGTERM hung their process's exit: multiprocessing's exit handler terminates the workers of a
    loader still open (persistent workers, an iterator kept) and waits for them. They obey SIGTERM from their
    parent."""
    script = tmp_path / "open_loader.py"
    script.write_text(
        "import torch\n"
        "from infogan.data.datamodule import _leave_signals_to_the_run\n"
        "loader = torch.utils.data.DataLoader(range(8), batch_size=2, num_workers=2, persistent_workers=True,\n"
        "                                     worker_init_fn=_leave_signals_to_the_run)\n"
        "batches = iter(loader)\n"
        "print(next(batches).tolist())\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "[0, 1]", done.stderr[-2000:]
