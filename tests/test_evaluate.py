"""The evaluate CLI: JSON with every metric on a real (tiny) MNIST checkpoint and on a dSprites one."""

import json

import pytest

from infogan.evaluate import main
from tests.helpers import fails


@pytest.mark.slow
def test_evaluate_writes_json_with_every_metric(tiny_run, mnist_dir, classifier_cache, tmp_path, capsys):
    out = tmp_path / "metrics.json"
    main([str(tiny_run / "checkpoints" / "last.ckpt"), "--data_dir", str(mnist_dir), "--out", str(out),
          "--mi_samples", "256", "--per_category", "30", "--classifier", str(classifier_cache)])
    scores = json.loads(out.read_text())
    for key in ("accuracy", "many_to_one_accuracy", "nmi", "ari"):
        assert 0 <= scores[key] <= 1 or key == "ari", key
    assert scores["num_images"] == 10000 and scores["num_clusters"] == 10
    confusion = scores["confusion"]
    assert len(confusion) == 10 and all(len(row) == 10 for row in confusion)
    assert sum(map(sum, confusion)) == 10000
    assert sum(confusion[i][i] for i in range(10)) == pytest.approx(scores["accuracy"] * 10000)
    assert set(scores["mi"]) == {"cat0", "cont0", "cont1"}
    printed = capsys.readouterr().out
    assert "accuracy (Hungarian, one-to-one)" in printed
    # the generator's side: 30 samples per category, read by the classifier
    samples = scores["samples"]
    assert samples["classifier_accuracy"] >= 0.99 and samples["per_category_samples"] == 30
    assert sum(map(sum, samples["table"])) == 300 and all(sum(row) == 30 for row in samples["table"])
    assert 1 <= samples["coverage"] <= 10 and 0.1 <= samples["purity"] <= 1 and 0 < samples["matched_accuracy"] <= 1
    assert [c["category"] for c in samples["per_category"]] == list(range(10))
    assert samples["frechet_distance"] > 0 and samples["inception_fid"] is None
    assert "samples: purity" in printed and "Frechet distance (classifier features)" in printed


def test_evaluate_refuses_a_folder_as_out_and_another_image_size_before_computing(ckpt, mnist_dir, tmp_path, capsys):
    line = fails(main, [str(ckpt), "--data_dir", str(mnist_dir), "--out", str(tmp_path)], capsys)
    assert "is a folder" in line and not list(tmp_path.glob(".*tmp"))
    from infogan import InfoGAN
    from infogan.data.datamodule import InfoGANDataModule
    from infogan.scoring import evaluate

    gray_folder_model = InfoGAN(preset="celeba32", channels=1, categorical=[10]).eval()  # a 32 px --channels 1 run
    with pytest.raises(ValueError, match="makes 1-channel 32 px images, dataset 'mnist' has 1-channel 28 px"):
        evaluate(gray_folder_model, InfoGANDataModule("mnist", str(mnist_dir)))


