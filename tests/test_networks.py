import pytest
import torch

from infogan.latent import LatentSpec
from infogan.networks import build_networks


def test_mnist_preset_shapes_and_output_range():
    spec = LatentSpec(categorical=(10,), continuous=2, learn_variance=True)
    g, d = build_networks("mnist", spec.input_dim, spec.q_dim, channels=1)
    x = g(spec.to_input(spec.sample(4)))
    assert x.shape == (4, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    logit, q = d(x)
    assert logit.shape == (4,) and q.shape == (4, spec.q_dim) == (4, 14)
    assert g.fc[0].in_features == 74 and d.trunk.net[6].in_features == 6272  # the paper's sizes


@torch.no_grad()
def test_weights_initialised_like_the_paper():
    g, d = build_networks("mnist", 74, 12, channels=1)
    w = d.trunk.net[6].weight
    assert float(w.std()) == pytest.approx(0.02, abs=1e-3) and float(w.mean()) == pytest.approx(0, abs=1e-3)
    assert float(g.fc[1].weight.mean()) == pytest.approx(1.0, abs=0.01)  # BatchNorm scale ~ N(1, 0.02)
    assert float(d.head.bias.abs().max()) == 0.0


def test_unknown_preset_names_the_choices():
    with pytest.raises(ValueError, match="unknown network preset 'vgg'.*mnist"):
        build_networks("vgg", 74, 12, 1)
