"""Reading training checkpoints: safely, with one clear error per kind of bad file, and the same way for old ones.

* Every read is ``torch.load(..., weights_only=True)``: checkpoints from strangers are untrusted, and a pickle that
  would run code is refused before anything runs.
* :func:`check_compatible` names every architecture setting on which a checkpoint and a requested model differ
  (resuming with other codes or networks would load mismatched weights, or silently change what a code means).
* A checkpoint written before a setting existed is read with :data:`infogan.config.DEFAULTS_BEFORE_KEY`, what the
  package did before the setting was added, not with today's default: changing a default never reinterprets an old
  run. :data:`infogan.config.ARCHITECTURE_KEYS` are the settings that fix the networks' shapes and the codes' meaning.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Mapping

import torch
from pytorch_lightning.plugins.io import TorchCheckpointIO

from infogan import __version__
from infogan.config import ARCHITECTURE_KEYS, DEFAULTS_BEFORE_KEY
from infogan.errors import InputError
from infogan.files import write_with
from infogan.infogan_module import InfoGAN


def read_checkpoint(path: str | Path) -> dict:
    """torch.load(weights_only=True) with one clear error per kind of bad file."""
    if "://" in str(path):
        raise InputError(f"{path}: checkpoints are read from files, not URLs; download it and pass the file's path")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Unsupported global" not in str(err):  # not a pickle at all (a text file, other bytes): no code to refuse
            raise InputError(f"{path} is not a readable checkpoint (not a file torch.save wrote)") from None
        raise InputError(f"refused to load {path}: it holds pickled objects beyond tensors and plain data, which "
                         f"could run code ({str(err).strip().splitlines()[0]})") from None
    except Exception as err:  # noqa: BLE001 - truncated zip, not a torch file, ...
        raise InputError(f"{path} is not a readable checkpoint (truncated or another kind of file): "
                         f"{str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__}") from None


def _require_infogan(checkpoint, path) -> dict:
    """The hyperparameters of an InfoGAN training checkpoint; ValueError naming what is wrong for any other file."""
    hparams = checkpoint.get("hyper_parameters") if isinstance(checkpoint, dict) else None
    if not isinstance(hparams, dict) or "state_dict" not in checkpoint:
        raise InputError(f"{path} is a torch file but not an InfoGAN training checkpoint (no hyper_parameters or "
                         f"state_dict)")
    foreign = sorted(set(hparams) - set(DEFAULTS_BEFORE_KEY))
    written_by = checkpoint.get("infogan_version")
    if foreign and written_by is not None and any(str(k).startswith("generator.") for k in checkpoint["state_dict"]):
        raise InputError(f"{path} was written by infogan {written_by}, which has settings this infogan "
                         f"({__version__}) does not know ({', '.join(map(str, foreign[:5]))}): upgrade infogan to "
                         f"read it")
    if foreign or not any(str(k).startswith("generator.") for k in checkpoint["state_dict"]):
        what = f"hyperparameters {', '.join(map(str, foreign[:5]))} are not InfoGAN's" if foreign else "no generator"
        raise InputError(f"{path} is a checkpoint of another model, not an InfoGAN training checkpoint ({what})")
    return hparams


def complete_hparams(hparams: Mapping) -> dict:
    """A checkpoint's hyperparameters with every setting it lacks filled from :data:`DEFAULTS_BEFORE_KEY`."""
    return {**DEFAULTS_BEFORE_KEY, **hparams}


def read_hparams(path: str | Path) -> dict:
    """The hyperparameters of a training checkpoint file (:func:`hparams_of`)."""
    return hparams_of(read_checkpoint(path), path)


def hparams_of(checkpoint: dict, path: str | Path) -> dict:
    """The hyperparameters of a loaded training checkpoint, completed and checked against its tensors (InputError
    when it holds none, or when they do not describe its tensors)."""
    hparams = complete_hparams(_require_infogan(checkpoint, path))
    check_shapes(checkpoint, hparams, path)
    return hparams


