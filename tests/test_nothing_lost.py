"""Nothing lost: files written atomically in their own folder, runs that cannot share a folder, no rollback of a
newer last.ckpt, and a stranger's checkpoint that cannot size the networks before its tensors are checked."""

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from infogan import checkpoint, files
from infogan.train import _run_version, build_parser, main
from tests.helpers import fails


def test_a_write_goes_through_its_own_folder_and_a_failed_one_leaves_the_old_file(tmp_path, monkeypatch):
    elsewhere = tmp_path / "tmpdir"  # $TMPDIR on another filesystem in real life: nothing may pass through it
    elsewhere.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(elsewhere))
    target = tmp_path / "run" / "last.ckpt"
    moves = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: moves.append((src, dst)) or replace(src, dst))
    checkpoint.AtomicCheckpointIO().save_checkpoint({"w": torch.ones(3)}, target)
    assert torch.equal(torch.load(target, weights_only=True)["w"], torch.ones(3))
    assert [os.path.dirname(src) for src, _ in moves] == [str(target.parent)] and not any(elsewhere.iterdir())

    def dies_half_way(f):
        f.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        files.write_with(target, dies_half_way)
    assert torch.equal(torch.load(target, weights_only=True)["w"], torch.ones(3))  # the old file, whole
    assert sorted(p.name for p in target.parent.iterdir()) == ["last.ckpt"]  # no temporary file left behind


def test_the_trainer_writes_checkpoints_with_the_atomic_writer(tmp_path):
    from infogan.train import build_trainer, resolve_settings

    args = build_parser().parse_args(["--log_dir", str(tmp_path)])
    resolve_settings(args, resumed=None)  # the flags left out, as main fills them
    trainer = build_trainer(args, labelled=False, optimizer_steps=lambda n: 2 * n)
    assert isinstance(trainer.strategy.checkpoint_io, checkpoint.AtomicCheckpointIO)


def test_runs_started_at_once_with_one_log_dir_get_a_folder_each(tmp_path, monkeypatch):
    monkeypatch.delenv("INFOGAN_RUN_VERSION", raising=False)
    args = build_parser().parse_args(["--log_dir", str(tmp_path / "logs")])
    (tmp_path / "logs" / "version_3").mkdir(parents=True)  # an earlier run
    with ThreadPoolExecutor(8) as pool:
        versions = list(pool.map(lambda _: _run_version(args), range(8)))
    assert sorted(versions) == list(range(4, 12))  # eight runs, eight folders, none shared, none reused
    assert all((tmp_path / "logs" / f"version_{v}").is_dir() for v in versions)


def test_resuming_from_a_checkpoint_older_than_last_ckpt_is_refused(ckpt, mnist_dir, tmp_path, capsys):
    run = tmp_path / "logs" / "version_0" / "checkpoints"
    run.mkdir(parents=True)
    shutil.copy(ckpt, run / "last.ckpt")
    stale = torch.load(ckpt, weights_only=True)
    stale["global_step"] -= 2  # an interrupted.ckpt from before the run was resumed and went on
    torch.save(stale, run / "interrupted.ckpt")
    before = (run / "last.ckpt").read_bytes()
    line = fails(main, ["--data_dir", str(mnist_dir), "--batch_size", "8", "--ckpt_path", str(run / "interrupted.ckpt"),
                        "--log_dir", str(tmp_path / "logs")], capsys)
    assert "is older than" in line and "last.ckpt" in line and "Resume from" in line
    assert (run / "last.ckpt").read_bytes() == before


@pytest.mark.parametrize("noise_dim, message", [
    (1_000_000, "must be a whole number from 0 to 100,000"),
    (50_000, "tensors do not match its own settings"),
])
def test_a_strangers_hyperparameters_are_checked_before_any_network_is_built(ckpt, tmp_path, monkeypatch,
                                                                             noise_dim, message):
    import infogan.infogan_module as module

    evil = torch.load(ckpt, weights_only=True)
    evil["hyper_parameters"]["noise_dim"] = noise_dim
    path = tmp_path / "evil.ckpt"
    torch.save(evil, path)
    built_on = []
    build = module.build_networks

    def spy(*args, **kwargs):
        built_on.append(torch.empty(0).device.type)  # the default device the networks are laid out on
        return build(*args, **kwargs)

    monkeypatch.setattr(module, "build_networks", spy)
    with pytest.raises(ValueError, match=message):
        checkpoint.load_model(path)
    with pytest.raises(ValueError, match=message):
        checkpoint.read_hparams(path)  # what a resume reads first
    assert set(built_on) <= {"meta"}  # shapes only: nothing was allocated for the stranger's sizes


