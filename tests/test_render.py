"""Pictures from a model: traversal images differ only by the traversed code."""


import torch

from infogan import InfoGAN, render


def test_frames_of_different_categories_differ_and_only_the_code_changes():
    model = InfoGAN()
    values, images = render.traversal_images(model, "cat", 0, n=6, seed=0)
    assert values == list(range(10)) and images.shape == (10, 6, 1, 28, 28)
    for a in range(10):
        for b in range(a + 1, 10):
            assert not torch.equal(images[a], images[b])
    again = render.traversal_images(model, "cat", 0, n=6, seed=0)[1]
    assert torch.equal(images, again)  # fixed noise: the same frames every time
