"""Two-process CPU DDP (gloo) through the CLI: correct, not just running.

The run goes through tests/scripts/ddp_run.py, which has every rank dump its weights, its latent draws and what its
GIF callback wrote. A hang (a collective called on one rank only) fails by the timeout instead of blocking CI.
"""

import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO


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


def test_both_ranks_end_with_identical_weights(ddp_run):
    _, (rank0, rank1) = ddp_run
    assert rank0["world_size"] == rank1["world_size"] == 2
    for name, value in rank0["params"].items():
        assert torch.equal(value, rank1["params"][name]), name  # gradients averaged for both optimizers


def test_each_rank_draws_its_own_latent_codes(ddp_run):
    _, (rank0, rank1) = ddp_run
    assert rank0["draws"].shape == rank1["draws"].shape == (6, 8, 62)  # 6 batches of 8 noise vectors each
    assert not torch.equal(rank0["draws"], rank1["draws"])


def test_media_is_written_once_by_rank_zero_and_metrics_agree(ddp_run):
    out, (rank0, rank1) = ddp_run
    assert rank0["gif_written_at"] == [1, 2] and rank1["gif_written_at"] == []
    media = out / "logs" / "version_0" / "media"
    assert sorted(p.name for p in media.iterdir()) == ["cat0.gif", "cont0.gif", "cont1.gif", "progress.gif"]
    assert not (out / "logs" / "version_1").exists()
    assert rank0["val_accuracy"] == rank1["val_accuracy"]  # the contingency table is summed across ranks
    assert (out / "logs" / "version_0" / "checkpoints" / "last.ckpt").is_file()
