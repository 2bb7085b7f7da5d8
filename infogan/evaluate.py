"""Score a checkpoint: ``python -m infogan.evaluate CKPT [--dataset mnist] [--data_dir DIR] [--out metrics.json]``.

Labelled sets (MNIST, Fashion-MNIST): Q assigns every image of the test split to a category of the first categorical
code; the clusters are matched to labels (Hungarian algorithm) for the unsupervised accuracy, and NMI and ARI need no
matching. Then the generator itself is judged: ``--per_category`` samples for each value of that code (the other
codes and the noise drawn) are read by a supervised classifier (:mod:`infogan.classifier`, trained once, cached):
purity, coverage and matched accuracy per :func:`infogan.metrics.sample_scores`, and the Frechet distance between the
classifier's features of the samples and of the real test images (torchmetrics' FID with that feature extractor; the
Inception FID too when its weights are given).

dSprites: the FactorVAE metric and MIG of Q's predictions of all codes against the known factors (see
:mod:`infogan.metrics`). Both also report the MI lower bound of every code on fresh generated samples. Prints a
table and writes the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

import torch

from infogan import classifier, cli, plots
from infogan.checkpoint import load_model
from infogan.data import dsprites
from infogan.data.datamodule import InfoGANDataModule
from infogan.data.image_files import BACKGROUND
from infogan.data.pixels import scale_images
from infogan.data.records import DATASETS
from infogan.errors import InputError
from infogan.files import write_atomically
from infogan.label_free import label_free_checks, model_generate, pixel_frechet_distance
from infogan.labels import check_labels_file, code_label_mi, kmeans, read_labels
from infogan.metrics import PROTOCOLS, cluster_scores, disentanglement_scores, sample_scores, shared_classes
from infogan.networks import PRESETS


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
    """ValueError when the checkpoint makes images of another shape than the dataset's (it was trained elsewhere)."""
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


def format_table(scores: dict) -> str:
    extra = _label_rows(scores.get("labels")) + _label_free_rows(scores.get("label_free"))
    if "protocols" in scores:
        return format_disentanglement(scores) + ("\n" + _aligned(extra) if extra else "")
    rows = []
    if "accuracy" in scores:
        rows += [("accuracy (Hungarian, one-to-one)", f"{scores['accuracy']:.4f}"),
                 ("accuracy (many-to-one)", f"{scores['many_to_one_accuracy']:.4f}"),
                 ("NMI", f"{scores['nmi']:.4f}"), ("ARI", f"{scores['ari']:.4f}"),
                 ("clusters used", f"{scores['clusters_used']} of {scores['num_clusters']}"),
                 ("images", str(scores["num_images"]))]
    rows += [(f"MI bound {k} (nats)", f"{v:.3f}") for k, v in scores["mi"].items()]
    if "pixel_frechet_distance" in scores:
        rows.append(("Frechet distance, 16 x 16 pixels", f"{scores['pixel_frechet_distance']:.3f}"))
    if scores.get("samples"):
        rows += _sample_rows(scores["samples"])
    lines = [_aligned(rows + extra)]
    if "confusion" in scores:
        lines.append("confusion after matching (rows: true label, columns: matched label"
                     + (", last: unmatched clusters)" if len(scores["confusion"][0]) > scores["num_classes"] else ")"))
        lines += [" ".join(f"{v:5d}" for v in row) for row in scores["confusion"]]
    return "\n".join(lines)


def _label_rows(labels: Optional[dict]) -> list[tuple[str, str]]:
    if not labels:
        return []
    where = f" where {labels['where'][0]} = {labels['where'][1]}" if labels["where"] else ""
    rows = [(f"labels: {labels['column']}{where}", f"{labels['matched']} images matched ({labels['rows']} rows), "
                                                   f"{labels['num_classes']} classes")]
    for name, result in (("cat0", labels["categorical"]), ("k-means on pixels", labels["kmeans_pixels"])):
        if result:
            rows.append((f"labels: {name} accuracy / NMI / ARI", f"{result['accuracy']:.4f} / {result['nmi']:.4f} / "
                                                                 f"{result['ari']:.4f}"))
    if labels["categorical"]:
        beats = labels["categorical"]["nmi"] > labels["kmeans_pixels"]["nmi"]
        rows.append(("labels: cat0 against k-means (NMI)", "beats it" if beats else "does not beat it"))
    rows += [(f"labels: MI of {code} (nats, of H)", f"{v['mi']:.3f} ({v['normalised']:.3f})")
             for code, v in labels["continuous"].items()]
    return rows


