"""The NB distribution for PyTorch models: a ``torch.distributions.Distribution`` whose log-probability is the torch
backend's ``nb_logpmf`` (accurate in every regime, differentiable through the derived gradient kernels).

Code written for scvi-tools' ``NegativeBinomial(mu=..., theta=...)`` switches by changing the import::

    from derive.torch import NegativeBinomial
    loss = -NegativeBinomial(mu=mu, theta=theta).log_prob(counts).sum()

Needs PyTorch (the optional extra ``nbderive[torch]``).
"""

from __future__ import annotations

import torch
from torch.distributions import Distribution, Gamma, constraints
from torch.distributions.utils import broadcast_all

__all__ = ["NegativeBinomial"]


def _kernels():
    from derive import kernels

    return kernels.load("torch")


class NegativeBinomial(Distribution):
    """NB(mu, theta): mean ``mu`` >= 0, inverse dispersion ``theta`` > 0 (``theta = inf`` is the Poisson limit),
    variance mu + mu^2/theta. Sampling is by its Gamma-Poisson mixture: lambda ~ Gamma(theta, rate theta/mu), then
    x ~ Poisson(lambda) (not differentiable, as torch's own NegativeBinomial)."""

    arg_constraints = {"mu": constraints.greater_than_eq(0.0), "theta": constraints.positive}
    support = constraints.nonnegative_integer
    has_rsample = False

    def __init__(self, mu: torch.Tensor | float, theta: torch.Tensor | float, validate_args: bool | None = None):
        self.mu, self.theta = broadcast_all(mu, theta)
        super().__init__(self.mu.shape, validate_args=validate_args)

    @property
    def mean(self) -> torch.Tensor:
        return self.mu

    @property
    def mode(self) -> torch.Tensor:
        """floor(mu (theta - 1)/theta) for theta > 1, 0 otherwise."""
        return torch.where(self.theta > 1, torch.floor(self.mu * (self.theta - 1) / self.theta),
                           torch.zeros_like(self.mu))

    @property
    def variance(self) -> torch.Tensor:
        return self.mu + self.mu * self.mu / self.theta

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = torch.Size(batch_shape)
        new.mu, new.theta = self.mu.expand(batch_shape), self.theta.expand(batch_shape)
        super(NegativeBinomial, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return _kernels().nb_logpmf(value, self.mu, self.theta)

    def sample(self, sample_shape: torch.Size | tuple = ()) -> torch.Tensor:
        shape = self._extended_shape(sample_shape)
        with torch.no_grad():
            mu, theta = self.mu.expand(shape), self.theta.expand(shape)
            finite = torch.isfinite(theta)
            safe_theta = torch.where(finite, theta, torch.ones_like(theta))
            rate = Gamma(safe_theta, safe_theta / mu).sample()  # (mean mu; mu = 0 gives 0)
            return torch.poisson(torch.where(finite, rate, mu))
