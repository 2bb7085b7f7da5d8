import pytest
import torch

from infogan.data import InfoGANDataModule, load_mnist


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


def test_epoch_order_is_fixed_by_seed_and_epoch():
    from infogan.data import EpochShuffle

    a, b = EpochShuffle(100, seed=1), EpochShuffle(100, seed=1)
    first = list(a)
    assert sorted(first) == list(range(100)) and first == list(b)
    a.set_epoch(1)
    assert list(a) != first  # a new order each epoch...
    b.set_epoch(1)
    assert list(a) == list(b)  # ...that a resumed run reproduces