def test_swapped_or_mixed_mnist_files_are_refused(mnist_dir, tmp_path):
    from infogan.data.idx import load_mnist

    real, raw = mnist_dir / "MNIST" / "raw", tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for mine, theirs in [("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"),
                         ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte")]:
        shutil.copy(real / mine, raw / theirs)  # the two splits' files under each other's names
        shutil.copy(real / theirs, raw / mine)
    with pytest.raises(ValueError, match="train and test files look swapped"):
        load_mnist(tmp_path, train=True, download=False)
    shutil.copy(real / "train-labels-idx1-ubyte", raw / "t10k-labels-idx1-ubyte")  # test images, train labels
    shutil.copy(real / "t10k-images-idx3-ubyte", raw / "t10k-images-idx3-ubyte")
    with pytest.raises(ValueError, match="10,000 images but t10k-labels 60,000 labels; the files come from"):
        load_mnist(tmp_path, train=False, download=False)


def test_a_photo_is_read_the_way_its_exif_orientation_says(tmp_path):
    import numpy as np
    from PIL import Image

    from infogan.data.image_files import ImageFiles

    pixels = np.zeros((32, 32, 3), dtype=np.uint8)
    pixels[:8, :8] = 255  # a mark in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 3  # orientation: shown turned by 180 degrees
    Image.fromarray(pixels).save(tmp_path / "photo.jpg", quality=95, exif=exif)
    image = ImageFiles([tmp_path / "photo.jpg"], 32)[0][0].float()
    assert image[:, -8:, -8:].mean() > 200 and image[:, :8, :8].mean() < 50  # the mark is bottom-right, as shown


@pytest.mark.parametrize("argv, message", [
    (["--gpus", "2"], "--accelerator gpu"),
    (["--fast_dev_run", "--ckpt_path", "CKPT"], "--fast_dev_run checks a set-up from scratch"),
    (["--max_steps", "1", "--ckpt_path", "CKPT"], "has trained 2 batches already, so nothing would train"),
])
def test_runs_that_would_train_nothing_or_on_the_wrong_device_are_refused(argv, message, ckpt, mnist_dir, tmp_path,
                                                                           capsys):
    argv = [str(ckpt) if a == "CKPT" else a for a in argv]
    line = fails(main, ["--data_dir", str(mnist_dir), "--batch_size", "8", "--log_dir", str(tmp_path), *argv], capsys)
    assert message in line


def test_a_decompression_bomb_is_a_bad_image_and_skippable(tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image

    from infogan.data.image_files import BadImageError, ImageFiles

    Image.fromarray(np.zeros((64, 64, 3), dtype=np.uint8)).save(tmp_path / "bomb.png")
    Image.fromarray(np.full((16, 16, 3), 200, dtype=np.uint8)).save(tmp_path / "fine.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # so a 64 x 64 image counts as a bomb (over twice the limit)
    with pytest.raises(BadImageError, match="bomb.png.*--skip_bad_images"):
        ImageFiles([tmp_path / "bomb.png", tmp_path / "fine.png"], 16)[0]
    with pytest.warns(UserWarning, match="skipping"):
        image, _ = ImageFiles([tmp_path / "bomb.png", tmp_path / "fine.png"], 16, skip_bad_images=True)[0]
    assert int(image.float().mean()) == 200


def test_a_decompression_bomb_in_a_folder_is_skipped_by_dataloader_workers(tmp_path, monkeypatch):
    """The loader users train through decodes in worker processes (fork inherits the patched limit): the bomb is
    skipped there, every batch holds only the good images, and without the flag the error names the file."""
    import numpy as np
    from PIL import Image

    from infogan.data.datamodule import InfoGANDataModule
    from infogan.data.image_files import BadImageError

    Image.fromarray(np.zeros((64, 64, 3), dtype=np.uint8)).save(tmp_path / "bomb.png")
    for i in range(7):
        Image.fromarray(np.full((16, 16, 3), 200, dtype=np.uint8)).save(tmp_path / f"fine{i}.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)

    def batches(skip: bool) -> list:
        dm = InfoGANDataModule("folder", str(tmp_path), batch_size=4, num_workers=2,
                               skip_bad_images=skip)
        dm.setup("fit")
        return [images for images, _ in dm.train_dataloader()]

    images = torch.cat(batches(skip=True))
    assert images.shape == (8, 3, 32, 32)  # two whole batches: the bomb's place is taken by a good image
    assert (images == 200).all()
    with pytest.raises(BadImageError, match="bomb.png.*--skip_bad_images"):
        batches(skip=False)


def test_a_truncated_dsprites_file_and_a_weights_only_resume_are_one_line(ckpt, mnist_dir, tmp_path, capsys):
    import numpy as np

    from infogan.data.dsprites import load_npz

    np.savez(tmp_path / "d.npz", imgs=np.zeros((2, 64, 64), np.uint8), latents_classes=np.zeros((2, 6), np.int64))
    (tmp_path / "cut.npz").write_bytes((tmp_path / "d.npz").read_bytes()[:300])
    with pytest.raises(ValueError, match="cut.npz is not the dSprites .npz"):
        load_npz(tmp_path / "cut.npz")
    weights = torch.load(ckpt, weights_only=True)
    for key in ("optimizer_states", "loops", "lr_schedulers"):
        weights.pop(key, None)
    torch.save(weights, tmp_path / "epoch00.ckpt")
    line = fails(main, ["--data_dir", str(mnist_dir), "--ckpt_path", str(tmp_path / "epoch00.ckpt"), "--log_dir",
                        str(tmp_path / "logs")], capsys)
    assert "holds the weights only" in line and "resume from last.ckpt" in line


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without a GPU")
def test_device_cuda_without_a_gpu_is_one_line(ckpt, tmp_path, capsys):
    from infogan import generate

    line = fails(generate.main, [str(ckpt), "--device", "cuda", "--out", str(tmp_path / "x.png")], capsys)
    assert "--device cuda: no such CUDA GPU here" in line and "--device cpu" in line


def test_too_few_batches_for_one_is_one_line_and_leaves_no_run_folder(mnist_dir, tmp_path, capsys):
    line = fails(main, ["--data_dir", str(mnist_dir), "--limit_train_batches", "0.0001", "--max_epochs", "1",
                        "--log_dir", str(tmp_path / "logs")], capsys)
    assert "limit_train_batches" in line and "Try at least" in line
    assert not list((tmp_path / "logs").iterdir())  # the run never started: its claimed folder is gone


def test_a_url_an_absurd_seed_and_a_huge_grid_are_one_line(ckpt, tmp_path, capsys):
    from infogan import InfoGAN, generate
    from infogan.explore import Explorer

    with pytest.raises(ValueError, match="read from files, not URLs; download it"):
        checkpoint.load_model("https://example.org/model.ckpt")
    explorer = Explorer(InfoGAN().eval())
    for seed in (10**30, -1, "x"):
        with pytest.raises(ValueError, match="the noise seed must be"):
            explorer.grid([0], [0.0, 0.0], seed, n=4)
    with pytest.raises(SystemExit) as exit_info:
        generate.main([str(ckpt), "--n", "100000", "--out", str(tmp_path / "x.png")])
    assert exit_info.value.code == 2 and "at most 4,096" in capsys.readouterr().err


def test_an_unwritable_out_a_full_disk_and_a_damaged_classifier_cache_are_one_line(ckpt, mnist_dir, tmp_path, capsys,
                                                                                   monkeypatch):
    import errno

    from infogan import evaluate, generate

    (tmp_path / "afile").write_text("x")
    line = fails(generate.main, [str(ckpt), "--out", str(tmp_path / "afile" / "x.png")], capsys)
    assert "afile is a file, not a folder" in line
    line = fails(evaluate.main, [str(ckpt), "--data_dir", str(mnist_dir), "--out", str(tmp_path / "afile" / "m.json")],
                 capsys)
    assert "afile is a file, not a folder" in line  # refused before the minutes of computing

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x.png"))

    monkeypatch.setattr(files.os, "fsync", full)
    line = fails(generate.main, [str(ckpt), "--out", str(tmp_path / "x.png")], capsys)
    assert "No space left on device" in line and "intact" in line
    assert not list(tmp_path.glob(".x.png*"))  # no temporary file left behind
    monkeypatch.undo()
    (tmp_path / "cache.pt").write_bytes(b"not a torch file")
    line = fails(evaluate.main, [str(ckpt), "--data_dir", str(mnist_dir), "--per_category", "5", "--classifier",
                                 str(tmp_path / "cache.pt"), "--label_free_samples", "4", "--mi_samples", "8"], capsys)
    assert "is not a readable classifier cache" in line and "delete it" in line


def test_a_log_folder_deleted_during_training_is_one_line(mnist_dir, tmp_path, capsys):
    import pytorch_lightning as pl

    class DeleteTheFolder(pl.Callback):  # a user cleaning up the wrong folder mid-run
        def on_train_epoch_start(self, trainer, pl_module):
            if trainer.current_epoch == 1:
                shutil.rmtree(tmp_path / "logs")

    with pytest.raises(SystemExit) as exit_info:
        main(["--data_dir", str(mnist_dir), "--batch_size", "8", "--limit_train_batches", "2", "--limit_val_batches",
              "1", "--max_epochs", "2", "--gif_samples", "4", "--log_dir", str(tmp_path / "logs")],
             callbacks=[DeleteTheFolder()])
    err = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert exit_info.value.code == 2 and len(err) == 1 and "was deleted during training" in err[0], err


def test_an_atomic_write_gets_the_mode_a_plain_write_would(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")  # what open() gives under this umask
    written = files.write_atomically(tmp_path / "new.gif", b"GIF89a")
    assert written.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777  # not mkstemp's private 0600
    os.chmod(written, 0o640)
    files.write_atomically(written, b"GIF89a again")  # a rewrite keeps the file's own mode
    assert written.stat().st_mode & 0o777 == 0o640
