"""Clustering scores against hand-computed values; the FactorVAE metric and MIG on constructed representations."""

import math

import numpy as np
import pytest
import torch
from torchmetrics.clustering import AdjustedRandScore, NormalizedMutualInfoScore

from infogan.data import dsprites
from infogan.metrics import (
    ClusterAccuracy,
    cluster_scores,
    disentanglement_scores,
    factor_vae_score,
    mutual_info_gap,
    sample_scores,
    shared_classes,
)


def test_a_permutation_of_the_labels_scores_one():
    labels = torch.arange(10).repeat(30)
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    s = cluster_scores(perm[labels], labels, num_clusters=10)
    assert s["accuracy"] == 1.0 and s["many_to_one_accuracy"] == 1.0
    assert s["nmi"] == pytest.approx(1.0) and s["ari"] == pytest.approx(1.0)
    assert np.array_equal(np.array(s["confusion"]), np.eye(10, dtype=int) * 30)


def test_constant_prediction_scores_the_majority_class_rate():
    labels = torch.tensor([0] * 50 + [1] * 30 + [2] * 20)
    s = cluster_scores(torch.full((100,), 4), labels, num_clusters=10, num_classes=3)
    assert s["accuracy"] == 0.5 and s["many_to_one_accuracy"] == 0.5
    assert s["nmi"] == pytest.approx(0.0, abs=1e-6) and s["ari"] == pytest.approx(0.0, abs=1e-6)
    assert s["clusters_used"] == 1


def test_hand_computed_nmi_and_ari_on_a_small_example():
    # labels a a a b b b, clusters 0 0 1 1 1 1: contingency [[2, 0], [1, 3]]
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    pred = torch.tensor([0, 0, 1, 1, 1, 1])
    s = cluster_scores(pred, labels, num_clusters=2)
    # Hungarian: cluster 0 -> a (2), cluster 1 -> b (3): 5/6
    assert s["accuracy"] == pytest.approx(5 / 6)
    # ARI by hand: sum C(n_ij,2) = 1 + 0 + 0 + 3 = 4; rows C(2,2)+C(4,2) = 7; cols C(3,2)*2 = 6; C(6,2) = 15
    expected_index, max_index = 7 * 6 / 15, (7 + 6) / 2
    assert s["ari"] == pytest.approx((4 - expected_index) / (max_index - expected_index))
    # NMI (arithmetic mean normalisation): I = sum p_ij ln(p_ij / (p_i p_j))
    p = np.array([[2, 0], [1, 3]]) / 6
    pi, pj = p.sum(1), p.sum(0)
    mi = sum(p[i, j] * math.log(p[i, j] / (pi[i] * pj[j])) for i in range(2) for j in range(2) if p[i, j] > 0)
    h = lambda q: -sum(x * math.log(x) for x in q)  # noqa: E731
    assert s["nmi"] == pytest.approx(mi / ((h(pi) + h(pj)) / 2), rel=1e-5)
    # and they agree with torchmetrics' modular metrics used during validation
    assert float(NormalizedMutualInfoScore()(pred, labels)) == pytest.approx(s["nmi"], rel=1e-5)
    assert float(AdjustedRandScore()(pred, labels)) == pytest.approx(s["ari"], rel=1e-5)


def test_more_clusters_than_classes_reports_both_accuracies():
    # 20 clusters, 10 classes: each class split evenly over two clusters.
    labels = torch.arange(10).repeat_interleave(20)
    pred = labels * 2 + torch.arange(200) % 2
    s = cluster_scores(pred, labels, num_clusters=20, num_classes=10)
    assert s["many_to_one_accuracy"] == 1.0
    assert s["accuracy"] == 0.5  # one-to-one: only one of each pair of clusters can be matched
    assert len(s["confusion"][0]) == 11  # the last column holds images of unmatched clusters
    assert sum(row[10] for row in s["confusion"]) == 100


