"""Checkpoints: a fresh process gets the same samples; bad, foreign, old and malicious files."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from infogan import InfoGAN, evaluate, generate
from infogan.checkpoint import check_compatible, load_model
from infogan.train import main
from tests.helpers import REPO, fails

LOAD_AND_SAMPLE = """
import sys, torch
from infogan import InfoGAN, load_model
model = load_model(sys.argv[1]) if sys.argv[3] == "load_model" else InfoGAN.load_from_checkpoint(
    sys.argv[1], map_location="cpu", weights_only=True)
torch.save(model.sample(8, categorical=[3], continuous=[0.5, -1.0], seed=11), sys.argv[2])
"""


@pytest.mark.slow
def test_samples_identical_after_loading_in_a_new_process(mnist_dir, tmp_path):
    trainer = main(["--data_dir", str(mnist_dir), "--batch_size", "16", "--max_epochs", "1",
                    "--limit_train_batches", "4", "--limit_val_batches", "0", "--log_dir", str(tmp_path)])
    ckpt = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    before = trainer.lightning_module.cpu().sample(8, categorical=[3], continuous=[0.5, -1.0], seed=11)
    for how in ("load_model", "lightning"):  # the README's way and Lightning's
        out = subprocess.run([sys.executable, "-c", LOAD_AND_SAMPLE, str(ckpt), str(tmp_path / "after.pt"), how],
                             cwd=REPO, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        after = torch.load(tmp_path / "after.pt", weights_only=True)
        assert after.shape == (8, 1, 28, 28) and torch.equal(before, after), how
    assert not torch.equal(after, InfoGAN().sample(8, categorical=[3], continuous=[0.5, -1.0], seed=11))


@pytest.mark.parametrize("key, default, other", [("spectral_norm", False, True), ("noise_std", 1.0, 0.1)])
def test_a_setting_missing_from_an_older_checkpoint_counts_as_its_default(key, default, other):
    hparams = dict(InfoGAN().hparams)
    older = {k: v for k, v in hparams.items() if k != key}  # written before that setting existed
    check_compatible(older, hparams, "old.ckpt")  # no error: the default is what it was trained with
    with pytest.raises(ValueError, match=rf"{key}={default!r} \(flags: {other!r}\)"):
        check_compatible(older, {**hparams, key: other}, "old.ckpt")


def test_an_old_checkpoint_is_read_with_the_frozen_defaults_not_todays(ckpt, tmp_path, monkeypatch):
    from infogan import checkpoint

    old = torch.load(ckpt, weights_only=True)
    del old["hyper_parameters"]["noise_std"], old["hyper_parameters"]["lambda_real"]  # written before they existed
    path = tmp_path / "old.ckpt"
    torch.save(old, path)
    model = load_model(path)
    assert model.hparams.noise_std == 1.0 and model.hparams.lambda_real == 0.0
    assert set(checkpoint.DEFAULTS_BEFORE_KEY) == set(InfoGAN().hparams)  # every setting has its frozen value
    # the table decides, not InfoGAN's constructor: had the code before noise_std drawn z ~ N(0, 0.5^2), the table
    # would say so and the old run would be read as such, whatever today's default is
    monkeypatch.setattr(checkpoint, "DEFAULTS_BEFORE_KEY", {**checkpoint.DEFAULTS_BEFORE_KEY, "noise_std": 0.5})
    assert load_model(path).hparams.noise_std == 0.5
    assert checkpoint.read_hparams(path)["noise_std"] == 0.5


@pytest.mark.parametrize("kind", ["missing", "truncated", "not a checkpoint", "text pickle cannot read",
                                  "a bare tensor"])
def test_generate_and_evaluate_refuse_bad_checkpoint_files(kind, ckpt, capsys, tmp_path):
    bad = tmp_path / "bad.ckpt"
    if kind == "truncated":
        bad.write_bytes(ckpt.read_bytes()[:100_000])
    elif kind == "not a checkpoint":
        bad.write_text("hello, I am a text file\n")
    elif kind == "text pickle cannot read":  # "n" is a pickle opcode torch's safe unpickler refuses
        bad.write_text("not a checkpoint\n")
    elif kind == "a bare tensor":
        torch.save(torch.zeros(3), bad)
    expected = {"missing": "not found", "truncated": "not a readable checkpoint",
                "not a checkpoint": "not a readable checkpoint", "text pickle cannot read": "not a readable checkpoint",
                "a bare tensor": "not an InfoGAN training checkpoint"}
    for entry, extra in ((generate.main, ["--out", str(tmp_path / "x.png")]), (evaluate.main, [])):
        line = fails(entry, [str(bad), *extra], capsys)
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
    line = fails(generate.main, [str(evil), "--out", str(tmp_path / "x.png")], capsys)
    assert "refused to load" in line
    assert not marker.exists()


def test_a_foreign_lightning_checkpoint_is_named_as_such_by_every_reader(ckpt, mnist_dir, tmp_path, capsys):
    from infogan import checkpoint, train

    foreign = tmp_path / "classifier.ckpt"
    torch.save({"state_dict": {"layer.weight": torch.zeros(2)}, "hyper_parameters": {"hidden": 64, "lr": 0.1}},
               foreign)
    with pytest.raises(ValueError, match="checkpoint of another model.*hidden, lr are not InfoGAN's"):
        load_model(foreign)
    with pytest.raises(ValueError, match="checkpoint of another model"):
        checkpoint.read_hparams(foreign)
    line = fails(train.main, ["--data_dir", str(mnist_dir), "--ckpt_path", str(foreign), "--log_dir",
                              str(tmp_path)], capsys)
    assert "not an InfoGAN training checkpoint" in line
    # an InfoGAN checkpoint from before the codes were stored resumes with --categorical 10 (the frozen [10])
    old = torch.load(ckpt, weights_only=True)
    del old["hyper_parameters"]["categorical"]
    check_compatible(old["hyper_parameters"], {**checkpoint.complete_hparams(old["hyper_parameters"]),
                                               "categorical": [10]}, "old.ckpt")


def test_a_checkpoint_records_its_version_and_a_newer_ones_unknown_setting_says_so(ckpt, tmp_path):
    from infogan import __version__

    saved = torch.load(ckpt, weights_only=True)
    assert saved["infogan_version"] == __version__
    saved["hyper_parameters"]["lambda_from_the_future"] = 1.0
    saved["infogan_version"] = "9.0.0"
    newer = tmp_path / "newer.ckpt"
    torch.save(saved, newer)
    with pytest.raises(ValueError, match=r"written by infogan 9\.0\.0.*lambda_from_the_future.*upgrade infogan"):
        load_model(newer)