@pytest.mark.slow
def test_evaluate_reports_both_protocols_for_a_dsprites_checkpoint(tmp_path, capsys):
    from infogan.evaluate import main as evaluate
    from infogan.train import main as train

    trainer = train(["--dataset", "dsprites", "--data_dir", str(tmp_path), "--batch_size", "4",
                     "--limit_train_batches", "2", "--max_epochs", "1", "--log_dir", str(tmp_path / "logs"),
                     "--gif_samples", "4"])
    model = trainer.lightning_module  # the dSprites recipe: InfoGAN-CR's networks and settings
    assert model.hparams.preset == "cr64" and model.hparams.g_steps == 2 and model.hparams.noise_prior == "uniform"
    assert trainer.global_step == 2 * 3  # 2 batches x (one D + Q step, two G steps)
    assert 0 <= float(trainer.callback_metrics["val/factor_vae"]) <= 1  # the learning curve's first point
    ckpt = tmp_path / "logs" / "version_0" / "checkpoints" / "last.ckpt"
    out = tmp_path / "m.json"
    evaluate([str(ckpt), "--dataset", "dsprites", "--data_dir", str(tmp_path), "--votes", "20", "--samples", "300",
              "--mi_samples", "100", "--out", str(out)])
    scores = json.loads(out.read_text())
    assert set(scores["protocols"]) == {"disentanglement_lib", "infogan_cr"} and scores["rendered"] is True
    for name, result in scores["protocols"].items():
        assert 0 <= result["factor_vae"] <= 1 and 0 <= result["mig"] <= 1, name
        assert result["settings"]["num_train"] == 20 and result["settings"]["mig_samples"] == 300
    assert scores["protocols"]["infogan_cr"]["settings"]["num_eval"] == 0  # scored on its own votes, as published
    assert scores["protocols"]["infogan_cr"]["factor_vae"] == scores["protocols"]["infogan_cr"]["factor_vae_train"]
    assert scores["protocols"]["disentanglement_lib"]["settings"]["num_eval"] == 10
    assert set(scores["mi"]) == {f"cont{i}" for i in range(5)}  # the recipe: 5 continuous codes
    printed = capsys.readouterr().out
    assert "disentanglement_lib: FactorVAE metric" in printed and "infogan_cr: MIG" in printed

    with pytest.raises(SystemExit) as exit_:  # a model without a categorical code cannot be scored on labels
        evaluate([str(ckpt), "--dataset", "mnist", "--data_dir", str(tmp_path)])
    assert exit_.value.code == 2 and "no categorical code" in capsys.readouterr().err


def test_several_checkpoints_give_a_learning_curve(tiny_run, mnist_dir, tmp_path, capsys):
    out = tmp_path / "curve.json"
    paths = [str(tiny_run / "checkpoints" / name) for name in ("best.ckpt", "last.ckpt")]
    curve = main([*paths, "--data_dir", str(mnist_dir), "--per_category", "0", "--mi_samples", "64",
                  "--label_free_samples", "8", "--out", str(out), "--plot", str(tmp_path / "curve.png")])
    assert (tmp_path / "curve.png").stat().st_size > 1000 and all(row["batches"] == 2 for row in curve)
    assert [row["checkpoint"] for row in json.loads(out.read_text())] == paths == [r["checkpoint"] for r in curve]
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:2] == ["checkpoint", "Q"] and len(lines) == 3  # a header and one row per checkpoint
    assert lines[1].startswith("best.ckpt") and f"{curve[0]['accuracy']:.4f}" in lines[1]


