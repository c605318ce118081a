"""Numerical primitives: functions a kernel calls instead of the cancelling formula they stand for, one module per
kind (base: what a primitive is; elementary, logs, gamma, digamma, score, gauss; predicates: the conventions' Boolean
functions and unfold). Each primitive is one unit: its exact definition, its implementation written once
(derive/numerics) and printed by every backend, and its error bound over its domain.
"""

from __future__ import annotations

from sympy.codegen.cfunctions import expm1, log1p

from derive.primitives.base import Primitive, PrimitiveBase
from derive.primitives.digamma import Digamma, PsilogDiff, PsilogDiffR, RisingRecipDev
from derive.primitives.elementary import Exp, Log1p, Log1pDiv, Softplus
from derive.primitives.gamma import Lfact, LogPowRising, LogRising1p, Stirlerr, StirlerrCount
from derive.primitives.gauss import GaussLogpdf
from derive.primitives.logs import AtanhTail, Dev1p, Log1pmx, Log1pmx4
from derive.primitives.predicates import PREDICATES, IsInf, IsNaN, NotCount, unfold
from derive.primitives.score import GradThetaLead, ScoreTheta, ScoreThetaAsymptotic

#: Every primitive, in the order the backends print them (each after what it calls).
PRIMITIVES: tuple[type[Primitive], ...] = (
    Exp, Log1p, Digamma, Log1pmx, Dev1p, Stirlerr, StirlerrCount, LogRising1p, LogPowRising, Lfact, PsilogDiff,
    RisingRecipDev, GradThetaLead, Log1pmx4, PsilogDiffR, ScoreTheta, ScoreThetaAsymptotic, GaussLogpdf, Log1pDiv,
    AtanhTail, Softplus,
)

__all__ = [
    "Primitive", "PrimitiveBase", "PRIMITIVES", "PREDICATES", "IsNaN", "IsInf", "NotCount", "unfold", "log1p", "expm1",
    *(primitive.__name__ for primitive in PRIMITIVES),
]
