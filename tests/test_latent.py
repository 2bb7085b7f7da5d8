"""The latent codes: sampling, priors, fixed values, traversal values, the information loss and the MI bound."""

import math

import pytest
import torch

from infogan import InfoGAN
from infogan.latent import LatentSample, LatentSpec


def test_sample_shapes_onehot_and_prior_ranges():
    spec = LatentSpec(noise_dim=5, categorical=(10, 3), continuous=2)
    s = spec.sample(500, torch.Generator().manual_seed(0))
    assert s.z.shape == (500, 5) and s.categorical.shape == (500, 2) and s.continuous.shape == (500, 2)
    assert s.categorical[:, 0].max() == 9 and s.categorical[:, 1].max() == 2 and s.categorical.min() == 0
    assert s.continuous.min() >= -1 and s.continuous.max() <= 1 and s.continuous.abs().max() > 0.9
    x = spec.to_input(s)
    assert x.shape == (500, spec.input_dim) == (500, 5 + 10 + 3 + 2)
    onehot_a, onehot_b = x[:, 5:15], x[:, 15:18]
    assert torch.equal(onehot_a.sum(1), torch.ones(500)) and torch.equal(onehot_b.sum(1), torch.ones(500))
    assert torch.equal(onehot_a.argmax(1), s.categorical[:, 0]) and torch.equal(onehot_b.argmax(1), s.categorical[:, 1])
    assert torch.equal(x[:, 18:], s.continuous) and torch.equal(x[:, :5], s.z)


def test_gaussian_prior_is_unbounded_and_standard():
    s = LatentSpec(continuous=3, continuous_prior="gaussian").sample(20000, torch.Generator().manual_seed(1))
    assert s.continuous.abs().max() > 2.5
    assert abs(float(s.continuous.mean())) < 0.05 and abs(float(s.continuous.std()) - 1) < 0.05


def test_noise_std_scales_only_the_noise():
    rng = lambda: torch.Generator().manual_seed(2)  # noqa: E731
    wide, narrow = LatentSpec().sample(5000, rng()), LatentSpec(noise_std=0.1).sample(5000, rng())
    assert torch.allclose(narrow.z, 0.1 * wide.z) and abs(float(narrow.z.std()) - 0.1) < 0.005
    assert torch.equal(narrow.categorical, wide.categorical) and torch.equal(narrow.continuous, wide.continuous)


def test_seeded_sampling_is_reproducible_and_fixed_values_override():
    spec = LatentSpec(categorical=(10,), continuous=2)
    a = spec.sample(8, torch.Generator().manual_seed(3))
    b = spec.sample(8, torch.Generator().manual_seed(3))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    c = spec.sample(8, torch.Generator().manual_seed(3), categorical=[4], continuous=[None, 0.5])
    assert torch.equal(c.categorical, torch.full((8, 1), 4))
    assert torch.equal(c.continuous[:, 1], torch.full((8,), 0.5))
    assert torch.equal(c.continuous[:, 0], a.continuous[:, 0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(categorical=[10, 10]), "2 categorical values given, but this model has 1"),
        (dict(categorical=[10]), "categorical code 0 takes values 0..9, got 10"),
        (dict(continuous=[0.1, 0.2, 0.3]), "3 continuous values given, but this model has 2"),
    ],
)
def test_bad_fixed_values_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LatentSpec().sample(4, **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(categorical=(1,)), "at least 2 values"),
        (dict(continuous=-1), ">= 0"),
        (dict(continuous_prior="cauchy"), "continuous_prior"),
        (dict(noise_dim=0, categorical=(), continuous=0), "needs some input"),
        (dict(noise_std=0.0), "noise_std must be > 0"),
        (dict(traversal_range=0.0), "traversal_range must be a finite number > 0"),
        (dict(traversal_range=float("nan")), "traversal_range must be a finite number > 0"),
    ],
)
def test_bad_specs_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LatentSpec(**kwargs)


