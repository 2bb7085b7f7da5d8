"""How well the codes found the true factors: clustering scores for labelled sets, disentanglement scores for sets
with known factors (dSprites).

**Clustering** (MNIST, Fashion-MNIST): how well the categorical code found the classes: unsupervised accuracy, NMI
and ARI.

Each real image is assigned the argmax of Q's logits for a categorical code (a *cluster*). Clusters carry no
names, so accuracy needs a matching from clusters to labels:

* **accuracy** (the paper's number, "5% error" on MNIST): the one-to-one matching that maximises agreement, found
  with the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``). When K > number of classes, the extra
  clusters stay unmatched and their images count as errors.
* **many-to-one accuracy**: each cluster takes its majority label (several clusters may share one). It equals the
  one-to-one accuracy when every cluster's majority label is different, and is the fairer number when K exceeds the
  number of classes (a digit drawn two ways may own two clusters).

NMI and ARI are torchmetrics' own (``torchmetrics.clustering``): they need no matching.

**Sample-side scores** (:func:`sample_scores`): the same question asked of the *generator*. Q's scores above judge how
Q sorts real images; what a user sees is what the generator draws for each value of the code. Samples generated with
category k are labelled by a supervised classifier (:mod:`infogan.classifier`), and per category the majority class
and its share (*purity*) are reported, with the mean purity, the *coverage* (how many distinct classes are some
category's majority: 10 when every digit has a category) and the Hungarian-matched accuracy of the samples.

**Disentanglement** (data whose generating factors are known): :func:`factor_vae_score` (Kim & Mnih 2018) and
:func:`mutual_info_gap` (Chen et al. 2018) score a *representation*, a function from factor values to a vector of
code predictions (for InfoGAN: Q's predictions on the real image those factors make, see
:meth:`infogan.infogan_module.InfoGAN.represent`).
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torchmetrics import Metric
from torchmetrics.functional.clustering import adjusted_rand_score, mutual_info_score, normalized_mutual_info_score

from infogan.errors import InputError
from infogan.protocols import PROTOCOLS


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


def sample_scores(categories: torch.Tensor, classes: torch.Tensor, num_categories: int, num_classes: int) -> dict:
    """How purely each value of a categorical code draws one class, from generated samples, as plain data.

    Args:
        categories: (N,) the category each sample was generated with.
        classes: (N,) the class a supervised classifier reads in each sample.

    Returns: {"purity" (mean over categories), "coverage", "matched_accuracy", "per_category": [{"category",
    "majority", "purity", "second", "second_share"} per category], "table" (categories x classes counts)}.
    """
    table = contingency(categories, classes, num_categories, num_classes)
    per_category = []
    for k in range(num_categories):
        row = table[k].double()
        total = max(float(row.sum()), 1.0)
        top = torch.topk(row, 2)
        per_category.append({"category": k, "majority": int(top.indices[0]), "purity": float(top.values[0]) / total,
                             "second": int(top.indices[1]), "second_share": float(top.values[1]) / total})
    return {
        "purity": float(np.mean([c["purity"] for c in per_category])),
        "coverage": len({c["majority"] for c in per_category}),
        "matched_accuracy": accuracy_from_table(table),
        "per_category": per_category,
        "table": table.tolist(),
    }


def shared_classes(per_category: Sequence[dict], share: float = 0.2) -> list[list[int]]:
    """Classes that share a category: for each category whose second class takes at least ``share`` of its
    samples, the (sorted) pair; each pair once. The README's "which digits share a category"."""
    pairs = {tuple(sorted((c["majority"], c["second"]))) for c in per_category if c["second_share"] >= share}
    return [list(p) for p in sorted(pairs)]


# ---------------------------------------------------------------------------------------------- disentanglement
Representation = Callable[[torch.Tensor], torch.Tensor]  # factor classes (N, F) long -> representation (N, D)


def _sample_factors(n: int, factor_sizes: Sequence[int], generator: torch.Generator) -> torch.Tensor:
    return torch.stack([torch.randint(k, (n,), generator=generator) for k in factor_sizes], dim=1)


def _represent(represent: Representation, classes: torch.Tensor, batch_size: int) -> torch.Tensor:
    return torch.cat([represent(c).float().cpu() for c in classes.split(batch_size)])


