"""The networks: the paper's MNIST shapes and init, and InfoGAN-CR's dSprites preset with its costs."""

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


def _forward_mflop(module: torch.nn.Module, x: torch.Tensor) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(x)
    return counter.get_total_flops() / 1e6 / len(x)


def test_the_infogan_cr_preset_has_their_shapes_and_about_a_thirteenth_of_the_cost():
    spec = LatentSpec(categorical=(), continuous=5, noise_dim=5, noise_prior="uniform")
    g, d = build_networks("cr64", spec.input_dim, spec.q_dim, channels=1, spectral_norm=True, spectral_norm_q=True)
    z = spec.to_input(spec.sample(4))
    x = g.eval()(z)
    assert x.shape == (4, 1, 64, 64) and x.min() >= -1 and x.max() <= 1
    logit, q = d(x)
    assert logit.shape == (4,) and q.shape == (4, 5) and d.trunk.out_features == 128
    # no batch norm in D or Q; every linear and conv layer of trunk, head and Q spectrally normalised
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in d.modules())
    layers = [m for m in d.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(layers) == 4 + 1 + 1 + 2 and all(torch.nn.utils.parametrize.is_parametrized(m) for m in layers)
    # G: FC 128, FC 1024, three upconvs with batch norm after the activation, the last upconv to one channel
    assert [m.out_features for m in g.fc if isinstance(m, torch.nn.Linear)] == [128, 1024]
    cost = _forward_mflop(g, z) + _forward_mflop(d, x)
    spec_dcgan = LatentSpec(categorical=(), continuous=5, noise_dim=5)
    g64, d64 = build_networks("dcgan64", spec_dcgan.input_dim, spec_dcgan.q_dim, channels=1)
    cost64 = _forward_mflop(g64.eval(), z) + _forward_mflop(d64.eval(), g64(z))
    assert 20 < cost < 50 and cost64 > 10 * cost  # about 16 + 16 MFLOP per image against about 400


def test_spectral_norm_leaves_q_alone_unless_asked():
    _, d = build_networks("cr64", 10, 5, channels=1, spectral_norm=True)
    assert torch.nn.utils.parametrize.is_parametrized(d.head)
    q_layers = [m for m in d.q.modules() if isinstance(m, torch.nn.Linear)]
    assert not any(torch.nn.utils.parametrize.is_parametrized(m) for m in q_layers)
