"""dSprites: the factor grid, the renderer and the original-file path."""


import numpy as np
import pytest
import torch

from infogan.data import dsprites

SIZES = dsprites.FACTOR_SIZES


def test_factor_grid_has_the_original_size_and_order():
    assert dsprites.num_images() == 737_280
    classes = dsprites.index_to_classes(torch.tensor([0, 1, 32, 1024, dsprites.num_images() - 1]))
    # the original file's order: pos_y varies fastest, then pos_x, orientation, scale, shape
    assert classes.tolist() == [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0], [0, 0, 0, 1, 0, 0],
                                [0, 2, 5, 39, 31, 31]]
    index = torch.randint(dsprites.num_images(), (500,), generator=torch.Generator().manual_seed(0))
    assert torch.equal(dsprites.classes_to_index(dsprites.index_to_classes(index)), index)


def test_rendered_images_are_binary_and_differ_for_every_factor_value():
    base = [0, 2, 3, 7, 15, 15]  # a heart: not symmetric, so every orientation shows
    for factor in range(1, len(SIZES)):
        classes = torch.tensor(base).repeat(SIZES[factor], 1)
        classes[:, factor] = torch.arange(SIZES[factor])
        images = dsprites.render(classes)
        assert images.shape == (SIZES[factor], 1, 64, 64) and images.dtype == torch.uint8
        assert set(images.unique().tolist()) == {0, 255}
        flat = images.flatten(1)
        distinct = torch.unique(flat, dim=0)
        # orientation 0 and 39 are both 2 pi k, the same picture, exactly as in the original
        assert len(distinct) == SIZES[factor] - (1 if dsprites.FACTORS[factor] == "orientation" else 0)
    small, large = dsprites.render(torch.tensor([[0, 0, 0, 0, 9, 9], [0, 0, 5, 0, 9, 9]]))
    assert (large > 0).sum() > 3 * (small > 0).sum()  # scale 1 vs 0.5: twice the side, four times the area
    left, right = dsprites.render(torch.tensor([[0, 1, 2, 0, 0, 16], [0, 1, 2, 0, 31, 16]]))
    assert left.nonzero()[:, 2].float().mean() < 20 < 44 < right.nonzero()[:, 2].float().mean()  # pos_x moves in x


def _box(classes: list[int]) -> tuple[int, int, int, int, int]:
    """(pixels on, first column, last column, first row, last row) of one rendered sprite."""
    on = dsprites.render(torch.tensor([classes]))[0, 0] > 0
    rows, cols = on.nonzero(as_tuple=True)
    return int(on.sum()), int(cols.min()), int(cols.max()), int(rows.min()), int(rows.max())


def test_the_sprites_have_the_geometry_measured_on_the_original_images():
    """Facts read off the 320 original images of the dataset's README animation (docs/results/dsprites.md)."""
    assert _box([0, 0, 5, 0, 0, 0]) == (400, 6, 25, 6, 25)  # square, scale 1, position (0, 0): 20 x 20, centre 15.5
    assert _box([0, 0, 0, 0, 0, 0]) == (100, 11, 20, 11, 20)  # scale 0.5: 10 x 10
    assert _box([0, 0, 5, 0, 31, 31])[1:] == (38, 57, 38, 57)  # position 31: centre 47.5
    _, *ellipse = _box([0, 1, 5, 0, 0, 0])
    assert (ellipse[1] - ellipse[0] + 1, ellipse[3] - ellipse[2] + 1) == (26, 14)
    _, *ellipse = _box([0, 1, 0, 0, 0, 0])
    assert (ellipse[1] - ellipse[0] + 1, ellipse[3] - ellipse[2] + 1) == (12, 8)
    assert _box([0, 2, 5, 0, 0, 0])[0] == 222 and _box([0, 2, 0, 0, 0, 0])[0] == 58  # the heart's area
    on = dsprites.render(torch.tensor([[0, 1, 5, 4, 15, 15]]))[0, 0] > 0  # an ellipse turned 4 steps (0.64 rad)
    rows, cols = on.nonzero(as_tuple=True)
    assert ((cols - cols.float().mean()) * (rows - rows.float().mean())).mean() < -5  # counter-clockwise on screen
    index = torch.randint(dsprites.num_images(), (4000,), generator=torch.Generator().manual_seed(0))
    foreground = (dsprites.render(dsprites.index_to_classes(index)) > 0).float().mean()
    assert 0.041 < foreground < 0.045  # about 0.043, as measured on the original file by others


def _small_grid(monkeypatch):
    """Shrink the factor grid so that a whole 'original' file fits in a test (48 images)."""
    monkeypatch.setattr(dsprites, "FACTOR_SIZES", (1, 3, 2, 2, 2, 2))
    return dsprites.num_images()


def test_the_original_npz_and_the_renderer_give_the_same_layout(tmp_path, monkeypatch):
    n = _small_grid(monkeypatch)
    classes = dsprites.index_to_classes(torch.arange(n))
    path = tmp_path / "dsprites" / dsprites.NPZ_NAME
    path.parent.mkdir()
    np.savez(path, imgs=(dsprites.render(classes)[:, 0] // 255).numpy(), latents_classes=classes.numpy())
    assert dsprites.find_npz(tmp_path) == path
    from_file, rendered = dsprites.DSprites(path), dsprites.DSprites()
    assert len(from_file) == len(rendered) == n
    index = list(range(n))
    images_file, classes_file = from_file.__getitems__(index)
    images_render, classes_render = rendered.__getitems__(index)
    assert images_file.shape == images_render.shape == (n, 1, 64, 64) and images_file.dtype == torch.uint8
    assert torch.equal(images_file, images_render) and torch.equal(classes_file, classes_render)

    np.savez(path, imgs=np.zeros((n, 64, 64), np.uint8), latents_classes=classes.flip(0).numpy())
    with pytest.raises(ValueError, match="not in the original order"):
        dsprites.DSprites(path)
    np.savez(path, images=np.zeros((n, 64, 64), np.uint8))
    with pytest.raises(ValueError, match="needs arrays imgs and latents_classes"):
        dsprites.DSprites(path)
