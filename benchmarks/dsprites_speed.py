"""dSprites training speed: InfoGAN-CR's small networks (``cr64``, the recipe), with and without the contrastive
term (``--lambda_cr 2``), against ``dcgan64``, in one run.

    python benchmarks/dsprites_speed.py --steps 20 --rounds 3 --json dsprites_speed.json

All three train the dSprites recipe (5 continuous codes, 5 uniform noise dimensions, two generator updates per
batch, spectral norm, batch 64) in the plain loop of ``train_speed.py`` (the module's own losses, no Lightning) on
sprites rendered batch by batch, rounds alternating. Reported per contender: sprites per second, the forward MFLOP per
image of G and of D, and the renderer's share of a step (time fetching batches over the whole step). Timings only:
nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import PlainLoop  # noqa: E402

from infogan import train  # noqa: E402
from infogan.data.dsprites import DSprites, find_npz  # noqa: E402

# contender -> InfoGAN settings on top of the recipe
CONTENDERS = {"cr64": dict(preset="cr64"), "cr64_lambda_cr_2": dict(preset="cr64", lambda_cr=2.0),
              "dcgan64": dict(preset="dcgan64")}


def forward_mflop(loop: PlainLoop) -> tuple[float, float]:
    """Forward MFLOP per image of the generator and of the discriminator (trunk, D head, Q head)."""
    codes = loop.spec.sample(8, loop.rng)
    with torch.no_grad(), FlopCounterMode(display=False) as g_count:
        fake = loop.g(loop.spec.to_input(codes))
    with torch.no_grad(), FlopCounterMode(display=False) as d_count:
        loop.d(fake)
    return g_count.get_total_flops() / 8e6, d_count.get_total_flops() / 8e6


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data_dir", default="data", help="holds dsprites/*.npz if you have it (else sprites are rendered)")
    p.add_argument("--steps", type=int, default=20, help="measured batches per preset per round")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    sprites = DSprites(find_npz(args.data_dir))
    recipe = {k: v for k, v in train.recipe("dsprites").items() if k != "seed"}
    batch = train.datasets.DATASETS["dsprites"].batch_size
    rates = {name: [] for name in CONTENDERS}
    shares = {name: [] for name in CONTENDERS}
    loops = {}
    for r in range(args.rounds):
        for name, settings in CONTENDERS.items():
            loop = PlainLoop(sprites, batch, seed=r, channels=1, **{**recipe, **settings})
            rates[name].append(loop.images_per_second(args.steps, args.warmup))
            shares[name].append(loop.data_seconds / loop.seconds)
            loops[name] = loop
            print(f"round {r}: {name} {rates[name][-1]:.1f} sprites/s, rendering {100 * shares[name][-1]:.1f}% "
                  f"of the step", file=sys.stderr)
    result = {"batch_size": batch, "steps": args.steps, "rounds": args.rounds, "threads": torch.get_num_threads(),
              "rendered": sprites.images is None}
    for name in CONTENDERS:
        g_mflop, d_mflop = forward_mflop(loops[name])
        result[name] = {"sprites_per_s": statistics.median(rates[name]), "rounds": rates[name],
                        "render_share": statistics.median(shares[name]), "g_forward_mflop": g_mflop,
                        "d_forward_mflop": d_mflop}
        row = result[name]
        print(f"{name:<16} {row['sprites_per_s']:7.1f} sprites/s  (renderer {100 * row['render_share']:.1f}% of a "
              f"step; forward MFLOP per image: G {g_mflop:.1f}, D {d_mflop:.1f})")
    result["speedup"] = result["cr64"]["sprites_per_s"] / result["dcgan64"]["sprites_per_s"]
    result["contrastive_cost"] = result["cr64"]["sprites_per_s"] / result["cr64_lambda_cr_2"]["sprites_per_s"]
    print(f"cr64 / dcgan64: {result['speedup']:.1f} x; --lambda_cr 2 costs {result['contrastive_cost']:.1f} x the time")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
