"""What each dataset is, written once: one :class:`DatasetInfo` record per ``--dataset`` choice.

The DataModule reads how a set is stored and shaped, the training CLI reads its recipe (the latent codes it trains
with by default) and network preset, and ``--help`` prints the recipes from here. Adding a dataset means adding one
record here and, when its storage is new, one loader beside this file. Plain data, no torch.

A recipe lists only the hyperparameters in which the dataset differs from :class:`infogan.InfoGAN`'s defaults (the
paper's MNIST setting), so every default is written once; each recipe is checked against :mod:`infogan.config`
when this module is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Optional

from infogan.config import check_settings

# Transparent pixels of image files are composited onto white by default: icons and emoji are drawn to be seen on
# a page (``--background``).
BACKGROUND = (255, 255, 255)

# How a dataset's images reach a batch (the DataModule picks its loader by this):
STORAGES = (
    "memory",  # one uint8 tensor, served in whole batches through __getitems__, no worker processes
    "files",  # image files decoded lazily by DataLoader workers (crop, resize)
    "rendered",  # drawn from known factors batch by batch in the main process (dSprites without its .npz)
)


@dataclass(frozen=True)
class DatasetInfo:
    """The facts of one dataset, in the manner of torchvision's dataset class attributes.

    Attributes:
        name: the ``--dataset`` choice.
        image_sizes: the square sizes it can be trained at; the first is the default.
        channels: the channel counts it can be read with; the first is the default.
        num_classes: label classes of its validation split; None: unlabelled (no validation loop).
        storage: one of :data:`STORAGES`.
        presets: image size -> network preset (:data:`infogan.networks.PRESETS`).
        recipe: hyperparameters of :class:`infogan.InfoGAN` that differ from its defaults for this dataset.
        where: where the files go below ``--data_dir`` (for help texts and errors).
        torchvision_name: the torchvision dataset class that can download the set (for IDX files also the folder
            below ``--data_dir``: ``MNIST/raw/``).
        image_folder: for image files: the folder below ``--data_dir`` that holds them; None: ``--data_dir`` itself.
        how_to_get: for image files: what to tell a user whose folder is missing.
        split_sizes: for sets with a fixed train / test split: their image counts, to catch swapped files.
        batch_size: the recipe's batch size (``--batch_size`` left out).
        max_epochs: the recipe's length (``--max_epochs`` left out).
        batches_per_epoch: for very large sets, an "epoch" of this many batches (``--limit_train_batches`` left out),
            so checkpoints, validation and GIFs come that often; each epoch draws its own random batches.
        factors: the images have known generating factors (dSprites): disentanglement scores are logged each epoch.
        pixel_range: the pixel range the networks see (:data:`infogan.networks.PIXEL_RANGES`): (0, 1) for a black
            background that a convolution's zero padding should equal, as reference networks tuned on [0, 1] expect.
    """

    name: str
    image_sizes: tuple[int, ...]
    channels: tuple[int, ...]
    num_classes: Optional[int]
    storage: str
    presets: Mapping[int, str]
    recipe: Mapping[str, object] = field(default_factory=dict)
    where: str = ""
    torchvision_name: Optional[str] = None
    image_folder: Optional[str] = None
    how_to_get: str = ""
    split_sizes: Optional[tuple[int, int]] = None
    batch_size: int = 128
    max_epochs: int = 11  # MNIST: the official code's 5,000 iterations at batch 128
    batches_per_epoch: Optional[int] = None
    factors: bool = False
    pixel_range: tuple[float, float] = (-1.0, 1.0)

    def __post_init__(self) -> None:
        if self.storage not in STORAGES:
            raise ValueError(f"dataset {self.name}: storage must be one of {STORAGES}, got {self.storage!r}")
        if set(self.presets) != set(self.image_sizes):
            raise ValueError(f"dataset {self.name}: needs one network preset per image size {self.image_sizes}")
        check_settings(self.recipe, f"dataset {self.name}'s recipe: ")
        check_settings(dict(pixel_range=self.pixel_range), f"dataset {self.name}: ")
        object.__setattr__(self, "presets", MappingProxyType(dict(self.presets)))
        object.__setattr__(self, "recipe", MappingProxyType(dict(self.recipe)))

    @property
    def labelled(self) -> bool:
        return self.num_classes is not None


_IDX = dict(image_sizes=(28,), channels=(1,), num_classes=10, storage="memory", presets={28: "mnist"},
            split_sizes=(60_000, 10_000))
_PHOTOS = dict(image_sizes=(32, 64), num_classes=None, storage="files", presets={32: "celeba32", 64: "dcgan64"})

DATASETS: Mapping[str, DatasetInfo] = MappingProxyType({info.name: info for info in (
    # the invariance term on real images and the information term on restyled fakes keep similar digits apart
    # (README, Results)
    DatasetInfo("mnist", **_IDX, recipe=dict(lambda_real=1.0, lambda_fake_views=1.0), torchvision_name="MNIST",
                where="MNIST/raw/ (IDX files; downloaded if missing)"),
    # the invariance term is untested on clothes, so Fashion-MNIST trains the paper's InfoGAN
    DatasetInfo("fashion_mnist", **_IDX, torchvision_name="FashionMNIST",
                where="FashionMNIST/raw/ (IDX files; downloaded if missing)"),
    # the paper's CelebA codes: ten Cat(10), no continuous code, 128 noise dimensions (CelebA is not screened here)
    DatasetInfo("celeba", channels=(3,), **_PHOTOS, recipe=dict(categorical=[10] * 10, continuous=0, noise_dim=128),
                where="celeba/img_align_celeba/*.jpg",
                torchvision_name="CelebA", image_folder="celeba/img_align_celeba",
                how_to_get="Download img_align_celeba.zip from the CelebA site (mmlab.ie.cuhk.edu.hk/projects/"
                           "CelebA.html) and unzip it there, so that 000001.jpg is in that folder (--download tries "
                           "torchvision's downloader, which often fails on Google Drive's quota)"),
    # screened on 3,786 emoji (docs/results/emoji.md): the paper's generator rate (1e-3) collapsed all three runs with
    # it to one image per category, noise ignored; DCGAN's 2e-4 did not; with the invariance term and DiffAugment no
    # seed of three collapsed even partly, and samples and the pixel Frechet distance were the best of the screen;
    # 60 epochs instead of 30 improved the Frechet distance (77 -> 59, 85 -> 58) and the NMI on both seeds run
    DatasetInfo("folder", channels=(3, 1), **_PHOTOS,
                recipe=dict(lr_g=2e-4, lambda_real=1.0, augment=["translation", "cutout"]), batch_size=64,
                max_epochs=60, where="every image below DATA_DIR (recursive)"),
    # InfoGAN-CR's "InfoGAN (modified)" (Lin et al. 2020, fjxmlzn/InfoGAN-CR): their small networks (cr64), one
    # continuous code per varying factor and 5 uniform noise dimensions, info weight 0.05 in both losses, lr 1e-3 for
    # G and 2e-3 for D + Q, spectral normalisation on D and Q, two generator updates per batch, batch 64; traversals
    # stay inside the codes' Unif(-1, 1): beyond it the sprites distort rather than extrapolate a factor
    DatasetInfo("dsprites", image_sizes=(64,), channels=(1,), num_classes=None, storage="rendered",
                presets={64: "cr64"}, recipe=dict(categorical=[], continuous=5, noise_dim=5, noise_prior="uniform",
                                                  lambda_cont=0.05, lr_g=1e-3, lr_d=2e-3, spectral_norm=True,
                                                  spectral_norm_q=True, g_steps=2, traversal_range=1.0),
                # [-1, 1]: InfoGAN-CR's [0, 1] (--pixel_range 0 1) raised MIG but moved FactorVAE both ways at
                # 10,000 batches and left the split (scale, x, y) as it was (docs/results/dsprites.md)
                batch_size=64, batches_per_epoch=2000, factors=True,
                where="dsprites/*.npz when there, else rendered from the factors"),
)})


def dataset_info(name: str) -> DatasetInfo:
    """The record of ``name``; ValueError listing the choices for an unknown one."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]
