"""The evaluation classifier: accurate on real digits, cached, and a feature space in which real is near real."""

import pytest
import torch
from torchmetrics.image.fid import FrechetInceptionDistance

from infogan import classifier
from infogan.data.idx import load_mnist
from infogan.data.pixels import scale_images


@pytest.mark.slow
def test_the_classifier_reaches_99_percent_and_is_read_back_from_its_cache(classifier_cache, mnist_dir, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("a current cache must not be retrained")

    monkeypatch.setattr(classifier, "train_classifier", no_training)
    model, test_accuracy = classifier.load_or_train(mnist_dir, "mnist", classifier_cache)
    test = load_mnist(mnist_dir, train=False, download=False)
    assert test_accuracy >= 0.99 and classifier.accuracy(model, test.images, test.labels) == test_accuracy
    with pytest.raises(ValueError, match="labelled 28 px dataset"):
        classifier.load_or_train(mnist_dir, "celeba")


@pytest.mark.slow
def test_frechet_distance_in_its_features_is_small_for_real_vs_real_and_large_for_noise(classifier_cache, mnist_dir):
    model, _ = classifier.load_or_train(mnist_dir, "mnist", classifier_cache)
    test = scale_images(load_mnist(mnist_dir, train=False, download=False).images)

    def distance(a, b):
        fid = FrechetInceptionDistance(feature=classifier.Features(model), normalize=True)
        fid.update(a, real=True)
        fid.update(b, real=False)
        return float(fid.compute())

    same = distance(test[:5000], test[5000:])
    noise = distance(test[:5000], torch.rand(5000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    ones = distance(test[:5000], test[5000:][load_mnist(mnist_dir, train=False, download=False).labels[5000:] == 1])
    assert 0 <= same < 0.05 * ones and ones < noise  # one digit only is far from all ten; noise is farther still
