"""Shared fixtures: the real MNIST in ../shared/data, a tiny real training run, a fake CelebA, quiet Lightning."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest

from tests.helpers import MNIST_DIR, make_jpegs


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    if not (MNIST_DIR / "MNIST" / "raw" / "train-images-idx3-ubyte").exists():
        pytest.skip(f"real MNIST not found under {MNIST_DIR}/MNIST/raw")
    return MNIST_DIR


@pytest.fixture(autouse=True)
def _quiet_lightning():
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*LeafSpec.*")
        yield


@pytest.fixture(autouse=True)
def _small_label_free_watch(monkeypatch):
    """Training runs in tests check 16 sample pairs after each epoch, not 256: a tenth of the cost; no test reads the
    values of a run started from the command line (tests/test_callbacks.py checks them at evaluate's 256)."""
    from infogan import train

    build = train.build_parser

    def build_small():
        parser = build()
        parser.set_defaults(label_free_samples=16)
        return parser
    monkeypatch.setattr(train, "build_parser", build_small)


@pytest.fixture(scope="session")
def tiny_run(mnist_dir, tmp_path_factory) -> Path:
    """A real 1-epoch, 2-batch MNIST training run with validation (logs, GIFs, checkpoints); its version folder."""
    from infogan.train import main

    log_dir = tmp_path_factory.mktemp("tiny_run")
    main(["--data_dir", str(mnist_dir), "--batch_size", "8", "--max_epochs", "1", "--limit_train_batches", "2",
          "--limit_val_batches", "2", "--log_dir", str(log_dir)])
    return log_dir / "version_0"


@pytest.fixture()
def ckpt(tiny_run) -> Path:
    """The tiny run's last.ckpt."""
    return tiny_run / "checkpoints" / "last.ckpt"


@pytest.fixture()
def fake_celeba(tmp_path) -> Path:
    """A data_dir with CelebA's real layout: celeba/img_align_celeba/000001.jpg ... (40 JPEGs, 178 x 218)."""
    make_jpegs(tmp_path / "data" / "celeba" / "img_align_celeba", 40)
    return tmp_path / "data"


@pytest.fixture(scope="session")
def classifier_cache(mnist_dir, tmp_path_factory) -> Path:
    """The evaluation classifier, trained once on the real MNIST (about a minute) into a temporary cache file."""
    from infogan.classifier import load_or_train

    cache = tmp_path_factory.mktemp("classifier") / "infogan_classifier.pt"
    load_or_train(mnist_dir, "mnist", cache, verbose=False)
    return cache