def _label_free_rows(checks: Optional[dict]) -> list[tuple[str, str]]:
    if not checks:
        return []
    rows = [("label-free: noise effect", f"{checks['noise']:.3f}")]
    rows += [(f"label-free: effect of {code}", f"{v:.3f}") for code, v in checks["codes"].items()]
    rows += [("label-free: near-duplicate share", f"{checks['duplicates']:.3f}")]
    rows += [("label-free: reading", line) for line in checks["readings"]]
    return rows


def _sample_rows(samples: dict) -> list[tuple[str, str]]:
    n = samples["per_category_samples"]
    rows = [(f"samples: purity (mean over categories, {n} each)", f"{samples['purity']:.4f}"),
            ("samples: coverage (distinct majority classes)", f"{samples['coverage']} of {samples['num_classes']}"),
            ("samples: accuracy (Hungarian)", f"{samples['matched_accuracy']:.4f}"),
            ("samples: classes sharing a category", ", ".join("/".join(map(str, p)) for p in samples["shared"])
             or "none"),
            ("Frechet distance (classifier features)", f"{samples['frechet_distance']:.3f}"),
            ("Inception FID", "not computed (--inception_weights FILE)" if samples["inception_fid"] is None
             else f"{samples['inception_fid']:.2f}"),
            ("evaluation classifier: test accuracy", f"{samples['classifier_accuracy']:.4f}")]
    rows += [(f"  category {c['category']}", f"{c['majority']} ({c['purity']:.3f}), then {c['second']} "
              f"({c['second_share']:.3f})") for c in samples["per_category"]]
    return rows


def format_disentanglement(scores: dict) -> str:
    rows = []
    for name, result in scores["protocols"].items():
        setting = result["settings"]
        held_out = f"{setting['num_eval']} held-out votes" if setting["num_eval"] else "scored on the fitting votes"
        rows += [(f"{name}: FactorVAE metric", f"{result['factor_vae']:.4f}  ({setting['num_train']} votes of "
                  f"{setting['votes_batch']}, {held_out})"),
                 (f"{name}: MIG", f"{result['mig']:.4f}  ({setting['mig_samples']} images, {setting['bins']} bins)")]
        rows += [(f"  gap of {factor}", f"{v:.4f}") for factor, v in result["mig_per_factor"].items()]
    rows += [("images", "rendered" if scores["rendered"] else "the original .npz")]
    rows += [(f"MI bound {k} (nats)", f"{v:.3f}") for k, v in scores["mi"].items()]
    return _aligned(rows)


