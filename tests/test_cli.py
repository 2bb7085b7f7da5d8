"""The training CLI on the real MNIST."""

import subprocess
import sys

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from infogan.infogan_module import build_parser, main
from tests.conftest import REPO


def test_help_lists_every_flag_with_its_default():
    text = build_parser().format_help()
    for flag in ("--dataset", "--data_dir", "--datadir", "--batch_size", "--max_epochs", "--max_steps",
                 "--limit_train_batches", "--limit_val_batches", "--devices", "--gpus", "--accelerator",
                 "--strategy", "--precision", "--num_workers", "--seed", "--log_dir", "--ckpt_path",
                 "--categorical", "--continuous", "--continuous_prior", "--noise_dim", "--lambda_cat",
                 "--lambda_cont", "--lr_g", "--lr_d", "--fast_dev_run"):
        assert flag in text, flag
    flat = " ".join(text.split())
    assert "(default: 128)" in flat and "global_step counts both optimizer steps" in flat


def test_fast_dev_run_on_real_mnist_as_a_user_runs_it(mnist_dir, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "infogan.infogan_module", "--dataset", "mnist", "--datadir", str(mnist_dir),
         "--fast_dev_run", "--log_dir", str(tmp_path / "logs")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    for shown in ("loss/d=", "loss/g=", "mi/cat0="):  # the progress bar
        assert shown in out.stderr + out.stdout
    assert not (tmp_path / "logs").exists()  # fast_dev_run writes nothing


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


def test_max_steps_counts_batches(mnist_dir, tmp_path):
    trainer = main(["--data_dir", str(mnist_dir), "--batch_size", "8", "--max_steps", "4",
                    "--limit_val_batches", "0", "--log_dir", str(tmp_path)])
    assert trainer.fit_loop.epoch_loop.batch_progress.total.completed == 4 and trainer.global_step == 8


def test_bf16_mixed_precision_trains_on_cpu(mnist_dir, tmp_path):
    trainer = main(["--data_dir", str(mnist_dir), "--batch_size", "8", "--fast_dev_run", "2",
                    "--precision", "bf16-mixed", "--log_dir", str(tmp_path)])
    assert trainer.fit_loop.epoch_loop.batch_progress.total.completed == 2  # --fast_dev_run counts batches
    assert trainer.precision == "bf16-mixed"
    for name in ("loss/d", "loss/g", "mi/cat0"):
        assert torch.isfinite(trainer.callback_metrics[name]), name
    assert all(p.dtype == torch.float32 for p in trainer.lightning_module.parameters())  # fp32 master weights
