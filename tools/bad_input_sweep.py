"""Misuse sweep: run the command-line tools on bad input, as a careless user or a stranger's file would, and check
that each is refused with one line (exit status 2, ``PROG: error: ...``, no traceback) or, where it should work,
works; two runs started at once into one ``--log_dir`` must each keep their own folder.

The cases are the classes of issue #30 that reach a command line (tests/test_nothing_lost.py holds one test per
item; this reruns them the way a user meets them, in fresh processes). Takes a few minutes on 2 CPU cores::

    python tools/bad_input_sweep.py --mnist_dir ../shared/data

Prints one row per case and exits 1 when any case is not as expected.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

PY = sys.executable


def run(argv: list[str], cwd: Path, env: dict) -> tuple[int, str]:
    proc = subprocess.run([PY, "-m", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stderr


def verdict(rc: int, stderr: str, expect: str, contains: str) -> tuple[bool, str]:
    """(as expected?, what happened in a few words)."""
    if "Traceback" in stderr:
        return False, "TRACEBACK: " + stderr.strip().splitlines()[-1][:100]
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if expect == "ok":
        return rc == 0, f"exit {rc}" + (f": {last[:100]}" if rc else "")
    one_line = rc == 2 and ": error: " in last
    return one_line and contains in last, (last[:120] if one_line else f"exit {rc}, not a one-line error: {last[:80]}")


def forged(ckpt: Path, out: Path, change) -> Path:
    state = torch.load(ckpt, weights_only=True)
    change(state)
    torch.save(state, out)
    return out


def make_files(work: Path, mnist_dir: Path, env: dict) -> dict[str, Path]:
    """A tiny trained checkpoint, forged copies of it, and bad data folders."""
    rc, err = run(["infogan.train", "--data_dir", str(mnist_dir), "--batch_size", "8", "--max_steps", "2",
                   "--limit_val_batches", "1", "--log_dir", str(work / "run")], work, env)
    if rc:
        sys.exit(f"could not train the sweep's checkpoint:\n{err}")
    ckpt = work / "run/version_0/checkpoints/last.ckpt"
    files = dict(ckpt=ckpt)

    def huge_noise(state):
        state["hyper_parameters"]["noise_dim"] = 1_000_000

    def newer(state):
        state["hyper_parameters"]["a_setting_from_the_future"] = 1

    def weights_only(state):
        for key in ("optimizer_states", "loops", "lr_schedulers"):
            state.pop(key, None)

    files["huge"] = forged(ckpt, work / "huge.ckpt", huge_noise)
    files["newer"] = forged(ckpt, work / "newer.ckpt", newer)
    files["weights"] = forged(ckpt, work / "epoch00.ckpt", weights_only)
    torch.save({"state_dict": {}, "code": argparse.Namespace(x=1)}, work / "pickled.ckpt")  # needs unpickling code
    files["pickled"] = work / "pickled.ckpt"
    (work / "text.ckpt").write_text("not a checkpoint\n")
    files["text"] = work / "text.ckpt"
    (work / "a_file").write_text("x")
    files["a_file"] = work / "a_file"
    (work / "damaged.ckpt").write_bytes(ckpt.read_bytes()[:1000])
    files["damaged"] = work / "damaged.ckpt"
    # MNIST's train and test files swapped (links, nothing copied)
    swapped = work / "swapped/MNIST/raw"
    swapped.mkdir(parents=True)
    for name in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        (swapped / f"train-{name}").symlink_to((mnist_dir / "MNIST/raw" / f"t10k-{name}").resolve())
        (swapped / f"t10k-{name}").symlink_to((mnist_dir / "MNIST/raw" / f"train-{name}").resolve())
    files["swapped"] = work / "swapped"
    (work / "empty").mkdir()
    files["empty"] = work / "empty"
    dsprites = work / "dsprites_cut/dsprites"
    dsprites.mkdir(parents=True)
    np.savez(work / "d.npz", imgs=np.zeros((2, 64, 64), np.uint8), latents_classes=np.zeros((2, 6), np.int64))
    (dsprites / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz").write_bytes((work / "d.npz").read_bytes()[:300])
    files["dsprites_cut"] = work / "dsprites_cut"
    folder = work / "folder"
    folder.mkdir()
    for i in range(8):
        Image.fromarray(np.full((40, 40, 4), (200, 30, 30, i * 30), np.uint8), "RGBA").save(folder / f"e{i}.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    files["folder"] = folder
    return files


def cases(f: dict[str, Path], mnist: str, work: Path) -> list[tuple[str, list[str], str, str]]:
    """(name, argv after ``python -m``, "refused" or "ok", a part of the expected one-line message)."""
    train = ["infogan.train", "--data_dir", mnist, "--batch_size", "8", "--log_dir", str(work / "logs")]
    ckpt = str(f["ckpt"])
    out = str(work / "out.png")
    return [
        ("train --max_epochs 0", [*train, "--max_epochs", "0"], "refused", ""),
        ("train --max_steps 0", [*train, "--max_steps", "0"], "refused", ""),
        ("train --limit_train_batches 0", [*train, "--limit_train_batches", "0"], "refused", ""),
        ("train --limit_train_batches too small", [*train, "--limit_train_batches", "0.0001"], "refused", ""),
        ("train --lambda_cat -1", [*train, "--lambda_cat", "-1"], "refused", "lambda_cat"),
        ("train --lambda_cont nan", [*train, "--lambda_cont", "nan"], "refused", "lambda_cont"),
        ("train --gif_samples 0", [*train, "--gif_samples", "0"], "refused", "gif_samples"),
        ("train --batch_size 1", [*train, "--batch_size", "1"], "refused", "batch_size"),
        ("train --gpus 2 without GPUs", [*train, "--gpus", "2"], "refused", ""),
        ("train --fast_dev_run --ckpt_path", [*train, "--fast_dev_run", "--ckpt_path", ckpt], "refused", ""),
        ("train resume already at --max_steps", [*train, "--max_steps", "1", "--ckpt_path", ckpt], "refused", ""),
        ("train resume from a weights-only file", [*train, "--ckpt_path", str(f["weights"])], "refused", "last.ckpt"),
        ("train resume from a missing file", [*train, "--ckpt_path", str(work / "nope.ckpt")], "refused", "nope"),
        ("train MNIST splits swapped", [*train, "--data_dir", str(f["swapped"])], "refused", ""),
        ("train --log_dir below a file", [*train, "--log_dir", str(f["a_file"] / "logs")], "refused", ""),
        ("train empty folder", ["infogan.train", "--dataset", "folder", "--data_dir", str(f["empty"]),
                                "--log_dir", str(work / "logs")], "refused", ""),
        ("train folder with a broken file", ["infogan.train", "--dataset", "folder", "--data_dir", str(f["folder"]),
                                             "--batch_size", "4", "--num_workers", "2", "--max_steps", "3",
                                             "--log_dir", str(work / "logs")], "refused", "broken.png"),
        ("train folder --skip_bad_images (workers)", ["infogan.train", "--dataset", "folder", "--data_dir",
                                                      str(f["folder"]), "--batch_size", "4", "--num_workers", "2",
                                                      "--max_steps", "2", "--skip_bad_images", "--gif_every_n_epochs",
                                                      "100", "--log_dir", str(work / "logs")], "ok", ""),
        ("train --background 300 0 0", ["infogan.train", "--dataset", "folder", "--data_dir", str(f["folder"]),
                                        "--background", "300", "0", "0"], "refused", "background"),
        ("train truncated dSprites .npz", ["infogan.train", "--dataset", "dsprites", "--data_dir",
                                           str(f["dsprites_cut"]), "--log_dir", str(work / "logs")], "refused", ""),
        ("generate --nrow 0", ["infogan.generate", ckpt, "--nrow", "0", "--out", out], "refused", "nrow"),
        ("generate --n 10,000,000", ["infogan.generate", ckpt, "--n", "10000000", "--out", out], "refused", "--n"),
        ("generate --out below a file", ["infogan.generate", ckpt, "--out", str(f["a_file"] / "x.png")], "refused",
         ""),
        ("generate --device cuda without GPU", ["infogan.generate", ckpt, "--device", "cuda", "--out", out],
         "refused", "cuda"),
        ("generate a URL", ["infogan.generate", "https://example.com/x.ckpt", "--out", out], "refused", "URL"),
        ("generate noise_dim 1,000,000 (forged)", ["infogan.generate", str(f["huge"]), "--out", out], "refused", ""),
        ("generate a newer version's checkpoint", ["infogan.generate", str(f["newer"]), "--out", out], "refused",
         "newer"),
        ("generate a checkpoint that runs code", ["infogan.generate", str(f["pickled"]), "--out", out], "refused",
         "could run code"),
        ("generate a text file", ["infogan.generate", str(f["text"]), "--out", out], "refused", "not a readable"),
        ("generate a truncated checkpoint", ["infogan.generate", str(f["damaged"]), "--out", out], "refused", ""),
        ("evaluate --mi_samples 0", ["infogan.evaluate", ckpt, "--data_dir", mnist, "--mi_samples", "0"], "refused",
         "mi_samples"),
        ("evaluate a damaged --classifier", ["infogan.evaluate", ckpt, "--data_dir", mnist, "--classifier",
                                             str(f["damaged"])], "refused", ""),
        ("evaluate --device cuda without GPU", ["infogan.evaluate", ckpt, "--data_dir", mnist, "--device", "cuda"],
         "refused", "cuda"),
        ("evaluate --out below a file", ["infogan.evaluate", ckpt, "--data_dir", mnist, "--out",
                                         str(f["a_file"] / "m.json")], "refused", ""),
        ("evaluate --labels missing.csv", ["infogan.evaluate", ckpt, "--dataset", "folder", "--data_dir",
                                           str(f["folder"]), "--labels", str(work / "missing.csv"), "--label_column",
                                           "category"], "refused", "missing.csv"),
        ("explore --device cuda without GPU", ["infogan.explore", ckpt, "--device", "cuda"], "refused", "cuda"),
        ("explore a forged checkpoint", ["infogan.explore", str(f["huge"])], "refused", ""),
    ]


def concurrent_runs_keep_their_folders(work: Path, mnist: str, env: dict) -> tuple[bool, str]:
    """Three runs started together into one --log_dir: three version folders, each with its own checkpoint."""
    log_dir = work / "together"
    argv = [PY, "-m", "infogan.train", "--data_dir", mnist, "--batch_size", "8", "--max_steps", "2",
            "--limit_val_batches", "1", "--gif_every_n_epochs", "100", "--log_dir", str(log_dir)]
    procs = [subprocess.Popen([*argv, "--seed", str(seed)], cwd=work, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for seed in range(3)]
    errors = [p.communicate(timeout=900)[1] for p in procs]
    if any(p.returncode for p in procs):
        return False, "a run failed: " + next(e for e, p in zip(errors, procs) if p.returncode)[-200:]
    seeds = sorted(int(torch.load(v / "checkpoints/last.ckpt", weights_only=True)["hyper_parameters"]["seed"])
                   for v in log_dir.glob("version_*"))
    return seeds == [0, 1, 2], f"version folders hold seeds {seeds}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist_dir", default="../shared/data", help="folder holding MNIST/raw/")
    parser.add_argument("--only", nargs="+", default=[""], metavar="TEXT",
                        help="run only the cases whose name contains one of these texts")
    args = parser.parse_args()
    mnist_dir = Path(args.mnist_dir).resolve()
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="infogan-sweep-") as tmp:
        work = Path(tmp)
        files = make_files(work, mnist_dir, env)
        rows = [case for case in cases(files, str(mnist_dir), work) if any(t in case[0] for t in args.only)]
        for i, (name, argv, expect, contains) in enumerate(rows, 1):
            start = time.perf_counter()
            good, what = verdict(*run(argv, work, env), expect, contains)
            failures += not good
            print(f"{i:2d} {'ok  ' if good else 'FAIL'} {name:42s} {time.perf_counter() - start:5.1f}s  {what}",
                  flush=True)
        name = "three runs at once, one --log_dir"
        if any(t in name for t in args.only):
            good, what = concurrent_runs_keep_their_folders(work, str(mnist_dir), env)
            failures += not good
            rows.append(name)
            print(f"{len(rows):2d} {'ok  ' if good else 'FAIL'} {name:42s} {'':6s} {what}")
    print(f"{failures} of {len(rows)} cases not as expected")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
