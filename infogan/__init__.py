"""InfoGAN (Chen et al., 2016) in PyTorch Lightning: interpretable latent codes, measured."""

__version__ = "0.1.0"

from infogan.data import InfoGANDataModule  # noqa: E402
from infogan.infogan_module import InfoGAN  # noqa: E402
from infogan.latent import LatentSpec  # noqa: E402

__all__ = ["InfoGAN", "InfoGANDataModule", "LatentSpec", "__version__"]
