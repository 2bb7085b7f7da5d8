"""Turning generated images into pictures: grids, traversal frames, PNG and GIF files, TensorBoard images.

Everything draws through :meth:`InfoGAN.sample`, the one sampling entry point. Frames are (C, H, W) float tensors
in [0, 1] (torchvision's ``make_grid`` convention).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Optional, Sequence

import torch
from PIL import Image
from torchvision.utils import make_grid

from infogan.errors import InputError
from infogan.files import write_atomically


def to_grid(images: torch.Tensor, nrow: int) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> one (C, H', W') grid in [0, 1], ``nrow`` images per row, 2 px padding."""
    grid = make_grid(images.detach().cpu().clamp(-1, 1), nrow=nrow, padding=2, normalize=True, value_range=(-1, 1))
    if images.shape[0] == 1:  # make_grid returns a lone image as it is; pad it like any grid
        grid = torch.nn.functional.pad(grid, (2, 2, 2, 2))
    return grid[: images.shape[1]]  # make_grid turns 1 channel into 3; keep grayscale grayscale


def to_pil(frame: torch.Tensor) -> Image.Image:
    """(C, H, W) in [0, 1] -> a PIL image (grayscale when C is 1, else RGB)."""
    array = (frame.clamp(0, 1) * 255).round().to(torch.uint8)
    if array.shape[0] == 1:
        return Image.fromarray(array[0].numpy(), mode="L")
    return Image.fromarray(array[:3].permute(1, 2, 0).numpy(), mode="RGB")


def gif_frame(frame: torch.Tensor) -> Image.Image:
    """(C, H, W) in [0, 1] -> one GIF frame: colour reduced to an adaptive palette of 256, as PIL's GIF writer would.
    That reduction is most of a colour GIF's encoding time (0.5 s a frame of 342 x 342), so a GIF that grows by a
    frame an epoch keeps its frames made and reduces each once."""
    image = to_pil(frame)
    return image if image.mode == "L" else image.convert("P", palette=Image.Palette.ADAPTIVE)


def gif_bytes(frames: Sequence[torch.Tensor | Image.Image], duration_ms: int = 120) -> bytes:
    """Encode frames (tensors (C, H, W) in [0, 1], or frames made by :func:`gif_frame`) as a looping GIF."""
    if not frames:
        raise InputError("a GIF needs at least one frame")
    first, *rest = [f if isinstance(f, Image.Image) else gif_frame(f) for f in frames]
    buf = io.BytesIO()
    first.save(buf, format="GIF", save_all=True, append_images=rest, duration=duration_ms, loop=0, optimize=False)
    return buf.getvalue()


