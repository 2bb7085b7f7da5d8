"""Overlay several runs' learning curves (``evaluate``'s JSON, one file per run) in one figure: a thin line per run,
the median over runs in bold, a panel per kind of score.

    python docs/plot_runs.py docs/data/mnist_seed*.json --out media/mnist_curves.png
    python docs/plot_runs.py docs/data/dsprites_pixels_minus1_seed*.json --out media/dsprites_curves.png

The figures of the results pages are drawn with these commands from the JSON in ``docs/data/``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from infogan import plots


def main(argv=None) -> Path:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", help="evaluate's JSON of one run each (a list of results, one per checkpoint)")
    p.add_argument("--out", required=True, help="the figure (.png, .svg or .pdf)")
    p.add_argument("--protocol", nargs="+", default=None, help="dsprites: the protocols to draw (default: all)")
    p.add_argument("--title", default="")
    args = p.parse_args(argv)
    runs = {Path(path).stem.rsplit("_", 1)[-1]: json.loads(Path(path).read_text()) for path in args.runs}
    first = next(iter(runs.values()))[0]
    panels = {title: [(label, path) for label, path in lines if args.protocol is None or label in args.protocol
                      or not path.startswith("protocols.")]
              for title, lines in plots.PANELS[plots.kind(first)].items()}
    panels = {title: [line for line in lines if any(plots.value(r, line[1]) is not None
                                                     for results in runs.values() for r in results)]
              for title, lines in panels.items()}
    out = plots.overlay_figure(runs, {t: lines for t, lines in panels.items() if lines}, args.out, args.title)
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    main()
