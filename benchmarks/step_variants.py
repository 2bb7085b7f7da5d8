"""What each speed change does to the training step: the plain loop of ``train_speed.py`` in several variants.

    python benchmarks/step_variants.py --data_dir ../shared/data --json variants.json

Variants, each measured against ``baseline`` (the package's choices: fp32, fused Adam, contiguous layout) in the
same process, round by round so that drifts in machine load hit all alike:

* ``foreach_adam`` / ``loop_adam``: Adam with the multi-tensor (foreach) or the per-parameter implementation.
* ``channels_last``: networks and images in NHWC memory layout.
* ``bf16_autocast``: the step under ``torch.autocast("cpu", torch.bfloat16)``.
* ``compile``: generator and discriminator parts through ``torch.compile`` (compile time excluded by warm-up).

Timings only: nothing here is asserted. The Lightning-level settings (logging interval, progress bar refresh) are
measured by ``train_speed.py``'s Lightning contender, which already uses the CLI's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import PlainLoop  # noqa: E402

from infogan.data.idx import load_mnist  # noqa: E402


def build(variant: str, images: torch.Tensor, batch_size: int,
          seed: int) -> tuple[PlainLoop, contextlib.AbstractContextManager]:
    adam = {"foreach_adam": "foreach", "loop_adam": "loop"}.get(variant, "fused")
    loop = PlainLoop(images, batch_size, seed=seed, adam=adam)
    context: contextlib.AbstractContextManager = contextlib.nullcontext()
    if variant == "channels_last":
        loop.g.to(memory_format=torch.channels_last)
        loop.d.to(memory_format=torch.channels_last)
        loop.images = loop.images.contiguous(memory_format=torch.channels_last)
    elif variant == "bf16_autocast":
        context = torch.autocast("cpu", dtype=torch.bfloat16)
    elif variant == "compile":
        for module in (loop.g, loop.d.trunk, loop.d.head, loop.d.q):  # in place: the objective calls these modules
            module.compile()
    elif variant not in ("baseline", "foreach_adam", "loop_adam"):
        raise ValueError(f"unknown variant {variant!r}")
    return loop, context


VARIANTS = ("baseline", "foreach_adam", "loop_adam", "channels_last", "bf16_autocast", "compile")


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data_dir", default="data", help="folder holding MNIST/raw")
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--steps", type=int, default=30, help="measured steps per variant per round")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured steps first (compile happens here)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    images = load_mnist(args.data_dir, train=True, download=False).images
    loops = {v: build(v, images, args.batch_size, seed=0) for v in args.variants}
    rates: dict[str, list[float]] = {v: [] for v in args.variants}
    for r in range(args.rounds):
        for v, (loop, context) in loops.items():
            with context:
                rates[v].append(loop.images_per_second(args.steps, args.warmup if r == 0 else 1))
            print(f"round {r}: {v} {rates[v][-1]:.1f} img/s", file=sys.stderr)
    base = statistics.median(rates["baseline"]) if "baseline" in rates else None
    result = {v: {"img_per_s": statistics.median(x), "rounds": x,
                  "vs_baseline": statistics.median(x) / base if base else None} for v, x in rates.items()}
    for v, row in result.items():
        rel = f"  x{row['vs_baseline']:.2f}" if row["vs_baseline"] else ""
        print(f"{v:<14} {row['img_per_s']:7.1f} img/s{rel}")
    if args.json:
        Path(args.json).write_text(json.dumps({"threads": torch.get_num_threads(), **result}, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
