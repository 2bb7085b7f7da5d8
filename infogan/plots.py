"""Learning curves as figures: ``evaluate --plot`` for one run's checkpoints, :func:`overlay_figure` for several runs.

Both read ``evaluate``'s JSON results (a list, one per checkpoint, each with its ``batches``) and pick scores by a
dotted path (``samples.matched_accuracy``, ``protocols.infogan_cr.mig``). matplotlib is imported only here, when a
figure is asked for (``pip install infogan[plot]``). Pure Python, no Lightning.
"""

from __future__ import annotations

import io
import statistics
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from infogan.errors import InputError
from infogan.files import write_atomically
from infogan.protocols import PROTOCOLS

# panel title -> [(line label, dotted path)], per kind of result (the first whose first path is present is drawn)
PANELS = {
    "labelled": {
        "accuracy (%)": [("Q on the test images", "accuracy"), ("generator's samples", "samples.matched_accuracy")],
        "Frechet distance (classifier features)": [("samples vs test images", "samples.frechet_distance")],
    },
    "factors": {"FactorVAE metric": [(name, f"protocols.{name}.factor_vae") for name in PROTOCOLS],
                "MIG": [(name, f"protocols.{name}.mig") for name in PROTOCOLS]},
    "folder": {
        "NMI with the labels": [("cat0", "labels.categorical.nmi"), ("k-means on pixels", "labels.kmeans_pixels.nmi")],
        "label-free checks": [("noise effect", "label_free.noise"), ("near-duplicates", "label_free.duplicates")],
    },
}
_PERCENT = {"accuracy", "samples.matched_accuracy"}


def value(result: Mapping, path: str) -> Optional[float]:
    """The number at a dotted path of one result, or None where the result lacks it."""
    node: Any = result
    for part in path.split("."):
        if not isinstance(node, Mapping) or node.get(part) is None:
            return None
        node = node[part]
    return float(node) * (100 if path in _PERCENT else 1)


def kind(result: Mapping) -> str:
    """Which panels suit a result: dSprites factors, labelled (MNIST-like), or a folder."""
    return "factors" if "protocols" in result else "labelled" if "accuracy" in result else "folder"


def pyplot():
    """matplotlib's pyplot drawing to files only, or one line saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no display
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("drawing figures needs matplotlib: pip install matplotlib (or infogan[plot])") from None
    return plt


def save_figure(fig, out: str | Path) -> Path:
    """Write ``fig`` to ``out`` (its suffix names the format) atomically; returns the path."""
    buf = io.BytesIO()
    fig.savefig(buf, format=Path(out).suffix.lstrip(".").lower() or "png", dpi=120, bbox_inches="tight")
    return write_atomically(out, buf.getvalue())


def _x(results: Sequence[Mapping]) -> list[float]:
    return [float(r.get("batches", i)) for i, r in enumerate(results)]


def curve_figure(results: Sequence[Mapping], out: str | Path, title: str = "") -> Path:
    """One run's learning curve: a panel per kind of score, a line per score, batches on the x axis."""
    if not results:
        raise InputError("no results to plot")
    panels = {name: [(label, path) for label, path in lines if any(value(r, path) is not None for r in results)]
              for name, lines in PANELS[kind(results[0])].items()}
    return overlay_figure({"": list(results)}, {name: lines for name, lines in panels.items() if lines}, out, title)


def overlay_figure(runs: Mapping[str, Sequence[Mapping]], panels: Mapping[str, Sequence[tuple[str, str]]],
                   out: str | Path, title: str = "") -> Path:
    """Several runs' learning curves: a panel per entry of ``panels`` ({title: [(label, dotted path)]}), a thin line
    per run and score, and, with more than one run, the median over runs at each x in bold. Written atomically."""
    plt = pyplot()
    if not panels:
        raise InputError("nothing to plot: the results hold none of the scores asked for")
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.6), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (panel, lines) in zip(axes[0], panels.items()):
        for j, (label, path) in enumerate(lines):
            colour = colours[j % len(colours)]
            curves = []
            for run, results in runs.items():
                points = [(x, value(r, path)) for x, r in zip(_x(results), results) if value(r, path) is not None]
                if not points:
                    continue
                curves.append(dict(points))
                name = " ".join(part for part in (label, run) if part)
                ax.plot(*zip(*points), color=colour, alpha=0.35 if len(runs) > 1 else 1.0, linewidth=1,
                        marker="." if len(runs) == 1 else None, label=name if len(runs) == 1 else None)
            if len(curves) > 1:
                xs = sorted(set().union(*curves))
                medians = [statistics.median(c[x] for c in curves if x in c) for x in xs]
                ax.plot(xs, medians, color=colour, linewidth=2.5, label=f"{label} (median over runs)".strip())
        ax.set_title(panel)
        ax.set_xlabel("training batches")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    try:
        return save_figure(fig, out)
    finally:
        plt.close(fig)
