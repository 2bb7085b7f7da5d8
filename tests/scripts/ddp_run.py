"""Run by tests/test_train.py as ``python ddp_run.py OUT_DIR DATA_DIR [CLI flags]``: a CPU DDP training run through the
CLI in which every rank dumps what the test compares (weights, its latent draws, what its GIF callback wrote,
whether its process group outlived ``main``).
Lightning's DDP launcher re-runs this same command for rank 1."""

import sys
from pathlib import Path

import pytorch_lightning as pl
import torch

from infogan import InfoGAN
from infogan.callbacks import LatentTraversalGIF
from infogan.train import main

out = Path(sys.argv[1])
draws = []
original = InfoGAN._draw_codes


def recording_draw(self, n):
    codes = original(self, n)
    draws.append(codes.z.clone())
    return codes


InfoGAN._draw_codes = recording_draw


class Dump(pl.Callback):
    def on_train_end(self, trainer, pl_module):
        gif = next(cb for cb in trainer.callbacks if isinstance(cb, LatentTraversalGIF))
        torch.save({"params": {k: v.detach().cpu() for k, v in pl_module.named_parameters()},
                    "draws": torch.stack(draws), "gif_written_at": list(gif.written_at),
                    "world_size": trainer.world_size, "val_accuracy": float(trainer.callback_metrics["val/accuracy"])},
                   out / f"rank{trainer.global_rank}.pt")


trainer = main(["--data_dir", sys.argv[2], "--log_dir", str(out / "logs"), *sys.argv[3:]], callbacks=[Dump()])
# a group still alive here is torn down during interpreter exit, where gloo can abort a finished run
(out / f"rank{trainer.global_rank}.group_alive").write_text(str(torch.distributed.is_initialized()))
