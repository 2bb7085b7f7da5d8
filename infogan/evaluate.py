"""Score a checkpoint: ``python -m infogan.evaluate CKPT [--dataset mnist] [--data_dir DIR] [--out metrics.json]``.

Labelled sets (MNIST, Fashion-MNIST): Q assigns every image of the test split to a category of the first categorical
code; the clusters are matched to labels (Hungarian algorithm) for the unsupervised accuracy, and NMI and ARI need no
matching. dSprites: the FactorVAE metric and MIG of Q's predictions of all codes against the known factors (see
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

from infogan import cli, dsprites
from infogan.checkpoint import load_model
from infogan.data import InfoGANDataModule
from infogan.datasets import DATASETS
from infogan.metrics import cluster_scores, factor_vae_score, mutual_info_gap


@torch.no_grad()
def evaluate(model, data: InfoGANDataModule, mi_samples: int = 5000, votes: int = 800, samples: int = 10000) -> dict:
    """Metrics of ``model`` (eval mode) on the validation split of ``data`` (dSprites: on its factors) as plain data
    (see the module doc)."""
    if data.dataset == "dsprites":
        return evaluate_disentanglement(model, data, mi_samples, votes, samples)
    if not model.latent.categorical:
        raise ValueError("this model has no categorical code, so there is nothing to match against labels")
    if data.num_classes is None:
        raise ValueError(f"dataset {data.dataset!r} has no labels to score the categorical code against")
    channels, _ = data.image_shape
    if channels != model.hparams.channels:
        raise ValueError(f"the checkpoint makes {model.hparams.channels}-channel images, "
                         f"dataset {data.dataset!r} has {channels}")
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
def evaluate_disentanglement(model, data: InfoGANDataModule, mi_samples: int = 5000, votes: int = 800,
                             samples: int = 10000) -> dict:
    """FactorVAE metric and MIG of ``model`` on dSprites (``votes`` training votes, half as many held out; MIG on
    ``samples`` images), as plain data."""
    if model.hparams.channels != 1 or model.hparams.preset != "dcgan64":
        raise ValueError("this checkpoint was not trained on 64 px single-channel images such as dSprites")
    data.setup("fit")
    images_of = data.train_set.__getitems__

    def represent(classes: torch.Tensor) -> torch.Tensor:
        images, _ = data.on_after_batch_transfer(images_of(dsprites.classes_to_index(classes)), 0)
        return model.represent(images.to(model.device))

    sizes = dsprites.FACTOR_SIZES
    scores = {**factor_vae_score(represent, sizes, num_train=votes, num_eval=votes // 2, batch_size=data.batch_size),
              **mutual_info_gap(represent, sizes, num_samples=samples, factor_names=dsprites.FACTORS,
                                batch_size=data.batch_size)}
    scores["mi"] = model.estimate_mi(n=mi_samples, seed=0)
    scores["rendered"] = data.train_set.images is None
    return scores


def format_table(scores: dict) -> str:
    if "mig" in scores:
        return format_disentanglement(scores)
    rows = [("accuracy (Hungarian, one-to-one)", f"{scores['accuracy']:.4f}"),
            ("accuracy (many-to-one)", f"{scores['many_to_one_accuracy']:.4f}"),
            ("NMI", f"{scores['nmi']:.4f}"), ("ARI", f"{scores['ari']:.4f}"),
            ("clusters used", f"{scores['clusters_used']} of {scores['num_clusters']}"),
            ("images", str(scores["num_images"]))]
    rows += [(f"MI bound {k} (nats)", f"{v:.3f}") for k, v in scores["mi"].items()]
    lines = [_aligned(rows)]
    lines.append("confusion after matching (rows: true label, columns: matched label"
                 + (", last: unmatched clusters)" if len(scores["confusion"][0]) > scores["num_classes"] else ")"))
    lines += [" ".join(f"{v:5d}" for v in row) for row in scores["confusion"]]
    return "\n".join(lines)


def format_disentanglement(scores: dict) -> str:
    rows = [("FactorVAE metric (held-out votes)", f"{scores['factor_vae']:.4f}"),
            ("FactorVAE metric (training votes)", f"{scores['factor_vae_train']:.4f}"),
            ("MIG", f"{scores['mig']:.4f}")]
    rows += [(f"  gap of {name}", f"{v:.4f}") for name, v in scores["mig_per_factor"].items()]
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
    p.add_argument("checkpoint", help="a .ckpt written by training")
    p.add_argument("--dataset", default="mnist", choices=list(DATASETS),
                   help="labelled dataset to score the categorical code against, or dsprites")
    p.add_argument("--data_dir", "--datadir", dest="data_dir", default="data", help="folder holding the dataset")
    p.add_argument("--out", default=None, help="write the metrics as JSON here")
    p.add_argument("--batch_size", type=int, default=1000, help="images per forward pass")
    p.add_argument("--mi_samples", type=int, default=5000, help="generated samples for the MI bound")
    p.add_argument("--votes", type=int, default=800,
                   help="dsprites: FactorVAE training votes (half as many held out; disentanglement_lib: 10000)")
    p.add_argument("--samples", type=int, default=10000, help="dsprites: images for MIG")
    p.add_argument("--device", default="cpu", help="torch device")
    cli.add_debug_flag(p)
    return p


def main(argv: Optional[Sequence[str]] = None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    return cli.run(parser, args, run)


def run(args: argparse.Namespace) -> dict:
    """Score the checkpoint of parsed ``args``, print the table and write the JSON."""
    model = load_model(args.checkpoint, args.device)
    data = InfoGANDataModule(args.dataset, args.data_dir, batch_size=args.batch_size, download=False)
    # torchmetrics builds its contingency tables as sparse tensors; choosing torch's default (no invariant checks)
    # explicitly keeps torch's one-time "implicitly disabled" warning out of the table
    with torch.sparse.check_sparse_tensor_invariants(enable=False):
        scores = evaluate(model, data, args.mi_samples, args.votes, args.samples)
    scores = {"checkpoint": str(args.checkpoint), "dataset": args.dataset, **scores}
    print(format_table(scores))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(scores, indent=2) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    return scores


if __name__ == "__main__":
    main()
