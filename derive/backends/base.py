"""The one config object every code backend fills in, and the shared jinja2 environment.

A backend is a folder ``derive/backends/<name>/`` with a ``config.py`` holding its ``BACKEND`` (this class), a
``printer.py`` (SymPy -> its language), a ``loader.py`` (``load()``: the generated kernels as Python callables) and
a ``templates/`` folder: adding a language means adding a folder, nothing else.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import sympy as sp


def double_literal(nan: str) -> Callable[[float], str]:
    """A jinja filter printing a float so that it reads back bit for bit (repr), NaN as the language spells it."""

    def literal(value: float) -> str:
        return nan if math.isnan(value) else repr(float(value))

    return literal


#: A runtime file's text from this line on is what the generated file includes (above it: what makes the file a module
#: of its own, e.g. its imports, for its tests).
INCLUDED_FROM = "-- included from here --"


def _included(text: str) -> str:
    lines = text.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if INCLUDED_FROM in line), 0)
    return "\n".join(lines[start:]).strip("\n")


@dataclass(frozen=True)
class Backend:
    """How one target language is generated."""

    name: str
    position: int
    """Where the backend is listed among the others (tables, test parameters): lower first."""
    folder: Path
    """The backend's folder (its templates are in ``folder / "templates"``)."""
    printer: Callable[[sp.Expr], str]
    outputs: dict[str, str]
    """template file name -> path of the generated file, relative to the output root."""
    local_suffix: str = ""
    """Suffix for branch-local names (numpy evaluates branches on gathered subsets)."""
    hoist: bool = False
    """Whether branches name their one-input functions for evaluation once per distinct value (numpy)."""
    plan: Callable | None = None
    """The backend's planner of a kernel's array loops, ``plan(spec, printer, known)`` (C: two passes,
    derive/backends/c/plan.py); None where the kernels' branches are printed as they are (numpy)."""
    filters: dict[str, Callable] = field(default_factory=dict)
    numerics: Callable[..., str] | None = None
    """Prints the primitives' implementations (derive/numerics) for this language: ``numerics(coef, natives)``."""
    library: Callable[[], str] | None = None
    """Prints the arithmetic every backend shares (derive/numerics/dd.py) for this language."""
    natives: dict[str, str] = field(default_factory=dict)
    """Primitive (c_name) -> the language's own function that computes it (numpy: exp -> np.exp): not printed."""
    definition_pattern: str = ""
    """A regular expression (one ``{}`` for the name) matching where the generated language defines a function:
    the tests find hand-written definitions of primitives with it."""
    probe: Callable[..., dict[str, Callable]] | None = None
    """Calls of its generated functions one by one, for tests: ``probe([(name, param types, result type)])`` ->
    name -> a function of arrays (pairs as (hi, lo) of arrays) returning an array (or a pair)."""
    requires: str = ""
    """The optional framework the generated code needs (its import name: torch), an extra of the package: where it is
    not installed the backend is generated but not loaded, and reports and tests skip it, saying so."""
    runtime_suffix: str = ""
    #: The precisions (derive.precision names) whose kernels the backend generates beside float64's, each printed with
    #: its Precision.suffix on every name (torch: float32, so that float32 tensors are computed in float32); its
    #: ``printer`` then takes that suffix as a second argument.
    narrow: tuple[str, ...] = ()
    """File name ending of the runtime sources in ``folder / "runtime"`` (included verbatim, sorted by name)."""

    def available(self) -> bool:
        """Whether what the generated code needs is installed."""
        return not self.requires or importlib.util.find_spec(self.requires) is not None

    def runtime_source(self) -> str:
        """The backend's runtime (derive/backends/<name>/runtime/): plain source files, included verbatim."""
        files = sorted((self.folder / "runtime").glob(f"*{self.runtime_suffix}")) if self.runtime_suffix else []
        return "\n\n\n".join(_included(f.read_text(encoding="utf-8")) for f in files)

    def library_source(self) -> str:
        return self.library() if self.library else ""

    def numerics_source(self, coef) -> str:
        return self.numerics(coef, self.natives) if self.numerics else ""

    def environment(self) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.folder / "templates")),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
        )
        env.filters.update(self.filters)
        return env
