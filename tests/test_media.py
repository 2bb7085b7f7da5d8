"""The pictures the README shows (media/) are real: digits or sprites, not a flat gray test artefact.

They were once overwritten by the GIFs of an untrained model (pixel values 0 and 126-128 only, one progress frame)
and nothing noticed. Each picture must spread its pixel values over the range, a GIF's frames must differ from each
other, and progress.gif must hold more than one epoch.
"""

import numpy as np
import pytest
from PIL import Image, ImageSequence

from tests.helpers import REPO

PICTURES = sorted(p for p in (REPO / "media").iterdir() if p.suffix.lower() in (".gif", ".png"))
SCREENSHOTS = {"explorer.png", "explorer_emoji.png"}  # pages, not grids of samples: checked by their own tests
FIGURES = {p for p in PICTURES if p.name.endswith(("_curves.png", "_screens.png"))}  # docs/plot_*.py: own test
SPRITES = [p for p in PICTURES if p.name.startswith("dsprites_") and p not in FIGURES]  # small white shapes
COLOUR = [p for p in PICTURES if p.name.startswith("emoji_") and p not in FIGURES]  # colour samples on white
DIGITS = [p for p in PICTURES if p.name not in SCREENSHOTS and p not in SPRITES + COLOUR and p not in FIGURES]


def _frames(path) -> list[np.ndarray]:
    with Image.open(path) as im:
        return [np.asarray(f.convert("L"), dtype=np.int16) for f in ImageSequence.Iterator(im)]


def test_the_readme_has_pictures_and_progress_has_one_frame_per_epoch():
    names = {p.name for p in PICTURES}
    assert {"cat0.gif", "cont0.gif", "cont1.gif", "progress.gif"} <= names
    assert {f"dsprites_cont{i}.gif" for i in range(5)} <= names  # one per code of the dSprites run
    assert {"emoji_cat0.gif", "emoji_cont0.gif", "emoji_cont1.gif"} <= names  # one per code of the colour run
    assert len(_frames(REPO / "media" / "progress.gif")) > 1


@pytest.mark.parametrize("path", DIGITS, ids=[p.name for p in DIGITS])
def test_every_picture_of_digits_spreads_over_the_gray_range_and_its_frames_differ(path):
    frames = _frames(path)
    for frame in frames:
        # digits: a black background, white strokes and the antialiased grays between them
        assert len(np.unique(frame)) >= 32, f"{path.name}: only {len(np.unique(frame))} gray levels"
        assert (frame <= 30).mean() > 0.3 and (frame >= 200).mean() > 0.02, path.name
    for a, b in zip(frames, frames[1:]):
        assert np.abs(a - b).mean() > 0.5, f"{path.name}: two consecutive frames are (nearly) the same"


@pytest.mark.parametrize("path", SPRITES, ids=[p.name for p in SPRITES])
def test_every_picture_of_sprites_has_shapes_on_black_and_its_frames_differ(path):
    frames = _frames(path)
    for frame in frames:
        assert (frame <= 30).mean() > 0.8 and (frame >= 200).mean() > 0.01, path.name  # sprites, not a flat gray
    for a, b in zip(frames, frames[1:]):
        assert np.abs(a - b).mean() > 0.2, f"{path.name}: two consecutive frames are (nearly) the same"


@pytest.mark.parametrize("path", COLOUR, ids=[p.name for p in COLOUR])
def test_every_colour_picture_is_in_colour_on_white_and_its_frames_differ(path):
    with Image.open(path) as im:
        frames = [np.asarray(f.convert("RGB"), dtype=np.int16) for f in ImageSequence.Iterator(im)]
    saturation = np.stack([rgb.max(-1) - rgb.min(-1) for rgb in frames])  # one value of a category may be grayish
    assert (saturation > 60).mean() > 0.1, f"{path.name}: hardly any coloured pixels"  # not gray
    for rgb in frames:
        assert (rgb.min(-1) >= 230).mean() > 0.1, f"{path.name}: no white background"
        # a spread of colours, not a few flat ones (a GIF frame holds at most 256)
        assert len(np.unique(rgb.reshape(-1, 3), axis=0)) >= 200, path.name
    for a, b in zip(frames, frames[1:]):
        assert np.abs(a - b).mean() > 0.5, f"{path.name}: two consecutive frames are (nearly) the same"


def test_the_explorer_screenshot_is_a_page_with_a_grid_of_digits():
    (frame,) = _frames(REPO / "media" / "explorer.png")
    assert frame.shape[1] >= 1000 and len(np.unique(frame)) >= 32
    assert (frame >= 240).mean() > 0.3  # the page
    assert (frame <= 30).mean() > 0.1  # the black grid of generated digits, not an empty image box


def test_the_colour_explorer_screenshot_is_a_page_with_a_grid_of_colour_samples():
    with Image.open(REPO / "media" / "explorer_emoji.png") as im:
        rgb = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert rgb.shape[1] >= 1000 and (rgb.min(-1) >= 240).mean() > 0.3  # the page
    grid = rgb[100:530, 620:1060]  # where the page shows its samples
    assert ((grid.max(-1) - grid.min(-1)) > 60).mean() > 0.2  # coloured samples, not an empty or gray image box


@pytest.mark.parametrize("path", sorted(FIGURES), ids=[p.name for p in sorted(FIGURES)])
def test_every_figure_is_a_drawn_plot(path):
    (frame,) = _frames(path)
    assert frame.shape[1] >= 600 and (frame >= 240).mean() > 0.5  # a white figure
    assert (frame <= 100).mean() > 0.005 and len(np.unique(frame)) >= 32  # with axes, text and lines drawn on it
