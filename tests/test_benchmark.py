"""The speed benchmark runs in smoke mode and reports every field (no timing is asserted)."""

import importlib.util
import json
import math
import sys

import pytest
import torch

from tests.helpers import REPO


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


@pytest.mark.slow
def test_train_speed_smoke_writes_both_steps_with_every_field(mnist_dir, tmp_path):
    bench = _load("train_speed")
    out = tmp_path / "speed.json"
    bench.main(["--data_dir", str(mnist_dir), "--batch_size", "8", "--steps", "2", "--warmup", "1",
                "--rounds", "1", "--log_dir", str(tmp_path / "logs"), "--json", str(out)])
    result = json.loads(out.read_text())
    for term in ("lambda_real", "lambda_fake_views"):  # the MNIST recipe's terms, and the paper's step without them
        assert result["default"][term] == 1.0 and result["paper"][term] == 0.0
    for step in ("default", "paper"):
        row = result[step]
        for key in ("lightning_img_per_s", "plain_img_per_s", "ratio", "gflop_per_step", "pct_of_peak"):
            assert isinstance(row[key], float) and math.isfinite(row[key]) and row[key] > 0, (step, key)
        assert row["ratio"] == row["lightning_img_per_s"] / row["plain_img_per_s"]
    # Batch 8: forward+backward of both steps of the paper's nets is ~2.5 GFLOP (about 0.3 GFLOP per image); the
    # recipe's terms add trunk forwards and backwards on restyled real images and on restyled fakes (D and G steps).
    assert 1.0 < result["paper"]["gflop_per_step"] < 5.0
    paper, default = result["paper"]["gflop_per_step"], result["default"]["gflop_per_step"]
    assert 1.3 * paper < default < 2.2 * paper
    assert result["peak_gflops"] > 0


def test_the_plain_loop_runs_the_modules_own_step(monkeypatch):
    from infogan.objective import Objective

    bench = _load("train_speed")
    calls = []
    for name in ("train_batch", "discriminator_loss", "generator_loss"):
        original = getattr(Objective, name)
        monkeypatch.setattr(Objective, name, lambda self, *a, _f=original, _n=name: calls.append(_n) or _f(self, *a))
    loop = bench.PlainLoop(torch.zeros(16, 1, 28, 28, dtype=torch.uint8), 8, lambda_real=1.0,
                           lambda_fake_views=1.0)
    before = {k: v.clone() for k, v in loop.model.state_dict().items()}
    loop.step()
    assert calls == ["train_batch", "discriminator_loss", "generator_loss"]  # the step order is the module's
    changed = {k for k, v in loop.model.state_dict().items() if not torch.equal(before[k], v)}
    assert any(k.startswith("generator.") for k in changed) and any(k.startswith("discriminator.q.") for k in changed)


@pytest.mark.slow
def test_step_variants_smoke_changes_what_it_says(mnist_dir, tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    bench = _load("step_variants")
    images = torch.zeros(16, 1, 28, 28, dtype=torch.uint8)
    loop, _ = bench.build("channels_last", images, 8, seed=0)
    assert loop.images.is_contiguous(memory_format=torch.channels_last)
    loop, _ = bench.build("foreach_adam", images, 8, seed=0)
    opt_d, opt_g = loop.optimizers["discriminator"], loop.optimizers["generator"]
    assert opt_d.defaults["foreach"] and not opt_d.defaults["fused"]
    loop, _ = bench.build("loop_adam", images, 8, seed=0)
    opt_g = loop.optimizers["generator"]
    assert not opt_g.defaults["foreach"] and not opt_g.defaults["fused"]
    loop, _ = bench.build("baseline", images, 8, seed=0)
    assert all(opt.defaults["fused"] for opt in loop.optimizers.values())  # the package's choice

    out = tmp_path / "variants.json"
    bench.main(["--data_dir", str(mnist_dir), "--batch_size", "8", "--steps", "1", "--warmup", "1", "--rounds", "1",
                "--variants", "baseline", "channels_last", "bf16_autocast", "--json", str(out)])
    result = json.loads(out.read_text())
    assert result["baseline"]["vs_baseline"] == 1.0
    for variant in ("channels_last", "bf16_autocast"):
        assert result[variant]["img_per_s"] > 0 and math.isfinite(result[variant]["vs_baseline"])


def test_explore_speed_smoke_times_the_model_and_the_whole_update(tmp_path):
    out = tmp_path / "explore.json"  # the update function needs torch only; gradio is imported by the page
    result = _load("explore_speed").main(["--updates", "3", "--n", "4", "--json", str(out)])
    assert json.loads(out.read_text()) == result and result["n"] == 4
    for key in ("model_ms_median", "model_ms_p90", "update_ms_median", "update_ms_p90"):
        assert math.isfinite(result[key]) and result[key] > 0, key


@pytest.mark.slow
def test_dsprites_speed_smoke_compares_the_two_presets(tmp_path):
    out = tmp_path / "dsprites.json"
    result = _load("dsprites_speed").main(["--data_dir", str(tmp_path), "--steps", "1", "--warmup", "1",
                                           "--rounds", "1", "--json", str(out)])
    assert json.loads(out.read_text()) == result and result["rendered"] is True and result["batch_size"] == 64
    for name in ("cr64", "cr64_lambda_cr_2", "dcgan64"):
        assert result[name]["sprites_per_s"] > 0 and 0 < result[name]["render_share"] < 1
    # a ratio of two 1-step timings: its definition is checked, not its size (no timing is asserted)
    assert result["contrastive_cost"] == result["cr64"]["sprites_per_s"] / result["cr64_lambda_cr_2"]["sprites_per_s"]
    # InfoGAN-CR's networks: about 16 MFLOP per image each for G and D, a twelfth of dcgan64's
    assert 10 < result["cr64"]["g_forward_mflop"] < 25 and 10 < result["cr64"]["d_forward_mflop"] < 25
    assert result["dcgan64"]["g_forward_mflop"] > 10 * result["cr64"]["g_forward_mflop"]
