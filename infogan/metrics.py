"""How well the categorical code found the classes: unsupervised accuracy, NMI and ARI.

Each real image is assigned the argmax of Q's logits for a categorical code (a *cluster*). Clusters carry no
names, so accuracy needs a matching from clusters to labels:

* **accuracy** (the paper's number, "5% error" on MNIST): the one-to-one matching that maximises agreement, found
  with the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``). When K > number of classes, the extra
  clusters stay unmatched and their images count as errors.
* **many-to-one accuracy**: each cluster takes its majority label (several clusters may share one). It equals the
  one-to-one accuracy when every cluster's majority label is different, and is the fairer number when K exceeds the
  number of classes (a digit drawn two ways may own two clusters).

NMI and ARI are torchmetrics' own (``torchmetrics.clustering``): they need no matching.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torchmetrics import Metric
from torchmetrics.functional.clustering import adjusted_rand_score, normalized_mutual_info_score


def contingency(pred: torch.Tensor, labels: torch.Tensor, num_clusters: int, num_classes: int) -> torch.Tensor:
    """(num_clusters, num_classes) long counts: entry [k, c] = images in cluster k with label c."""
    idx = pred.long() * num_classes + labels.long()
    return torch.bincount(idx, minlength=num_clusters * num_classes).view(num_clusters, num_classes)


def hungarian_matching(table: torch.Tensor) -> dict[int, int]:
    """The one-to-one cluster -> label matching that maximises the matched counts of a contingency table."""
    rows, cols = linear_sum_assignment(table.cpu().numpy(), maximize=True)
    return {int(r): int(c) for r, c in zip(rows, cols)}


def accuracy_from_table(table: torch.Tensor, many_to_one: bool = False) -> float:
    """Unsupervised accuracy from a contingency table (see the module docstring)."""
    total = int(table.sum())
    if total == 0:
        return float("nan")
    if many_to_one:
        return int(table.max(dim=1).values.sum()) / total
    return sum(int(table[k, c]) for k, c in hungarian_matching(table).items()) / total


def matched_confusion(table: torch.Tensor) -> np.ndarray:
    """Confusion matrix (true label x predicted label) after the Hungarian matching.

    Rows: true labels. Columns: labels the matched clusters stand for; images in unmatched clusters (K > classes)
    go to a last column "unmatched" when there are any.
    """
    num_clusters, num_classes = table.shape
    mapping = hungarian_matching(table)
    unmatched = num_clusters > num_classes
    out = np.zeros((num_classes, num_classes + int(unmatched)), dtype=np.int64)
    for k in range(num_clusters):
        col = mapping.get(k, num_classes)
        out[:, col] += table[k].cpu().numpy()
    return out


class ClusterAccuracy(Metric):
    """Unsupervised accuracy of cluster assignments against labels, as a torchmetrics ``Metric``.

    The state is the contingency table, summed across processes, so the score under DDP equals the score of all
    images together. ``update(pred, labels)``: pred (N,) cluster indices in [0, num_clusters), labels (N,) in
    [0, num_classes).
    """

    full_state_update = False
    higher_is_better = True
    is_differentiable = False

    def __init__(self, num_clusters: int, num_classes: int, many_to_one: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_clusters, self.num_classes, self.many_to_one = num_clusters, num_classes, many_to_one
        self.add_state("table", torch.zeros(num_clusters, num_classes, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, pred: torch.Tensor, labels: torch.Tensor) -> None:
        self.table += contingency(pred, labels, self.num_clusters, self.num_classes)

    def compute(self) -> torch.Tensor:
        return torch.tensor(accuracy_from_table(self.table, self.many_to_one))


def cluster_scores(pred: torch.Tensor, labels: torch.Tensor, num_clusters: int,
                   num_classes: Optional[int] = None) -> dict:
    """All clustering scores of one categorical code on a labelled set, as plain Python data.

    Returns: {"accuracy", "many_to_one_accuracy", "nmi", "ari", "confusion" (list of lists, true x matched),
    "num_clusters", "num_classes", "clusters_used"}.
    """
    num_classes = num_classes or int(labels.max()) + 1
    table = contingency(pred, labels, num_clusters, num_classes)
    return {
        "accuracy": accuracy_from_table(table),
        "many_to_one_accuracy": accuracy_from_table(table, many_to_one=True),
        "nmi": float(normalized_mutual_info_score(pred.long(), labels.long())),
        "ari": float(adjusted_rand_score(pred.long(), labels.long())),
        "confusion": matched_confusion(table).tolist(),
        "num_clusters": num_clusters,
        "num_classes": num_classes,
        "clusters_used": int((table.sum(dim=1) > 0).sum()),
    }
