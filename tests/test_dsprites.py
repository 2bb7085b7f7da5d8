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
