"""Pictures from a checkpoint: ``python -m infogan.generate CKPT [options]``.

* no ``--traverse``: a grid of ``--n`` samples (``--out x.png``);
* ``--traverse cat:I|cont:I --out x.gif``: a traversal GIF, one frame per value of the code, each frame a grid of
  ``--n`` samples with the noise and the other codes fixed;
* ``--traverse ... --out x.png``: the same traversal as one sheet, a row per sample and a column per value.

Examples::

    python -m infogan.generate last.ckpt --traverse cont:0 --out rotation.gif
    python -m infogan.generate last.ckpt --categorical 7 --continuous 0 1.5 --n 16 --out sevens.png
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Optional, Sequence

from infogan import cli

# torch, Lightning and the checkpoint are imported where a picture is made, not here, so --help and a bad flag answer
# at once (as in infogan.train)

MAX_N = 4096  # a 64 x 64 grid: beyond it a picture is no longer one, and its one batch outgrows small machines


def _value(cast):
    def parse(text: str):
        return None if text in ("*", "_") else cast(text)

    parse.__name__ = cast.__name__  # argparse names the type in its error message
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m infogan.generate", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("checkpoint", help="a .ckpt written by training")
    p.add_argument("--out", default="samples.png", help="output file: .png (grid or traversal sheet) or .gif")
    p.add_argument("--n", type=cli.whole(1, most=MAX_N), default=64,
                   help=f"samples per grid (noise vectors), at most {MAX_N:,} (one picture)")
    p.add_argument("--nrow", type=cli.whole(1), default=8, help="samples per row of a grid")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise and of the codes not fixed")
    p.add_argument("--categorical", type=_value(int), nargs="+", default=None, metavar="K",
                   help="fix categorical codes 0, 1, ... to these values; * leaves one drawn")
    p.add_argument("--continuous", type=_value(float), nargs="+", default=None, metavar="V",
                   help="fix continuous codes 0, 1, ... to these values; * leaves one drawn")
    p.add_argument("--traverse", default=None, metavar="CODE", help="traverse a code: cat:I or cont:I")
    p.add_argument("--frames", type=cli.whole(2), default=16, help="values of a continuous traversal")
    p.add_argument("--range", type=float, default=None, dest="value_range",
                   help="continuous traversals sweep [-RANGE, RANGE] (default: the checkpoint's traversal_range: "
                        "1 for dSprites' codes, else 2 for uniform, 3 for gaussian codes)")
    p.add_argument("--device", default="cpu", help="torch device to generate on")
    cli.add_debug_flag(p)
    return p


def _picture(args: argparse.Namespace) -> Path:
    """Write the picture of ``args`` to ``args.out``: one grid or sheet, or a traversal's frames as a GIF."""
    from infogan import render
    from infogan.checkpoint import load_model

    model = load_model(args.checkpoint, args.device)
    spec = model.latent
    fixed = dict(fixed_categorical=args.categorical, fixed_continuous=args.continuous)
    spec.sample(1, categorical=args.categorical, continuous=args.continuous)  # checks the fixed values first
    if not args.traverse:
        frames = [render.to_grid(model.sample(args.n, args.categorical, args.continuous, seed=args.seed), args.nrow)]
    else:
        kind, index = spec.parse_code(args.traverse)
        if Path(args.out).suffix.lower() == ".gif":
            frames = render.traversal_frames(model, kind, index, args.n, args.nrow, args.frames, args.value_range,
                                             args.seed, **fixed)
        else:
            _, images = render.traversal_images(model, kind, index, args.n, args.frames, args.value_range,
                                                args.seed, **fixed)
            frames = [render.traversal_sheet(images)]
    return render.save_picture(frames, args.out)


def main(argv: Optional[Sequence[str]] = None) -> Path:
    parser = build_parser()
    args = parser.parse_args(argv)
    if Path(args.out).is_dir():
        parser.error(f"--out {args.out} is a folder; name a file such as {Path(args.out) / 'samples.png'}")
    suffix = Path(args.out).suffix.lower()
    if suffix not in (".png", ".gif"):
        parser.error(f"--out {args.out}: unknown suffix {suffix or '(none)'!r}, use .png or .gif")
    if suffix == ".gif" and not args.traverse:
        parser.error("a .gif shows a traversal: add --traverse cat:I or cont:I, or write a .png")
    if args.value_range is not None and not (math.isfinite(args.value_range) and args.value_range > 0):
        parser.error(f"--range must be a finite number > 0, got {args.value_range}")

    out = cli.run(parser, args, _picture)
    print(f"wrote {out}", file=sys.stderr)
    return out


if __name__ == "__main__":
    main()
