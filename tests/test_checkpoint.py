"""Checkpoints: a fresh process gets the same samples; --ckpt_path resumes where training stopped."""

import subprocess
import sys

import torch

from infogan import InfoGAN
from infogan.infogan_module import main
from tests.conftest import REPO

LOAD_AND_SAMPLE = """
import sys, torch
from infogan import InfoGAN
model = InfoGAN.load_from_checkpoint(sys.argv[1], map_location="cpu", weights_only=True)
torch.save(model.sample(8, categorical=[3], continuous=[0.5, -1.0], seed=11), sys.argv[2])
"""


def test_samples_identical_after_loading_in_a_new_process(mnist_dir, tmp_path):
    trainer = main(["--data_dir", str(mnist_dir), "--batch_size", "16", "--max_epochs", "1",
                    "--limit_train_batches", "4", "--limit_val_batches", "0", "--log_dir", str(tmp_path)])
    ckpt = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    before = trainer.lightning_module.cpu().sample(8, categorical=[3], continuous=[0.5, -1.0], seed=11)
    out = subprocess.run([sys.executable, "-c", LOAD_AND_SAMPLE, str(ckpt), str(tmp_path / "after.pt")],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    after = torch.load(tmp_path / "after.pt", weights_only=True)
    assert after.shape == (8, 1, 28, 28) and torch.equal(before, after)
    assert not torch.equal(after, InfoGAN().sample(8, categorical=[3], continuous=[0.5, -1.0], seed=11))


def test_resume_continues_epoch_step_and_optimizer_state(mnist_dir, tmp_path):
    common = ["--data_dir", str(mnist_dir), "--batch_size", "16", "--limit_train_batches", "3",
              "--limit_val_batches", "0", "--log_dir", str(tmp_path)]
    main(common + ["--max_epochs", "1", "--continuous", "1", "--noise_std", "0.5", "--lambda_real", "0.5"])
    ckpt = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    saved = torch.load(ckpt, weights_only=True)
    assert len(saved["optimizer_states"]) == 2 and saved["optimizer_states"][0]["state"]

    resumed = main(common + ["--max_epochs", "2", "--ckpt_path", str(ckpt)])  # the run's settings not repeated
    assert resumed.current_epoch == 2 and resumed.global_step == 2 * 2 * 3
    hparams = resumed.lightning_module.hparams  # flags left out came from the checkpoint, not the MNIST recipe
    assert (hparams.continuous, hparams.noise_std, hparams.lambda_real) == (1, 0.5, 0.5)
    assert not (tmp_path / "version_1").exists()  # the resumed run logs on in its own version folder
    assert resumed.logger.version == 0  # an int: the progress bar shows v_num=0, not "on_0"
    final = torch.load(ckpt, weights_only=True)
    # Adam's step counter went on from the saved one instead of restarting at zero.
    step_before = float(saved["optimizer_states"][1]["state"][0]["step"])
    assert float(final["optimizer_states"][1]["state"][0]["step"]) == step_before + 3


def test_n_plus_resumed_n_steps_equals_2n_steps(mnist_dir, tmp_path):
    """Exact resume on CPU: the data order, the latent codes and the optimizer state all continue.

    Tolerance: exact equality of every weight, BatchNorm statistic and Adam moment (CPU fp32, same build).
    """
    common = ["--data_dir", str(mnist_dir), "--batch_size", "8", "--limit_train_batches", "3",
              "--limit_val_batches", "0", "--seed", "5"]
    main(common + ["--max_epochs", "2", "--log_dir", str(tmp_path / "straight")])
    main(common + ["--max_epochs", "1", "--log_dir", str(tmp_path / "split")])
    first_half = tmp_path / "split" / "version_0" / "checkpoints" / "last.ckpt"
    main(common + ["--max_epochs", "2", "--log_dir", str(tmp_path / "split"), "--ckpt_path", str(first_half)])

    straight = torch.load(tmp_path / "straight" / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    resumed = torch.load(first_half, weights_only=True)  # the resumed run logs on in the same folder
    assert straight["global_step"] == resumed["global_step"] == 12
    for key, value in straight["state_dict"].items():
        assert torch.equal(value, resumed["state_dict"][key]), key
    for opt_a, opt_b in zip(straight["optimizer_states"], resumed["optimizer_states"]):
        for pa, pb in zip(opt_a["state"].values(), opt_b["state"].values()):
            assert torch.equal(pa["exp_avg"], pb["exp_avg"]) and torch.equal(pa["exp_avg_sq"], pb["exp_avg_sq"])
