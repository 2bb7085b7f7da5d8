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
    main(common + ["--max_epochs", "1"])
    ckpt = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    saved = torch.load(ckpt, weights_only=True)
    assert len(saved["optimizer_states"]) == 2 and saved["optimizer_states"][0]["state"]

    resumed = main(common + ["--max_epochs", "2", "--ckpt_path", str(ckpt)])
    assert resumed.current_epoch == 2 and resumed.global_step == 2 * 2 * 3
    assert not (tmp_path / "version_1").exists()  # the resumed run logs on in its own version folder
    final = torch.load(ckpt, weights_only=True)
    # Adam's step counter went on from the saved one instead of restarting at zero.
    step_before = float(saved["optimizer_states"][1]["state"][0]["step"])
    assert float(final["optimizer_states"][1]["state"][0]["step"]) == step_before + 3
