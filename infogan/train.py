"""The training CLI: ``python -m infogan.train`` (also ``python -m infogan.infogan_module``).

Parse the flags, resolve each model setting (a flag given; else, when resuming, the run's own setting; else the
dataset's recipe from :mod:`infogan.data.records` over :class:`~infogan.infogan_module.InfoGAN`'s defaults), build the
data, the model and a ``Trainer`` (:func:`build_trainer`, which takes extra callbacks: the DDP test and the speed
benchmark add theirs there), and fit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from infogan import cli, config
from infogan.config import MODEL_FLAGS
from infogan.data import records as datasets
from infogan.errors import InputError

if TYPE_CHECKING:
    import pytorch_lightning as pl

    from infogan.data.datamodule import InfoGANDataModule
    from infogan.infogan_module import InfoGAN

# torch and Lightning are imported where a run is built, not here: the flags are parsed first, so --help and a bad
# flag answer at once instead of after several seconds of imports.

# Traversal GIFs a run writes by default. Written every epoch, a 60-epoch emoji run at 32 px added about 4 MB to its
# TensorBoard log and 5 s to each 35 s epoch (docs/performance.md).
GIF_WRITES = 12


def recipe(dataset: str) -> dict:
    """The model settings a new run on ``dataset`` gets for the flags left out: its record's recipe and pixel range
    over the defaults of :mod:`infogan.config`."""
    info = datasets.DATASETS[dataset]
    return {k: config.DEFAULTS[k] for k in MODEL_FLAGS} | dict(info.recipe, pixel_range=list(info.pixel_range))


def resolve_settings(args: argparse.Namespace, resumed: Optional[dict]) -> None:
    """Fill every model flag left out (None): the resumed run's value, else the dataset's recipe; and the batch size
    and epoch length left out: the dataset's record. (The data's own settings, image size, channels and workers, are
    resolved by the DataModule from the same record.)"""
    if args.gpus is not None:
        args.accelerator, args.devices = "gpu", args.gpus
    base = resumed if resumed is not None else recipe(args.dataset)
    for key in MODEL_FLAGS:
        if getattr(args, key) is None:
            setattr(args, key, base[key])
    info = datasets.DATASETS[args.dataset]
    if args.batch_size is None:
        args.batch_size = info.batch_size
    if args.max_epochs is None:
        args.max_epochs = info.max_epochs
    if args.gif_every_n_epochs is None:
        args.gif_every_n_epochs = max(1, args.max_epochs // GIF_WRITES)
    if args.limit_train_batches is None:
        args.limit_train_batches = info.batches_per_epoch or 1.0


def _int_or_float(text: str) -> int | float:
    """Lightning's limit_*_batches convention: an int counts batches, a float is a fraction."""
    return float(text) if any(c in text for c in ".eE") else int(text)


def _batches(text: str) -> int | float:
    """--limit_train_batches: a count of at least 1 or a fraction in (0, 1]; 0 would train nothing."""
    value = _int_or_float(text)
    if not 0 < value or (isinstance(value, float) and value > 1):
        raise argparse.ArgumentTypeError(f"give a number of batches (1 or more) or a fraction in (0, 1], got {text}")
    return value


