"""MkDocs hooks (``hooks:`` in ``mkdocs.yml``): the site's math renders offline and its search index reads as text.

* **MathJax from a package, not a CDN.** The site serves MathJax 3.2.2 itself, copied at build time from the
  ``django-static-mathjax`` wheel (the docs extra pins it; the wheel ships the npm package ``mathjax@3.2.2``
  and depends on nothing, Django included). :func:`on_files` adds its browser components under
  :data:`MATHJAX_URI` (``mkdocs.yml``'s ``extra_javascript`` loads ``tex-svg.js`` from there), with MathJax's
  licence beside them. Nothing is committed: ``mkdocs build`` and ``mkdocs serve`` both take them from the
  installed package.
* **No raw TeX in search.** The search plugin indexes each page's HTML, where arithmatex left the math as TeX
  (``\\(\\theta\\)``, ``\\[ \\frac{\\mu^{2}}{\\theta} \\]``). :func:`on_post_build` rewrites every math span in
  ``search/search_index.json`` to plain Unicode text (:func:`tex_to_text`: ``θ``, ``μ²/θ``), so a result shows
  what the page shows and a search for θ finds it.

Only the standard library and MkDocs are imported: MkDocs loads this file by its path.
"""

from __future__ import annotations

import html
import importlib.metadata
import importlib.util
import json
import re
from pathlib import Path

#: The distribution that ships MathJax, its version (as pinned in pyproject.toml) and MathJax's own version.
MATHJAX_DIST = "django-static-mathjax"
MATHJAX_VERSION = "3.2.2"
#: Where the site serves MathJax (relative to the site's root).
MATHJAX_URI = "assets/mathjax"
#: What of MathJax's ``es5/`` the site needs: the TeX-to-SVG component and what it may load on demand (TeX
#: extensions by autoload, the menu, its accessibility and speech parts, the SVG font data).
MATHJAX_PARTS = ("tex-svg.js", "input", "output/svg", "ui", "a11y", "sre")


def mathjax_root() -> Path:
    """The installed MathJax (its npm package folder), checked to be the pinned version."""
    spec = importlib.util.find_spec("mathjax")
    missing = f"MathJax is not installed: pip install -e '.[docs]' (the {MATHJAX_DIST} wheel ships it)"
    if spec is None or spec.origin is None:
        raise RuntimeError(missing)
    root = Path(spec.origin).parent / "static" / "mathjax"
    if not (root / "es5" / "tex-svg.js").is_file():
        raise RuntimeError(missing + f"; {root} has no es5/tex-svg.js")
    version = json.loads((root / "package.json").read_text(encoding="utf-8")).get("version")
    if version != MATHJAX_VERSION:
        raise RuntimeError(f"{MATHJAX_DIST} ships MathJax {version}, the site is set up for {MATHJAX_VERSION}: "
                           f"pip install -e '.[docs]'")
    return root


def mathjax_files() -> dict[str, Path]:
    """The files the site serves: site path -> installed file."""
    root = mathjax_root()
    es5 = root / "es5"
    files = {f"{MATHJAX_URI}/LICENSE": root / "LICENSE"}
    for part in MATHJAX_PARTS:
        path = es5 / part
        for source in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if source.is_file():
                files[f"{MATHJAX_URI}/{source.relative_to(es5).as_posix()}"] = source
    return files


def on_files(files, config):
    from mkdocs.structure.files import File

    for uri, source in mathjax_files().items():
        files.append(File.generated(config, uri, abs_src_path=str(source)))
    return files


def on_post_build(config):
    index = Path(config["site_dir"]) / "search" / "search_index.json"
    if not index.is_file():
        return
    data = json.loads(index.read_text(encoding="utf-8"))
    for doc in data.get("docs", []):
        for key in ("title", "text"):
            if isinstance(doc.get(key), str):
                doc[key] = plain_math(doc[key])
    index.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


# ----------------------------------------------------------------------------------------------------------
# TeX as text

#: Math as arithmatex leaves it in the HTML (escaped): inline \( \) and display \[ \].
_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)


def plain_math(text: str) -> str:
    """``text`` (HTML, as the search index holds it) with every math span replaced by :func:`tex_to_text`."""

    def replace(match: re.Match) -> str:
        tex = html.unescape(match.group(1) if match.group(1) is not None else match.group(2))
        return html.escape(tex_to_text(tex), quote=False)

    return _MATH.sub(replace, text)


_SYMBOLS = {
    # Greek
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    # operators and relations
    "cdot": "·", "times": "×", "pm": "±", "mp": "∓", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠",
    "ne": "≠", "approx": "≈", "sim": "∼", "equiv": "≡", "propto": "∝", "to": "→", "rightarrow": "→",
    "leftarrow": "←", "mapsto": "↦", "infty": "∞", "partial": "∂", "nabla": "∇", "in": "∈", "notin": "∉",
    "wedge": "∧", "land": "∧", "vee": "∨", "lor": "∨", "neg": "¬", "sum": "Σ", "prod": "∏", "int": "∫",
    "ell": "ℓ", "ldots": "…", "cdots": "⋯", "dots": "…", "mid": "|", "vert": "|", "Vert": "‖", "|": "‖",
    "langle": "⟨", "rangle": "⟩", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉",
    # escaped characters and spacing
    "{": "{", "}": "}", "_": "_", "%": "%", "&": "&", "#": "#", "$": "$",
    ",": " ", ":": " ", ";": " ", " ": " ", "quad": " ", "qquad": " ", "!": "",
}
#: Commands whose one argument is text in another font.
_FONTS = {"operatorname", "mathrm", "text", "textrm", "mathit", "mathbf", "mathsf", "mathtt", "boldsymbol",
          "textit", "textbf", "mbox"}
