"""Every model hyperparameter, declared once: its default, its help, whether it shapes the networks, and what old
checkpoints were written under.

One dataclass per concern (the latent codes, the networks, the objective, the optimisation), in the manner of
nanoGPT's ``GPTConfig``. Everything else is generated from these fields: the training CLI's flags and their help
(:func:`add_flags`), the keys a resumed run must agree on (:data:`ARCHITECTURE_KEYS`), the frozen values read into a
checkpoint written before a setting existed (:data:`DEFAULTS_BEFORE_KEY`), :class:`~infogan.InfoGAN`'s defaults
(:data:`DEFAULTS`) and the check of every dataset recipe (:func:`check_settings`). Plain Python: the lowest floor of
the package, importable without torch.

Adding a hyperparameter means adding one field here (and reading ``hparams.NAME`` where it acts)::

    lambda_new: float = setting(0.0, "weight of the new term; 0: off", check=_at_least(0))

``before`` is the value that reproduces what the package did before the setting existed; it never changes
afterwards, even when the default does.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping, Optional, Sequence

from infogan.errors import SettingsError

PRIORS = ("uniform", "gaussian")
# The pixel ranges a network can be built to see (a dataset's record names its own): the package's [-1, 1] with a
# tanh output, or [0, 1] with a sigmoid output, where a convolution's zero padding equals a black background
# (InfoGAN-CR's dSprites networks). Outside the networks every image is in [-1, 1].
PIXEL_RANGES = ((-1.0, 1.0), (0.0, 1.0))
# The augmentations of what the discriminator judges (--augment; infogan.augment): those that keep a code's meaning.
AUGMENTATIONS = ("translation", "cutout")
_UNSET = object()


def setting(default: Any, help: str, *, shapes_networks: bool = False, before: Any = _UNSET, flag: bool = True,
            choices: Optional[Sequence] = None, nargs: Optional[int | str] = None, metavar: Any = None,
            check: Optional[Callable[[Any], Optional[str]]] = None) -> Any:
    """A dataclass field declaring one hyperparameter.

    Args:
        default: the value of a new run that neither a flag nor the dataset's recipe sets.
        help: the flag's help text (the recipe or default is appended by :func:`add_flags`).
        shapes_networks: the value fixes the networks' shapes or what a code means: a resumed run must agree.
        before: the value in effect before checkpoints stored this setting (default: ``default``).
        flag: has a ``--NAME`` flag (the preset and channels come from the data, not a flag).
        choices, nargs, metavar: as for argparse.
        check: value -> None when valid, else what is wrong (a phrase: "must be > 0").
    """
    meta = dict(help=help, shapes_networks=shapes_networks, before=default if before is _UNSET else before,
                flag=flag, choices=choices, nargs=nargs, metavar=metavar, check=check)
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


def _positive(value) -> Optional[str]:
    ok = isinstance(value, (int, float)) and math.isfinite(value) and value > 0
    return None if ok else "must be a finite number > 0"


def _between(low: float, high: float = math.inf) -> Callable[[Any], Optional[str]]:
    def check(value) -> Optional[str]:
        ok = isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high
        if ok:
            return None
        if high == math.inf:
            return f"must be a finite number >= {low:g}"
        return f"must be a number from {low:g} to {high:g}"

    return check


def _at_least(low: float) -> Callable[[Any], Optional[str]]:
    return _between(low)


# Sizes beyond any InfoGAN's: the bound keeps a stranger's checkpoint from asking for gigabytes of weights.
MAX_SIZE = 100_000


def _size(low: int) -> Callable[[Any], Optional[str]]:
    def check(value) -> Optional[str]:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= MAX_SIZE
        return None if ok else f"must be a whole number from {low} to {MAX_SIZE:,}"

    return check


def _categories(value) -> Optional[str]:
    if not isinstance(value, (list, tuple)) or len(value) > 1000:
        return "must be a list of at most 1,000 codes"
    bad = next((i for i, k in enumerate(value) if _size(2)(k)), None)
    return None if bad is None else (f"categorical code {bad} has K={value[bad]}: a categorical code needs 2 to "
                                     f"{MAX_SIZE:,} values (e.g. --categorical 10)")


def _augmentations(value) -> Optional[str]:
    ok = isinstance(value, (list, tuple)) and all(v in AUGMENTATIONS for v in value) and len(set(value)) == len(value)
    return None if ok else f"must name each of {', '.join(AUGMENTATIONS)} at most once"


@dataclass
class LatentConfig:
    """The latent codes (:class:`~infogan.latent.LatentSpec` holds their maths)."""

    noise_dim: int = setting(62, "size of the incompressible noise z", shapes_networks=True, check=_size(0))
    categorical: list = setting([10], "one categorical code per K given (e.g. --categorical 10 or --categorical 10 "
                                "5; --categorical alone: none)", shapes_networks=True, nargs="*", metavar="K",
                                check=_categories)
    continuous: int = setting(2, "number of continuous codes", shapes_networks=True, check=_size(0))
    continuous_prior: str = setting("uniform", "prior of the continuous codes: Unif(-1, 1) or N(0, 1)",
                                    shapes_networks=True, choices=PRIORS)
    learn_variance: bool = setting(False, "Q predicts each continuous code's variance (else a fixed unit std, as "
                                   "the official code)", shapes_networks=True)
    noise_std: float = setting(1.0, "the scale of z: N(0, std^2), or Unif(-std, std)", shapes_networks=True,
                               check=_positive)
    noise_prior: str = setting("gaussian", "prior of the noise z", shapes_networks=True, choices=PRIORS)
    traversal_range: Optional[float] = setting(
        None, "continuous traversals (GIFs, explorer sliders) sweep [-R, R]; changes nothing in training; None: 2 "
        "for uniform codes (the paper's extrapolation), 3 for gaussian ones",
        check=lambda v: None if v is None else _positive(v))


@dataclass
class NetworkConfig:
    """The networks (:mod:`infogan.networks`)."""

    preset: str = setting("mnist", "network preset (from the dataset and image size)", shapes_networks=True,
                          flag=False)
    channels: int = setting(1, "image channels (from the data)", shapes_networks=True, flag=False,
                            choices=(1, 3))
    pixel_range: list = setting([-1.0, 1.0], "the pixel range the networks see: -1 1 (tanh output) or 0 1 "
                                "(sigmoid output; a convolution's zero padding is then a black background)",
                                shapes_networks=True, nargs=2, metavar=("LO", "HI"),
                                check=lambda v: None if tuple(map(float, v)) in PIXEL_RANGES else
                                "must be -1 1 or 0 1")
    spectral_norm: bool = setting(False, "spectral normalisation on the discriminator's trunk and adversarial head",
                                  shapes_networks=True)
    spectral_norm_q: bool = setting(False, "spectral normalisation on Q's layers too (InfoGAN-CR's dSprites "
                                    "networks)", shapes_networks=True)


@dataclass
class ObjectiveConfig:
    """The weights of the loss terms (:mod:`infogan.objective` and the regularisers it names)."""

    lambda_cat: float = setting(1.0, "weight of the categorical information term", check=_at_least(0))
    lambda_cont: float = setting(0.1, "weight of the continuous information term", check=_at_least(0))
    lambda_real: float = setting(0.0, "weight of the invariance of Q's categories on real images under random "
                                 "rotation, shear, scale, shift and thinner strokes, and colour with --style_colour "
                                 "(IIC); 0: off, the paper's InfoGAN", check=_at_least(0))
    lambda_fake_views: float = setting(0.0, "weight of the categorical information term on restyled fakes (Q must "
                                       "recover the generator's category after the same restyling); 0: off",
                                       check=_at_least(0))
    style_rotation: float = setting(25.0, "the restyling's largest rotation of an image, in degrees (--lambda_real,"
                                    " --lambda_fake_views)", before=15.0, check=_at_least(0))
    style_shear: float = setting(0.4, "the restyling's largest shear of an image", before=0.2, check=_at_least(0))
    style_colour: float = setting(0.0, "strength s in [0, 1] of a random colour distortion of each restyled real "
                                  "image (SimCLR's: brightness, contrast, saturation, hue, gray; --lambda_real, "
                                  "colour images); 0: off", check=_between(0, 1))
    augment: list = setting([], "differentiable augmentations of every image D judges, real and generated "
                            f"(DiffAugment; for small folders), any of {', '.join(AUGMENTATIONS)}; none: off",
                            nargs="*", metavar="NAME", check=_augmentations)
    lambda_cr: float = setting(0.0, "weight of InfoGAN-CR's contrastive term: a pair classifier must tell which "
                               "code two generated images share (Lin et al. 2020; 2.2-2.7 times the time of a "
                               "dSprites batch on CPU); 0: off", check=_at_least(0))
    cr_start: int = setting(0, "the batch from which --lambda_cr's term is on; the pair classifier starts training "
                            "then. InfoGAN-CR's dSprites runs: 288000, with --max_steps 322560; 0: from the first "
                            "batch", check=_at_least(0))


@dataclass
class OptimConfig:
    """Adam and the step schedule."""

    lr_g: float = setting(1e-3, "generator Adam learning rate", check=_positive)
    lr_d: float = setting(2e-4, "discriminator + Q Adam learning rate", check=_positive)
    beta1: float = setting(0.5, "Adam beta1 (the paper: 0.5)", flag=False)
    beta2: float = setting(0.999, "Adam beta2", flag=False)
    g_steps: int = setting(1, "generator updates per batch (InfoGAN-CR: 2)", check=_at_least(1))
    seed: int = setting(0, "seed for weights, shuffling and the latent stream")


# each concern and the title of its group of flags
CONCERNS = {LatentConfig: "latent codes", NetworkConfig: "networks", ObjectiveConfig: "objective",
            OptimConfig: "optimisation"}
FIELDS: Mapping[str, dataclasses.Field] = MappingProxyType(
    {f.name: f for concern in CONCERNS for f in dataclasses.fields(concern)})


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


DEFAULTS: Mapping[str, Any] = MappingProxyType({name: _default(f) for name, f in FIELDS.items()})
ARCHITECTURE_KEYS: tuple[str, ...] = tuple(name for name, f in FIELDS.items() if f.metadata["shapes_networks"])
# Frozen by construction: each field's ``before`` never changes once written.
DEFAULTS_BEFORE_KEY: Mapping[str, Any] = MappingProxyType({name: f.metadata["before"] for name, f in FIELDS.items()})
MODEL_FLAGS: tuple[str, ...] = tuple(name for name, f in FIELDS.items() if f.metadata["flag"])


def check_settings(settings: Mapping[str, Any], where: str = "") -> None:
    """SettingsError naming the first unknown or invalid setting (``where``: e.g. "dataset dsprites's recipe: ")."""
    unknown = sorted(set(settings) - set(FIELDS))
    if unknown:
        raise SettingsError(f"{where}unknown setting(s) {', '.join(unknown)}; the settings are {', '.join(FIELDS)}")
    for name, value in settings.items():
        meta = FIELDS[name].metadata
        if meta["choices"] is not None and value not in meta["choices"]:
            raise SettingsError(f"{where}--{name} {value!r}: choose one of {', '.join(map(str, meta['choices']))}")
        problem = meta["check"](value) if meta["check"] else None
        if problem:
            shown = " ".join(map(str, value)) if isinstance(value, (list, tuple)) else value
            raise SettingsError(f"{where}--{name} {shown}: {problem}")


def resolve(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting: ``settings`` over :data:`DEFAULTS`, checked, as plain data (lists, floats) for checkpoints."""
    check_settings(settings)
    out = {**DEFAULTS, **settings}
    out["categorical"] = [int(k) for k in out["categorical"]]
    out["pixel_range"] = [float(v) for v in out["pixel_range"]]
    return out