def check_shapes(checkpoint: dict, hparams: Mapping, path: str | Path) -> None:
    """InputError unless the checkpoint's tensors have the shapes its hyperparameters describe.

    Why: a stranger's file chooses the hyperparameters that size the networks (``noise_dim = 1,000,000`` asked for
    gigabytes before anything was compared). The settings' own bounds (:mod:`infogan.config`) are checked first, the
    model is then laid out on the ``meta`` device (shapes, no memory), and only a file whose tensors match is built.
    """
    try:
        with torch.device("meta"):
            expected = {k: tuple(v.shape) for k, v in InfoGAN(**hparams).state_dict().items()}
    except (TypeError, ValueError) as err:
        raise InputError(f"{path} does not hold an InfoGAN of this version: "
                         f"{str(err).strip().splitlines()[0]}") from None
    saved = {k: tuple(v.shape) for k, v in checkpoint["state_dict"].items() if isinstance(v, torch.Tensor)}
    wrong = [k for k in expected if k in saved and saved[k] != expected[k]]
    missing = [k for k in expected if k not in saved]
    if wrong or missing:
        first = (f"{wrong[0]} is {list(saved[wrong[0]])}, its settings make {list(expected[wrong[0]])}" if wrong
                 else f"{missing[0]} is missing")
        raise InputError(f"{path}: its tensors do not match its own settings ({first}); the file is damaged or "
                         f"was not written by infogan")


def check_compatible(ckpt_hparams: Mapping, hparams: Mapping, path: str | Path) -> None:
    """Raise ValueError naming every architecture setting on which a checkpoint and the requested model differ.

    A setting the checkpoint lacks (written before that setting existed) counts as its :data:`DEFAULTS_BEFORE_KEY`.
    """
    ckpt_hparams = complete_hparams(ckpt_hparams)
    diffs = [f"{k}={ckpt_hparams[k]!r} (flags: {hparams.get(k)!r})" for k in ARCHITECTURE_KEYS
             if ckpt_hparams[k] != hparams.get(k)]
    if (ckpt_hparams["lambda_cr"] > 0) != (hparams.get("lambda_cr", 0) > 0):  # the pair classifier, its optimizer
        diffs.append(f"lambda_cr={ckpt_hparams['lambda_cr']!r} (flags: {hparams.get('lambda_cr')!r}; the "
                     f"contrastive term cannot be switched on or off in a resumed run)")
    for key, setting in (("g_steps", "the generator updates per batch"),
                         ("cr_start", "the batch the contrastive term starts at")):
        if ckpt_hparams[key] != hparams.get(key):  # the batch position is read from the optimizer steps
            diffs.append(f"{key}={ckpt_hparams[key]!r} (flags: {hparams.get(key)!r}; {setting} cannot change in a "
                         f"resumed run: its batch count is read from its optimizer steps)")
    if diffs:
        raise InputError(f"checkpoint {path} was trained with another configuration: {', '.join(diffs)}. Pass the "
                         f"checkpoint's settings, or start a new run without --ckpt_path")


def check_device(device: str | torch.device) -> torch.device:
    """The device, or InputError when it cannot be used here (``--device cuda`` on a machine without a GPU)."""
    try:
        device = torch.device(device)
    except RuntimeError as err:
        raise InputError(f"--device {device}: {str(err).splitlines()[0]} (cpu, cuda, cuda:1, mps)") from None
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise InputError(f"--device {device}: no such CUDA GPU here ({torch.cuda.device_count()} found); use "
                         f"--device cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"--device {device}: MPS is not available here; use --device cpu")
    return device


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> InfoGAN:
    """A trained InfoGAN from a checkpoint file, in eval mode.

    Loads with ``weights_only=True``. Raises FileNotFoundError for a missing file and ValueError, naming the file,
    for anything unreadable or not an InfoGAN checkpoint.
    """
    map_location = check_device(map_location)
    checkpoint = read_checkpoint(path)
    hparams = complete_hparams(_require_infogan(checkpoint, path))
    check_shapes(checkpoint, hparams, path)
    try:
        model = InfoGAN(**hparams)
        model.load_state_dict(checkpoint["state_dict"])
    except (TypeError, RuntimeError, ValueError) as err:
        raise InputError(f"{path} does not hold an InfoGAN of this version: "
                         f"{str(err).strip().splitlines()[0]}") from None
    model.to(map_location)
    model.checkpoint_step = int(checkpoint.get("global_step", 0))  # Lightning's optimizer steps when it was saved
    return model.eval()


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer, but through a temporary file in the checkpoint's own folder and a rename
    (:func:`infogan.files.write_with`), not through ``$TMPDIR``: where that is another filesystem, Lightning's final
    move is a copy over the old file, and a kill during it left a 0-byte ``last.ckpt``. Remote paths (``s3://``)
    and storage options keep Lightning's own writer."""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        if storage_options is not None or "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        write_with(path, lambda f: torch.save(checkpoint, f))
        return None
