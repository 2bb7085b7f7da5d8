"""Checks of a generator that need no labels: does the noise change the images, does each code, are they distinct.

Why: CelebA and users' folders have no labels to score the codes against, and the failures users report most are
visible without them: the generator stops using its noise once the codes are learned (same codes, same face), a code
that changes nothing, or a collapse to a few images. Each check compares two sets of samples that differ in one
thing with two unrelated sets (everything drawn anew), by the root-mean-square pixel difference of paired images:

* ``noise``: the same codes, other noise. 1: the noise matters as much as everything together; 0: ignored.
* ``codes[name]``: everything held but that code, drawn anew. 0: the code changes nothing.
* ``duplicates``: the share of samples whose nearest other sample is closer than a tenth of the typical distance
  between unrelated samples (a collapsed generator: near 1).

And one that needs the real images but no network: :func:`pixel_frechet_distance`, the Frechet distance between
samples and real images in the space of their 16 x 16 average-pooled pixels, for sets where no trained feature
extractor is at hand (Inception's weights cannot be downloaded everywhere). It sees colour and layout, not detail,
and is comparable only with itself at the same image size.

Pure torch, no Lightning. Images in [-1, 1].
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from infogan.latent import LatentSample, LatentSpec

Generate = Callable[[LatentSample], torch.Tensor]  # codes -> images (N, C, H, W)

# Below these the reading names a failure (the thresholds are rules of thumb, stated with the numbers).
NOISE_IGNORED = 0.1
CODE_UNUSED = 0.05
NEAR = 0.1  # of the typical distance between unrelated samples: a near-duplicate
COLLAPSE = 0.2  # share of samples with a near-duplicate
FAILURES = ("noise ignored", "codes unused", "collapse")  # what a reading can name; the keys of "failures"


def _rms(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Root-mean-square difference of paired images (N, ...) -> (N,)."""
    return (a.float() - b.float()).flatten(1).pow(2).mean(1).sqrt()


@torch.no_grad()
def label_free_checks(generate: Generate, spec: LatentSpec, n: int = 256, seed: int = 0) -> dict:
    """The checks of the module doc on ``n`` sample pairs drawn from ``seed``.

    Returns {"noise", "codes" {name: effect}, "duplicates", "typical_distance", "readings" [one line each],
    "failures" {failure: its reading}}; the failures are among :data:`FAILURES`.
    """
    if n < 2:
        raise ValueError(f"label_free_checks needs at least 2 samples, got {n}")
    g = torch.Generator().manual_seed(seed)
    base, other = spec.sample(n, g), spec.sample(n, g)
    images = generate(base).float().cpu()
    typical = float(_rms(images, generate(other).float().cpu()).mean())
    if typical < 1e-6:
        reading = "collapse: every sample is the same image"
        return {"noise": 0.0, "codes": dict.fromkeys(spec.code_names, 0.0), "duplicates": 1.0, "typical_distance": 0.0,
                "readings": [reading], "failures": {"collapse": reading}}

    def effect(changed: LatentSample) -> float:
        return float(_rms(images, generate(changed).float().cpu()).mean()) / typical

    noise = effect(LatentSample(other.z, base.categorical, base.continuous)) if spec.noise_dim else 0.0
    codes = {}
    for i in range(spec.num_categorical):
        cat = base.categorical.clone()
        cat[:, i] = other.categorical[:, i]
        codes[f"cat{i}"] = effect(LatentSample(base.z, cat, base.continuous))
    for j in range(spec.continuous):
        cont = base.continuous.clone()
        cont[:, j] = other.continuous[:, j]
        codes[f"cont{j}"] = effect(LatentSample(base.z, base.categorical, cont))
    flat = images.flatten(1)
    distances = torch.cdist(flat, flat) / flat.shape[1] ** 0.5  # RMS, as above
    distances.fill_diagonal_(float("inf"))
    duplicates = float((distances.min(dim=1).values < NEAR * typical).float().mean())

    readings, failures = [], {}

    def read(failed: bool, failure: str, bad: str, good: str) -> None:
        readings.append(bad if failed else good)
        if failed:
            failures[failure] = bad

    if spec.noise_dim:
        read(noise < NOISE_IGNORED, "noise ignored",
             f"noise ignored: samples with the same codes differ by {noise:.2f} of unrelated ones",
             f"noise used ({noise:.2f} of the difference of unrelated ones)")
    unused = [name for name, v in codes.items() if v < CODE_UNUSED]
    read(bool(unused), "codes unused", f"codes that change nothing: {', '.join(unused)}",
         "every code changes the images")
    read(duplicates > COLLAPSE, "collapse", f"collapse: {duplicates:.0%} of samples have a near-duplicate",
         f"no collapse ({duplicates:.0%} of samples have a near-duplicate)")
    return {"noise": noise, "codes": codes, "duplicates": duplicates, "typical_distance": typical,
            "readings": readings, "failures": failures}


def model_generate(model) -> Generate:
    """A trained InfoGAN's generator (eval mode, its device) as a :data:`Generate` function.

    Every code is given, so nothing is drawn; the seed only keeps :meth:`InfoGAN.sample`'s discarded draws off the
    global random stream, which a run checked while it trains (:class:`infogan.callbacks.LabelFreeChecks`) resumes
    from exactly."""
    return lambda codes: model.sample(len(codes.z), categorical=codes.categorical, continuous=codes.continuous,
                                      z=codes.z, seed=0)


class PooledPixels(nn.Module):
    """Images (N, C, H, W) in [-1, 1] -> their ``side`` x ``side`` average-pooled pixels (N, C * side^2): the feature
    space of :func:`pixel_frechet_distance` (``num_features`` is what torchmetrics' FID asks of a feature module)."""

    def __init__(self, channels: int, side: int = 16) -> None:
        super().__init__()
        self.side, self.num_features = side, channels * side * side

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.adaptive_avg_pool2d(x.float(), self.side).flatten(1)


@torch.no_grad()
def pixel_frechet_distance(generate: Generate, spec: LatentSpec, real: Iterable[torch.Tensor], n: int,
                           batch_size: int = 500, seed: int = 0) -> float:
    """The Frechet distance between ``n`` samples and the real image batches ``real`` (each (B, C, H, W) in [-1, 1],
    ``n`` images or so in all) in :class:`PooledPixels` space (torchmetrics' FID with that feature module)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = None
    for images in real:
        if metric is None:
            metric = FrechetInceptionDistance(feature=PooledPixels(images.shape[1]))
        metric.update(images.float().cpu(), real=True)
    if metric is None:
        raise ValueError("pixel_frechet_distance needs real images, got none")
    g = torch.Generator().manual_seed(seed)
    for start in range(0, n, batch_size):
        metric.update(generate(spec.sample(min(batch_size, n - start), g)).float().cpu(), real=False)
    return float(metric.compute())
