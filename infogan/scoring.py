"""The scores of a checkpoint, as plain data: what ``python -m infogan.evaluate`` (:mod:`infogan.evaluate`) prints
and writes as JSON.

Labelled sets (MNIST, Fashion-MNIST): Q assigns every image of the test split to a category of the first categorical
code; the clusters are matched to labels (Hungarian algorithm) for the unsupervised accuracy, and NMI and ARI need no
matching. Then the generator itself is judged: ``per_category`` samples for each value of that code (the other codes
and the noise drawn) are read by a supervised classifier (:mod:`infogan.classifier`, trained once, cached): purity,
coverage and matched accuracy per :func:`infogan.metrics.sample_scores`, and the Frechet distance between the
classifier's features of the samples and of the real test images (torchmetrics' FID with that feature extractor; the
Inception FID too when its weights are given).

dSprites: the FactorVAE metric and MIG of Q's predictions of all codes against the known factors (see
:mod:`infogan.metrics`). Folders: the label-free checks (:mod:`infogan.label_free`) and, against a CSV's labels,
:func:`evaluate_labels`. All also report the MI lower bound of every code on fresh generated samples.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

import torch

from infogan import classifier
from infogan.data import dsprites
from infogan.data.datamodule import InfoGANDataModule
from infogan.data.pixels import scale_images
from infogan.errors import InputError
from infogan.label_free import model_generate, pixel_frechet_distance
from infogan.labels import code_label_mi, kmeans, read_labels
from infogan.metrics import cluster_scores, disentanglement_scores, sample_scores, shared_classes
from infogan.protocols import PROTOCOLS


@torch.no_grad()
def evaluate(model, data: InfoGANDataModule, mi_samples: int = 5000, **disentanglement) -> dict:
    """Metrics of ``model`` (eval mode) on the validation split of ``data`` (dSprites: on its factors) as plain data
    (see the module doc)."""
    if data.info.factors:
        return evaluate_disentanglement(model, data, mi_samples, **disentanglement)
    if data.num_classes is not None and not model.latent.categorical:
        raise InputError("this model has no categorical code, so there is nothing to match against labels")
    _check_images(model, data)
    if data.num_classes is None:  # no labels: the MI bound here, the label-free checks (and --labels) in run()
        return {"mi": model.estimate_mi(n=mi_samples, seed=0), "pixel_frechet_distance": _pixel_frechet(model, data)}
    data.setup("validate")
    preds, labels = [], []
    for batch in data.val_dataloader():
        images, y = data.on_after_batch_transfer(batch, 0)
        preds.append(model.predict_category(images.to(model.device)).cpu())
        labels.append(y)
    scores = cluster_scores(torch.cat(preds), torch.cat(labels), model.latent.categorical[0], data.num_classes)
    scores["mi"] = model.estimate_mi(n=mi_samples, seed=0)
    scores["num_images"] = len(torch.cat(labels))
    return scores


@torch.no_grad()
def evaluate_labels(model, data: InfoGANDataModule, csv_path: str, column: str, file_column: str = "file",
                    where: Optional[tuple[str, str]] = None, batch_size: int = 500) -> dict:
    """The codes of ``model`` against a CSV's labels for images of a folder (:mod:`infogan.labels`): Q's first
    categorical code scored like MNIST's, k-means on the same images' pixels with as many clusters as the baseline,
    and each continuous code's mutual information with the labels."""
    if data.info.storage != "files":
        raise InputError(f"--labels scores a folder of image files (--dataset folder or celeba); {data.dataset} is "
                         f"scored against its own labels without it")
    _check_images(model, data)
    data.setup("fit")
    files = data.train_set.files
    root = Path(data.data_dir) / data.info.image_folder if data.info.image_folder else Path(data.data_dir)
    found = read_labels(csv_path, column, files, root, file_column, where)
    images = torch.stack([data.train_set.decode(files[i]) for i in found["index"]])  # (M, C, S, S) uint8
    labels, num_classes = found["labels"], len(found["names"])
    preds, continuous = [], []
    for chunk in images.split(batch_size):
        rep = model.represent(scale_images(chunk).to(model.device)).cpu()
        preds.append(rep[:, :model.latent.num_categorical].long())
        continuous.append(rep[:, model.latent.num_categorical:])
    out = {"csv": str(csv_path), "column": column, "where": list(where) if where else None, "rows": found["rows"],
           "matched": found["matched"], "num_classes": num_classes, "classes": found["names"],
           "continuous": code_label_mi(torch.cat(continuous), labels), "categorical": None, "kmeans_pixels": None}
    if model.latent.categorical:
        k = model.latent.categorical[0]
        out["categorical"] = cluster_scores(torch.cat(preds)[:, 0], labels, k, num_classes)
        pixels = scale_images(images).flatten(1)
        out["kmeans_pixels"] = cluster_scores(kmeans(pixels, k, seed=0), labels, k, num_classes)
    return out


