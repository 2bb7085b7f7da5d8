"""The latent codes of InfoGAN: what the generator is fed and what Q must recover.

This is the one place for the latent maths (sampling, the generator input layout, splitting Q's output, the
information loss and the mutual-information lower bound). Pure torch: no Lightning here.

The generator input is laid out as ``[z | one-hot(c_cat_0) | ... | one-hot(c_cat_{m-1}) | c_cont]``:

* ``z``: ``noise_dim`` values of incompressible noise, from N(0, noise_std^2) or, with ``noise_prior="uniform"``,
  from Unif(-noise_std, noise_std) (InfoGAN-CR's dSprites setting);
* one one-hot block per categorical code ``k`` with ``K_k`` values, c ~ Cat(K_k) uniform;
* ``continuous`` values, each from Unif(-1, 1) (the paper's MNIST codes) or N(0, 1).

Q's output is laid out as ``[logits_cat_0 | ... | logits_cat_{m-1} | mean_cont | (log_var_cont)]``; the log-variance
block exists only when ``learn_variance`` is on. Otherwise the continuous codes use a fixed unit standard deviation,
as the authors' official code does.

Per code k the variational lower bound on I(c_k; G(z, c)) is ``H(c_k) - E[-log Q(c_k | x)]`` (Chen et al. 2016,
Lemma 5.1), with ``H = ln K`` for Cat(K), ``ln 2`` for Unif(-1, 1) and ``0.5 ln(2 pi e)`` for N(0, 1). With a fixed
unit std the Gaussian NLL is at least ``0.5 ln(2 pi) = 0.919`` nats, so the continuous bound stays negative for the
uniform prior: it is still a valid (loose) bound, and only its increase means something.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Optional, Sequence, Union

import torch
import torch.nn.functional as F

from infogan.config import DEFAULTS, PRIORS
from infogan.errors import InputError

# Learned log-variances are clamped: an unbounded Q can drive the NLL to -inf on a code G has collapsed.
LOG_VAR_RANGE = (-8.0, 8.0)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)

CodeValues = Union[None, Sequence[Optional[float]], torch.Tensor]


class LatentSample(NamedTuple):
    """One batch of latent draws.

    Attributes:
        z: (N, noise_dim) float noise.
        categorical: (N, num_categorical) long, the index of each categorical code.
        continuous: (N, num_continuous) float values of the continuous codes.
    """

    z: torch.Tensor
    categorical: torch.Tensor
    continuous: torch.Tensor

    def to(self, device: torch.device | str, non_blocking: bool = False) -> "LatentSample":
        return LatentSample(*(t.to(device, non_blocking=non_blocking) for t in self))


@dataclass(frozen=True)
class LatentSpec:
    """The latent codes of one InfoGAN.

    Args:
        noise_dim: size of the incompressible noise z.
        categorical: the number of values K of each categorical code, e.g. ``(10,)`` for MNIST's digit code.
        continuous: number of continuous codes.
        continuous_prior: ``"uniform"`` (Unif(-1, 1)) or ``"gaussian"`` (N(0, 1)).
        learn_variance: Q predicts a log-variance per continuous code instead of assuming unit std.
        noise_prior: ``"gaussian"`` (z ~ N(0, noise_std^2)) or ``"uniform"`` (z ~ Unif(-noise_std, noise_std)).
        noise_std: the scale of z. Below 1 the codes, not the noise, dominate the generator's input
            at the start of training (see the README's MNIST results for what that does to the categorical code).
        traversal_range: how far continuous traversals (GIFs, explorer sliders) sweep; None: by the prior (see
            :attr:`default_range`). Only for showing codes: it changes nothing in training.
    """

    noise_dim: int = DEFAULTS["noise_dim"]  # every default is the config's (infogan.config.LatentConfig)
    categorical: tuple[int, ...] = tuple(DEFAULTS["categorical"])
    continuous: int = DEFAULTS["continuous"]
    continuous_prior: str = DEFAULTS["continuous_prior"]
    learn_variance: bool = DEFAULTS["learn_variance"]
    noise_std: float = DEFAULTS["noise_std"]
    noise_prior: str = DEFAULTS["noise_prior"]
    traversal_range: Optional[float] = DEFAULTS["traversal_range"]

    def __post_init__(self) -> None:
        object.__setattr__(self, "categorical", tuple(int(k) for k in self.categorical))
        if self.noise_dim < 0:
            raise InputError(f"noise_dim must be >= 0, got {self.noise_dim}")
        for i, k in enumerate(self.categorical):
            if k < 2:
                raise InputError(
                    f"categorical code {i} has K={k}: a categorical code needs at least 2 values "
                    f"(e.g. --categorical 10)"
                )
        if self.continuous < 0:
            raise InputError(f"the number of continuous codes must be >= 0, got {self.continuous}")
        if self.continuous_prior not in PRIORS:
            raise InputError(f"continuous_prior must be one of {PRIORS}, got {self.continuous_prior!r}")
        if self.noise_prior not in PRIORS:
            raise InputError(f"noise_prior must be one of {PRIORS}, got {self.noise_prior!r}")
        if not self.noise_std > 0:
            raise InputError(f"noise_std must be > 0, got {self.noise_std}")
        if self.traversal_range is not None and not (math.isfinite(self.traversal_range) and self.traversal_range > 0):
            raise InputError(f"traversal_range must be a finite number > 0, got {self.traversal_range}")
        if self.input_dim == 0:
            raise InputError("the generator needs some input: set noise_dim > 0 or add a latent code")

    # ------------------------------------------------------------------ sizes and names
    @property
    def num_categorical(self) -> int:
        return len(self.categorical)

    @property
    def input_dim(self) -> int:
        """Size of the generator input: noise + one-hot blocks + continuous values."""
        return self.noise_dim + sum(self.categorical) + self.continuous

    @property
    def q_dim(self) -> int:
        """Size of Q's output: logits per categorical code, a mean (and log-variance) per continuous code."""
        return sum(self.categorical) + self.continuous * (2 if self.learn_variance else 1)

    @property
    def code_names(self) -> list[str]:
        """Names used in logs: ``cat0, cat1, ..., cont0, cont1, ...``."""
        return [f"cat{i}" for i in range(self.num_categorical)] + [f"cont{i}" for i in range(self.continuous)]

    def entropy(self, name: str) -> float:
        """H(c) in nats of the named code's prior."""
        if name.startswith("cat"):
            return math.log(self.categorical[int(name[3:])])
        if self.continuous_prior == "uniform":
            return math.log(2.0)
        return 0.5 * math.log(2 * math.pi * math.e)

    # ------------------------------------------------------------------ sampling
    def sample(
        self,
        n: int,
        generator: Optional[torch.Generator] = None,
        categorical: CodeValues = None,
        continuous: CodeValues = None,
        z: Optional[torch.Tensor] = None,
    ) -> LatentSample:
        """Draw n latent vectors on the CPU, optionally with some codes held at given values.

        Args:
            n: batch size.
            generator: the random stream (CPU); pass a seeded one for reproducible draws.
            categorical: None (all drawn), one entry per categorical code (an int fixes that code for the whole
                batch, None draws it), or an (n, num_categorical) long tensor.
            continuous: the same for the continuous codes, with float values.
            z: an (n, noise_dim) tensor to use instead of drawing noise.

        Returns:
            A :class:`LatentSample` of CPU tensors.
        """
        if z is None:
            if self.noise_prior == "gaussian":
                z = torch.randn(n, self.noise_dim, generator=generator) * self.noise_std
            else:
                z = (torch.rand(n, self.noise_dim, generator=generator) * 2 - 1) * self.noise_std
        elif tuple(z.shape) != (n, self.noise_dim):
            raise InputError(f"z must have shape ({n}, {self.noise_dim}), got {tuple(z.shape)}")
        elif not bool(torch.isfinite(z).all()):
            raise InputError("z must hold finite numbers: it has NaN or infinite values")
        cat = torch.stack(
            [torch.randint(k, (n,), generator=generator) for k in self.categorical], dim=1
        ) if self.categorical else torch.zeros(n, 0, dtype=torch.long)
        if self.continuous_prior == "uniform":
            cont = torch.rand(n, self.continuous, generator=generator) * 2 - 1
        else:
            cont = torch.randn(n, self.continuous, generator=generator)
        cat = self._override(cat, categorical, "categorical")
        cont = self._override(cont, continuous, "continuous")
        return LatentSample(z.float().cpu(), cat, cont)

    def sample_pairs(self, n: int, generator: Optional[torch.Generator] = None
                     ) -> tuple[LatentSample, LatentSample, torch.Tensor]:
        """InfoGAN-CR's contrastive pairs: n pairs of draws that share their noise and exactly one code.

        Why: a classifier shown the two images of a pair can tell which code they share only if each code changes
        the image in a way of its own; the generator is trained to make that easy (Lin et al. 2020, section 4).
        The other codes are drawn independently on each side (InfoGAN-CR's "gap" between them is 0, as in its
        dSprites runs), so a categorical code may also coincide by chance (probability 1/K).

        Returns:
            (first, second, shared): two :class:`LatentSample` of n rows with the same z, and ``shared`` (n,) long,
            the index in :attr:`code_names` of the code both rows hold, drawn uniformly.
        """
        first = self.sample(n, generator)
        other = self.sample(n, generator, z=first.z)
        shared = torch.randint(len(self.code_names), (n,), generator=generator)
        same = F.one_hot(shared, len(self.code_names)).bool()
        same_cat, same_cont = same[:, : self.num_categorical], same[:, self.num_categorical:]
        second = LatentSample(first.z, torch.where(same_cat, first.categorical, other.categorical),
                              torch.where(same_cont, first.continuous, other.continuous))
        return first, second, shared

    def _override(self, drawn: torch.Tensor, values: CodeValues, kind: str) -> torch.Tensor:
        """Replace drawn codes by the fixed ``values`` (see :meth:`sample`), checking them."""
        if values is None:
            return drawn
        count = drawn.shape[1]
        if isinstance(values, torch.Tensor):
            if tuple(values.shape) != tuple(drawn.shape):
                raise InputError(f"{kind} codes must have shape {tuple(drawn.shape)}, got {tuple(values.shape)}")
            if kind == "categorical" and values.is_floating_point() and not bool((values == values.round()).all()):
                raise InputError("categorical codes take whole values: the tensor has fractions")
            out = values.to(drawn.dtype).cpu().clone()
        else:
            values = list(values)
            if len(values) > count:
                raise InputError(f"{len(values)} {kind} values given, but this model has {count} {kind} code(s)")
            out = drawn.clone()
            for i, v in enumerate(values):
                if v is None:
                    continue
                if kind == "categorical" and (isinstance(v, bool) or float(v) != int(float(v))):
                    raise InputError(f"categorical code {i} takes whole values, got {v!r}")
                out[:, i] = v
        if kind == "continuous" and not bool(torch.isfinite(out).all()):
            i = int((~torch.isfinite(out)).any(dim=0).nonzero()[0])
            bad = float(out[:, i][~torch.isfinite(out[:, i])][0])
            raise InputError(f"continuous code {i} must be a finite number, got {bad}")
        if kind == "categorical":
            for i, k in enumerate(self.categorical):
                bad = (out[:, i] < 0) | (out[:, i] >= k)
                if bool(bad.any()):
                    raise InputError(f"categorical code {i} takes values 0..{k - 1}, got {int(out[:, i][bad][0])}")
        return out

    # ------------------------------------------------------------------ traversals
    @property
    def default_range(self) -> float:
        """How far continuous traversals go: ``traversal_range`` when set, else 2 for Unif(-1, 1) (extrapolation, as
        the paper shows for MNIST's slant and width) and 3 for N(0, 1)."""
        if self.traversal_range is not None:
            return float(self.traversal_range)
        return 2.0 if self.continuous_prior == "uniform" else 3.0

    def parse_code(self, text: str) -> tuple[str, int]:
        """``"cat:I"`` or ``"cont:I"`` -> (kind, index), checked against this spec."""
        kind, _, index = text.partition(":")
        counts = {"cat": self.num_categorical, "cont": self.continuous}
        if kind not in counts or not index.isdigit():
            raise InputError(f"a code is written cat:I or cont:I (e.g. cat:0), got {text!r}")
        if int(index) >= counts[kind]:
            have = ", ".join(f"{kind}:{i}" for i in range(counts[kind])) or "none"
            raise InputError(f"code {text} does not exist: this model's {kind} codes are {have}")
        return kind, int(index)

    def traversal_values(self, kind: str, index: int, frames: int = 16,
                         value_range: Optional[float] = None) -> list[float]:
        """The values a traversal steps through: every category 0..K-1, or ``frames`` values over [-r, r]."""
        if kind == "cat":
            return list(range(self.categorical[index]))
        r = self.default_range if value_range is None else value_range
        return torch.linspace(-r, r, max(frames, 2)).tolist()

    def traverse(self, base: LatentSample, kind: str, index: int, value: float) -> LatentSample:
        """A copy of ``base`` with one code set to ``value`` for every row (the other codes and z held fixed)."""
        cat, cont = base.categorical.clone(), base.continuous.clone()
        if kind == "cat":
            cat[:, index] = int(value)
        else:
            cont[:, index] = float(value)
        return LatentSample(base.z, cat, cont)

    # ------------------------------------------------------------------ generator input / Q output
    def to_input(self, sample: LatentSample) -> torch.Tensor:
        """Generator input (N, input_dim) from a :class:`LatentSample` (any device)."""
        z, cat, cont = sample
        one_hots = [F.one_hot(cat[:, i], k).to(z.dtype) for i, k in enumerate(self.categorical)]
        return torch.cat([z, *one_hots, cont.to(z.dtype)], dim=1)

    def split_q(self, q_out: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor, Optional[torch.Tensor]]:
        """Split Q's output (N, q_dim) into ([logits (N, K_k)], mean (N, n_cont), log_var (N, n_cont) or None)."""
        if q_out.shape[-1] != self.q_dim:
            raise ValueError(f"Q output has {q_out.shape[-1]} features, this latent spec needs {self.q_dim}")
        logits = list(torch.split(q_out[:, : sum(self.categorical)], list(self.categorical), dim=1))
        rest = q_out[:, sum(self.categorical):]
        mean = rest[:, : self.continuous]
        log_var = rest[:, self.continuous:].clamp(*LOG_VAR_RANGE) if self.learn_variance else None
        return logits, mean, log_var

    # ------------------------------------------------------------------ information loss and MI bound
    def nll(self, q_out: torch.Tensor, sample: LatentSample) -> dict[str, torch.Tensor]:
        """-log Q(c_k | x) per code, averaged over the batch: {code name: scalar tensor} in nats.

        Categorical codes: cross-entropy of the logits. Continuous codes: Gaussian NLL with Q's mean and either
        unit variance or Q's (clamped) log-variance, including the 0.5 ln(2 pi) constant so the MI bound is exact.
        """
        logits, mean, log_var = self.split_q(q_out.float())
        out = {f"cat{i}": F.cross_entropy(lg, sample.categorical[:, i]) for i, lg in enumerate(logits)}
        if self.continuous:
            sq = (sample.continuous.float() - mean) ** 2
            per = 0.5 * sq if log_var is None else 0.5 * (log_var + sq * torch.exp(-log_var))
            per = per + _HALF_LOG_2PI
            for i, v in enumerate(per.mean(dim=0).unbind()):
                out[f"cont{i}"] = v
        return out

    def info_loss(self, nll: dict[str, torch.Tensor], lambda_cat: float, lambda_cont: float) -> torch.Tensor:
        """The weighted information term sum_k lambda_k NLL_k (minimising it maximises L_I)."""
        return sum((lambda_cat if k.startswith("cat") else lambda_cont) * v for k, v in nll.items())

    def mi_bound(self, nll: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The lower bound H(c_k) - NLL_k on I(c_k; G(z, c)) per code, in nats."""
        return {k: self.entropy(k) - v.detach() for k, v in nll.items()}
