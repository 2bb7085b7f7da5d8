"""The generate CLI on a real (tiny) checkpoint: outputs open with Pillow and have the asked shape."""


import pytest
from PIL import Image

from infogan.generate import main


def test_png_grid_has_the_asked_layout(ckpt, tmp_path):
    out = main([str(ckpt), "--n", "6", "--nrow", "3", "--out", str(tmp_path / "s.png")])
    with Image.open(out) as im:
        assert im.format == "PNG" and im.mode == "L" and im.size == (3 * 30 + 2, 2 * 30 + 2)


def test_gif_traversals_have_one_frame_per_value(ckpt, tmp_path):
    with Image.open(main([str(ckpt), "--traverse", "cat:0", "--n", "4", "--nrow", "2",
                          "--out", str(tmp_path / "c.gif")])) as im:
        assert im.format == "GIF" and im.n_frames == 10 and im.size == (62, 62)
    with Image.open(main([str(ckpt), "--traverse", "cont:1", "--frames", "5", "--range", "1", "--n", "1",
                          "--out", str(tmp_path / "r.gif")])) as im:
        assert im.n_frames == 2 * 5 - 2 and im.size == (32, 32)


def test_traversal_png_is_a_sheet_of_samples_by_values(ckpt, tmp_path):
    out = main([str(ckpt), "--traverse", "cont:0", "--frames", "7", "--n", "3", "--categorical", "4",
                "--out", str(tmp_path / "sheet.png")])
    with Image.open(out) as im:
        assert im.size == (7 * 30 + 2, 3 * 30 + 2)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--traverse", "cat:1"], "code cat:1 does not exist: this model's cat codes are cat:0"),
        (["--traverse", "cont:5"], "code cont:5 does not exist"),
        (["--traverse", "rot:0"], "a code is written cat:I or cont:I"),
        (["--continuous", "1", "2", "3"], "3 continuous values given, but this model has 2"),
        (["--categorical", "12"], "categorical code 0 takes values 0..9, got 12"),
        (["--out", "x.jpg"], "unknown suffix '.jpg'"),
        (["--out", "x.gif"], "a .gif shows a traversal"),
        (["--traverse", "cont:0", "--range", "nan"], "--range must be a finite number > 0, got nan"),
        (["--continuous", "nan", "0"], "continuous code 0 must be a finite number, got nan"),
    ],
)
def test_bad_input_gets_a_one_line_error(ckpt, tmp_path, capsys, args, message):
    args = [a.replace("x.", str(tmp_path / "x.")) for a in args]
    with pytest.raises(SystemExit) as exit_info:
        main([str(ckpt), "--out", str(tmp_path / "ok.png"), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and "Traceback" not in "\n".join(err)


def test_missing_checkpoint_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([str(tmp_path / "nope.ckpt")])
    assert f"checkpoint {tmp_path / 'nope.ckpt'} not found" in capsys.readouterr().err


def test_a_folder_as_out_is_refused_before_drawing_and_leaves_nothing(ckpt, tmp_path, capsys):
    for folder in (tmp_path / "pictures", tmp_path / "grid.png"):  # even one named like a picture
        folder.mkdir()
        with pytest.raises(SystemExit) as exit_info:
            main([str(ckpt), "--out", str(folder)])
        assert exit_info.value.code == 2 and f"--out {folder} is a folder" in capsys.readouterr().err
        assert list(folder.iterdir()) == []  # no temporary file left behind
