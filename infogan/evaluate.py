"""Score checkpoints: ``python -m infogan.evaluate CKPT [--dataset mnist] [--data_dir DIR] [--out metrics.json]``.

Labelled sets (MNIST, Fashion-MNIST): Q's categories of the test images against the labels (accuracy, NMI, ARI) and
the generator's samples read by a classifier; dSprites: the FactorVAE metric and MIG under the published protocols;
folders: the label-free checks and, with ``--labels``, a CSV's labels against Q's categories and k-means on the
pixels. What each score is: :mod:`infogan.scoring`. Prints a table (several checkpoints: a learning curve) and writes
the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from infogan import cli, plots
from infogan.data.records import BACKGROUND, DATASETS
from infogan.errors import InputError
from infogan.files import write_atomically
from infogan.protocols import PROTOCOLS

if TYPE_CHECKING:
    from infogan.data.datamodule import InfoGANDataModule

# torch, Lightning and the scoring are imported where the scores are computed, not here, so --help and a bad flag
# answer at once (as in infogan.train)


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
    from infogan.data.datamodule import InfoGANDataModule
    from infogan.networks import PRESETS

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
    import torch

    from infogan import classifier, scoring
    from infogan.checkpoint import load_model
    from infogan.label_free import label_free_checks, model_generate
    from infogan.labels import check_labels_file

    if args.labels:  # before the minutes of computing too
        check_labels_file(args.labels)
    data: Optional[InfoGANDataModule] = None
    judge: Optional[scoring.SampleJudge] = None
    results = []
    for path in args.checkpoint:
        model = load_model(path, args.device)
        if data is None:
            data = _data_for(args, model)
        # torchmetrics builds its contingency tables as sparse tensors; choosing torch's default (no invariant
        # checks) explicitly keeps torch's one-time "implicitly disabled" warning out of the table
        with torch.sparse.check_sparse_tensor_invariants(enable=False):
            scores = scoring.evaluate(model, data, args.mi_samples, protocols=tuple(args.protocol), votes=args.votes,
                              samples=args.samples)
            if args.per_category > 0 and data.info.storage == "memory" and model.latent.categorical:
                if judge is None:
                    reader = classifier.load_or_train(args.data_dir, args.dataset, args.classifier)
                    judge = scoring.SampleJudge(*reader, data, args.device, args.inception_weights)
                scores["samples"] = scoring.evaluate_samples(model, judge, args.per_category, args.batch_size)
            if args.labels:
                scores["labels"] = scoring.evaluate_labels(model, data, args.labels, args.label_column,
                                                           args.file_column, args.label_where, args.batch_size)
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