def test_streaming_metric_equals_the_one_shot_score():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(10, (1000,), generator=g)
    pred = torch.where(torch.rand(1000, generator=g) < 0.8, (labels + 3) % 10, torch.randint(10, (1000,), generator=g))
    metric = ClusterAccuracy(10, 10)
    for chunk in range(0, 1000, 128):
        metric.update(pred[chunk:chunk + 128], labels[chunk:chunk + 128])
    assert float(metric.compute()) == pytest.approx(cluster_scores(pred, labels, 10)["accuracy"])
    assert 0.8 < float(metric.compute()) < 0.9

SIZES = dsprites.FACTOR_SIZES

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


def test_sample_scores_of_a_model_whose_categories_draw_one_class_each():
    categories = torch.arange(10).repeat_interleave(50)
    classes = (categories * 3) % 10  # category k draws class 3k mod 10: a permutation
    scores = sample_scores(categories, classes, 10, 10)
    assert scores["purity"] == 1.0 and scores["coverage"] == 10 and scores["matched_accuracy"] == 1.0
    assert [c["majority"] for c in scores["per_category"]] == [(3 * k) % 10 for k in range(10)]
    assert shared_classes(scores["per_category"]) == []


def test_sample_scores_of_a_collapsed_model_and_of_a_merged_pair():
    categories = torch.arange(10).repeat_interleave(50)
    collapsed = sample_scores(categories, torch.full_like(categories, 3), 10, 10)
    assert collapsed["coverage"] == 1 and collapsed["purity"] == 1.0  # pure, but one digit: coverage says so
    assert collapsed["matched_accuracy"] == pytest.approx(0.1)
    # categories 4 and 9 each draw 60 / 40 of the two digits, the failure the README describes
    classes = categories.clone()
    classes[4 * 50: 4 * 50 + 20] = 9
    classes[9 * 50: 9 * 50 + 30] = 4
    merged = sample_scores(categories, classes, 10, 10)
    assert merged["per_category"][4] == {"category": 4, "majority": 4, "purity": 0.6, "second": 9, "second_share": 0.4}
    assert merged["per_category"][9]["majority"] == 4 and merged["coverage"] == 9  # no category's majority is a 9
    assert merged["purity"] == pytest.approx((8 + 0.6 + 0.6) / 10)
    assert shared_classes(merged["per_category"]) == [[4, 9]]


def _codes(*columns):
    """A representation made of factor columns (index into the 6 dSprites factors) and "noise" (a random column)."""
    def represent(classes: torch.Tensor) -> torch.Tensor:
        g = torch.Generator().manual_seed(int(classes.sum()))
        return torch.stack([torch.rand(len(classes), generator=g) if c == "noise" else classes[:, c].float()
                            for c in columns], dim=1)
    return represent


@pytest.mark.parametrize("columns, factor_vae, mig", [
    # the factors themselves: every vote right; MIG 1 for shape and scale, log 20 / log 40 for orientation and
    # log 20 / log 32 for x and y (20 bins): (1 + 1 + 0.812 + 0.864 + 0.864) / 5
    ((1, 2, 3, 4, 5), 1.0, 0.908),
    # the split our dSprites runs learned (scale, x, x, y, y): votes with x or y fixed go to the first of two equal
    # codes, shape's and orientation's votes to a code of another factor, so 3 / 5; MIG only for scale: 1 / 5
    ((2, 4, 4, 5, 5), 0.6, 0.2),
    # four clean codes and noise: orientation's votes (1 / 5) fall on any of the five codes, and win only the noise
    # code's majority (1 / 5 of them): 4 / 5 + 1 / 25; MIG (1 + 1 + 0 + 0.864 + 0.864) / 5
    ((1, 2, 4, 5, "noise"), 0.84, 0.746),
])
def test_table_1s_protocol_on_synthetic_representations_gives_the_values_its_definition_predicts(columns, factor_vae,
                                                                                                 mig):
    scores = disentanglement_scores(_codes(*columns), dsprites.FACTOR_SIZES, "infogan_cr",
                                    factor_names=dsprites.FACTORS)
    assert scores["factor_vae"] == pytest.approx(factor_vae, abs=0.03)
    assert scores["mig"] == pytest.approx(mig, abs=0.03)
