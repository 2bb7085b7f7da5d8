"""Bad input gets a one-line error and exit status 2; faults lose nothing; untrusted checkpoints cannot run code."""

from pathlib import Path

import pytest
import torch

from infogan import generate
from infogan.infogan_module import load_model, main


def _fails(entry, argv, capsys) -> str:
    """Run a CLI entry point expecting exit status 2; return its single error line."""
    with pytest.raises(SystemExit) as exit_info:
        entry(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dataset", "imagenet"], "invalid choice: 'imagenet'"),
        (["--categorical", "1"], "categorical code 0 has K=1: a categorical code needs at least 2 values"),
        (["--categorical", "0"], "has K=0"),
        (["--categorical", "10", "-3"], "categorical code 1 has K=-3"),
        (["--continuous", "-1"], "the number of continuous codes must be >= 0, got -1"),
        (["--batch_size", "1"], "BatchNorm needs at least 2 images per batch"),
        (["--accelerator", "cpu", "--sync_batchnorm"], "--sync_batchnorm needs GPUs"),
    ],
)
def test_bad_training_flags(argv, message, capsys, tmp_path):
    line = _fails(main, ["--log_dir", str(tmp_path), "--no_download", *argv], capsys)
    assert message in line


@pytest.mark.parametrize("make_dir", [False, True], ids=["missing", "empty"])
def test_missing_or_empty_data_dir_names_the_folder(make_dir, capsys, tmp_path):
    data_dir = tmp_path / "data"
    if make_dir:
        data_dir.mkdir()
    line = _fails(main, ["--data_dir", str(data_dir), "--no_download", "--log_dir", str(tmp_path)], capsys)
    assert f"MNIST not found in {data_dir}/MNIST/raw" in line and "--data_dir" in line


@pytest.fixture()
def ckpt(tiny_run) -> Path:
    return tiny_run / "checkpoints" / "last.ckpt"


def test_resume_from_a_checkpoint_of_another_configuration(ckpt, mnist_dir, capsys, tmp_path):
    line = _fails(main, ["--data_dir", str(mnist_dir), "--categorical", "10", "5", "--continuous", "3",
                         "--ckpt_path", str(ckpt), "--log_dir", str(tmp_path)], capsys)
    assert "was trained with another configuration" in line
    assert "categorical=[10] (flags: [10, 5])" in line and "continuous=2 (flags: 3)" in line


@pytest.mark.parametrize("key, default, other", [("spectral_norm", False, True), ("noise_std", 1.0, 0.1)])
def test_a_setting_missing_from_an_older_checkpoint_counts_as_its_default(key, default, other):
    from infogan.infogan_module import InfoGAN, check_compatible

    hparams = dict(InfoGAN().hparams)
    older = {k: v for k, v in hparams.items() if k != key}  # written before that setting existed
    check_compatible(older, hparams, "old.ckpt")  # no error: the default is what it was trained with
    with pytest.raises(ValueError, match=rf"{key}={default!r} \(flags: {other!r}\)"):
        check_compatible(older, {**hparams, key: other}, "old.ckpt")


@pytest.mark.parametrize("kind", ["missing", "truncated", "not a checkpoint", "a bare tensor"])
def test_generate_and_evaluate_refuse_bad_checkpoint_files(kind, ckpt, capsys, tmp_path):
    from infogan import evaluate

    bad = tmp_path / "bad.ckpt"
    if kind == "truncated":
        bad.write_bytes(ckpt.read_bytes()[:100_000])
    elif kind == "not a checkpoint":
        bad.write_text("hello, I am a text file\n")
    elif kind == "a bare tensor":
        torch.save(torch.zeros(3), bad)
    expected = {"missing": "not found", "truncated": "not a readable checkpoint",
                "not a checkpoint": "not a readable checkpoint", "a bare tensor": "not an InfoGAN training checkpoint"}
    for entry, extra in ((generate.main, ["--out", str(tmp_path / "x.png")]), (evaluate.main, [])):
        line = _fails(entry, [str(bad), *extra], capsys)
        assert str(bad) in line and expected[kind] in line


class _Payload:
    """Pickles to a call that creates a marker file: the proof of code running on load."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_malicious_pickle_checkpoint_is_refused_and_its_payload_never_runs(ckpt, tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.ckpt"
    checkpoint = torch.load(ckpt, weights_only=True)
    checkpoint["hyper_parameters"]["extra"] = _Payload(marker)
    torch.save(checkpoint, evil)
    assert not marker.exists()
    with pytest.raises(ValueError, match="refused to load .*could run code"):
        load_model(evil)
    line = _fails(generate.main, [str(evil), "--out", str(tmp_path / "x.png")], capsys)
    assert "refused to load" in line
    assert not marker.exists()


def test_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(mnist_dir, monkeypatch, capsys, tmp_path):
    from infogan.data import InfoGANDataModule

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
    line = _fails(main, ["--data_dir", str(mnist_dir), "--batch_size", "8", "--max_epochs", "3",
                         "--limit_train_batches", "2", "--limit_val_batches", "0", "--log_dir", str(tmp_path)], capsys)
    assert "loss/d became nan at batch 3" in line and "last checkpoint stay finite" in line
    last = torch.load(tmp_path / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 4  # written after epoch 1, untouched by the failed epoch 2
    assert all(torch.isfinite(v).all() for v in last["state_dict"].values() if v.is_floating_point())
    assert torch.isfinite(load_model(tmp_path / "version_0" / "checkpoints" / "last.ckpt").sample(2, seed=0)).all()