@pytest.mark.slow
def test_a_folder_is_scored_against_a_csv_of_labels_and_by_the_label_free_checks(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    from infogan.train import main as train

    folder = tmp_path / "icons"
    (folder / "sub").mkdir(parents=True)
    rows = ["file,colour,kind"]
    for i in range(24):  # red and blue discs on transparent backgrounds, known labels
        rgba = np.zeros((32, 32, 4), dtype=np.uint8)
        yy, xx = np.mgrid[:32, :32]
        colour = (220, 20, 20) if i % 2 else (20, 20, 220)
        rgba[(yy - 16) ** 2 + (xx - 16 + i % 3) ** 2 < 64] = (*colour, 255)  # one size, three places
        name = f"sub/{i:02d}.png" if i < 12 else f"{i:02d}.png"
        Image.fromarray(rgba, "RGBA").save(folder / name)
        rows.append(f"{name if i < 6 else name.split('/')[-1]},{'red' if i % 2 else 'blue'},{'a' if i < 20 else ''}")
    (tmp_path / "labels.csv").write_text("\n".join(rows + ["missing.png,red,a"]) + "\n")
    train(["--dataset", "folder", "--data_dir", str(folder), "--categorical", "2", "--continuous", "2",
           "--batch_size", "8", "--limit_train_batches", "2", "--max_epochs", "1", "--log_dir", str(tmp_path / "logs"),
           "--gif_samples", "4", "--num_workers", "0"])
    ckpt = str(tmp_path / "logs" / "version_0" / "checkpoints" / "last.ckpt")
    out = tmp_path / "m.json"
    main([ckpt, "--dataset", "folder", "--data_dir", str(folder), "--labels", str(tmp_path / "labels.csv"),
          "--label_column", "colour", "--mi_samples", "64", "--label_free_samples", "32", "--out", str(out)])
    scores = json.loads(out.read_text())
    labels = scores["labels"]
    assert labels["matched"] == 24 and labels["rows"] == 25 and labels["classes"] == ["blue", "red"]
    assert labels["kmeans_pixels"]["accuracy"] == 1.0  # two colours: k-means on pixels splits them exactly
    assert 0 <= labels["categorical"]["nmi"] <= 1 and set(labels["continuous"]) == {"cont0", "cont1"}
    checks = scores["label_free"]
    assert set(checks["codes"]) == {"cat0", "cont0", "cont1"} and len(checks["readings"]) == 3
    assert 0 < scores["pixel_frechet_distance"] < 1e4  # an untrained generator is far from the discs, but finite
    printed = capsys.readouterr().out
    assert "labels: k-means on pixels accuracy" in printed and "label-free: reading" in printed
    assert "Frechet distance, 16 x 16 pixels" in printed
    where = main([ckpt, "--dataset", "folder", "--data_dir", str(folder), "--labels", str(tmp_path / "labels.csv"),
                  "--label_column", "colour", "--label_where", "kind=a", "--mi_samples", "16",
                  "--label_free_samples", "8"])
    assert where["labels"]["matched"] == 20  # rows 20-23 have no kind

    for argv, message in [
        (["--labels", str(tmp_path / "nope.csv"), "--label_column", "colour"], "nope.csv: no such file"),
        (["--labels", str(tmp_path / "labels.csv"), "--label_column", "shape"],
         "has no column 'shape' (--label_column); its columns are file, colour, kind"),
        (["--labels", str(tmp_path / "labels.csv")], "--labels needs --label_column"),
    ]:
        line = fails(main, [ckpt, "--dataset", "folder", "--data_dir", str(folder), *argv], capsys)
        assert message in line, line
    (tmp_path / "other.csv").write_text("file,colour\nx.png,red\ny.png,blue\n")
    line = fails(main, [ckpt, "--dataset", "folder", "--data_dir", str(folder), "--labels", str(tmp_path / "other.csv"),
                        "--label_column", "colour"], capsys)
    assert "none of its 2 rows names an image" in line and "matched 0 of 24 images" in line


def test_overlaid_runs_draw_a_panel_per_kind_with_the_median(tmp_path):
    from PIL import Image

    from infogan import plots

    runs = {f"seed{s}": [{"batches": b, "protocols": {"quick": {"factor_vae": 0.5 + 0.01 * s * b / 1000, "mig": 0.1}}}
                         for b in (1000, 2000, 3000)] for s in range(3)}
    assert plots.kind(runs["seed0"][0]) == "factors" and plots.value(runs["seed2"][2], "protocols.quick.mig") == 0.1
    assert plots.value(runs["seed0"][0], "protocols.infogan_cr.mig") is None  # a score the result lacks
    out = plots.overlay_figure(runs, {"FactorVAE": [("quick", "protocols.quick.factor_vae")]}, tmp_path / "c.png")
    image = Image.open(out)
    assert image.size[0] > 300 and len(set(image.convert("L").getdata())) > 10  # a drawn figure, not a blank
    assert not list(tmp_path.glob(".*tmp"))
    with pytest.raises(ValueError, match="nothing to plot"):
        plots.overlay_figure(runs, {}, tmp_path / "d.png")


def test_dsprites_scoring_shows_a_progress_bar_per_protocol(tmp_path, capsys):
    from infogan import InfoGAN
    from infogan.data.datamodule import InfoGANDataModule
    from infogan.scoring import evaluate_disentanglement
    from infogan.train import recipe

    model = InfoGAN(**recipe("dsprites"), preset="cr64").eval()
    data = InfoGANDataModule("dsprites", str(tmp_path), batch_size=64)
    scores = evaluate_disentanglement(model, data, mi_samples=16, protocols=("quick",), votes=4, samples=64)
    err = capsys.readouterr().err
    # 64 for the scale, 4 + 2 votes of 64, 64 for MIG: the bar's total says the work up front
    assert "quick: sprites through Q" in err and "/512" in err
    assert 0 <= scores["protocols"]["quick"]["factor_vae"] <= 1