def _q_out(logits: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    return torch.cat([logits, mean], dim=1)


def test_info_loss_perfect_prediction_beats_uniform_and_mi_bound_is_h_minus_nll():
    spec = LatentSpec(categorical=(10,), continuous=2)
    s = spec.sample(256, torch.Generator().manual_seed(0))
    perfect = _q_out(torch.nn.functional.one_hot(s.categorical[:, 0], 10).float() * 50, s.continuous)
    uniform = _q_out(torch.zeros(256, 10), torch.zeros(256, 2))
    nll_p, nll_u = spec.nll(perfect, s), spec.nll(uniform, s)

    assert nll_p["cat0"] < 1e-6
    assert nll_u["cat0"].item() == pytest.approx(math.log(10), abs=1e-6)
    # Gaussian NLL with unit std: exact prediction leaves only the 0.5 ln(2 pi) constant.
    assert nll_p["cont0"].item() == pytest.approx(0.5 * math.log(2 * math.pi), abs=1e-6)
    assert nll_u["cont1"] > nll_p["cont1"]
    assert spec.info_loss(nll_p, 1.0, 0.1) < spec.info_loss(nll_u, 1.0, 0.1)

    for nll in (nll_p, nll_u):
        mi = spec.mi_bound(nll)
        assert mi["cat0"].item() == pytest.approx(math.log(10) - nll["cat0"].item(), abs=1e-6)
        assert mi["cont0"].item() == pytest.approx(math.log(2) - nll["cont0"].item(), abs=1e-6)
    assert mi["cat0"].abs() < 1e-6  # a uniform guess carries no information
    assert spec.mi_bound(nll_p)["cat0"].item() == pytest.approx(math.log(10), abs=1e-5)


def test_categorical_mi_bound_never_exceeds_entropy():
    spec = LatentSpec(categorical=(7,), continuous=0)
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        s = spec.sample(64, g)
        logits = torch.randn(64, 7, generator=g) * torch.rand(1, generator=g) * 30
        assert spec.mi_bound(spec.nll(logits, s))["cat0"] <= math.log(7) + 1e-6


def test_learned_variance_rewards_confident_correct_predictions():
    spec = LatentSpec(categorical=(), continuous=1, learn_variance=True)
    assert spec.q_dim == 2
    s = spec.sample(128, torch.Generator().manual_seed(0))
    confident = torch.cat([s.continuous, torch.full((128, 1), -4.0)], 1)
    unit = torch.cat([s.continuous, torch.zeros(128, 1)], 1)
    assert spec.nll(confident, s)["cont0"] < spec.nll(unit, s)["cont0"]
    # Clamping keeps the bound finite when Q claims absurd certainty.
    absurd = torch.cat([s.continuous, torch.full((128, 1), -1e4)], 1)
    assert torch.isfinite(spec.nll(absurd, s)["cont0"])


def test_latent_sample_moves_between_devices():
    s = LatentSpec().sample(2)
    assert isinstance(s.to("cpu"), LatentSample)


def test_continuous_sweep_uses_the_prior_range_unless_the_model_sets_one():
    assert InfoGAN().latent.traversal_values("cont", 0, frames=5) == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert InfoGAN(continuous_prior="gaussian").latent.traversal_values("cont", 1, frames=3) == [-3.0, 0.0, 3.0]
    assert InfoGAN(traversal_range=0.5).latent.traversal_values("cont", 0, frames=3) == [-0.5, 0.0, 0.5]
    assert InfoGAN(traversal_range=0.5).latent.traversal_values("cont", 0, frames=3, value_range=3) == [-3, 0, 3]


def test_uniform_noise_prior_draws_z_in_the_box_and_keeps_the_codes_stream():
    g = torch.Generator().manual_seed(0)
    s = LatentSpec(noise_dim=5, categorical=(), continuous=5, noise_prior="uniform", noise_std=0.5).sample(20000, g)
    assert s.z.min() >= -0.5 and s.z.max() <= 0.5 and abs(float(s.z.std()) - 0.5 / 3 ** 0.5) < 0.01
    with pytest.raises(ValueError, match="noise_prior must be one of"):
        LatentSpec(noise_prior="laplace")


def test_non_finite_continuous_values_are_refused():
    with pytest.raises(ValueError, match="continuous code 0 must be a finite number, got nan"):
        LatentSpec().sample(3, continuous=[float("nan"), 0.0])
    with pytest.raises(ValueError, match="continuous code 1 must be a finite number, got inf"):
        LatentSpec().sample(3, continuous=torch.tensor([[0.0, float("inf")]] * 3))


def test_contrastive_pairs_share_the_noise_and_exactly_the_named_code():
    spec = LatentSpec(categorical=(10,), continuous=3)
    first, second, shared = spec.sample_pairs(4000, torch.Generator().manual_seed(0))
    assert torch.equal(first.z, second.z)
    same = torch.cat([first.categorical == second.categorical, first.continuous == second.continuous], dim=1)
    rows = torch.arange(4000)
    assert bool(same[rows, shared].all())  # the named code (in code_names order) is the same on both sides
    others = same.clone()
    others[rows, shared] = False
    assert not others[:, 1:].any()  # every other continuous code is drawn anew
    assert 0.04 < others[:, 0].float().mean() < 0.12  # a categorical one coincides by chance: 3/4 x 1/10
    assert torch.bincount(shared, minlength=4).min() > 850  # every code is named, uniformly