def factor_vae_score(represent: Representation, factor_sizes: Sequence[int], num_train: int = 800,
                     num_eval: int = 400, votes_batch: int = 64, num_variance: int = 10000, seed: int = 0,
                     batch_size: int = 1024) -> dict:
    """The FactorVAE disentanglement metric (Kim & Mnih, *Disentangling by Factorising*, ICML 2018, section 4).

    Each representation dimension is scaled by its standard deviation over ``num_variance`` random inputs (dimensions
    that never vary are left out). A *vote*: pick a factor k (among those with more than one value), draw
    ``votes_batch`` inputs that share one random value of k and are random otherwise, and find the scaled dimension
    of least variance d; the vote is (d, k). A majority-vote classifier (each d predicts the factor it most often
    voted for) is fitted on ``num_train`` votes; the score is its accuracy on ``num_eval`` fresh votes. A perfectly
    disentangled representation scores 1; one that ignores the factors scores about 1 / (number of factors).
    disentanglement_lib's defaults are 10,000 / 5,000 votes; ours are smaller for CPU budgets (flags raise them).
    ``represent`` is called on at most ``batch_size`` inputs at a time.

    Returns {"factor_vae": eval accuracy (None when ``num_eval`` is 0), "factor_vae_train": train accuracy,
    "active_dims": count}.
    """
    g = torch.Generator().manual_seed(seed)
    scale = _represent(represent, _sample_factors(num_variance, factor_sizes, g), batch_size).var(dim=0)
    active = scale > 0
    factors = [k for k, n in enumerate(factor_sizes) if n > 1]
    dims = len(scale)

    def votes(n: int) -> torch.Tensor:
        which = torch.randint(len(factors), (n,), generator=g)
        classes = _sample_factors(n * votes_batch, factor_sizes, g).view(n, votes_batch, -1)
        for i, j in enumerate(which.tolist()):
            k = factors[j]
            classes[i, :, k] = torch.randint(factor_sizes[k], (1,), generator=g)
        rep = _represent(represent, classes.view(n * votes_batch, -1), batch_size).view(n, votes_batch, dims)
        var = (rep.var(dim=1) / scale.clamp_min(1e-12)).masked_fill(~active, float("inf"))
        table = torch.zeros(dims, len(factors), dtype=torch.long)
        table.index_put_((var.argmin(dim=1), which), torch.ones(n, dtype=torch.long), accumulate=True)
        return table

    if not active.any():
        return {"factor_vae": 0.0 if num_eval else None, "factor_vae_train": 0.0, "active_dims": 0}
    train = votes(num_train)
    majority = train.argmax(dim=1)
    held_out = votes(num_eval) if num_eval else None  # InfoGAN-CR scores on the training votes: num_eval 0
    return {
        "factor_vae": float(held_out[torch.arange(dims), majority].sum()) / num_eval if num_eval else None,
        "factor_vae_train": float(train.max(dim=1).values.sum()) / num_train,
        "active_dims": int(active.sum()),
    }


def mutual_info_gap(represent: Representation, factor_sizes: Sequence[int], num_samples: int = 10000,
                    bins: int = 20, seed: int = 0, factor_names: Optional[Sequence[str]] = None,
                    batch_size: int = 1024) -> dict:
    """MIG, the mutual information gap (Chen et al., *Isolating Sources of Disentanglement in VAEs*, NeurIPS 2018).

    For each factor v_k with more than one value: the difference between the largest and the second largest
    I(z_j; v_k) over representation dimensions z_j, divided by H(v_k); MIG is the mean over factors. As in
    disentanglement_lib, I is estimated on ``num_samples`` random inputs with each z_j discretised into ``bins``
    equal-width bins over its range (torchmetrics' ``mutual_info_score``, nats). 1: each factor lives in exactly
    one dimension; 0: no factor is captured by one dimension more than another.

    Returns {"mig", "mig_per_factor" {name: gap}, "mutual_info" [[I(z_j; v_k)] per j]}.
    """
    g = torch.Generator().manual_seed(seed)
    classes = _sample_factors(num_samples, factor_sizes, g)
    rep = _represent(represent, classes, batch_size)
    lo, hi = rep.min(dim=0).values, rep.max(dim=0).values
    binned = ((rep - lo) / (hi - lo).clamp_min(1e-12) * bins).long().clamp_(0, bins - 1)
    names = factor_names or [f"factor{k}" for k in range(len(factor_sizes))]
    factors = [k for k, n in enumerate(factor_sizes) if n > 1]
    # torchmetrics builds sparse contingency tables; torch's default (no invariant checks), chosen explicitly,
    # keeps its one-time "implicitly disabled" warning out of training logs and tables
    with torch.sparse.check_sparse_tensor_invariants(enable=False):
        mi = torch.tensor([[float(mutual_info_score(binned[:, j], classes[:, k])) for k in factors]
                           for j in range(rep.shape[1])]).view(rep.shape[1], len(factors))
        entropy = torch.tensor([float(mutual_info_score(classes[:, k], classes[:, k])) for k in factors])
    top = torch.cat([mi, torch.zeros(1, len(factors))]).topk(2, dim=0).values  # a 0 row: one dimension, gap = top1
    gap = (top[0] - top[1]) / entropy
    return {"mig": float(gap.mean()), "mig_per_factor": {names[k]: float(v) for k, v in zip(factors, gap)},
            "mutual_info": mi.tolist()}


def disentanglement_scores(represent: Representation, factor_sizes: Sequence[int], protocol: str = "quick",
                           factor_names: Optional[Sequence[str]] = None, batch_size: int = 1024, seed: int = 0,
                           **overrides) -> dict:
    """The FactorVAE metric and MIG under one of :data:`PROTOCOLS` (``overrides`` change its numbers).

    Returns {"protocol", "factor_vae" (the protocol's own number: held-out votes, or the fitting votes where it has
    none held out), "factor_vae_train", "mig", "mig_per_factor", "settings"}.
    """
    if protocol not in PROTOCOLS:
        raise InputError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    settings = {**PROTOCOLS[protocol], **overrides}
    vae = factor_vae_score(represent, factor_sizes, settings["num_train"], settings["num_eval"],
                           settings["votes_batch"], settings["num_variance"], seed, batch_size)
    mig = mutual_info_gap(represent, factor_sizes, settings["mig_samples"], settings["bins"], seed, factor_names,
                          batch_size)
    return {"protocol": protocol, "factor_vae": vae["factor_vae"] if settings["num_eval"] else vae["factor_vae_train"],
            "factor_vae_train": vae["factor_vae_train"], "active_dims": vae["active_dims"], "mig": mig["mig"],
            "mig_per_factor": mig["mig_per_factor"], "mutual_info": mig["mutual_info"], "settings": settings}
