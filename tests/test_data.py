"""The DataModule: MNIST in memory, CelebA and folders decoded lazily, dSprites rendered; bad files."""


import numpy as np
import pytest
import torch
from PIL import Image

from infogan.data.datamodule import InfoGANDataModule
from infogan.data.idx import IDX_FILES, load_mnist
from infogan.data.image_files import BadImageError, ImageFiles
from tests.helpers import corrupt_folder, make_jpegs


def test_mnist_is_one_uint8_tensor_and_batches_scale_to_tanh_range(mnist_dir):
    dm = InfoGANDataModule("mnist", str(mnist_dir), batch_size=128)
    dm.setup("fit")
    assert dm.train_set.images.shape == (60000, 1, 28, 28) and dm.train_set.images.dtype == torch.uint8
    assert dm.val_set.images.shape == (10000, 1, 28, 28) and set(dm.val_set.labels.unique().tolist()) == set(range(10))
    loader = dm.train_dataloader()
    assert len(loader) == 60000 // 128  # drop_last: no ragged batch for BatchNorm
    images, labels = dm.on_after_batch_transfer(next(iter(loader)), 0)
    assert images.shape == (128, 1, 28, 28) and images.dtype == torch.float32 and labels.shape == (128,)
    assert images.min() == -1.0 and images.max() == 1.0


def test_missing_mnist_names_the_folder_it_looked_in(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"MNIST not found in {tmp_path}/MNIST/raw.*--data_dir"):
        load_mnist(tmp_path, train=True, download=False)


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'; choose one of mnist"):
        InfoGANDataModule("imagenet")


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


def test_skip_bad_images_skips_and_counts(tmp_path):
    folder, truncated = corrupt_folder(tmp_path)
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
    dm = InfoGANDataModule("folder", str(folder), num_workers=0, batch_size=4)
    dm.setup()
    gray = dm.train_set[dm.train_set.files.index(folder / "gray.png")][0]
    assert gray.shape == (3, 32, 32) and torch.equal(gray[0], gray[1])


def test_datamodule_serves_dsprites_batches_in_the_generator_range(tmp_path):
    data = InfoGANDataModule("dsprites", str(tmp_path), batch_size=8)
    assert data.image_shape == (1, 64) and data.num_classes is None
    data.setup("fit")
    assert data.train_set.images is None  # no original file here: rendered
    images, classes = data.on_after_batch_transfer(next(iter(data.train_dataloader())), 0)
    assert images.shape == (8, 1, 64, 64) and classes.shape == (8, 6)
    assert images.min() == -1 and images.max() == 1
    with pytest.raises(ValueError, match="supports 64"):
        InfoGANDataModule("dsprites", str(tmp_path), image_size=32)


def test_a_folder_with_fewer_images_than_one_batch_is_refused_by_count(tmp_path):
    make_jpegs(tmp_path / "two", 2)
    data = InfoGANDataModule("folder", str(tmp_path / "two"), batch_size=16, num_workers=0)
    with pytest.raises(ValueError, match="has 2 images, fewer than one batch of 16: lower --batch_size"):
        data.setup("fit")


def test_16_bit_images_are_scaled_not_saturated(tmp_path):
    gradient = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (64, 1))
    Image.fromarray(gradient).save(tmp_path / "deep.png")  # mode I;16
    assert Image.open(tmp_path / "deep.png").mode.startswith("I;16")
    for channels in (1, 3):
        image = ImageFiles([tmp_path / "deep.png"], 32, channels=channels)[0][0].float()
        assert image.shape == (channels, 32, 32)
        assert (image >= 250).float().mean() < 0.1 and image.min() <= 5 and image.max() >= 250  # a gradient again
        assert abs(float(image.mean()) - 127.5) < 8


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparent_pixels_are_composited_onto_the_background_not_dropped(tmp_path, mode):
    """The transparent half of the image holds bright green (RGBA) or mid-grey (LA, palette) colour values, which
    dropping the alpha channel would show; composited, it is the background."""
    rgba = np.zeros((32, 32, 4), dtype=np.uint8)
    rgba[:, :16] = (0, 255, 0, 0)  # left half: transparent, but green underneath
    rgba[:, 16:] = (200, 30, 30, 255)  # right half: opaque red
    image = Image.fromarray(rgba, "RGBA")
    if mode == "LA":
        image = image.convert("LA")
    elif mode == "P":
        image = image.convert("RGB").quantize(2)
        image.info["transparency"] = int(np.asarray(image)[0, 0])  # the left half's palette index
    image.save(tmp_path / "icon.png")
    assert Image.open(tmp_path / "icon.png").mode == mode
    for background in ((255, 255, 255), (0, 0, 128)):
        out = ImageFiles([tmp_path / "icon.png"], 32, channels=3, background=background)[0][0]
        left, right = out[:, :, :12].reshape(3, -1), out[:, :, 20:].reshape(3, -1)
        assert torch.equal(left, torch.tensor(background, dtype=torch.uint8)[:, None].expand_as(left)), background
        assert right.float().std(dim=1).max() == 0 and not torch.equal(right[:, 0], torch.tensor(background))
    with pytest.raises(ValueError, match="--background 300 0 0: give three whole numbers from 0 to 255"):
        InfoGANDataModule("folder", str(tmp_path), background=(300, 0, 0))


def test_a_damaged_idx_file_is_named_with_what_is_wrong(mnist_dir, tmp_path):
    import shutil

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in IDX_FILES:
        shutil.copy(mnist_dir / "MNIST" / "raw" / name, raw / name)
    cut = raw / "t10k-images-idx3-ubyte"
    cut.write_bytes(cut.read_bytes()[:100_000])
    with pytest.raises(ValueError, match=f"{cut} is damaged: its header promises 7840016 bytes, the file has 100000"):
        load_mnist(tmp_path, train=True, download=False)


def test_a_failed_download_leaves_no_empty_folders(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(self, *args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    with pytest.raises(FileNotFoundError, match="the download failed"):
        load_mnist(tmp_path / "data", train=True, download=True)
    assert not (tmp_path / "data" / "MNIST").exists()