_DOUBLE_STRUCK = dict(zip("NZQRCEP", "ℕℤℚℝℂ𝔼ℙ", strict=True))
_SCRIPT = dict(zip("BEFHILMPR", "ℬℰℱℋℐℒℳ℘ℛ", strict=True))
_SUPERSCRIPT = dict(zip("0123456789+-=()nixrθ", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱˣʳᶿ", strict=True))
_SUBSCRIPT = dict(zip("0123456789+-=()aeijkmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.S)


class _Parser:
    def __init__(self, tex: str) -> None:
        self.tokens = _TOKEN.findall(tex)
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.at += token is not None
        return token

    def skip_space(self) -> None:
        while (token := self.peek()) is not None and token.isspace():
            self.at += 1

    def sequence(self, stop: tuple[str, ...] = ()) -> str:
        """Text up to a closing brace (consumed) or a token in ``stop`` (left) or the end."""
        out: list[str] = []
        while (token := self.peek()) is not None:
            if token == "}":
                self.at += 1
                break
            if token in stop:
                break
            out.append(self.item())
        return "".join(out)

    def argument(self) -> str:
        """One argument: a braced group or a single token."""
        self.skip_space()
        token = self.take()
        if token is None:
            return ""
        if token == "{":
            return self.sequence()
        return self.command(token) if token.startswith("\\") else token

    def raw_argument(self) -> str:
        """A braced argument as written (an environment's name)."""
        self.skip_space()
        if self.peek() != "{":
            return ""
        self.at += 1
        out = []
        while (token := self.take()) not in (None, "}"):
            out.append(token)
        return "".join(out)

    def item(self) -> str:
        token = self.take()
        if token == "{":
            return self.sequence()
        if token in ("^", "_"):
            return _script(self.argument(), _SUPERSCRIPT if token == "^" else _SUBSCRIPT, token)
        if token == "&":
            return " "
        if token.isspace():
            return " "
        if token.startswith("\\"):
            return self.command(token)
        return token

    def command(self, token: str) -> str:
        name = token[1:]
        if name == "\\":
            return "; "
        if name in ("left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big"):
            self.skip_space()
            delimiter = self.take() or ""
            return "" if delimiter == "." else (self.command(delimiter) if delimiter.startswith("\\") else delimiter)
        if name == "frac" or name == "dfrac" or name == "tfrac":
            top, bottom = self.argument(), self.argument()
            return f"{_wrap(top)}/{_wrap(bottom)}"
        if name == "binom":
            top, bottom = self.argument(), self.argument()
            return f"binom({_tidy(top)}, {_tidy(bottom)})"
        if name == "sqrt":
            return "√" + _wrap(self.argument())
        if name in _FONTS:
            return self.argument()
        if name == "mathbb":
            body = self.argument()
            return "".join(_DOUBLE_STRUCK.get(c, c) for c in body)
        if name == "mathcal":
            body = self.argument()
            return "".join(_SCRIPT.get(c, c) for c in body)
        if name == "begin":
            environment = self.raw_argument()
            return "{ " if environment == "cases" else ""
        if name == "end":
            environment = self.raw_argument()
            return " }" if environment == "cases" else ""
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        # A function (or an unknown command: its name, without the backslash), then a space unless its
        # argument is in parentheses: log(x), but log Γ(θ).
        return name if self.parenthesised() else name + " "

    def parenthesised(self) -> bool:
        """Whether what follows (spaces and one opening brace aside) is an opening parenthesis or a script."""
        at = self.at
        while at < len(self.tokens) and (self.tokens[at].isspace() or self.tokens[at] == "{"):
            at += 1
        return at < len(self.tokens) and self.tokens[at] in ("(", "\\left", "^", "_", "[")


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"([(\[{]) ", r"\1", text)
    text = re.sub(r" ([)\]}])", r"\1", text)
    text = re.sub(r",(?=\S)", ", ", text)
    text = re.sub(r"(^|[(\[{]|[,;=≤≥<>] )- (?=\S)", r"\1-", text)  # a unary minus: -x
    text = re.sub(r"∂ (?=\S)", "∂", text)
    return text.replace(" ;", ";").replace("; }", " }").replace(";;", ";")


def _atomic(text: str) -> bool:
    """Whether ``text`` reads as one factor without parentheses."""
    if re.fullmatch(r"[^\s+\-/·×=<>≤≥≠→∈,;]+", text) and not re.search(r"\)\S*\(", text):
        return True
    if text.startswith("(") and text.endswith(")"):  # one parenthesised group, not (a)(b)
        depth = 0
        for i, c in enumerate(text):
            depth += (c == "(") - (c == ")")
            if depth == 0 and i < len(text) - 1:
                return False
        return True
    return False


def _wrap(text: str) -> str:
    text = _tidy(text)
    return text if _atomic(text) else f"({text})"


def _script(text: str, table: dict[str, str], mark: str) -> str:
    text = _tidy(text)
    if text and all(c in table for c in text):
        return "".join(table[c] for c in text)
    return mark + _wrap(text)


def tex_to_text(tex: str) -> str:
    """TeX math as plain Unicode text: Greek letters and operators as characters, fractions as ``a/b`` (with
    parentheses around compound parts), simple powers and indices as super- and subscripts, functions by their
    names; no backslash command survives (an unknown one is written as its name)."""
    parser = _Parser(tex)
    out = []
    while parser.peek() is not None:
        out.append(parser.sequence())  # a stray "}" ends one sequence; go on with the rest
    return _tidy("".join(out))