def save_picture(frames: Sequence[torch.Tensor], path: str | Path, duration_ms: int = 120) -> Path:
    """Save one frame as PNG or several as GIF, chosen by the suffix of ``path``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        write_atomically(path, gif_bytes(frames, duration_ms))
    elif suffix == ".png":
        if len(frames) != 1:
            raise InputError(f"a PNG holds one frame, got {len(frames)}: use a .gif output")
        buf = io.BytesIO()
        to_pil(frames[0]).save(buf, format="PNG")
        write_atomically(path, buf.getvalue())
    else:
        raise InputError(f"unknown output type {suffix or '(none)'!r} for {path}: use .png or .gif")
    return path


def traversal_images(model, kind: str, index: int, n: int = 64, frames: int = 16,
                     value_range: Optional[float] = None, seed: int = 0, fixed_categorical=None,
                     fixed_continuous=None) -> tuple[list[float], torch.Tensor]:
    """Images of a latent traversal: n fixed draws (noise and the other codes), the traversed code set to each value.

    Categorical codes step through their K values; continuous codes through ``frames`` values over [-r, r].
    Returns (values, images of shape (len(values), n, C, H, W) in [-1, 1]).
    """
    spec = model.latent
    base = spec.sample(n, torch.Generator().manual_seed(seed), fixed_categorical, fixed_continuous)
    values = spec.traversal_values(kind, index, frames, value_range)
    images = [model.sample(n, c.categorical, c.continuous, z=c.z)
              for c in (spec.traverse(base, kind, index, v) for v in values)]
    return values, torch.stack(images).cpu()


def traversal_frames(model, kind: str, index: int, n: int = 64, nrow: int = 8, frames: int = 16,
                     value_range: Optional[float] = None, seed: int = 0, fixed_categorical=None,
                     fixed_continuous=None) -> list[torch.Tensor]:
    """GIF frames of a traversal (see :func:`traversal_images`): one n-image grid per value; continuous sweeps go
    from -r to +r and back so the GIF loops smoothly."""
    _, images = traversal_images(model, kind, index, n, frames, value_range, seed, fixed_categorical, fixed_continuous)
    return traversal_gif_frames(images, kind, nrow)


def traversal_gif_frames(images: torch.Tensor, kind: str, nrow: int) -> list[torch.Tensor]:
    """GIF frames of :func:`traversal_images` output (values, n, C, H, W): one grid per value; a continuous sweep
    goes back from +r to -r so the GIF loops smoothly."""
    grids = [to_grid(x, nrow) for x in images]
    return grids + grids[-2:0:-1] if kind == "cont" else grids


def traversal_sheet(images: torch.Tensor) -> torch.Tensor:
    """The paper's figure layout of :func:`traversal_images` output: one row per draw, one column per value."""
    steps, n = images.shape[:2]
    return to_grid(images.transpose(0, 1).reshape(n * steps, *images.shape[2:]), nrow=steps)


def category_grid(model, rows: int = 8, seed: int = 1234) -> torch.Tensor:
    """A fixed-noise grid: row r is one noise vector (other codes drawn once per row), column j sets the first
    categorical code to j. Returns (C, H', W') in [0, 1]."""
    spec = model.latent
    k = spec.categorical[0] if spec.categorical else 1
    base = spec.sample(rows, torch.Generator().manual_seed(seed))
    rep = lambda t: t.repeat_interleave(k, dim=0)  # noqa: E731 - image r * k + j is row r, column j
    cat = rep(base.categorical)
    if spec.categorical:
        cat[:, 0] = torch.arange(k).repeat(rows)
    return to_grid(model.sample(rows * k, cat, rep(base.continuous), z=rep(base.z)), nrow=k)


def progress_grid(model, columns: int = 10, seed: int = 0) -> torch.Tensor:
    """One fixed grid to watch across epochs: rows step the first categorical code, columns sweep the first continuous
    code over [-r, r], all with one noise vector. Without a categorical (continuous) code, rows (columns) vary the
    noise instead. Returns (C, H', W') in [0, 1]."""
    spec = model.latent
    rows = spec.categorical[0] if spec.categorical else 8
    n = rows * columns
    row, col = torch.arange(n) // columns, torch.arange(n) % columns
    base = spec.sample(n, torch.Generator().manual_seed(seed))
    z_index = (0 if spec.categorical else row * columns) + (0 if spec.continuous else col)
    z = base.z[z_index] if isinstance(z_index, torch.Tensor) else base.z[:1].expand(n, -1)
    cat = base.categorical[:1].repeat(n, 1)
    cont = base.continuous[:1].repeat(n, 1)
    if spec.categorical:
        cat[:, 0] = row
    if spec.continuous:
        cont[:, 0] = torch.linspace(-spec.default_range, spec.default_range, columns)[col]
    return to_grid(model.sample(n, cat, cont, z=z.contiguous()), nrow=columns)


def add_tensorboard_gif(experiment, tag: str, data: bytes, size: tuple[int, int], step: int) -> None:
    """Write an animated GIF as a TensorBoard image summary (TensorBoard shows it animated; no moviepy needed).

    ``experiment`` is a ``torch.utils.tensorboard.SummaryWriter``; ``size`` is (height, width).
    """
    from tensorboard.compat.proto.summary_pb2 import Summary

    image = Summary.Image(height=size[0], width=size[1], colorspace=1, encoded_image_string=data)
    experiment._get_file_writer().add_summary(Summary(value=[Summary.Value(tag=tag, image=image)]), step)