def _show(value: Any) -> str:
    if isinstance(value, list):
        if not value:
            return "none"
        uniform = len(set(value)) == 1 and len(value) >= 3
        return f"{len(value)} codes of {value[0]}" if uniform else " ".join(map(str, value))
    return str(value)


def add_flags(parser: argparse.ArgumentParser, recipes: Mapping[str, Mapping[str, Any]]) -> None:
    """Add a ``--NAME`` flag per model setting to ``parser`` in one group per concern, default None (left out: the
    resumed run's value, else the recipe's). Help ends with each dataset's value where a recipe differs from the
    default (``recipes``: dataset name -> its full settings), else with the default."""
    for concern, title in CONCERNS.items():
        group = parser.add_argument_group(f"{title} (left out: the dataset's recipe, or the resumed run's)")
        for f in dataclasses.fields(concern):
            meta = f.metadata
            if not meta["flag"]:
                continue
            values = {name: recipe[f.name] for name, recipe in recipes.items()}
            if any(v != DEFAULTS[f.name] for v in values.values()):
                tail = "recipe: " + ", ".join(f"{name} {_show(v)}" for name, v in values.items())
            else:
                tail = f"default {_show(DEFAULTS[f.name])}"
            kwargs: dict[str, Any] = dict(default=None, help=f"{meta['help']}; {tail}")
            if isinstance(DEFAULTS[f.name], bool):
                kwargs["action"] = argparse.BooleanOptionalAction
            else:
                kind = type(DEFAULTS[f.name]) if DEFAULTS[f.name] is not None else float
                if kind is list:  # the type of each item
                    kind = {"categorical": int, "pixel_range": float}.get(f.name, str)
                kwargs.update(type=kind)
                for key in ("choices", "nargs", "metavar"):
                    if meta[key] is not None:
                        kwargs[key] = meta[key]
            group.add_argument(f"--{f.name}", **kwargs)
