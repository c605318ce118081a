"""What the documentation shows, as SymPy objects: every piece of math on the site is printed here.

Templates never hold an equation: they ask for a derivation's result (``eq``), one of its steps (``step``), a
named expression (``show``/``m``) or a table built from expressions, and :class:`Book` prints each through the
project's printer and records it. The record is what the tests read back: every fragment on a page must be in it,
and must parse back (``parse_latex``) to the expression it was printed from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from derive import registry
from derive.backends.latex.printer import latex
from derive.commands.show import METHOD_WORDS
from derive.steps import Derivation, Step
from derive.symbols import BY_NAME, alpha, eta, g, lam, mu, mu_g, p, theta, theta_g, x, x_g

# ----------------------------------------------------------------------------------------------------------
# Named expressions for prose and tables (definitions the seed states in words; the rest come from the registry).

ALPHA = sp.IndexedBase("alpha")


def named_expressions() -> dict[str, sp.Basic]:
    """Expressions the prose refers to by name: symbols, the parameter definitions, per-gene forms, domains."""
    per_gene = {x: x_g, mu: mu_g, theta: theta_g}
    named: dict[str, sp.Basic] = dict(BY_NAME)
    named.update({
        "x_g": x_g, "mu_g": mu_g, "theta_g": theta_g,
        "alpha_def": sp.Eq(alpha, 1 / theta, evaluate=False),
        "theta_def": sp.Eq(theta, 1 / alpha, evaluate=False),
        "r_def": sp.Eq(BY_NAME["r"], 1 / alpha, evaluate=False),
        "p_def": sp.Eq(p, theta / (theta + mu), evaluate=False),
        "eta_def": sp.Eq(eta, sp.log(mu), evaluate=False),
        "lambda_def": sp.Eq(lam, sp.log(theta), evaluate=False),
        "alpha_g_def": sp.Eq(ALPHA[g], 1 / theta_g, evaluate=False),
        "counts": sp.Contains(x, sp.Naturals0, evaluate=False),
        "reals": sp.Contains(x, sp.Reals, evaluate=False),
        "x_zero": sp.Eq(x, 0, evaluate=False),
        "one_minus_p": sp.Eq(mu / (theta + mu), 1 - p, evaluate=False),
        "s_pow_x": BY_NAME["s"] ** x,
        "s_one": sp.Eq(BY_NAME["s"], 1, evaluate=False),
        "digamma": sp.polygamma(0, x),
        "variance_g": registry.expr("nb.variance").xreplace(per_gene),
        "p_zero": registry.expr("nb.p_zero"),
        "poisson_p_zero": sp.exp(-mu),
        # §3.2: the NB negative log-likelihood, the loss before it is written per gene.
        "nll": sp.Eq(-registry.derivation("nb.loglik").lhs, -registry.expr("nb.loglik"), evaluate=False),
    })
    return named


# ----------------------------------------------------------------------------------------------------------
# The record of printed math.


@dataclass(frozen=True)
class Math:
    """One fragment of math on a page: its TeX and the expression it was printed from (``lhs = rhs``)."""

    tex: str
    rhs: sp.Basic
    lhs: sp.Basic | None
    display: bool
    page: str
    source: str


@dataclass
class Book:
    """Prints math with the project's printer and remembers each fragment for the round-trip checks."""

    page: str = ""
    math: list[Math] = field(default_factory=list)

    def _record(self, rhs: sp.Basic, lhs: sp.Basic | None, display: bool, source: str) -> str:
        if isinstance(rhs, sp.Eq) and lhs is None:
            lhs, rhs = rhs.lhs, rhs.rhs
        tex = latex(rhs) if lhs is None else f"{latex(lhs)} = {latex(rhs)}"
        if "\n" in tex or "$$" in tex:
            raise ValueError(f"{source}: printed TeX cannot be embedded: {tex!r}")
        self.math.append(Math(tex, rhs, lhs, display, self.page, source))
        return tex

    def display(self, rhs: sp.Basic, lhs: sp.Basic | None = None, source: str = "") -> str:
        """A display equation as an arithmatex block (blank lines around it, as Markdown needs)."""
        return f"\n$$\n{self._record(rhs, lhs, True, source)}\n$$\n"

    def inline(self, rhs: sp.Basic, lhs: sp.Basic | None = None, source: str = "") -> str:
        """Inline math, for prose, headings and table cells."""
        return rf"\({self._record(rhs, lhs, False, source)}\)"


# ----------------------------------------------------------------------------------------------------------
# Derivations: order, anchors, and which steps each one adds to the chain it continues.


def anchor(name: str) -> str:
    """The HTML id of a derivation on the derivations page (dots are not safe in attr_list ids)."""
    return name.replace(".", "-")


