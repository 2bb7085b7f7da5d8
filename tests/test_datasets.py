"""The dataset records: consistent with the networks, and the one source the DataModule, the CLI and --help read."""

import dataclasses

import pytest

from infogan import InfoGAN
from infogan.config import DEFAULTS
from infogan.data import records as datasets
from infogan.data.datamodule import InfoGANDataModule
from infogan.networks import PRESETS
from infogan.train import build_parser, recipe


@pytest.mark.parametrize("name", list(datasets.DATASETS))
def test_every_record_names_presets_of_its_sizes_and_real_hyperparameters(name):
    info = datasets.DATASETS[name]
    assert info.name == name
    for size, preset in info.presets.items():
        assert PRESETS[preset].size == size  # the preset makes images of that size
    assert set(info.recipe) <= set(DEFAULTS)  # a recipe only sets InfoGAN's own hyperparameters
    InfoGAN(**recipe(name), preset=info.presets[info.image_sizes[0]], channels=info.channels[0])  # builds


def test_a_record_is_the_one_place_a_recipe_and_its_help_come_from(monkeypatch):
    mnist = datasets.DATASETS["mnist"]
    changed = dataclasses.replace(mnist, recipe={**mnist.recipe, "noise_dim": 7})
    monkeypatch.setattr(datasets, "DATASETS", {**datasets.DATASETS, "mnist": changed})
    assert recipe("mnist")["noise_dim"] == 7 and recipe("mnist")["lambda_real"] == 1.0
    assert recipe("fashion_mnist")["noise_dim"] == 62  # the others keep InfoGAN's default
    flat = " ".join(build_parser().format_help().split())
    assert "recipe: mnist 7, fashion_mnist 62, celeba 128, folder 62, dsprites 5" in flat


def test_the_datamodule_reads_shape_labels_and_storage_from_the_record(tmp_path):
    for name, info in datasets.DATASETS.items():
        data = InfoGANDataModule(name, str(tmp_path), num_workers=None)
        assert data.image_shape == (info.channels[0], info.image_sizes[0]) and data.num_classes == info.num_classes
        assert (data.num_workers == 0) == (info.storage != "files")  # in-process batches need no workers


def test_a_bad_record_is_refused():
    with pytest.raises(ValueError, match="one network preset per image size"):
        datasets.DatasetInfo("x", image_sizes=(32,), channels=(3,), num_classes=None, storage="files", presets={})
    with pytest.raises(ValueError, match="storage must be one of"):
        datasets.DatasetInfo("x", image_sizes=(32,), channels=(3,), num_classes=None, storage="cloud",
                             presets={32: "celeba32"})
    # a recipe is checked against the settings when the record is made, not when a run starts
    with pytest.raises(ValueError, match="dataset x's recipe: unknown setting.*lambda_typo"):
        datasets.DatasetInfo("x", image_sizes=(32,), channels=(3,), num_classes=None, storage="files",
                             presets={32: "celeba32"}, recipe=dict(lambda_typo=1.0))
    with pytest.raises(ValueError, match="dataset x's recipe: --lr_g -0.1: must be a finite number > 0"):
        datasets.DatasetInfo("x", image_sizes=(32,), channels=(3,), num_classes=None, storage="files",
                             presets={32: "celeba32"}, recipe=dict(lr_g=-0.1))
