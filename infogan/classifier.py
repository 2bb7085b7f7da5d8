"""A supervised digit (or clothing) classifier that judges generated samples, for evaluation only.

Why: Q's accuracy says how Q sorts *real* images; the generator's categories are what a user sees, and with the
invariance term Q is trained on real images directly, so the two can disagree. A classifier trained on the labelled
training split reads the class of each generated sample (:func:`infogan.metrics.sample_scores`) and supplies the
features of the Frechet distance between generated and real test images (the MNIST analogue of FID: Inception
weights cannot be downloaded on every machine, this network is trained in a minute). It never touches training.

The network (:class:`DigitClassifier`): conv 3x3 32, ReLU, max-pool 2; conv 3x3 64, ReLU, max-pool 2; FC 3136 -> 128
(the features), ReLU; FC 128 -> classes. Trained once (3 epochs of Adam, with small random shifts) and cached beside
the data as ``DATA_DIR/<MNIST|FashionMNIST>/infogan_classifier.pt``, read back with ``weights_only=True``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from infogan.data.idx import load_mnist
from infogan.data.pixels import scale_images
from infogan.data.records import dataset_info
from infogan.errors import InputError
from infogan.files import write_with

CACHE_NAME = "infogan_classifier.pt"
CACHE_VERSION = 1  # bump when the network or its training changes: older caches are then retrained


class DigitClassifier(nn.Module):
    """Small CNN for 28 x 28 single-channel images in [-1, 1].

    ``features(x)``: (N, 128); ``forward(x)``: (N, num_classes) logits. ``num_features`` lets torchmetrics'
    ``FrechetInceptionDistance`` take :class:`Features` of it as its feature extractor.
    """

    num_features = 128

    def __init__(self, *, num_classes: int = 10) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, self.num_features),
        )
        self.head = nn.Linear(self.num_features, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(F.relu(self.features(x)))


class Features(nn.Module):
    """The classifier's 128 features as a module (torchmetrics' FID calls ``module(images)``)."""

    def __init__(self, classifier: DigitClassifier) -> None:
        super().__init__()
        self.classifier, self.num_features = classifier, classifier.num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier.features(x)


def _shifted(images: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Each image (N, 1, 28, 28) moved by a random whole-pixel shift in [-max_shift, max_shift] (background filled)."""
    padded = F.pad(images, (max_shift,) * 4, value=-1.0)
    dx, dy = (torch.randint(2 * max_shift + 1, (2,), generator=generator)).tolist()
    return padded[:, :, dy:dy + images.shape[2], dx:dx + images.shape[3]]


@torch.no_grad()
def accuracy(model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Share of ``images`` (N, 1, 28, 28) uint8 classified as ``labels``."""
    model.eval()
    right = sum(int((model(scale_images(images[i:i + batch_size])).argmax(1) == labels[i:i + batch_size]).sum())
                for i in range(0, len(images), batch_size))
    return right / len(images)


def train_classifier(train_images: torch.Tensor, train_labels: torch.Tensor, *, num_classes: int = 10,
                     epochs: int = 3, batch_size: int = 128, seed: int = 0, verbose: bool = True) -> DigitClassifier:
    """Train a :class:`DigitClassifier` on (N, 1, 28, 28) uint8 images; returns it in eval mode."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = DigitClassifier(num_classes=num_classes)
    steps = epochs * (len(train_images) // batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=max(steps, 1))
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(train_images), generator=generator)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            loss = F.cross_entropy(model(_shifted(scale_images(train_images[idx]), generator)), train_labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        if verbose:
            print(f"evaluation classifier: epoch {epoch + 1}/{epochs}, last batch loss {loss.item():.3f}",
                  file=sys.stderr)
    return model.eval()


def load_or_train(data_dir: str | Path, dataset: str = "mnist", cache: Optional[str | Path] = None,
                  verbose: bool = True) -> tuple[DigitClassifier, float]:
    """The evaluation classifier of ``dataset`` and its test accuracy: read from ``cache`` (default: beside the data)
    when a current one is there, else trained on the training split and written there (a warning, not an error,
    when the folder is read-only)."""
    info = dataset_info(dataset)
    if info.storage != "memory":
        raise InputError(f"the sample scores need a labelled 28 px dataset (mnist, fashion_mnist), not {dataset!r}")
    cache = Path(cache) if cache else Path(data_dir) / info.torchvision_name / CACHE_NAME
    if cache.is_file():
        try:
            saved = torch.load(cache, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - truncated, not a torch file, pickled code: all the same to the user
            raise InputError(f"--classifier {cache} is not a readable classifier cache "
                             f"({str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__}): "
                             f"delete it, and it is trained again") from None
        if isinstance(saved, dict) and saved.get("version") == CACHE_VERSION and saved.get("dataset") == dataset:
            model = DigitClassifier(num_classes=info.num_classes)
            model.load_state_dict(saved["state_dict"])
            return model.eval(), float(saved["test_accuracy"])
    train = load_mnist(data_dir, train=True, download=False, dataset=dataset)
    test = load_mnist(data_dir, train=False, download=False, dataset=dataset)
    if verbose:
        print(f"training the evaluation classifier for {dataset} once (about a minute on 2 CPU cores); "
              f"it is cached at {cache}", file=sys.stderr)
    model = train_classifier(train.images, train.labels, num_classes=info.num_classes, verbose=verbose)
    test_accuracy = accuracy(model, test.images, test.labels)
    try:
        write_with(cache, lambda f: torch.save({"version": CACHE_VERSION, "dataset": dataset,
                                                "test_accuracy": test_accuracy, "state_dict": model.state_dict()}, f))
    except OSError as err:
        warnings.warn(f"could not cache the evaluation classifier at {cache} ({err}); it is retrained next time",
                      stacklevel=2)
    return model, test_accuracy
