"""Clustering metrics on constructed cases with known answers."""

import math

import numpy as np
import pytest
import torch
from torchmetrics.clustering import AdjustedRandScore, NormalizedMutualInfoScore

from infogan.metrics import ClusterAccuracy, cluster_scores


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