def _aligned(rows: list[tuple[str, str]]) -> str:
    """(name, value) rows as lines with the values in one column."""
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m infogan.evaluate", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("checkpoint", nargs="+",
                   help="a .ckpt written by training; several (e.g. checkpoints/epoch*.ckpt from --epoch_checkpoints) "
                        "give a learning curve: one row each, and a JSON list")
    p.add_argument("--dataset", default="mnist", choices=list(DATASETS),
                   help="labelled dataset to score the categorical code against, or dsprites")
    p.add_argument("--data_dir", "--datadir", dest="data_dir", default="data", help="folder holding the dataset")
    p.add_argument("--out", default=None, help="write the metrics as JSON here")
    p.add_argument("--batch_size", type=cli.whole(1), default=1000, help="images per forward pass")
    p.add_argument("--mi_samples", type=cli.whole(1), default=5000, help="generated samples for the MI bound")
    p.add_argument("--protocol", nargs="+", choices=list(PROTOCOLS), default=["disentanglement_lib", "infogan_cr"],
                   help="dsprites: the FactorVAE / MIG protocols to report (disentanglement_lib: 10,000 + 5,000 "
                        "held-out votes of 64, MIG on 10,000; infogan_cr: InfoGAN-CR's Table 1, 500 votes of 100 "
                        "scored on themselves, MIG on 73,728; quick: the small one logged during training)")
    p.add_argument("--votes", type=int, default=None,
                   help="dsprites: FactorVAE fitting votes instead of the protocol's (held-out: half as many where "
                        "the protocol holds some out), for a quicker, non-standard score")
    p.add_argument("--samples", type=int, default=None, help="dsprites: MIG images instead of the protocol's")
    p.add_argument("--per_category", type=cli.whole(0), default=1000,
                   help="mnist/fashion_mnist: generated samples per category judged by the classifier; 0: skip")
    p.add_argument("--classifier", default=None,
                   help="where the evaluation classifier is cached (default: DATA_DIR/MNIST/infogan_classifier.pt); "
                        "trained there on first use")
    p.add_argument("--inception_weights", default=None,
                   help="torch-fidelity's Inception weights file: also report the Inception FID (needs torch-fidelity)")
    p.add_argument("--labels", default=None, metavar="FILE.csv",
                   help="folder/celeba: a CSV of labels for (some of) the images, one row per image: score the first "
                        "categorical code against --label_column (accuracy, NMI, ARI, against k-means on the pixels "
                        "with as many clusters) and each continuous code by its MI with it")
    p.add_argument("--label_column", default=None, help="--labels: the column holding the label (e.g. category)")
    p.add_argument("--file_column", default="file",
                   help="--labels: the column naming each image, relative to the folder or a bare file name")
    p.add_argument("--label_where", default=None, metavar="COL=VALUE", type=_column_value,
                   help="--labels: only rows where COL is VALUE (e.g. 'category=People & Body')")
    p.add_argument("--background", type=int, nargs=3, default=list(BACKGROUND), metavar=("R", "G", "B"),
                   help="folder/celeba: the colour transparent pixels are composited onto (as in training)")
    p.add_argument("--label_free_samples", type=cli.whole(2), default=256,
                   help="sample pairs for the label-free checks (noise and code effects, duplicates), for every "
                        "dataset")
    p.add_argument("--plot", default=None, metavar="FILE.png",
                   help="also draw the learning curve of the checkpoints given (matplotlib): a panel per kind of score "
                        "(accuracy and the Frechet distance; FactorVAE and MIG per protocol on dsprites; NMI and "
                        "the label-free checks on folders), training batches on the x axis")
    p.add_argument("--device", default="cpu", help="torch device")
    cli.add_debug_flag(p)
    return p


def _data_for(args: argparse.Namespace, model) -> InfoGANDataModule:
    """The dataset of ``args``; image files are decoded at the (first) checkpoint's channels and size and batched
    by evaluate itself, so the DataModule's batch only needs to be valid."""
    shape, batch_size = {}, max(2, args.batch_size)
    if DATASETS[args.dataset].storage == "files":
        shape = dict(channels=model.hparams.channels, image_size=PRESETS[model.hparams.preset].size)
        batch_size = 2
    return InfoGANDataModule(args.dataset, args.data_dir, batch_size=batch_size, download=False,
                             background=args.background, **shape)


def _column_value(text: str) -> tuple[str, str]:
    column, sep, value = text.partition("=")
    if not sep or not column:
        raise argparse.ArgumentTypeError(f"write COL=VALUE (e.g. 'category=People & Body'), got {text!r}")
    return column.strip(), value.strip()


