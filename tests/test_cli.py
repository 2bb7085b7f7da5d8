"""The shared runner of every CLI: a user error is one line and exit status 2; --debug shows the traceback."""

import subprocess
import sys

import pytest

from infogan import evaluate, generate, train
from tests.helpers import REPO


@pytest.mark.parametrize("entry, make_argv", [
    (train.main, lambda tmp: ["--categorical", "1", "--no_download", "--log_dir", str(tmp)]),
    (generate.main, lambda tmp: [str(tmp / "missing.ckpt"), "--out", str(tmp / "x.png")]),
    (evaluate.main, lambda tmp: [str(tmp / "missing.ckpt")]),
], ids=["train", "generate", "evaluate"])
def test_every_cli_answers_in_one_line_or_with_a_traceback_under_debug(entry, make_argv, capsys, tmp_path):
    argv = make_argv(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        entry(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(err) == 1 and err[0].startswith("python -m infogan.")
    assert "Traceback" not in err[0] and ": error: " in err[0]
    with pytest.raises((ValueError, FileNotFoundError)):  # --debug: the exception itself, for the traceback
        entry([*argv, "--debug"])


def test_a_bug_that_raises_a_plain_value_error_keeps_its_traceback(monkeypatch, tmp_path):
    """Only the package's InputError (and the OS's file errors) are one line: a ValueError from inside is a bug."""
    from infogan import cli

    def buggy(args):
        raise ValueError("an internal invariant broke")

    parser = train.build_parser()
    args = parser.parse_args(["--log_dir", str(tmp_path)])
    with pytest.raises(ValueError, match="an internal invariant broke"):
        cli.run(parser, args, buggy)
    with pytest.raises(SystemExit) as exit_info:
        cli.run(parser, args, lambda a: (_ for _ in ()).throw(cli.InputError("--x 1: must be 2")))
    assert exit_info.value.code == 2


@pytest.mark.parametrize("entry, argv, flag", [
    (train.main, ["--max_epochs", "0"], "--max_epochs"),
    (train.main, ["--max_steps", "0"], "--max_steps"),
    (train.main, ["--limit_train_batches", "0"], "--limit_train_batches"),
    (train.main, ["--gif_samples", "0"], "--gif_samples"),
    (train.main, ["--label_free_samples", "1"], "--label_free_samples"),
    (generate.main, ["x.ckpt", "--nrow", "0"], "--nrow"),
    (evaluate.main, ["x.ckpt", "--mi_samples", "0"], "--mi_samples"),
], ids=lambda v: v if isinstance(v, str) and v.startswith("--") else None)
def test_counts_that_would_do_nothing_or_crash_later_are_refused_when_parsed(entry, argv, flag, capsys):
    """Each exited 0 having trained nothing, crashed at the epoch end, or wrote NaN into JSON: one line at once."""
    with pytest.raises(SystemExit) as exit_info:
        entry(argv)
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert exit_info.value.code == 2 and f"argument {flag}" in err and ("or more" in err or "fraction" in err)


def test_the_python_api_refuses_what_it_used_to_truncate_or_accept():
    import torch

    from infogan import InfoGAN

    model = InfoGAN()
    for call, message in [(lambda: model.sample(0), "whole number of 1 or more"),
                          (lambda: model.sample(2.5), "whole number of 1 or more"),
                          (lambda: model.sample(2, categorical=[3.7]), "takes whole values, got 3.7"),
                          (lambda: model.sample(2, z=torch.full((2, 62), float("nan"))), "finite numbers")]:
        with pytest.raises(ValueError, match=message):
            call()
    assert model.sample(2, categorical=[3.0], seed=0).shape == (2, 1, 28, 28)  # a whole float is fine


@pytest.mark.parametrize("command, argv", [("train", ["--bogus"]), ("generate", ["last.ckpt", "--bogus"]),
                                           ("evaluate", ["last.ckpt", "--bogus"]),
                                           ("explore", ["last.ckpt", "--bogus"])])
def test_the_cli_parses_its_flags_before_importing_torch_or_lightning(command, argv):
    """--help and a mistyped flag answer at once (they took 5-40 s of imports before): nothing heavy is imported
    until a run is built or a checkpoint read."""
    probe = (f"import sys\nfrom infogan.{command} import main\ntry:\n    main({argv!r})\n"
             "except SystemExit as stop:\n"
             "    heavy = sorted(m for m in ('torch', 'pytorch_lightning', 'PIL') if m in sys.modules)\n"
             "    print(stop.code, heavy)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.stdout.strip() == "2 []", done.stdout + done.stderr
    assert "unrecognized arguments: --bogus" in done.stderr
