"""The stable Gaussian log-density: where the density is near 1 its two terms cancel, and GaussLogpdf recomputes
their sum in extended precision there."""

from __future__ import annotations

import sympy as sp

from derive.models.common import start
from derive.primitives import GaussLogpdf
from derive.registry import register
from derive.steps import Chain, Derivation
from derive.symbols import mu, sigma2, x


@register("stable.gaussian_logpdf")
def gaussian_logpdf() -> Derivation:
    log_term, square_term = -sp.log(2 * sp.pi * sigma2) / 2, -(x - mu) ** 2 / (2 * sigma2)
    return (
        start(Chain("stable.gaussian_logpdf", "Gaussian log-density (stable where the density is near 1)",
                    section="3.1"), "gauss.loglik")
        .rewrite(GaussLogpdf(log_term, square_term, x, mu, sigma2),
                 "the two terms cancel where the density is near 1 (and log(2 pi sigma2) has an ulp of absolute "
                 "error there): GaussLogpdf returns their sum, recomputed in double-double where it is small")
        .build()
    )
