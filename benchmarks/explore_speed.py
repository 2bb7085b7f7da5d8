"""How fast the latent explorer answers: one update of its grid (``python -m infogan.explore``), timed.

    python benchmarks/explore_speed.py [CKPT] [--n 16] [--updates 50] [--json explore.json]

Times, per update, the model alone (``InfoGAN.sample``: the generator's forward in eval mode for ``--n`` samples)
and the whole update function of the page (sampling, the grid, the enlargement for display), on the CPU with the
machine's threads. Without a checkpoint it builds the MNIST networks untrained: the cost does not depend on the
weights. Median and 90th percentile over ``--updates`` updates, each with a moved continuous code. Timings only:
nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from infogan import InfoGAN
from infogan.checkpoint import load_model
from infogan.explore import Explorer


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", nargs="?", default=None, help="a trained checkpoint (default: untrained MNIST nets)")
    p.add_argument("--n", type=int, default=16, help="samples per update (the page's default)")
    p.add_argument("--updates", type=int, default=50)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    model = load_model(args.checkpoint) if args.checkpoint else InfoGAN().eval()
    explorer = Explorer(model)
    spec = model.latent
    cats = [0] * spec.num_categorical
    explorer.grid(cats, [0.0] * spec.continuous, seed=0, n=args.n)  # warm-up
    model_ms, update_ms = [], []
    for i in range(args.updates):
        cont = [spec.default_range * (2 * i / max(1, args.updates - 1) - 1)] + [0.0] * (spec.continuous - 1)
        cont = cont[:spec.continuous]
        start = time.perf_counter()
        model.sample(args.n, cats or None, cont or None, seed=0)
        model_ms.append(1000 * (time.perf_counter() - start))
        start = time.perf_counter()
        explorer.grid(cats, cont, seed=0, n=args.n)
        update_ms.append(1000 * (time.perf_counter() - start))

    def p90(x):
        return sorted(x)[int(0.9 * (len(x) - 1))]

    result = {"n": args.n, "updates": args.updates, "threads": torch.get_num_threads(), "checkpoint": args.checkpoint,
              "model_ms_median": statistics.median(model_ms), "model_ms_p90": p90(model_ms),
              "update_ms_median": statistics.median(update_ms), "update_ms_p90": p90(update_ms)}
    print(f"model time per update ({args.n} samples): median {result['model_ms_median']:.1f} ms, "
          f"90% {result['model_ms_p90']:.1f} ms")
    print(f"whole update (grid + display): median {result['update_ms_median']:.1f} ms, "
          f"90% {result['update_ms_p90']:.1f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
