"""dSprites: the factor grid, the renderer, the original-file path, and the disentanglement metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from infogan import dsprites
from infogan.metrics import factor_vae_score, mutual_info_gap

SIZES = dsprites.FACTOR_SIZES


def test_factor_grid_has_the_original_size_and_order():
    assert dsprites.num_images() == 737_280
    classes = dsprites.index_to_classes(torch.tensor([0, 1, 32, 1024, dsprites.num_images() - 1]))
    # the original file's order: pos_y varies fastest, then pos_x, orientation, scale, shape
    assert classes.tolist() == [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0], [0, 0, 0, 1, 0, 0],
                                [0, 2, 5, 39, 31, 31]]
    index = torch.randint(dsprites.num_images(), (500,), generator=torch.Generator().manual_seed(0))
    assert torch.equal(dsprites.classes_to_index(dsprites.index_to_classes(index)), index)


def test_rendered_images_are_binary_and_differ_for_every_factor_value():
    base = [0, 2, 3, 7, 15, 15]  # a heart: not symmetric, so every orientation shows
    for factor in range(1, len(SIZES)):
        classes = torch.tensor(base).repeat(SIZES[factor], 1)
        classes[:, factor] = torch.arange(SIZES[factor])
        images = dsprites.render(classes)
        assert images.shape == (SIZES[factor], 1, 64, 64) and images.dtype == torch.uint8
        assert set(images.unique().tolist()) == {0, 255}
        flat = images.flatten(1)
        distinct = torch.unique(flat, dim=0)
        # orientation 0 and 39 are both 2 pi k, the same picture, exactly as in the original
        assert len(distinct) == SIZES[factor] - (1 if dsprites.FACTORS[factor] == "orientation" else 0)
    small, large = dsprites.render(torch.tensor([[0, 0, 0, 0, 9, 9], [0, 0, 5, 0, 9, 9]]))
    assert (large > 0).sum() > 3 * (small > 0).sum()  # scale 1 vs 0.5: twice the side, four times the area
    left, right = dsprites.render(torch.tensor([[0, 1, 2, 0, 0, 16], [0, 1, 2, 0, 31, 16]]))
    assert left.nonzero()[:, 2].float().mean() < 20 < 44 < right.nonzero()[:, 2].float().mean()  # pos_x moves in x


def _small_grid(monkeypatch):
    """Shrink the factor grid so that a whole 'original' file fits in a test (48 images)."""
    monkeypatch.setattr(dsprites, "FACTOR_SIZES", (1, 3, 2, 2, 2, 2))
    return dsprites.num_images()


def test_the_original_npz_and_the_renderer_give_the_same_layout(tmp_path, monkeypatch):
    n = _small_grid(monkeypatch)
    classes = dsprites.index_to_classes(torch.arange(n))
    path = tmp_path / "dsprites" / dsprites.NPZ_NAME
    path.parent.mkdir()
    np.savez(path, imgs=(dsprites.render(classes)[:, 0] // 255).numpy(), latents_classes=classes.numpy())
    assert dsprites.find_npz(tmp_path) == path
    from_file, rendered = dsprites.DSprites(path), dsprites.DSprites()
    assert len(from_file) == len(rendered) == n
    index = list(range(n))
    images_file, classes_file = from_file.__getitems__(index)
    images_render, classes_render = rendered.__getitems__(index)
    assert images_file.shape == images_render.shape == (n, 1, 64, 64) and images_file.dtype == torch.uint8
    assert torch.equal(images_file, images_render) and torch.equal(classes_file, classes_render)

    np.savez(path, imgs=np.zeros((n, 64, 64), np.uint8), latents_classes=classes.flip(0).numpy())
    with pytest.raises(ValueError, match="not in the original order"):
        dsprites.DSprites(path)
    np.savez(path, images=np.zeros((n, 64, 64), np.uint8))
    with pytest.raises(ValueError, match="needs arrays imgs and latents_classes"):
        dsprites.DSprites(path)


def test_datamodule_serves_dsprites_batches_in_the_generator_range(tmp_path):
    from infogan.data import InfoGANDataModule

    data = InfoGANDataModule("dsprites", str(tmp_path), batch_size=8)
    assert data.image_shape == (1, 64) and data.num_classes is None
    data.setup("fit")
    assert data.train_set.images is None  # no original file here: rendered
    images, classes = data.on_after_batch_transfer(next(iter(data.train_dataloader())), 0)
    assert images.shape == (8, 1, 64, 64) and classes.shape == (8, 6)
    assert images.min() == -1 and images.max() == 1
    with pytest.raises(ValueError, match="supports 64"):
        InfoGANDataModule("dsprites", str(tmp_path), image_size=32)


# ------------------------------------------------------------------------------------------------- the metrics
def _axis_aligned(classes: torch.Tensor) -> torch.Tensor:
    """A perfectly disentangled representation: one dimension per factor, a monotone function of it."""
    return classes[:, 1:].float() * 0.7 + 0.1


def _random(classes: torch.Tensor) -> torch.Tensor:
    """A representation that ignores the factors."""
    return torch.randn(len(classes), 5, generator=torch.Generator().manual_seed(int(classes.sum())))


def _entangled(classes: torch.Tensor) -> torch.Tensor:
    """Every dimension mixes all factors (a rotation of the axis-aligned one)."""
    rot = torch.linalg.qr(torch.randn(5, 5, generator=torch.Generator().manual_seed(0)))[0]
    z = _axis_aligned(classes)
    return (z - z.mean(0)) / torch.tensor(SIZES[1:]).float() @ rot


def test_factor_vae_metric_is_one_for_an_axis_aligned_representation_and_chance_for_a_random_one():
    perfect = factor_vae_score(_axis_aligned, SIZES, num_train=200, num_eval=100, num_variance=2000)
    assert perfect["factor_vae"] == 1.0 and perfect["factor_vae_train"] == 1.0 and perfect["active_dims"] == 5
    chance = factor_vae_score(_random, SIZES, num_train=200, num_eval=200, num_variance=2000)
    assert chance["factor_vae"] < 0.45  # 5 factors: chance is 0.2
    mixed = factor_vae_score(_entangled, SIZES, num_train=200, num_eval=200, num_variance=2000)
    assert mixed["factor_vae"] < perfect["factor_vae"]
    collapsed = factor_vae_score(lambda c: torch.zeros(len(c), 3), SIZES, num_train=10, num_eval=10)
    assert collapsed["active_dims"] == 0 and collapsed["factor_vae"] == 0.0


def test_mig_is_near_one_for_an_axis_aligned_representation_and_near_zero_for_a_random_one():
    perfect = mutual_info_gap(_axis_aligned, SIZES, num_samples=4000, factor_names=dsprites.FACTORS)
    # shape (3) and scale (6) fit in 20 bins exactly; 40 orientations and 32 positions lose a little to binning
    # (at best log 20 / log 40 = 0.81 and log 20 / log 32 = 0.86), as with disentanglement_lib's estimator
    assert perfect["mig"] > 0.85
    assert set(perfect["mig_per_factor"]) == set(dsprites.FACTORS[1:])
    # shape and scale: 1 less the small positive bias of the runner-up's estimated MI
    assert perfect["mig_per_factor"]["shape"] == pytest.approx(1.0, abs=0.02)
    assert perfect["mig_per_factor"]["scale"] == pytest.approx(1.0, abs=0.02)
    assert min(perfect["mig_per_factor"].values()) > 0.75
    assert mutual_info_gap(_random, SIZES, num_samples=4000)["mig"] < 0.05
    assert mutual_info_gap(_entangled, SIZES, num_samples=4000)["mig"] < 0.5
    assert np.array(perfect["mutual_info"]).shape == (5, 5)


def test_metrics_feed_the_representation_at_most_batch_size_inputs_and_do_not_depend_on_it():
    sizes_seen = []

    def recording(classes):
        sizes_seen.append(len(classes))
        return _axis_aligned(classes)

    small = mutual_info_gap(recording, SIZES, num_samples=1000, batch_size=97)
    assert max(sizes_seen) == 97 and sum(sizes_seen) == 1000
    assert small["mig"] == mutual_info_gap(_axis_aligned, SIZES, num_samples=1000)["mig"]
    sizes_seen.clear()
    votes = factor_vae_score(recording, SIZES, num_train=20, num_eval=10, num_variance=500, batch_size=50)
    assert max(sizes_seen) == 50
    assert votes == factor_vae_score(_axis_aligned, SIZES, num_train=20, num_eval=10, num_variance=500)


def test_evaluate_reports_both_metrics_for_a_dsprites_checkpoint(tmp_path, capsys):
    from infogan.evaluate import main as evaluate
    from infogan.infogan_module import main as train

    train(["--dataset", "dsprites", "--data_dir", str(tmp_path), "--batch_size", "4", "--max_steps", "1",
           "--log_dir", str(tmp_path / "logs"), "--gif_samples", "4"])
    ckpt = tmp_path / "logs" / "version_0" / "checkpoints" / "last.ckpt"
    out = tmp_path / "m.json"
    evaluate([str(ckpt), "--dataset", "dsprites", "--data_dir", str(tmp_path), "--votes", "20", "--samples", "300",
              "--mi_samples", "100", "--out", str(out)])
    scores = json.loads(out.read_text())
    assert 0 <= scores["factor_vae"] <= 1 and 0 <= scores["mig"] <= 1 and scores["rendered"] is True
    assert set(scores["mi"]) == {f"cont{i}" for i in range(5)}  # the recipe: 5 continuous codes
    assert "MIG" in capsys.readouterr().out

    with pytest.raises(SystemExit) as exit_:  # a model without a categorical code cannot be scored on labels
        evaluate([str(ckpt), "--dataset", "mnist", "--data_dir", str(tmp_path)])
    assert exit_.value.code == 2 and "no categorical code" in capsys.readouterr().err
