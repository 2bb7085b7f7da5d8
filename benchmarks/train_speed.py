"""Training speed: the package through Lightning's Trainer vs a minimal plain-PyTorch loop, and the hardware limit.

    python benchmarks/train_speed.py --data_dir ../shared/data --steps 30 --rounds 3 --json speed.json

Two steps are measured: ``default``, what ``python -m infogan.train --dataset mnist`` trains (the MNIST recipe, with
the invariance term on real images and the information term on restyled fakes), and ``paper``, the paper's InfoGAN
step (``--lambda_real 0 --lambda_fake_views 0``). Each against its
plain twin, in ONE process, alternating the contenders round by round so drifts in machine load hit all alike:

(a) ``lightning``: the training CLI's own model and ``Trainer`` (:func:`infogan.train.train`: TensorBoard logger,
    checkpoint, sample-grid and GIF callbacks, progress bar) with a timing callback added; validation is off and the
    measured steps stay inside one epoch, so epoch-end work (validation, GIFs, checkpoints) is not in the number: it
    is per-step speed.
(b) ``plain``: the same networks and the module's own objective and step order
    (:meth:`infogan.objective.Objective.train_batch`) with fused Adam and plain ``backward()`` in a hand-written loop
    over the same in-memory uint8 MNIST tensor: what Lightning adds is the difference.

It also counts the FLOPs of one step (``torch.utils.flop_counter.FlopCounterMode``, forward and backward) and measures
this machine's fp32 matmul rate (the best of several large ``torch.mm``), so the achieved GFLOP/s can be put against a
peak. Prints a table and writes JSON with ``--json``. Timings only: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.flop_counter import FlopCounterMode

from infogan import InfoGAN, train
from infogan.data.idx import load_mnist
from infogan.data.pixels import scale_images
from infogan.terms import Batch

# The recipe's terms beyond the paper's InfoGAN (infogan.consistency): what the "default" step adds to "paper".
TERMS = ("lambda_real", "lambda_fake_views")


# ---------------------------------------------------------------------- (b) the plain loop
class PlainLoop:
    """The package's training step (its networks and loss code) in a hand-written loop, without Lightning."""

    def __init__(self, images, batch_size: int, seed: int = 0, adam: str = "fused", **model_kwargs) -> None:
        """``images``: (N, C, H, W) uint8, or a dataset with ``__getitems__`` (dSprites renders its batches);
        ``adam``: the Adam implementation, ``"fused"`` (the package's), ``"foreach"`` or ``"loop"``; ``model_kwargs``:
        :class:`InfoGAN` settings (the terms of a recipe, another preset, ``g_steps``, ...); left out, the
        constructor's defaults: the paper's step."""
        if adam not in ("fused", "foreach", "loop"):
            raise ValueError(f"adam must be 'fused', 'foreach' or 'loop', got {adam!r}")
        torch.manual_seed(seed)
        # its networks, latent spec and losses; no Trainer
        self.model = InfoGAN(seed=seed, **model_kwargs)
        self.g, self.d, self.spec = self.model.generator, self.model.discriminator, self.model.latent
        hp = self.model.hparams
        kind = dict(fused=adam == "fused", foreach=adam == "foreach")
        self.optimizers = {name: torch.optim.Adam(net.parameters(), lr=self.model.learning_rate(name),
                                                  betas=(hp.beta1, hp.beta2), **kind)
                           for name, net in self.model.objective.networks.items()}
        self.images, self.batch_size = images, batch_size
        self.rng, self.order, self.pos = torch.Generator().manual_seed(seed), torch.randperm(len(images)), 0
        self.data_seconds = 0.0  # time spent fetching (or rendering) batches

    def _batch(self) -> torch.Tensor:
        start = time.perf_counter()
        if self.pos + self.batch_size > len(self.order):
            self.order, self.pos = torch.randperm(len(self.images)), 0
        idx = self.order[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        if isinstance(self.images, torch.Tensor):
            batch = self.images[idx]
        else:
            batch = self.images.__getitems__(idx.tolist())[0]
        self.data_seconds += time.perf_counter() - start
        return scale_images(batch)

    def step(self) -> None:
        """One batch: the module's own objective and step order (:meth:`Objective.train_batch`), each update a plain
        ``backward()`` and Adam step with the other networks frozen (no wasted weight gradients)."""
        real = self._batch()
        codes = self.spec.sample(self.batch_size, self.rng)
        self.model.objective.train_batch(Batch(real, codes, self.rng, 0), self._update)

    def _update(self, name: str, loss_fn) -> dict:
        others = [p for other, opt in self.optimizers.items() if other != name
                  for group in opt.param_groups for p in group["params"]]
        for p in others:
            p.requires_grad_(False)
        loss, logs = loss_fn()
        for p in others:
            p.requires_grad_(True)
        self.optimizers[name].zero_grad(set_to_none=True)
        loss.backward()
        self.optimizers[name].step()
        return logs

    def images_per_second(self, steps: int, warmup: int) -> float:
        for _ in range(warmup):
            self.step()
        self.data_seconds = 0.0
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        self.seconds = time.perf_counter() - start
        return steps * self.batch_size / self.seconds


# ---------------------------------------------------------------------- (a) through Lightning
class _StepTimer(pl.Callback):
    """Wall time from the start of batch ``warmup`` to the end of the last batch."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.end = warmup, None, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.end = time.perf_counter()


def lightning_images_per_second(data_dir: str, batch_size: int, steps: int, warmup: int, log_dir: str,
                                 terms: dict[str, float]) -> float:
    """Images per second of the training CLI's own run with these ``TERMS`` settings, timed from batch ``warmup``."""
    timer = _StepTimer(warmup)
    args = train.build_parser().parse_args([
        "--data_dir", data_dir, "--batch_size", str(batch_size), "--max_steps", str(warmup + steps),
        "--limit_val_batches", "0", "--no_download", "--accelerator", "cpu", "--devices", "1", "--log_dir", log_dir,
        *[arg for key, value in terms.items() for arg in (f"--{key}", str(value))]])
    train.train(args, callbacks=[timer])
    return steps * batch_size / (timer.end - timer.start)


# ---------------------------------------------------------------------- hardware
def step_gflop(images: torch.Tensor, batch_size: int, terms: dict[str, float]) -> float:
    """FLOPs of one full training step (both forwards and backwards), in GFLOP."""
    loop = PlainLoop(images, batch_size, **terms)
    with FlopCounterMode(display=False) as counter:
        loop.step()
    return counter.get_total_flops() / 1e9


def matmul_peak_gflops(n: int = 2048, repeats: int = 10) -> float:
    """This machine's fp32 matmul rate: the best of several n x n x n products, in GFLOP/s."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data_dir", default="data", help="folder holding MNIST/raw")
    p.add_argument("--dataset", default="mnist", choices=["mnist"])
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--steps", type=int, default=30, help="measured steps per contender per round")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured steps before each measurement")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is reported")
    p.add_argument("--log_dir", default="/tmp/infogan_bench_logs")
    p.add_argument("--json", default=None, help="write the results here")
    args = p.parse_args(argv)

    images = load_mnist(args.data_dir, train=True, download=False).images
    torch.manual_seed(0)
    # the step -> the weights of the terms beyond the paper's: the CLI's recipe for the dataset, and none
    steps = {"default": {k: train.recipe(args.dataset)[k] for k in TERMS}, "paper": dict.fromkeys(TERMS, 0.0)}
    rates = {name: {"lightning": [], "plain": []} for name in steps}
    for r in range(args.rounds):
        for name, terms in steps.items():
            rates[name]["lightning"].append(lightning_images_per_second(
                args.data_dir, args.batch_size, args.steps, args.warmup, args.log_dir, terms))
            rates[name]["plain"].append(PlainLoop(images, args.batch_size, seed=r, **terms)
                                        .images_per_second(args.steps, args.warmup))
            print(f"round {r}, {name} step: lightning {rates[name]['lightning'][-1]:.1f} img/s, "
                  f"plain {rates[name]['plain'][-1]:.1f} img/s", file=sys.stderr)
    peak = matmul_peak_gflops()
    result = {"peak_gflops": peak, "batch_size": args.batch_size, "steps": args.steps, "rounds": args.rounds,
              "threads": torch.get_num_threads(), "torch": torch.__version__}
    rows = [("fp32 matmul peak of this machine", f"{peak:.0f} GFLOP/s")]
    for name, terms in steps.items():
        lightning, plain = (statistics.median(rates[name][k]) for k in ("lightning", "plain"))
        gflop = step_gflop(images, args.batch_size, terms)
        result[name] = {
            **terms,
            "lightning_img_per_s": lightning, "plain_img_per_s": plain, "ratio": lightning / plain,
            "gflop_per_step": gflop, "lightning_gflops": gflop * lightning / args.batch_size,
            "plain_gflops": gflop * plain / args.batch_size,
            "pct_of_peak": 100 * gflop * lightning / args.batch_size / peak,
            "rounds_lightning_img_per_s": rates[name]["lightning"], "rounds_plain_img_per_s": rates[name]["plain"],
        }
        row = result[name]
        rows += [(f"{name} step: Lightning Trainer (the CLI's run)", f"{lightning:.1f} img/s"),
                 (f"{name} step: plain PyTorch loop", f"{plain:.1f} img/s"),
                 (f"{name} step: ratio Lightning / plain", f"{row['ratio']:.3f}"),
                 (f"{name} step: GFLOP per step (fwd + bwd)", f"{gflop:.1f}"),
                 (f"{name} step: achieved (Lightning)",
                  f"{row['lightning_gflops']:.0f} GFLOP/s = {row['pct_of_peak']:.0f}% of peak")]
    width = max(len(r[0]) for r in rows)
    print("\n".join(f"{a:<{width}}  {b}" for a, b in rows))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
