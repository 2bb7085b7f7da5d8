"""Training speed: the package through Lightning's Trainer vs a minimal plain-PyTorch loop, and the hardware limit.

    python benchmarks/train_speed.py --data_dir ../shared/data --steps 30 --rounds 3 --json speed.json

In ONE process, alternating the contenders round by round so drifts in machine load hit both alike:

(a) ``lightning``: :class:`infogan.InfoGAN` fitted by a ``Trainer`` built as the CLI builds it (TensorBoard logger,
    checkpoint, sample-grid and GIF callbacks, progress bar); validation is off and the measured steps stay inside
    one epoch, so epoch-end work (validation, GIFs, checkpoints) is not in the number: it is per-step speed.
(b) ``plain``: the same networks, latent draws, losses and fused Adam in a hand-written loop over the same
    in-memory uint8 MNIST tensor.

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

from infogan import InfoGAN
from infogan.data import InfoGANDataModule, load_mnist, scale_images
from infogan.infogan_module import _checkpointing, adversarial_loss
from infogan.callbacks import LatentTraversalGIF, SampleGrid


# ---------------------------------------------------------------------- (b) the plain loop
class PlainLoop:
    """The InfoGAN step of :mod:`infogan.infogan_module` written by hand, for comparison."""

    def __init__(self, images: torch.Tensor, batch_size: int, seed: int = 0, adam: str = "fused") -> None:
        """``adam``: the Adam implementation, ``"fused"`` (the package's), ``"foreach"`` or ``"loop"``."""
        if adam not in ("fused", "foreach", "loop"):
            raise ValueError(f"adam must be 'fused', 'foreach' or 'loop', got {adam!r}")
        torch.manual_seed(seed)
        self.model = InfoGAN(seed=seed)  # only for its networks and latent spec; no Trainer involved
        self.g, self.d, self.spec = self.model.generator, self.model.discriminator, self.model.latent
        hp = self.model.hparams
        kind = dict(fused=adam == "fused", foreach=adam == "foreach")
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=hp.lr_d, betas=(0.5, 0.999), **kind)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=hp.lr_g, betas=(0.5, 0.999), **kind)
        self.images, self.batch_size = images, batch_size
        self.rng, self.order, self.pos = torch.Generator().manual_seed(seed), torch.randperm(len(images)), 0

    def _batch(self) -> torch.Tensor:
        if self.pos + self.batch_size > len(self.order):
            self.order, self.pos = torch.randperm(len(self.images)), 0
        idx = self.order[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        return scale_images(self.images[idx])

    def step(self) -> None:
        real = self._batch()
        codes = self.spec.sample(self.batch_size, self.rng)
        fake = self.g(self.spec.to_input(codes))
        d, hp = self.d, self.model.hparams
        # D + Q step on detached fakes
        h_fake = d.trunk(fake.detach())
        nll = self.spec.nll(d.q(h_fake), codes)
        loss_d = (adversarial_loss(d.head(d.trunk(real)).squeeze(1), True)
                  + adversarial_loss(d.head(h_fake).squeeze(1), False)
                  + self.spec.info_loss(nll, hp.lambda_cat, hp.lambda_cont))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        # G step with D's parameters frozen (no wasted weight gradients)
        for p in d.parameters():
            p.requires_grad_(False)
        h = d.trunk(fake)
        loss_g = adversarial_loss(d.head(h).squeeze(1), True) + self.spec.info_loss(
            self.spec.nll(d.q(h), codes), hp.lambda_cat, hp.lambda_cont)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        for p in d.parameters():
            p.requires_grad_(True)

    def images_per_second(self, steps: int, warmup: int) -> float:
        for _ in range(warmup):
            self.step()
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        return steps * self.batch_size / (time.perf_counter() - start)


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


def lightning_images_per_second(data_dir: str, batch_size: int, steps: int, warmup: int, log_dir: str) -> float:
    from pytorch_lightning.loggers import TensorBoardLogger

    timer = _StepTimer(warmup)
    data = InfoGANDataModule("mnist", data_dir, batch_size, download=False)
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, max_steps=2 * (warmup + steps), limit_val_batches=0,
        logger=TensorBoardLogger(log_dir, name=""), log_every_n_steps=50,
        callbacks=[*_checkpointing(True), SampleGrid(), LatentTraversalGIF(), timer],
        enable_model_summary=False,
    )
    trainer.fit(InfoGAN(), datamodule=data)
    return steps * batch_size / (timer.end - timer.start)


# ---------------------------------------------------------------------- hardware
def step_gflop(images: torch.Tensor, batch_size: int) -> float:
    """FLOPs of one full training step (both forwards and backwards), in GFLOP."""
    loop = PlainLoop(images, batch_size)
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
    lightning, plain = [], []
    for r in range(args.rounds):
        lightning.append(lightning_images_per_second(args.data_dir, args.batch_size, args.steps, args.warmup,
                                                     args.log_dir))
        plain.append(PlainLoop(images, args.batch_size, seed=r).images_per_second(args.steps, args.warmup))
        print(f"round {r}: lightning {lightning[-1]:.1f} img/s, plain {plain[-1]:.1f} img/s", file=sys.stderr)
    gflop = step_gflop(images, args.batch_size)
    peak = matmul_peak_gflops()
    result = {
        "lightning_img_per_s": statistics.median(lightning),
        "plain_img_per_s": statistics.median(plain),
        "ratio": statistics.median(lightning) / statistics.median(plain),
        "gflop_per_step": gflop,
        "peak_gflops": peak,
        "lightning_gflops": gflop * statistics.median(lightning) / args.batch_size,
        "plain_gflops": gflop * statistics.median(plain) / args.batch_size,
        "batch_size": args.batch_size, "steps": args.steps, "rounds": args.rounds,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "rounds_lightning_img_per_s": lightning, "rounds_plain_img_per_s": plain,
    }
    result["pct_of_peak"] = 100 * result["lightning_gflops"] / peak
    rows = [("Lightning Trainer (CLI callbacks + logging)", f"{result['lightning_img_per_s']:.1f} img/s"),
            ("plain PyTorch loop", f"{result['plain_img_per_s']:.1f} img/s"),
            ("ratio Lightning / plain", f"{result['ratio']:.3f}"),
            ("GFLOP per step (fwd + bwd, both steps)", f"{gflop:.1f}"),
            ("fp32 matmul peak of this machine", f"{peak:.0f} GFLOP/s"),
            ("achieved (Lightning)", f"{result['lightning_gflops']:.0f} GFLOP/s = {result['pct_of_peak']:.0f}% of peak")]
    width = max(len(r[0]) for r in rows)
    print("\n".join(f"{a:<{width}}  {b}" for a, b in rows))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
