"""CelebA, image folders and Fashion-MNIST: layouts, transforms, bad files, and training through the CLI."""

import struct
import warnings

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from infogan.data import BadImageError, ImageFiles, InfoGANDataModule
from infogan.infogan_module import main
from tests.conftest import make_jpegs


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


def test_celeba_images_are_center_cropped_resized_and_scaled(fake_celeba):
    dm = InfoGANDataModule("celeba", str(fake_celeba), batch_size=8, num_workers=0, image_size=32)
    dm.setup("fit")
    assert len(dm.train_set) == 40 and dm.image_shape == (3, 32) and dm.num_classes is None
    images, labels = dm.on_after_batch_transfer(next(iter(dm.train_dataloader())), 0)
    assert images.shape == (8, 3, 32, 32) and images.min() >= -1 and images.max() <= 1
    assert (labels == -1).all()
    assert dm.val_dataloader() == []  # nothing to validate without labels


def test_missing_celeba_says_where_it_looked_and_how_to_fix(tmp_path):
    dm = InfoGANDataModule("celeba", str(tmp_path), num_workers=0)
    with pytest.raises(FileNotFoundError, match=f"looked for {tmp_path}/celeba/img_align_celeba.*unzip it there"):
        dm.prepare_data()


def test_empty_folder_errors(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "folder", "--data_dir", str(tmp_path / "empty"), "--log_dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert f"no images in {tmp_path / 'empty'}" in capsys.readouterr().err


def _corrupt_folder(tmp_path):
    folder = tmp_path / "photos"
    good = make_jpegs(folder / "a", 15) + make_jpegs(folder / "b" / "nested", 15, seed=1, prefix="n")
    truncated = folder / "a" / "broken.jpg"
    truncated.write_bytes(good[0].read_bytes()[:400])
    (folder / "a" / "notes.png").write_text("not an image at all")
    return folder, truncated


def test_a_corrupt_jpeg_stops_training_with_its_name(tmp_path, capsys):
    folder, truncated = _corrupt_folder(tmp_path)
    with pytest.raises(SystemExit):
        main(["--dataset", "folder", "--data_dir", str(folder), "--batch_size", "32", "--max_epochs", "1",
              "--num_workers", "0", "--log_dir", str(tmp_path / "logs")])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "cannot decode image" in err and "--skip_bad_images" in err
    assert str(truncated) in err or str(folder / "a" / "notes.png") in err


def test_skip_bad_images_skips_and_counts(tmp_path):
    folder, truncated = _corrupt_folder(tmp_path)
    dm = InfoGANDataModule("folder", str(folder), batch_size=32, num_workers=0, skip_bad_images=True, channels=1)
    dm.setup("fit")
    assert len(dm.train_set) == 32  # recursive: 30 JPEGs + the truncated one + the fake PNG
    with pytest.warns(UserWarning, match="skipping"):
        images = torch.stack([dm.train_set[i][0] for i in range(len(dm.train_set))])
    assert images.shape == (32, 1, 32, 32)  # --channels 1: grayscale
    assert sorted(dm.train_set.skipped) == sorted([truncated, folder / "a" / "notes.png"])
    with pytest.raises(BadImageError, match=f"cannot decode image {truncated}"):
        ImageFiles([truncated], 32)[0]


def test_grayscale_image_in_an_rgb_set_is_converted(tmp_path):
    folder = tmp_path / "mixed"
    make_jpegs(folder, 3)
    Image.new("L", (50, 40), 128).save(folder / "gray.png")
    dm = InfoGANDataModule("folder", str(folder), num_workers=0)
    dm.setup()
    gray = dm.train_set[dm.train_set.files.index(folder / "gray.png")][0]
    assert gray.shape == (3, 32, 32) and torch.equal(gray[0], gray[1])


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "mnist", "--image_size", "32"], "--image_size 32: dataset mnist supports 28"),
    (["--dataset", "celeba", "--image_size", "48"], "--image_size 48: dataset celeba supports 32 or 64"),
    (["--dataset", "mnist", "--channels", "3"], "--channels applies to --dataset folder only"),
])
def test_unsupported_image_sizes_and_channels(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([*argv, "--log_dir", str(tmp_path), "--no_download"])
    assert message in capsys.readouterr().err


def _write_idx(path, array: np.ndarray) -> None:
    """torchvision's raw IDX layout: magic (0, 0, dtype 0x08 = ubyte, ndim), big-endian dims, then the bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reads_torchvision_layout_and_trains_with_metrics(tmp_path):
    rng = np.random.default_rng(0)
    raw = tmp_path / "data" / "FashionMNIST" / "raw"
    for split, n in (("train", 64), ("t10k", 32)):
        _write_idx(raw / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{split}-labels-idx1-ubyte", np.arange(n) % 10)
    trainer = main(["--dataset", "fashion_mnist", "--data_dir", str(tmp_path / "data"), "--batch_size", "16",
                    "--max_epochs", "1", "--no_download", "--gif_samples", "4", "--log_dir", str(tmp_path / "logs")])
    assert trainer.global_step == 2 * 4  # 64 images / 16
    assert "val/accuracy" in trainer.callback_metrics and "val/nmi" in trainer.callback_metrics
    assert (tmp_path / "logs" / "version_0" / "checkpoints" / "best.ckpt").is_file()


def test_missing_fashion_mnist_names_its_folder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--dataset", "fashion_mnist", "--data_dir", str(tmp_path), "--no_download", "--log_dir", str(tmp_path)])
    assert f"FashionMNIST not found in {tmp_path}/FashionMNIST/raw" in capsys.readouterr().err
