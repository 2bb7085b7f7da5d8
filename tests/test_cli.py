"""The shared runner of every CLI: a user error is one line and exit status 2; --debug shows the traceback."""

import pytest

from infogan import evaluate, generate, train


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