def main(argv: Optional[Sequence[str]] = None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    return cli.run(parser, args, run)


def run(args: argparse.Namespace) -> dict | list[dict]:
    """Score the checkpoint(s) of parsed ``args``, print the table (or the learning curve) and write the JSON."""
    if args.out and Path(args.out).is_dir():  # checked before the minutes of computing, not after
        raise IsADirectoryError(f"--out {args.out} is a folder; name a file such as {Path(args.out) / 'metrics.json'}")
    if args.out:  # and that it can be written there at all: a probe through the same atomic writer
        probe = Path(args.out).with_name(f".{Path(args.out).name}.probe")
        write_atomically(probe, b"{}")
        probe.unlink()
    if args.plot and Path(args.plot).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InputError(f"--plot {args.plot}: name a .png, .svg or .pdf file")
    if args.labels and not args.label_column:
        raise InputError("--labels needs --label_column: the column of the CSV to score the codes against")
    if args.labels:  # before the minutes of computing too
        check_labels_file(args.labels)
    data: Optional[InfoGANDataModule] = None
    judge: Optional[SampleJudge] = None
    results = []
    for path in args.checkpoint:
        model = load_model(path, args.device)
        if data is None:
            data = _data_for(args, model)
        # torchmetrics builds its contingency tables as sparse tensors; choosing torch's default (no invariant
        # checks) explicitly keeps torch's one-time "implicitly disabled" warning out of the table
        with torch.sparse.check_sparse_tensor_invariants(enable=False):
            scores = evaluate(model, data, args.mi_samples, protocols=tuple(args.protocol), votes=args.votes,
                              samples=args.samples)
            if args.per_category > 0 and data.info.storage == "memory" and model.latent.categorical:
                if judge is None:
                    judge = SampleJudge(*classifier.load_or_train(args.data_dir, args.dataset, args.classifier), data,
                                        args.device, args.inception_weights)
                scores["samples"] = evaluate_samples(model, judge, args.per_category, args.batch_size)
            if args.labels:
                scores["labels"] = evaluate_labels(model, data, args.labels, args.label_column, args.file_column,
                                                   args.label_where, args.batch_size)
            scores["label_free"] = label_free_checks(model_generate(model), model.latent, args.label_free_samples)
        results.append({"checkpoint": str(path), "dataset": args.dataset,
                        "batches": model.batches_done(model.checkpoint_step), **scores})
        if len(args.checkpoint) == 1:
            print(format_table(results[0]))
        else:
            print(_curve_row(results[-1], header=len(results) == 1), flush=True)
    out = results[0] if len(results) == 1 else results
    if args.plot:
        print(f"wrote {plots.curve_figure(results, args.plot, title=Path(args.checkpoint[0]).parent.parent.name)}",
              file=sys.stderr)
    if args.out:
        write_atomically(args.out, (json.dumps(out, indent=2) + "\n").encode())
        print(f"wrote {args.out}", file=sys.stderr)
    return out


def _curve_row(scores: dict, header: bool) -> str:
    """One line of a learning curve: the checkpoint and its headline scores."""
    if "protocols" in scores:
        cols = {"checkpoint": Path(scores["checkpoint"]).name}
        for name, result in scores["protocols"].items():
            cols[f"{name} FactorVAE"] = f"{result['factor_vae']:.3f}"
            cols[f"{name} MIG"] = f"{result['mig']:.3f}"
    else:
        samples = scores.get("samples") or {}
        cols = {"checkpoint": Path(scores["checkpoint"]).name}
        if "accuracy" in scores:
            cols.update({"Q accuracy": f"{scores['accuracy']:.4f}", "NMI": f"{scores['nmi']:.3f}",
                         "ARI": f"{scores['ari']:.3f}"})
        labelled = (scores.get("labels") or {}).get("categorical")
        if labelled:
            cols.update({"labels NMI": f"{labelled['nmi']:.3f}",
                         "k-means NMI": f"{scores['labels']['kmeans_pixels']['nmi']:.3f}"})
        if scores.get("label_free"):
            cols.update({"noise": f"{scores['label_free']['noise']:.3f}",
                         "duplicates": f"{scores['label_free']['duplicates']:.3f}"})
        if samples:
            cols.update({"sample purity": f"{samples['purity']:.3f}", "coverage": str(samples["coverage"]),
                         "sample accuracy": f"{samples['matched_accuracy']:.4f}",
                         "Frechet": f"{samples['frechet_distance']:.2f}",
                         "shared": " ".join("/".join(map(str, p)) for p in samples["shared"]) or "-"})
    widths = [max(len(k), len(v)) for k, v in cols.items()]
    row = "  ".join(f"{v:<{w}}" for v, w in zip(cols.values(), widths))
    return ("  ".join(f"{k:<{w}}" for k, w in zip(cols, widths)) + "\n" + row) if header else row


if __name__ == "__main__":
    main()
