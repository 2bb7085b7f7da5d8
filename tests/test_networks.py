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


def test_unit_pixel_range_networks_see_zero_background_and_a_sigmoid():
    """dSprites' [0, 1]: the first layer of D and of the pair classifier sees a black background as 0 (what zero
    padding adds), the generator ends in a sigmoid; outside, images stay in [-1, 1] and the weights keep their names."""
    from infogan.networks import build_pair_classifier

    g, d = build_networks("cr64", 10, 5, channels=1, spectral_norm=True, pixel_range=(0, 1))
    g_old, d_old = build_networks("cr64", 10, 5, channels=1, spectral_norm=True)
    assert g.state_dict().keys() == g_old.state_dict().keys() and d.state_dict().keys() == d_old.state_dict().keys()
    seen = []
    first_conv = d.trunk.net[0]
    first_conv.register_forward_pre_hook(lambda _, args: seen.append(args[0]))
    background = -torch.ones(2, 1, 64, 64)  # black in the package's [-1, 1]
    d(background)
    assert float(seen[-1].abs().max()) == 0.0
    pairs = build_pair_classifier("cr64", 1, 5, pixel_range=(0.0, 1.0))
    pairs.net[0].register_forward_pre_hook(lambda _, args: seen.append(args[0]))
    pairs(background, torch.ones(2, 1, 64, 64))
    assert float(seen[-1][:, 0].abs().max()) == 0.0 and float(seen[-1][:, 1].min()) == 1.0
    g.load_state_dict(g_old.state_dict())
    z = torch.randn(3, 10)
    x, x_tanh = g.eval()(z), g_old.eval()(z)
    logits = torch.atanh(x_tanh.clamp(-0.999999, 0.999999).double())  # the same last layer's pre-activation
    assert torch.allclose(x.double(), 2 * torch.sigmoid(logits) - 1, atol=1e-4)
    assert x.min() >= -1 and x.max() <= 1


def test_unknown_pixel_range_names_the_choices():
    with pytest.raises(ValueError, match="--pixel_range 0 255: must be -1 1 or 0 1"):
        build_networks("cr64", 10, 5, channels=1, pixel_range=(0, 255))
