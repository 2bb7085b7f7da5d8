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


def test_a_gif_of_frames_made_once_is_the_gif_of_the_tensors_byte_for_byte(tmp_path):
    """The progress GIF keeps its frames made (the palette reduction is most of the cost) and encodes only the
    container again each epoch: the file must not change for it, in colour or in gray."""
    from tests.helpers import gif_frames

    g = torch.Generator().manual_seed(0)
    for channels in (3, 1):
        frames = [torch.rand(channels, 20, 24, generator=g) for _ in range(3)]
        data = render.gif_bytes(frames)
        assert render.gif_bytes([render.gif_frame(f) for f in frames]) == data
        assert render.gif_bytes([render.gif_frame(frames[0]), *frames[1:]]) == data  # mixed, as after a resume
        (tmp_path / "a.gif").write_bytes(data)
        assert len(gif_frames(tmp_path / "a.gif")) == 3
