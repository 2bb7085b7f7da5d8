"""The label-free checks tell a healthy generator from one that ignores its noise, has a dead code, or collapsed."""

import torch

from infogan.label_free import label_free_checks, model_generate
from infogan.latent import LatentSpec

SPEC = LatentSpec(noise_dim=8, categorical=(4,), continuous=2)


def _linear(weight_noise: float = 1.0, dead: str = "", seed: int = 0):
    """A generator mixing its whole input through a fixed random map (noise scaled by ``weight_noise``, the input of
    code ``dead`` zeroed), squashed to [-1, 1] like a tanh output."""
    w = torch.randn(SPEC.input_dim, 3 * 8 * 8, generator=torch.Generator().manual_seed(seed))

    def generate(codes):
        x = SPEC.to_input(codes).clone()
        x[:, :SPEC.noise_dim] *= weight_noise
        if dead == "cont1":
            x[:, -1] = 0
        return torch.tanh(x @ w / 4).view(-1, 3, 8, 8)
    return generate


def test_a_healthy_generator_uses_its_noise_and_every_code():
    out = label_free_checks(_linear(), SPEC, n=128)
    assert out["noise"] > 0.5 and min(out["codes"].values()) > 0.1 and out["duplicates"] < 0.05
    assert out["readings"][0].startswith("noise used") and out["readings"][1] == "every code changes the images"
    assert out["readings"][2].startswith("no collapse") and out["failures"] == {}


def test_a_generator_that_ignores_its_noise_and_one_code_is_named():
    out = label_free_checks(_linear(weight_noise=0.0, dead="cont1"), SPEC, n=128)
    assert out["noise"] == 0.0 and out["codes"]["cont1"] == 0.0 and out["codes"]["cat0"] > 0.1
    assert out["readings"][0].startswith("noise ignored") and out["readings"][1] == "codes that change nothing: cont1"
    assert out["failures"]["noise ignored"] == out["readings"][0]
    assert out["failures"]["codes unused"] == out["readings"][1]


def test_a_collapsed_generator_is_named_a_collapse():
    out = label_free_checks(lambda codes: torch.zeros(len(codes.z), 1, 8, 8), SPEC, n=64)
    assert out["readings"] == ["collapse: every sample is the same image"] and out["duplicates"] == 1.0
    assert out["failures"] == {"collapse": out["readings"][0]}  # one failure named, though the noise changes nothing
    few = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(0))  # three images, whatever the input
    out = label_free_checks(lambda codes: few[codes.categorical[:, 0] % 3], SPEC, n=64)
    assert out["duplicates"] == 1.0 and out["readings"][-1].startswith("collapse: 100%")
    assert set(out["failures"]) == {"noise ignored", "codes unused", "collapse"}  # only cat0 picks the image


def test_the_checks_run_on_a_model_in_eval_mode():
    from infogan import InfoGAN

    model = InfoGAN(noise_dim=4, categorical=[3], continuous=1)
    out = label_free_checks(model_generate(model), model.latent, n=16)
    assert set(out["codes"]) == {"cat0", "cont0"} and 0 <= out["duplicates"] <= 1 and len(out["readings"]) == 3
    assert model.generator.training  # sample() put it back


def test_the_pixel_frechet_distance_is_near_zero_for_the_real_distribution_and_grows_with_a_shift_or_a_collapse():
    from infogan.label_free import pixel_frechet_distance

    def images_from(codes):  # the "real" distribution: smooth random colour fields, a function of the whole input
        return _linear()(codes).repeat_interleave(4, -1).repeat_interleave(4, -2)  # (N, 3, 32, 32)

    real = [images_from(SPEC.sample(500, torch.Generator().manual_seed(s))) for s in (10, 11, 12, 13)]
    same = pixel_frechet_distance(images_from, SPEC, real, n=2000)
    shifted = pixel_frechet_distance(lambda codes: images_from(codes) * 0.5 - 0.5, SPEC, real, n=2000)
    collapsed = pixel_frechet_distance(lambda codes: images_from(codes)[:1].expand(len(codes.z), -1, -1, -1), SPEC,
                                       real, n=2000)
    assert same < 0.1 * min(shifted, collapsed)
    assert same >= 0.0


def test_checking_a_model_leaves_the_global_random_stream_alone():
    from infogan import InfoGAN

    model = InfoGAN(noise_dim=4, categorical=[3], continuous=1)
    state = torch.get_rng_state()
    label_free_checks(model_generate(model), model.latent, n=8)
    assert torch.equal(torch.get_rng_state(), state)  # a run checked as it trains resumes exactly