def _pixel_frechet(model, data: InfoGANDataModule, n: int = 5000, batch_size: int = 500) -> float:
    """:func:`infogan.label_free.pixel_frechet_distance` against up to ``n`` of the set's images (a seeded choice)."""
    data.setup("fit")
    chosen = torch.randperm(len(data.train_set), generator=torch.Generator().manual_seed(0))[:n].tolist()
    real = (scale_images(torch.stack([data.train_set[i][0] for i in chosen[start:start + batch_size]]))
            for start in range(0, len(chosen), batch_size))
    return pixel_frechet_distance(model_generate(model), model.latent, real, len(chosen), batch_size)


def _check_images(model, data: InfoGANDataModule) -> None:
    """InputError when the checkpoint makes images of another shape than the dataset's (it was trained elsewhere)."""
    channels, size = data.image_shape
    made = tuple(model.sample(2, seed=0).shape[1:])
    if made != (channels, size, size):
        raise InputError(f"the checkpoint makes {made[0]}-channel {made[1]} px images, dataset {data.dataset!r} has "
                         f"{channels}-channel {size} px images: evaluate it on the dataset it was trained on")


@torch.no_grad()
def generated_by_category(model, per_category: int, batch_size: int = 1000, seed: int = 0):
    """Yield (categories (B,), images (B, C, H, W) in [-1, 1]) batches: ``per_category`` samples for each value of
    categorical code 0, the other codes and the noise drawn (reproducibly, from ``seed``)."""
    spec = model.latent
    for k in range(spec.categorical[0]):
        for start in range(0, per_category, batch_size):
            n = min(batch_size, per_category - start)
            fixed = [k] + [None] * (spec.num_categorical - 1)
            images = model.sample(n, categorical=fixed, seed=seed * 1_000_003 + k * 1009 + start)
            yield torch.full((n,), k), images


class SampleJudge:
    """The supervised classifier that reads generated samples, and the Frechet distances to the real test images.

    The real images' features are extracted once here (torchmetrics' ``reset_real_features=False``), so scoring many
    checkpoints (a learning curve) extracts only each checkpoint's samples.

    Args:
        judge: the evaluation classifier (:mod:`infogan.classifier`) and its test accuracy.
        data: the labelled dataset whose validation split is the real side.
        device: where the classifier (and Inception) run.
        inception_weights: torch-fidelity's Inception file, to add the Inception FID; None: classifier features only.
    """

    @torch.no_grad()
    def __init__(self, judge: classifier.DigitClassifier, accuracy: float, data: InfoGANDataModule, device="cpu",
                 inception_weights: Optional[str] = None) -> None:
        from torchmetrics.image.fid import FrechetInceptionDistance

        self.classifier, self.accuracy, self.num_classes = judge.to(device).eval(), accuracy, data.num_classes
        # name -> (metric, how images in [-1, 1] are handed to it)
        self.distances = {"frechet_distance": (FrechetInceptionDistance(
            feature=classifier.Features(self.classifier), normalize=True, reset_real_features=False).to(device),
            lambda x: x)}
        inception = _inception_fid(inception_weights, device)
        if inception is not None:
            self.distances["inception_fid"] = (inception, _to_rgb01)
        data.setup("validate")
        for batch in data.val_dataloader():
            images, _ = data.on_after_batch_transfer(batch, 0)
            for metric, prepare in self.distances.values():
                metric.update(prepare(images.to(device)), real=True)


