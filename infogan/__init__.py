"""InfoGAN (Chen et al., 2016) in PyTorch Lightning: interpretable latent codes, measured."""

__version__ = "0.1.0"
__all__ = ["InfoGAN", "InfoGANDataModule", "LatentSpec", "load_model", "__version__"]

_EXPORTS = {"InfoGAN": "infogan.infogan_module", "InfoGANDataModule": "infogan.data.datamodule",
            "LatentSpec": "infogan.latent", "load_model": "infogan.checkpoint"}


def __getattr__(name: str):
    # Imported on first use (PEP 562): `python -m infogan.infogan_module` must not find that module already
    # imported by the package, and `import infogan` stays cheap.
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'infogan' has no attribute {name!r}")