def _devices(text: str) -> int | str:
    return int(text) if text.isdigit() else text


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` except where the default is None: those flags say in their help where the value
    comes from (the recipe or the resumed run)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        return action.help if action.default is None else super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m infogan.train",
        description="Train InfoGAN. Model flags left out take the dataset's recipe (README, Datasets), or the run's "
                    "own settings when resuming with --ckpt_path.",
        formatter_class=_HelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default="mnist", choices=list(datasets.DATASETS),
                   help="; ".join(f"{name}: {info.where}" for name, info in datasets.DATASETS.items()))
    g.add_argument("--data_dir", "--datadir", dest="data_dir", default="data",
                   help="folder holding the dataset in torchvision's layout (MNIST/raw/..., celeba/img_align_celeba/)")
    g.add_argument("--image_size", type=int, default=None,
                   help="side of the square images; " + ", ".join(
                       f"{n} {' or '.join(map(str, i.image_sizes))}" for n, i in datasets.DATASETS.items())
                   + " (first: default)")
    g.add_argument("--channels", type=int, choices=(1, 3), default=None, help="folder only: 1 or 3 (default 3)")
    g.add_argument("--skip_bad_images", action="store_true",
                   help="celeba/folder: skip files that cannot be decoded (each warned about) instead of stopping")
    g.add_argument("--background", type=int, nargs=3, default=list(datasets.BACKGROUND), metavar=("R", "G", "B"),
                   help="celeba/folder: the colour transparent pixels (PNG alpha, transparent palette colours) are "
                        "composited onto, 0-255 each; white suits icons and emoji")
    g.add_argument("--download", action="store_true", default=None,
                   help="also try torchvision's CelebA downloader when the folder is missing (MNIST downloads anyway)")
    g.add_argument("--batch_size", type=int, default=None,
                   help="images per batch on each device; " + ", ".join(
                       f"{n} {i.batch_size}" for n, i in datasets.DATASETS.items()))
    g.add_argument("--num_workers", type=int, default=None,
                   help="DataLoader workers (default: 0 for in-memory MNIST-like sets, up to 8 for decoded images)")
    g.add_argument("--no_download", action="store_false", dest="download", default=None,
                   help="never download: fail at once with the folder it looked in when the data is missing")

    config.add_flags(p, {name: recipe(name) for name in datasets.DATASETS})

    g = p.add_argument_group("trainer")
    g.add_argument("--max_epochs", type=cli.whole(1), default=None,
                   help="epochs to train; " + ", ".join(f"{n} {i.max_epochs}" for n, i in datasets.DATASETS.items())
                   + " (11 MNIST epochs = the official code's 5,000 iterations at batch 128)")
    g.add_argument("--max_steps", type=cli.whole(1, allow=(-1,)), default=-1,
                   help="stop after this many training batches (iterations) in all, counting those of a resumed "
                        "checkpoint; -1: no limit. last.ckpt is then written at that batch and resumes there. "
                        "Lightning's trainer.global_step counts every optimizer step: 2x this number (3x with "
                        "--g_steps 2)")
    g.add_argument("--limit_train_batches", type=_batches, default=None,
                   help="batches per epoch: an int counts batches, a float is a fraction of the epoch; default the "
                        "whole set, " + ", ".join(f"{n} {i.batches_per_epoch}" for n, i in datasets.DATASETS.items()
                                                  if i.batches_per_epoch) + " (its epochs draw random batches)")
    g.add_argument("--limit_val_batches", type=_int_or_float, default=1.0, help="like --limit_train_batches")
    g.add_argument("--accelerator", default="auto", help="cpu, gpu, mps or auto")
    g.add_argument("--devices", type=_devices, default="auto",
                   help="number of devices (or a list like 0,1, or auto)")
    g.add_argument("--gpus", type=_devices, default=None,
                   help="GPUs to train on: --accelerator gpu --devices N in one flag (refused where there is no GPU, "
                        "where --devices N alone would start N processes on the CPU)")
    g.add_argument("--num_nodes", type=int, default=1, help="machines to train on (each with --devices devices)")
    g.add_argument("--strategy", default="auto",
                   help="Lightning strategy; auto picks ddp_find_unused_parameters_true for several devices: each "
                        "of the two backward passes of a step reaches only D's or only G's parameters")
    g.add_argument("--precision", default="32-true", help="32-true, 16-mixed or bf16-mixed")
    g.add_argument("--sync_batchnorm", action="store_true",
                   help="with several devices, BatchNorm uses statistics of the whole batch across devices "
                        "(default: each device's own)")
    g.add_argument("--fast_dev_run", type=int, nargs="?", const=1, default=0, metavar="N",
                   help="run N (default 1) batches of training and validation to check the set-up, write nothing")
    g.add_argument("--log_dir", default="lightning_logs",
                   help="TensorBoard logs and checkpoints go to LOG_DIR/version_N")
    g.add_argument("--log_every_n_steps", type=int, default=50, help="write scalars every N batches")
    g.add_argument("--gif_every_n_epochs", type=cli.whole(1), default=None,
                   help="write latent traversal GIFs (LOG_DIR/version_N/media, TensorBoard) every N epochs; "
                        f"they are also written at the end of training (default: about {GIF_WRITES} a run, every "
                        f"max(1, max_epochs // {GIF_WRITES}) epochs: every epoch on MNIST, every 5th on a folder)")
    g.add_argument("--gif_samples", type=cli.whole(1), default=64,
                   help="images per GIF frame (one per fixed noise vector)")
    g.add_argument("--label_free_samples", type=cli.whole(2, allow=(0,)), default=256,
                   help="sample pairs of the label-free checks after every epoch (TensorBoard label_free/*, a warning "
                        "on a collapse; evaluate's numbers with its default); 0 turns the watch off")
    g.add_argument("--ckpt_path", default=None, help="checkpoint to resume from (epoch, step and optimizer state)")
    g.add_argument("--epoch_checkpoints", action="store_true",
                   help="also keep a weights-only checkpoints/epochNN.ckpt after every epoch (NN from 00; about 53 MB "
                        "each for MNIST), to score a learning curve with evaluate")
    cli.add_debug_flag(g)
    return p


def _strategy(strategy: str, devices) -> str:
    """The DDP variant that works with two partial backward passes per step (see README, Multi-GPU)."""
    several = ((isinstance(devices, int) and devices > 1) or (isinstance(devices, str) and "," in devices)
               or devices == -1)
    return "ddp_find_unused_parameters_true" if strategy == "auto" and several else strategy


def _resumed_version(ckpt_path: Optional[str], log_dir: str) -> Optional[int | str]:
    """The version a checkpoint under LOG_DIR/version_N/checkpoints/ came from, so a resumed run logs on there.

    N as an int where the folder is ``version_N`` (the logger then names it so, and the progress bar shows ``v_num=N``
    rather than the last 4 characters of a string), else the folder's name.
    """
    if not ckpt_path:
        return None
    ckpt = Path(ckpt_path).resolve()
    run_dir = ckpt.parent.parent
    if ckpt.parent.name == "checkpoints" and run_dir.parent == Path(log_dir).resolve():
        number = run_dir.name.removeprefix("version_")
        return int(number) if number.isdigit() else run_dir.name
    return None


def _launching_rank() -> bool:
    """Whether this process starts the run (rank zero of node zero), not a rank a launcher started for it."""
    return all(os.environ.get(name, "0") == "0" for name in ("LOCAL_RANK", "NODE_RANK", "RANK", "SLURM_PROCID"))


def _run_version(args: argparse.Namespace) -> Optional[int | str]:
    """The run's folder LOG_DIR/version_N: the resumed run's own, else a new one claimed now.

    Claimed by creating it (``mkdir`` is atomic): two runs started at once with the same ``--log_dir`` get two
    folders, where Lightning's next-free-number would hand both ``version_0``. The launching process claims; the DDP
    ranks it starts read its claim from the environment they inherit (other ranks write no files).
    """
    resumed = _resumed_version(args.ckpt_path, args.log_dir)
    if resumed is not None or args.fast_dev_run:
        return resumed
    if not _launching_rank():
        claimed = os.environ.get("INFOGAN_RUN_VERSION")
        return int(claimed) if claimed else None
    root = Path(args.log_dir)
    root.mkdir(parents=True, exist_ok=True)
    taken = [int(p.name[8:]) for p in root.glob("version_*") if p.name[8:].isdigit()]
    version = max(taken, default=-1) + 1
    while True:
        try:
            (root / f"version_{version}").mkdir()
        except FileExistsError:  # another run claimed it first
            version += 1
            continue
        os.environ["INFOGAN_RUN_VERSION"] = str(version)
        return version


def release_if_empty(log_dir: str, version) -> None:
    """Remove a claimed run folder that holds nothing but what Lightning writes as a fit starts (``hparams.yaml``,
    an event file): a run that failed to start leaves nothing behind. A folder with anything else is kept."""
    folder = Path(log_dir) / f"version_{version}" if isinstance(version, int) else None
    if folder is None or not folder.is_dir():
        return
    started = [p for p in folder.iterdir() if p.name == "hparams.yaml" or p.name.startswith("events.out.tfevents.")]
    if sorted(folder.iterdir()) == sorted(started) and all(p.is_file() for p in started):
        for p in started:
            p.unlink()
        folder.rmdir()


def refuse_rollback(ckpt_path: str, saved: dict) -> None:
    """InputError when ``last.ckpt`` beside the checkpoint to resume from (``saved``, already read) has trained
    further: resuming would write the older state over it (a stale ``interrupted.ckpt`` after its run was resumed and
    went on)."""
    from infogan.checkpoint import read_checkpoint

    ckpt = Path(ckpt_path)
    last = ckpt.parent / "last.ckpt"
    if ckpt.name == "last.ckpt" or not last.is_file():
        return
    steps = {}
    for path, state in ((ckpt, saved), (last, read_checkpoint(last))):
        steps[path] = (int(state.get("global_step", 0)), int(state.get("epoch", 0)))
    if steps[ckpt][0] < steps[last][0]:
        raise InputError(f"--ckpt_path {ckpt} is older than {last} beside it (optimizer step {steps[ckpt][0]}, epoch "
                         f"{steps[ckpt][1]}, against {steps[last][0]}, epoch {steps[last][1]}): resuming would "
                         f"overwrite the newer run. Resume from {last}, or copy {ckpt.name} into another folder to "
                         f"restart from it there")


def build_data(args: argparse.Namespace) -> InfoGANDataModule:
    from infogan.data.datamodule import InfoGANDataModule

    return InfoGANDataModule(args.dataset, args.data_dir, args.batch_size, args.num_workers, download=args.download,
                             seed=args.seed, image_size=args.image_size, channels=args.channels,
                             skip_bad_images=args.skip_bad_images, background=args.background)


def build_model(args: argparse.Namespace, data: InfoGANDataModule) -> InfoGAN:
    """The model of resolved ``args`` (see :func:`resolve_settings`) for ``data``'s images."""
    from infogan.infogan_module import InfoGAN

    channels, size = data.image_shape
    return InfoGAN(preset=data.info.presets[size], channels=channels, **{k: getattr(args, k) for k in MODEL_FLAGS})


def build_trainer(args: argparse.Namespace, labelled: bool, callbacks: Sequence[pl.Callback] = (),
                  factors: bool = False, *, optimizer_steps: Callable[[int], int]) -> pl.Trainer:
    """The Trainer the CLI fits with: checkpoints, the sample grid and GIF callbacks, TensorBoard, plus ``callbacks``.

    Args:
        args: parsed flags.
        labelled: the data has labels (validation metrics and best.ckpt); unlabelled sets run no validation loop.
        callbacks: extra callbacks, appended after the CLI's own.
        factors: the data has known factors: FactorVAE and MIG are logged after every epoch.
        optimizer_steps: the model's optimizer steps in N batches (:meth:`InfoGAN.optimizer_steps`), which
            Lightning's ``fast_dev_run`` counts.
    """
    import pytorch_lightning as pl
    from pytorch_lightning.loggers import TensorBoardLogger
    from pytorch_lightning.utilities.exceptions import MisconfigurationException

    from infogan.callbacks import (
        DisentanglementScores,
        EpochProgressBar,
        LabelFreeChecks,
        LatentTraversalGIF,
        SampleGrid,
        StopAfterBatches,
        checkpointing,
    )
    from infogan.checkpoint import AtomicCheckpointIO

    log_dir = Path(args.log_dir)
    if log_dir.exists() and not log_dir.is_dir():
        raise NotADirectoryError(f"--log_dir {log_dir} is a file; name a folder for the logs and checkpoints")
    version = _run_version(args)
    try:
        trainer = pl.Trainer(
            accelerator=args.accelerator,
            devices=args.devices,
            num_nodes=args.num_nodes,
            strategy=_strategy(args.strategy, args.devices if args.num_nodes == 1 else 2),
            precision=args.precision,
            sync_batchnorm=args.sync_batchnorm,
            max_epochs=args.max_epochs,
            limit_train_batches=args.limit_train_batches,
            # no labels, no validation: 0 says so to Lightning, which otherwise warns about the empty val loader
            limit_val_batches=args.limit_val_batches if labelled else 0,
            fast_dev_run=optimizer_steps(args.fast_dev_run),  # Lightning's N counts optimizer steps
            logger=TensorBoardLogger(args.log_dir, name="", version=version),
            plugins=[AtomicCheckpointIO()],
            # tqdm explicitly: Lightning switches to its rich bar whenever rich is installed (gradio brings it)
            callbacks=[EpochProgressBar(), SampleGrid(),
                       *checkpointing(labelled and args.limit_val_batches != 0, args.epoch_checkpoints),
                       LatentTraversalGIF(every_n_epochs=args.gif_every_n_epochs, n=args.gif_samples,
                                          nrow=max(1, round(args.gif_samples ** 0.5))),
                       *([LabelFreeChecks(args.label_free_samples)] if args.label_free_samples else []),
                       *([DisentanglementScores()] if factors else []),
                       *([StopAfterBatches(args.max_steps)] if args.max_steps > 0 else []), *callbacks],
            log_every_n_steps=args.log_every_n_steps,
        )
    except MisconfigurationException as err:  # e.g. --accelerator gpu on a machine without one
        release_if_empty(args.log_dir, version)
        raise InputError(f"{str(err).strip().splitlines()[0]} (--accelerator {args.accelerator}, --devices "
                         f"{args.devices})") from None
    if args.sync_batchnorm and trainer.accelerator.__class__.__name__ == "CPUAccelerator":
        release_if_empty(args.log_dir, version)
        raise InputError("--sync_batchnorm needs GPUs: torch's SyncBatchNorm runs on CUDA only; drop the flag on CPU")
    return trainer


def train(args: argparse.Namespace, callbacks: Sequence[pl.Callback] = ()) -> pl.Trainer:
    """Build data, model and Trainer from parsed CLI arguments and fit; returns the fitted Trainer."""
    import pytorch_lightning as pl
    import torch
    from pytorch_lightning.utilities.exceptions import MisconfigurationException, SIGTERMException

    from infogan.callbacks import SaveOnInterrupt
    from infogan.checkpoint import check_compatible, hparams_of, read_checkpoint

    saved = read_checkpoint(args.ckpt_path) if args.ckpt_path else None  # read once here (Lightning reads it again)
    resumed = hparams_of(saved, args.ckpt_path) if saved is not None else None
    if saved is not None:
        if args.fast_dev_run:
            raise InputError("--fast_dev_run checks a set-up from scratch and trains nothing from a checkpoint: drop "
                             "--ckpt_path to check, or --fast_dev_run to resume")
        refuse_rollback(args.ckpt_path, saved)
    resolve_settings(args, resumed)
    pl.seed_everything(args.seed, workers=True, verbose=False)
    data = build_data(args)
    model = build_model(args, data)
    if resumed is not None:
        check_compatible(resumed, dict(model.hparams), args.ckpt_path)
        if "optimizer_states" not in saved or "loops" not in saved:
            raise InputError(f"{args.ckpt_path} holds the weights only (an epochNN.ckpt for learning curves), not the "
                             f"optimizers' state and position a resume needs: resume from last.ckpt in its folder")
        done = model.batches_done(int(saved.get("global_step", 0)))
        if 0 < args.max_steps <= done:
            raise InputError(f"--max_steps {args.max_steps}: {args.ckpt_path} has trained {done} batches already, so "
                             f"nothing would train; raise --max_steps (it counts all batches, the resumed ones too)")
    saved = None  # not held through training
    interrupt = SaveOnInterrupt()
    trainer = build_trainer(args, data.num_classes is not None, [interrupt, *callbacks], factors=data.info.factors,
                            optimizer_steps=model.optimizer_steps)
    try:
        trainer.fit(model, datamodule=data, ckpt_path=args.ckpt_path)
        log_dir = trainer.log_dir  # a broadcast under DDP: every rank must ask, not rank zero alone
    except (SIGTERMException, SystemExit) as stop:  # Lightning's own exits: 0 on SIGTERM, 1 on Ctrl-C
        if interrupt.reason is None:
            raise
        where = f"batch {model.batches_done()} (epoch {trainer.current_epoch})"
        if interrupt.saved and trainer.is_global_zero:
            print(f"stopped by {interrupt.reason} at {where}; saved {interrupt.saved}. Resume with the same command "
                  f"and --ckpt_path {interrupt.saved}", file=sys.stderr)
        raise SystemExit({"SIGTERM": 143, "SIGHUP": 129}.get(interrupt.reason, 130)) from stop
    except BaseException as err:
        logged = getattr(trainer.logger, "log_dir", None)  # the logger's own (no DDP broadcast); None in fast_dev_run
        vanished = (isinstance(err, FileNotFoundError) and trainer.global_step > 0 and logged is not None
                    and not Path(logged).exists())
        if trainer.is_global_zero:
            release_if_empty(args.log_dir, trainer.logger.version if trainer.logger else None)
        if isinstance(err, MisconfigurationException):  # Lightning refusing the flags (too few batches, ...)
            raise InputError(str(err).strip().splitlines()[0]) from None
        if vanished:
            raise InputError(f"the run's folder {logged} was deleted during training, and its logs and checkpoints "
                             f"with it; start the run again (or from a copy of its last.ckpt)") from None
        raise
    finally:
        # Lightning's DDP teardown leaves the process group alive; left to interpreter exit, gloo's worker threads
        # are destroyed mid-finalisation and the process aborts ("terminate called without an active exception",
        # exit -6) after a finished run. torch asks every process to destroy its group when done.
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    if trainer.is_global_zero and not args.fast_dev_run:
        print(f"logs and checkpoints: {log_dir}", file=sys.stderr)
    return trainer


def main(argv: Optional[Sequence[str]] = None, callbacks: Sequence[pl.Callback] = ()) -> pl.Trainer:
    """Train from command-line arguments; returns the fitted Trainer.

    Bad input and faults end with a one-line error and exit status 2 (a traceback only with --debug).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    from infogan.data.image_files import BadImageError
    from infogan.infogan_module import NonFiniteLossError

    return cli.run(parser, args, lambda a: train(a, callbacks), errors=(NonFiniteLossError, BadImageError))


if __name__ == "__main__":
    main()