@torch.no_grad()
def evaluate_samples(model, judge: SampleJudge, per_category: int = 1000, batch_size: int = 1000) -> dict:
    """The generator's categories judged by ``judge``'s classifier and the Frechet distance of its samples to the
    test split (the real side computed once, in ``judge``)."""
    for metric, _ in judge.distances.values():
        metric.reset()  # the samples of a previous checkpoint go; the real images' statistics stay
    categories, classes = [], []
    for cats, images in generated_by_category(model, per_category, batch_size):
        categories.append(cats)
        classes.append(judge.classifier(images).argmax(1).cpu())
        for metric, prepare in judge.distances.values():
            metric.update(prepare(images), real=False)
    k = model.latent.categorical[0]
    out = sample_scores(torch.cat(categories), torch.cat(classes), k, judge.num_classes)
    out["shared"] = shared_classes(out["per_category"])
    out.update(frechet_distance=None, inception_fid=None)  # the second stays None without --inception_weights
    out.update({name: float(metric.compute()) for name, (metric, _) in judge.distances.items()})
    out.update(per_category_samples=per_category, classifier_accuracy=judge.accuracy, num_classes=judge.num_classes)
    return out


def _to_rgb01(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images as 3-channel [0, 1] ones, what the Inception network takes."""
    images = (images.clamp(-1, 1) + 1) / 2
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


def _inception_fid(weights: Optional[str], device):
    """torchmetrics' Inception FID reading ``weights`` (torch-fidelity's Inception file), or None without them."""
    if not weights:
        return None
    if not Path(weights).is_file():
        raise FileNotFoundError(f"--inception_weights {weights}: no such file (torch-fidelity's "
                                f"weights-inception-2015-12-05-6726825d.pth)")
    from torchmetrics.image.fid import FrechetInceptionDistance

    try:
        return FrechetInceptionDistance(feature=2048, normalize=True, feature_extractor_weights_path=weights,
                                        reset_real_features=False).to(device)
    except ModuleNotFoundError as err:
        raise InputError(f"the Inception FID needs torch-fidelity: pip install torch-fidelity ({err})") from None


@torch.no_grad()
def evaluate_disentanglement(model, data: InfoGANDataModule, mi_samples: int = 5000,
                             protocols: Sequence[str] = ("disentanglement_lib", "infogan_cr"),
                             votes: Optional[int] = None, samples: Optional[int] = None) -> dict:
    """FactorVAE metric and MIG of ``model`` on dSprites under each of ``protocols`` (:data:`PROTOCOLS`), as plain
    data: {"protocols": {name: scores}, "mi", "rendered"}. ``votes`` / ``samples`` replace the protocols' numbers of
    fitting votes (held-out: half as many, where the protocol holds some out) and of MIG and scale images."""
    from tqdm import tqdm

    _check_images(model, data)
    represent = data.factor_representation(lambda images: model.represent(images.to(model.device)))
    scores = {"protocols": {}}
    for name in protocols:
        overrides = {}
        if votes is not None:
            overrides.update(num_train=votes, num_eval=votes // 2 if PROTOCOLS[name]["num_eval"] else 0)
        if samples is not None:
            overrides.update(mig_samples=samples, num_variance=samples)
        settings = {**PROTOCOLS[name], **overrides}
        total = (settings["num_variance"] + (settings["num_train"] + settings["num_eval"]) * settings["votes_batch"]
                 + settings["mig_samples"])  # the sprites this protocol renders and passes through Q
        # the bar's own rate and remaining time say up front how long it takes (minutes on a CPU)
        with tqdm(total=total, desc=f"{name}: sprites through Q", unit="img", file=sys.stderr, leave=False) as bar:
            def counted(classes, _bar=bar):
                _bar.update(len(classes))
                return represent(classes)

            scores["protocols"][name] = disentanglement_scores(counted, dsprites.FACTOR_SIZES, name,
                                                               dsprites.FACTORS, data.batch_size, **overrides)
    scores["mi"] = model.estimate_mi(n=mi_samples, seed=0)
    scores["rendered"] = data.train_set.images is None
    return scores