def _section_key(section: str) -> tuple[int, ...]:
    return tuple(int(part) for part in section.split(".")) if section else (99,)


#: Derivations whose names start so are the kernels' stable forms (main page §8), read after the mathematics.
STABLE_PREFIX = "stable."


def stable_names() -> list[str]:
    """The kernels' stable forms: §8 shows them all, so a new one appears without touching a template."""
    return [name for name in registry.names() if name.startswith(STABLE_PREFIX)]


def ordered_names() -> list[str]:
    """Derivations in reading order: by seed section (stable forms last), each after the chain it continues."""
    by_section = sorted(registry.names(), key=lambda n: (n.startswith(STABLE_PREFIX),
                                                         _section_key(registry.derivation(n).section),
                                                         len(registry.derivation(n).steps), n))
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        base = parent(registry.derivation(name))
        if base is not None:
            visit(base.name)
        ordered.append(name)

    for name in by_section:
        visit(name)
    return ordered


def parent(d: Derivation) -> Derivation | None:
    """The derivation whose whole chain ``d`` starts with (``Chain.continue_from``), the longest such one."""
    best: Derivation | None = None
    for name in registry.names():
        other = registry.derivation(name)
        n = len(other.steps)
        if other.name == d.name or n >= len(d.steps) or (best and n <= len(best.steps)):
            continue
        if all(a is b for a, b in zip(other.steps, d.steps[:n], strict=True)):
            best = other
    return best


@dataclass(frozen=True)
class ShownStep:
    """A step as the derivations page numbers and describes it."""

    number: int
    step: Step
    how: str


def own_steps(d: Derivation) -> tuple[Derivation | None, list[ShownStep]]:
    """The chain ``d`` continues (if any) and the steps ``d`` adds, numbered in the whole chain."""
    base = parent(d)
    start = len(base.steps) if base else 0
    shown = []
    for number, step in enumerate(d.steps[start:], start=start + 1):
        how = METHOD_WORDS[step.method] + (f": {step.detail}" if step.detail else "")
        shown.append(ShownStep(number, step, how))
    return base, shown


# ----------------------------------------------------------------------------------------------------------
# Text helpers.

_MD_ESCAPE = re.compile(r"([\\`*_\[\]{}#|])")
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "$": "&#36;"}


def md_text(text: str) -> str:
    """Registry prose (``why``, ``detail``) as literal Markdown text: no emphasis, no raw HTML, no math."""
    return "".join(_HTML_ENTITIES.get(char, char) for char in _MD_ESCAPE.sub(r"\\\1", text))


#: A table cell: prose (with its own spacing) and expressions, printed inline, in order.
Cell = tuple[str | sp.Basic, ...]


def render_cell(book: Book, parts: Cell, source: str) -> str:
    """A table cell in Markdown; its math is recorded like any other (one line: no display math in tables)."""
    return "".join(part if isinstance(part, str) else book.inline(part, source=source) for part in parts)


def key_differences(named: dict[str, sp.Basic]) -> list[tuple[str, Cell, Cell]]:
    """§3.3: the rows of the MSE-versus-NB table, each cell's math taken from a derivation."""
    return [
        ("Penalizes", ("Squared deviation ", registry.expr("mse.loss")), ("Log-probability of the count",)),
        ("Variance model", ("Constant ", named["sigma2"]), (registry.expr("nb.variance"), " (grows with the mean)")),
        ("Zero handling", ("No special treatment",), ("Natural probability mass at zero, ", named["p_zero"])),
        ("Domain", (named["reals"],), (named["counts"],)),
        ("Gradient behavior", ("Linear in the residual: ", registry.expr("mse.grad_mu")),
         ("Depends on ", mu, ", ", theta, " and ", x, ": ", registry.expr("nb.nll_grad_mu"))),
    ]


def summary_rows(named: dict[str, sp.Basic]) -> list[tuple[Cell, Cell, Cell]]:
    """§9: component, symbol, biological meaning."""
    return [
        (("Mean",), (named["mu_g"],), ("Expected expression level of gene ", g)),
        (("Dispersion",), (named["theta_g"], " (or ", named["alpha_g_def"], ")"), ("Gene-specific noise level",)),
        (("Variance",), (named["variance_g"],), ("Total variability (Poisson + overdispersion)",)),
        ((registry.derivation("nb.p_zero").lhs,), (named["p_zero"],), ("Probability of zero counts",)),
    ]


__all__ = [
    "Book", "Math", "anchor", "ordered_names", "stable_names", "own_steps", "named_expressions",
    "key_differences", "summary_rows", "md_text", "render_cell",
]
