"""The evaluate CLI writes valid JSON with every metric, on a real (tiny) checkpoint and the real test split."""

import json

import pytest

from infogan.evaluate import main


def test_evaluate_writes_json_with_every_metric(tiny_run, mnist_dir, tmp_path, capsys):
    out = tmp_path / "metrics.json"
    main([str(tiny_run / "checkpoints" / "last.ckpt"), "--data_dir", str(mnist_dir), "--out", str(out),
          "--mi_samples", "256"])
    scores = json.loads(out.read_text())
    for key in ("accuracy", "many_to_one_accuracy", "nmi", "ari"):
        assert 0 <= scores[key] <= 1 or key == "ari", key
    assert scores["num_images"] == 10000 and scores["num_clusters"] == 10
    confusion = scores["confusion"]
    assert len(confusion) == 10 and all(len(row) == 10 for row in confusion)
    assert sum(map(sum, confusion)) == 10000
    assert sum(confusion[i][i] for i in range(10)) == pytest.approx(scores["accuracy"] * 10000)
    assert set(scores["mi"]) == {"cat0", "cont0", "cont1"}
    assert "accuracy (Hungarian, one-to-one)" in capsys.readouterr().out


def test_training_logs_validation_metrics_and_keeps_the_best_checkpoint(tiny_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = set(EventAccumulator(str(tiny_run)).Reload().Tags()["scalars"])
    assert {"val/accuracy", "val/nmi", "val/ari"} <= tags
    assert (tiny_run / "checkpoints" / "best.ckpt").is_file()
