"""Draw the emoji screen (``docs/data/emoji_screens.csv``, the 30- and 60-epoch rows of docs/results/emoji.md's
table): the categorical code's NMI with ``category`` against k-means on the pixels, and the pixel Frechet distance,
one dot per run, one column per setting.

    python docs/plot_screens.py docs/data/emoji_screens.csv --out media/emoji_screens.png
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from infogan import plots

KMEANS_NMI = 0.220  # k-means on the pixels, K = 10, the same images (docs/results/emoji.md)


def main(argv=None) -> Path:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("csv", help="one row per run: screen, change, seed, batches, nmi, frechet")
    p.add_argument("--out", required=True, help="the figure (.png, .svg or .pdf)")
    args = p.parse_args(argv)
    plt = plots.pyplot()
    rows = list(csv.DictReader(Path(args.csv).read_text().splitlines()))
    columns = list(dict.fromkeys((r["screen"], r["change"]) for r in rows))  # in the file's order
    fig, axes = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    colours = {"0": "tab:blue", "1": "tab:orange", "2": "tab:green"}
    for ax, key, label in ((axes[0], "nmi", "NMI with category"), (axes[1], "frechet", "pixel Frechet distance")):
        for x, column in enumerate(columns):
            runs = [r for r in rows if (r["screen"], r["change"]) == column]
            for r in runs:
                ax.scatter(x, float(r[key]), color=colours.get(r["seed"], "gray"), s=28, zorder=3,
                           label=f"seed {r['seed']}")
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0].axhline(KMEANS_NMI, color="black", linestyle="--", linewidth=1, label="k-means on pixels")
    handles, labels = axes[0].get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    axes[0].legend([unique[k] for k in sorted(unique)], sorted(unique), loc="lower left", fontsize=8, ncol=4)
    axes[1].set_ylabel("pixel Frechet distance\n(lower: closer to the folder)")
    axes[1].set_xticks(range(len(columns)))
    axes[1].set_xticklabels([f"{s}: {c}" for s, c in columns], rotation=35, ha="right", fontsize=8)
    axes[0].set_ylim(top=max(KMEANS_NMI, max(float(r["nmi"]) for r in rows)) + 0.01)
    axes[0].set_title("emoji screen: 30 epochs (1,770 batches) unless marked; the folder recipe is F at 60 epochs")
    fig.tight_layout()
    out = plots.save_figure(fig, args.out)
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    main()
