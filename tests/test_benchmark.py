"""The speed benchmark runs in smoke mode and reports every field (no timing is asserted)."""

import importlib.util
import json
import math

from tests.conftest import REPO


def test_train_speed_smoke_writes_every_field(mnist_dir, tmp_path):
    spec = importlib.util.spec_from_file_location("train_speed", REPO / "benchmarks" / "train_speed.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "speed.json"
    bench.main(["--data_dir", str(mnist_dir), "--batch_size", "8", "--steps", "2", "--warmup", "1",
                "--rounds", "1", "--log_dir", str(tmp_path / "logs"), "--json", str(out)])
    result = json.loads(out.read_text())
    for key in ("lightning_img_per_s", "plain_img_per_s", "ratio", "gflop_per_step", "peak_gflops", "pct_of_peak"):
        assert isinstance(result[key], float) and math.isfinite(result[key]) and result[key] > 0, key
    assert result["ratio"] == result["lightning_img_per_s"] / result["plain_img_per_s"]
    # Batch 8: forward+backward of both steps of the paper's nets is ~2.5 GFLOP (about 0.3 GFLOP per image).
    assert 1.0 < result["gflop_per_step"] < 5.0


def test_step_variants_smoke_changes_what_it_says(mnist_dir, tmp_path):
    import sys

    import torch

    sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location("step_variants", REPO / "benchmarks" / "step_variants.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    images = torch.zeros(16, 1, 28, 28, dtype=torch.uint8)
    loop, _ = bench.build("channels_last", images, 8, seed=0)
    assert loop.images.is_contiguous(memory_format=torch.channels_last)
    loop, _ = bench.build("foreach_adam", images, 8, seed=0)
    assert loop.opt_d.defaults["foreach"] and not loop.opt_d.defaults["fused"]
    loop, _ = bench.build("loop_adam", images, 8, seed=0)
    assert not loop.opt_g.defaults["foreach"] and not loop.opt_g.defaults["fused"]
    loop, _ = bench.build("baseline", images, 8, seed=0)
    assert loop.opt_g.defaults["fused"] and loop.opt_d.defaults["fused"]  # the package's choice

    out = tmp_path / "variants.json"
    bench.main(["--data_dir", str(mnist_dir), "--batch_size", "8", "--steps", "1", "--warmup", "1", "--rounds", "1",
                "--variants", "baseline", "channels_last", "bf16_autocast", "--json", str(out)])
    result = json.loads(out.read_text())
    assert result["baseline"]["vs_baseline"] == 1.0
    for variant in ("channels_last", "bf16_autocast"):
        assert result[variant]["img_per_s"] > 0 and math.isfinite(result[variant]["vs_baseline"])
