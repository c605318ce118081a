"""The documentation site: fresh, buildable, every equation meaning what it was printed from, and typeset.

* ``docs/`` equals what ``derive docs`` renders now (a stale page fails, with the command that fixes it).
* ``mkdocs build --strict`` passes.
* Every piece of math on a page was printed from a SymPy expression (none typed by hand), and each display
  equation (and each inline expression) parses back with ``parse_latex`` to an expression equal to the one it
  was printed from: symbolically, or numerically at random points (``latex_roundtrip.py`` beside this file).
* The design page is in the site's navigation and linked from the README, names only files and tests that exist,
  has no math typed by hand, and each of its "Not yet" notes still holds.
* The built site loads no script or style from another host (MathJax is served from the site, copied from a
  pinned package by ``derive/backends/docs/mkdocs_hooks.py``), and its search index has no raw TeX.
* A real headless Chromium, with no network but the loopback server, opens every page at 400 px and 1280 px
  wide: every equation is typeset without a MathJax error, and every one is drawn at the size MathJax laid it
  out (not collapsed, not clipped: a display equation wider than the screen scrolls in its own box); a
  screenshot of each page at each width is saved (``NBDERIVE_SCREENSHOTS`` names the folder).

Chromium is installed by ``.ci/run``; locally the browser test is skipped when it is missing, but under CI
(CI=true) a missing one is a failure.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sympy as sp
from latex_roundtrip import check_fragment

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = ("index.md", "derivations.md")
#: The design page: prose and tables read from the code, no math (checked apart from PAGES, which show every
#: derivation).
DESIGN = "design.md"
IN_CI = os.environ.get("CI", "").lower() == "true"

DISPLAY = re.compile(r"^\$\$\n(.*?)\n\$\$$", re.M | re.S)
INLINE = re.compile(r"\\\((.*?)\\\)")


@pytest.fixture(scope="session")
def site():
    """What ``derive docs`` renders now (pages, figures, and the record of every printed fragment)."""
    from derive.backends.docs import build

    return build.render()


def _page_math(page: str) -> tuple[list[str], list[str]]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return DISPLAY.findall(text), INLINE.findall(text)


# --------------------------------------------------------------------------------------------------------
# Fresh and buildable


def test_docs_are_not_stale(site) -> None:
    from derive.backends.docs import build

    stale = build.stale_files(site, DOCS)
    assert not stale, f"docs/ is stale, run 'derive docs' and commit the result: {stale}"


def test_render_has_no_absolute_paths_or_dates(site) -> None:
    for name, text in site.files.items():
        assert str(ROOT) not in text, name
        assert str(Path.home()) not in text, name
        assert not re.search(r"\b20\d\d-\d\d-\d\d[T ]\d\d:\d\d", text), f"{name} has a timestamp"


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                             "-d", str(tmp_path / "site")], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ("index.html", "derivations/index.html", "design/index.html"):
        assert (tmp_path / "site" / page).is_file()


# --------------------------------------------------------------------------------------------------------
# Content


def test_every_derivation_is_on_the_main_page_and_the_derivations_page(site) -> None:
    from derive import registry

    for page in PAGES:
        used = {m.source for m in site.math if m.page == page}
        missing = [name for name in registry.names() if name not in used]
        assert not missing, f"{page} does not show {missing}"


def test_main_page_follows_the_seed_sections() -> None:
    headings = [line for line in (DOCS / "index.md").read_text(encoding="utf-8").splitlines()
                if line.startswith("#")]
    expected = ["# The Negative Binomial Log-Likelihood: Derivation and Biological Interpretation",
                "## 1. The Negative Binomial Distribution", "### 1.1 Probability Mass Function",
                "### 1.2 Alternative Parameterization (More Common in ML)", "### 1.3 Mean and Variance",
                "## 2. The NB Log-Likelihood", "### 2.1 Simplified Form", "### 2.2 The Loss Function",
                "## 3. Side-by-Side Comparison: NB vs MSE", "### 3.1 MSE (Gaussian Likelihood)",
                "### 3.2 NB Negative Log-Likelihood", "### 3.3 Key Differences",
                "## 4. Biological Interpretation of Each Term", "### Term 1:", "### Term 2:", "### Term 3:",
                "## 5. Why NB Handles Zeros Better Than Gaussian", "### 5.1 Probability of Zero Under NB",
                "### 5.2 Probability of Zero Under Gaussian", "## 6. The Dispersion Parameter",
                "### 6.1 What It Controls", "### 6.2 How It's Learned",
                "## 7. Gradient Behavior: Why NB Trains Differently", "### 7.1 MSE Gradient", "### 7.2 NB Gradient",
                "## 8. Implementation Note: Log-Space Stability", "## 9. Summary Table", "## 10. Key Takeaway",
                "## Next Steps", "## References"]
    assert len(headings) == len(expected), headings
    for heading, start in zip(headings, expected, strict=True):
        assert heading.startswith(start), (heading, start)


def test_tables_and_figures_are_on_the_main_page() -> None:
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    assert "| Aspect | MSE (Gaussian) | NB NLL |" in text
    assert "| Component | Symbol | Biological Meaning |" in text
    for figure in ("p_zero", "pmf_vs_gaussian", "variance_vs_mean", "gradients"):
        assert f"](figures/{figure}.svg)" in text
        svg = (DOCS / "figures" / f"{figure}.svg").read_text(encoding="utf-8")
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<dc:date>" not in svg


def test_accuracy_table_is_generated() -> None:
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    assert "Accuracy table pending" not in text, "derive.accuracy did not provide the accuracy table"
    assert "max relative error" in text


def test_every_step_of_every_derivation_is_shown(site) -> None:
    from derive import registry
    from derive.backends.docs import content

    text = (DOCS / "derivations.md").read_text(encoding="utf-8")
    shown = {m.source for m in site.math if m.page == "derivations.md"}
    for name in registry.names():
        d = registry.derivation(name)
        base, steps = content.own_steps(d)
        assert f"{{ #{content.anchor(name)} }}" in text
        inherited = len(base.steps) if base else 0
        if base:  # the steps left out are exactly the chain linked to, the same objects in the same order
            assert all(a is b for a, b in zip(base.steps, d.steps[:inherited], strict=True))
            assert f"(#{content.anchor(base.name)})" in text
        for number, step in enumerate(d.steps[inherited:], start=inherited + 1):
            assert f"{name}[{number}]" in shown
            assert f"**Step {number}.** {content.md_text(step.why)}" in text
        assert len(steps) == len(d.steps) - inherited


# --------------------------------------------------------------------------------------------------------
# The design page


def test_design_page_is_in_the_nav_and_linked_from_the_readme(site) -> None:
    assert DESIGN in site.files
    assert re.search(rf"^\s*- Design: {DESIGN}$", (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), re.M)
    assert f"](docs/{DESIGN})" in (ROOT / "README.md").read_text(encoding="utf-8")


#: A code span on the design page that names a file of the project (``path`` or ``path::function``).
_PROJECT_PATH = re.compile(r"^(?:derive|tests|generated|docs|benchmarks)/[\w./-]*(?:::\w+)?$|^[\w-]+\.(?:md|yml|toml)$")


def test_design_page_names_only_files_and_tests_that_exist(site) -> None:
    """Every path in a code span exists, and every ``file::name`` is a function defined in that file (placeholders
    such as ``<model>`` are not paths; fenced blocks, the diagram, are left out)."""
    text = re.sub(r"^```.*?^```$", "", site.files[DESIGN], flags=re.M | re.S)
    named = [span for span in re.findall(r"`([^`\n]+)`", text) if _PROJECT_PATH.match(span)]
    assert len(named) > 30, named
    missing = []
    for span in named:
        path, _, function = span.partition("::")
        if not (ROOT / path).exists():
            missing.append(span)
        elif function and not re.search(rf"^def {function}\(", (ROOT / path).read_text(encoding="utf-8"), re.M):
            missing.append(span)
    assert not missing, f"{DESIGN} names what does not exist: {missing}"


def test_design_page_has_no_math_typed_by_hand(site) -> None:
    text = site.files[DESIGN]
    printed = {m.tex for m in site.math if m.page == DESIGN}
    typed = [tex for tex in DISPLAY.findall(text) + INLINE.findall(text) if tex not in printed]
    assert not typed, f"math on {DESIGN} not printed from an expression: {typed}"
    assert not re.search(r"(?<!\\)\$(?!\$)", re.sub(DISPLAY, "", text)), "stray $"


def _numpy_and_c_render_float64_only() -> bool:
    from derive.backends import backend

    return not backend("numpy").narrow and not backend("c").narrow


def _templates_write_helpers() -> bool:
    c = (ROOT / "derive/backends/c/templates/nbkernels.c.j2").read_text(encoding="utf-8")
    numpy = (ROOT / "derive/backends/numpy/templates/nbkernels.py.j2").read_text(encoding="utf-8")
    return all(name in c for name in ("nbk_notcount(", "nbk_log1pdiv_prepare(", "nbk_exp_many(")) \
        and "def _notcount(" in numpy


def _accuracy_regimes_are_boxes_in_x_mu_theta() -> bool:
    import dataclasses

    from derive.accuracy import Regime

    return [f.name for f in dataclasses.fields(Regime)] == ["key", "label", "x", "mu", "theta"]


#: The design page's "Not yet" notes, each with a check that it still holds: when one fails, the code has caught up,
#: and the note (derive/backends/docs/templates/design.md.j2) must be rewritten to say what is true now.
NOT_YET = {
    "numpy and C generate float64 only": _numpy_and_c_render_float64_only,
    "the templates write NotCount's helper and C's helpers by hand": _templates_write_helpers,
    "the accuracy regimes are boxes in (x, mu, theta)": _accuracy_regimes_are_boxes_in_x_mu_theta,
}


@pytest.mark.parametrize("note", NOT_YET)
def test_design_page_not_yet_notes_still_hold(site, note: str) -> None:
    assert "**Not yet" in site.files[DESIGN]
    assert NOT_YET[note](), (f"{DESIGN} says {note!r}, which is no longer true: rewrite that note in "
                             "derive/backends/docs/templates/design.md.j2 and run 'derive docs'")


# --------------------------------------------------------------------------------------------------------
# Every equation parses back to the expression it was printed from


def _records(site, page: str) -> dict[str, list]:
    records: dict[str, list] = {}
    for m in site.math:
        if m.page == page:
            records.setdefault(m.tex, []).append(m)
    return records


@pytest.mark.parametrize("page", PAGES)
def test_all_math_is_printed_from_expressions(site, page: str) -> None:
    records = _records(site, page)
    displays, inlines = _page_math(page)
    assert displays, f"{page} has no display equations"
    unknown = [tex for tex in displays + inlines if tex not in records]
    assert not unknown, f"math on {page} not printed from an expression (typed by hand?): {unknown}"
    assert len(displays) == sum(m.display for m in site.math if m.page == page)
    assert not re.search(r"(?<!\\)\$(?!\$)", re.sub(DISPLAY, "", (DOCS / page).read_text())), "stray $"


@pytest.mark.parametrize("page", PAGES)
def test_every_equation_parses_back_to_its_expression(site, page: str) -> None:
    records = _records(site, page)
    displays, inlines = _page_math(page)
    failures = []
    for tex in dict.fromkeys(displays + inlines):
        for record in records.get(tex, []):
            why = check_fragment(tex, record)
            if why:
                failures.append(f"[{record.source}] {tex}\n    {why}")
    assert not failures, f"{len(failures)} equations on {page} do not read back:\n" + "\n".join(failures)


def test_round_trip_catches_a_wrong_equation() -> None:
    """The checker must fail a TeX string that means something else (a missing cdot, a swapped sign)."""
    from derive.symbols import mu, theta, x

    class Record:
        lhs, rhs = None, theta * (mu - x) / (mu * (theta + mu))

    good = r"\frac{\theta \cdot \left(\mu - x\right)}{\mu \cdot \left(\mu + \theta\right)}"
    assert check_fragment(good, Record) is None
    assert check_fragment(good.replace(r"\mu - x", r"x - \mu"), Record) is not None
    assert check_fragment(good.replace(r"\theta \cdot \left(", r"\theta \left("), Record) is not None


def test_round_trip_catches_a_wrong_case_or_series() -> None:
    """Piecewise rows and series are compared row by row and term by term, conditions included."""
    from derive.backends.latex.printer import latex
    from derive.symbols import mu, theta, x

    class Record:
        lhs = None
        rhs = sp.Piecewise((theta / (theta + mu), (theta >= 1) & (mu < 2)),
                           (sp.Sum(mu**x / sp.factorial(x), (x, 0, sp.oo)), True))

    tex = latex(Record.rhs)
    assert r"\begin{cases}" in tex and r"\sum_{x=0}^{\infty}" in tex
    assert check_fragment(tex, Record) is None
    for wrong in (tex.replace(r"\theta \geq 1", r"\theta \geq 2"), tex.replace(r"x=0", r"x=1"),
                  tex.replace(r"\mu^{x}", r"\mu^{x + 1}"), tex.replace(r"\wedge", r"\vee")):
        assert wrong != tex
        assert check_fragment(wrong, Record) is not None, wrong


# --------------------------------------------------------------------------------------------------------
# The built site: served by itself (no external host), its search index as text


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    """``mkdocs build --strict`` of the committed docs/ (the hooks copy MathJax and rewrite the search index)."""
    out = tmp_path_factory.mktemp("built") / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                             "-d", str(out)], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    return out


class _References(HTMLParser):
    """Every script's ``src`` and every link's ``href`` (stylesheets, icons, preloads) of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        for name, value in attrs:
            if name == wanted and value is not None:
                self.found.append(value)


def external_references(page: str) -> list[str]:
    """The scripts and links of ``page`` that point at another host (``http(s)://`` or ``//host``)."""
    parser = _References()
    parser.feed(page)
    return [ref for ref in parser.found if re.match(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", ref, re.I)]


def test_external_reference_check_catches_a_cdn() -> None:
    page = ('<head><link rel="stylesheet" href="assets/main.css"><link rel="preconnect" href="//fonts.example">'
            '<script src="https://unpkg.com/mathjax@3.2.2/es5/tex-svg.js"></script><script src="local.js"></script>'
            '</head><body><a href="https://example.org">a link is not a script</a></body>')
    assert external_references(page) == ["//fonts.example", "https://unpkg.com/mathjax@3.2.2/es5/tex-svg.js"]


def test_built_site_loads_nothing_from_another_host(built_site: Path) -> None:
    pages = sorted(built_site.rglob("*.html"))
    assert len(pages) >= 4, pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not external_references(text), f"{page.relative_to(built_site)}: {external_references(text)}"
        if page.name == "404.html":
            continue
        local = [ref for ref in _scripts(text) if ref.endswith("tex-svg.js")]
        assert len(local) == 1, f"{page.relative_to(built_site)} does not load MathJax once: {local}"
        assert (page.parent / local[0]).resolve().is_file(), f"{page.relative_to(built_site)}: {local[0]} missing"
    for sheet in built_site.rglob("*.css"):
        imports = re.findall(r"(?:@import\s+|url\()\s*['\"]?((?:https?:)?//[^'\")\s]+)", sheet.read_text("utf-8"))
        assert not imports, f"{sheet.relative_to(built_site)} loads {imports}"
    mathjax = built_site / "assets" / "mathjax"
    assert (mathjax / "LICENSE").is_file(), "MathJax is served without its licence"
    assert b'VERSION="3.2.2"' in (mathjax / "tex-svg.js").read_bytes(), "the site serves another MathJax than 3.2.2"


def _scripts(page: str) -> list[str]:
    parser = _References()
    parser.feed(page)
    return [ref for ref in parser.found if ref.endswith(".js")]


#: What raw TeX looks like in the search index: math delimiters, or any backslash command.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\\operatorname|\\[A-Za-z]+")


def test_search_index_has_no_raw_tex(built_site: Path) -> None:
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    entries = index["docs"]
    assert len(entries) > 50, len(entries)
    raw = [(e["location"], RAW_TEX.findall(e["title"] + e["text"])[:5]) for e in entries
           if RAW_TEX.search(e["title"] + e["text"])]
    assert not raw, f"{len(raw)} of {len(entries)} search entries show raw TeX: {raw[:5]}"
    # The math is still there, as text a reader (and a search for θ) finds.
    text = " ".join(e["text"] for e in entries)
    assert text.count("θ") > 100 and text.count("μ") > 100
    assert "Var[x] = " in text and "x ∈ ℕ₀" in text and "log Γ(θ + x)" in text


@pytest.mark.parametrize(("tex", "text"), [
    (r"\theta", "θ"),
    (r"x \in \mathbb{N}_0", "x ∈ ℕ₀"),
    (r"\mathrm{Var}[x] = \frac{\mu^{2}}{\theta} + \mu", "Var[x] = μ²/θ + μ"),
    (r"p = \frac{\theta}{\mu + \theta}", "p = θ/(μ + θ)"),
    (r"\log{\left(x! \right)} - \log{\Gamma\left(\theta\right)}", "log(x!) - log Γ(θ)"),
    (r"\operatorname{Log1pDiv}{\left(\mu,\theta \right)}", "Log1pDiv(μ, θ)"),
    (r"e^{- \mu}", "e^(-μ)"),
    (r"\left(1 - p\right)^{x} \cdot p^{r}", "(1 - p)ˣ · pʳ"),
    (r"\frac{\sqrt{2} e^{- \frac{\mu^{2}}{2 \sigma^{2}}}}{2 \sqrt{\pi}}", "(√2 e^(-μ²/(2 σ²)))/(2 √π)"),
    (r"\frac{\partial}{\partial \mu} \mathcal{L}", "∂/∂μ ℒ"),
    (r"\lim_{\theta \to \infty} \mathrm{Var}[x] = \mu", "lim_(θ → ∞) Var[x] = μ"),
    (r"\sum_{g=1}^{G} \mathcal{L}_{g}", "Σ_(g=1)^G ℒ_g"),
    (r"\begin{cases} 1 & \text{for}\: x < 1 \\ 0 & \text{otherwise} \end{cases}", "{1 for x < 1; 0 otherwise}"),
    (r"\binom{r + x - 1}{x}", "binom(r + x - 1, x)"),
    (r"\left\{ x \right\} \neq \unknownmacro", "{x} ≠ unknownmacro"),
])
def test_tex_to_text(tex: str, text: str) -> None:
    from derive.backends.docs.mkdocs_hooks import plain_math, tex_to_text

    assert tex_to_text(tex) == text
    assert plain_math(rf"<p>with \({html.escape(tex)}\) in it</p>") == f"<p>with {html.escape(text, False)} in it</p>"


# --------------------------------------------------------------------------------------------------------
# A real browser typesets every equation, at a phone's width and a desktop's


def _need(thing: str, found: bool, hint: str) -> None:
    if not found:
        message = f"{thing} is not installed ({hint})"
        if IN_CI:
            pytest.fail(message + "; .ci/run installs it")
        pytest.skip(message)


#: The widths every page is loaded at: a phone held upright, and a desktop.
WIDTHS = (400, 1280)
#: The served site's pages (404.html aside): built path -> URL path.
SERVED_PAGES = {"index.md": "", "derivations.md": "derivations/", DESIGN: "design/"}
#: Headless Chromium's window is at least 500 px wide, so each page is opened in an iframe of the width wanted
#: (its media queries and layout follow the iframe's width), in a window at least as wide.
FRAME = ('<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>'
         '<body style="margin:0"><iframe src="{src}" style="display:block;border:0;width:{width}px;height:2400px">'
         '</iframe></body></html>')
#: Measures, once MathJax has typeset the page, every equation's drawn size against the size MathJax laid out
#: (its SVG's width and height attributes, in ex of the SVG's own font), and whether a display equation wider
#: than its box can be scrolled to; the result, with the page's typeset DOM, goes into a <pre> of the frame's
#: page, which --dump-dom prints. Injected by the test's server only: the site itself has no such script.
MEASURE_JS = r"""
(function () {
  function length(svg, attr) {
    var value = svg.getAttribute(attr) || "";
    var ex = parseFloat(value);
    if (!/ex$/.test(value)) { return ex; }
    var probe = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    probe.setAttribute("width", "100ex");
    svg.appendChild(probe);
    var px = probe.width.baseVal.value / 100;
    svg.removeChild(probe);
    return ex * px;
  }
  function measure() {
    var out = {width: window.innerWidth, pageWidth: document.documentElement.scrollWidth, math: [],
               resources: performance.getEntriesByType("resource").map(function (e) { return e.name; })};
    document.querySelectorAll("mjx-container").forEach(function (container) {
      var svg = container.querySelector(":scope > svg");
      var display = container.getAttribute("display") === "true";
      var item = {display: display, tex: (container.querySelector("mjx-assistive-mml") || {}).textContent || ""};
      if (!svg) { item.missing = true; out.math.push(item); return; }
      var drawn = svg.getBoundingClientRect();
      item.drawnWidth = drawn.width; item.drawnHeight = drawn.height;
      item.width = length(svg, "width"); item.height = length(svg, "height");
      if (display) {
        var box = container.closest("div.arithmatex") || container.parentElement;
        var rect = box.getBoundingClientRect();
        var style = getComputedStyle(box);
        item.boxRight = rect.right;
        item.left = drawn.left - rect.left + box.scrollLeft;
        item.right = item.left + drawn.width;
        item.clientWidth = box.clientWidth;
        item.scrollWidth = box.scrollWidth;
        item.scrolls = style.overflowX === "auto" || style.overflowX === "scroll";
      }
      out.math.push(item);
    });
    out.dom = document.body.outerHTML;
    var top = window.parent.document;
    var pre = top.createElement("pre");
    pre.id = "nbderive-measure";
    pre.textContent = JSON.stringify(out);
    top.body.appendChild(pre);
  }
  function ready() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(function () { return MathJax.typesetPromise ? MathJax.typesetPromise() : null; })
        .then(measure, function (e) { window.parent.document.body.setAttribute("data-measure-error", String(e)); });
    } else {
      setTimeout(ready, 50);
    }
  }
  window.addEventListener("load", ready);
})();
"""


@pytest.fixture(scope="module")
def served_site(built_site: Path) -> Iterator[tuple[str, list[str]]]:
    """The built site as it is on a loopback HTTP server (MathJax included: nothing is substituted), with
    :data:`MEASURE_JS` added to each page as it is served; also the paths that were not found."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    _need("chromium", chromium is not None, "apt-get install chromium")
    not_found: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def send_error(self, code, message=None, explain=None) -> None:
            not_found.append(f"{code} {self.path}")
            super().send_error(code, message, explain)

        def do_GET(self) -> None:
            if self.path == "/_measure.js":
                return self._send(MEASURE_JS.encode(), "text/javascript")
            if frame := re.fullmatch(r"/_frame/(\d+)(/.*)", self.path):
                page = FRAME.format(width=frame.group(1), src=html.escape(frame.group(2)))
                return self._send(page.encode(), "text/html; charset=utf-8")
            path = Path(self.translate_path(self.path))
            if path.is_dir():
                path = path / "index.html"
            if path.suffix == ".html" and path.is_file():
                page = path.read_text(encoding="utf-8")
                page = page.replace("</body>", '<script src="/_measure.js"></script></body>')
                return self._send(page.encode(), "text/html; charset=utf-8")
            return super().do_GET()

        def _send(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", not_found
    finally:
        server.shutdown()
        server.server_close()


def _chromium(url: str, width: int, screenshot: Path, profile: Path) -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               # No network: every host but the loopback server fails to resolve.
               "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
               f"--user-data-dir={profile}", "--hide-scrollbars", f"--window-size={max(width, 500)},2400",
               "--virtual-time-budget=30000", f"--screenshot={screenshot}", "--dump-dom", url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def layout_problems(measured: dict, width: int) -> list[str]:
    """What is wrong with the equations' layout on one page at one width (``measured``: what MEASURE_JS wrote)."""
    problems = []
    if measured["width"] != width:
        problems.append(f"the window is {measured['width']} px wide, not {width}")
    for item in measured["math"]:
        what = f"{'display' if item['display'] else 'inline'} equation {item['tex'][:60]!r}"
        if item.get("missing"):
            problems.append(f"{what}: no SVG")
            continue
        if item["drawnWidth"] < 10 and item["width"] >= 10 or item["drawnWidth"] < item["width"] - 1:
            problems.append(f"{what}: drawn {item['drawnWidth']:.0f} px wide, laid out {item['width']:.0f} px")
        if item["drawnHeight"] < item["height"] - 1:
            problems.append(f"{what}: drawn {item['drawnHeight']:.0f} px high, laid out {item['height']:.0f} px")
        if item["display"]:
            if item["left"] < -1:
                problems.append(f"{what}: starts {-item['left']:.0f} px left of its box, out of reach")
            fits = item["right"] <= item["clientWidth"] + 1
            if not fits and not (item["scrolls"] and item["scrollWidth"] >= item["right"] - 1):
                problems.append(f"{what}: clipped at {item['clientWidth']} px of {item['right']:.0f} px")
            if item["boxRight"] > width + 1:
                problems.append(f"{what}: its box runs {item['boxRight'] - width:.0f} px past the screen")
    if measured["pageWidth"] > width + 1:
        problems.append(f"the page is {measured['pageWidth']} px wide on a {width} px screen")
    return problems


def test_layout_check_catches_a_collapsed_or_clipped_equation() -> None:
    fine = {"display": True, "tex": "x", "drawnWidth": 300, "drawnHeight": 40, "width": 300, "height": 40,
            "left": 12, "right": 312, "clientWidth": 376, "scrollWidth": 376, "scrolls": True, "boxRight": 388}
    page = {"width": 400, "pageWidth": 400, "math": [fine]}
    assert layout_problems(page, 400) == []
    collapsed = {**fine, "drawnWidth": 1, "drawnHeight": 1, "right": 13}
    wide_clipped = {**fine, "right": 600, "scrolls": False}
    cut_left = {**fine, "left": -80}
    for wrong in (collapsed, wide_clipped, cut_left, {**fine, "boxRight": 700}):
        assert layout_problems({**page, "math": [wrong]}, 400), wrong
    assert layout_problems({**page, "pageWidth": 640}, 400)
    assert layout_problems(page, 1280)
    assert layout_problems({**page, "math": [{**fine, "right": 600, "scrollWidth": 612}]}, 400) == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", list(SERVED_PAGES))
def test_mathjax_typesets_every_equation(served_site: tuple[str, list[str]], page: str, width: int,
                                         tmp_path: Path) -> None:
    base, not_found = served_site
    del not_found[:]
    shots = Path(os.environ.get("NBDERIVE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    screenshot = shots / f"{page.removesuffix('.md')}-{width}.png"
    top = _chromium(f"{base}/_frame/{width}/{SERVED_PAGES[page]}", width, screenshot, tmp_path / "profile")
    print(f"screenshot: {screenshot}")

    found = re.search(r'<pre id="nbderive-measure">(.*?)</pre>', top, re.S)
    assert found, "the page never finished typesetting (MathJax did not load or did not start)" + (
        f": {m.group(1)}" if (m := re.search(r'data-measure-error="([^"]*)"', top)) else "")
    measured = json.loads(html.unescape(found.group(1)))
    body = re.sub(r"<script\b.*?</script>", "", measured["dom"], flags=re.S)
    marked = re.findall(r'class="arithmatex">\s*(<mjx-container[^>]*>)?', body)
    displays, inlines = _page_math(page)
    expected = len(displays) + len(inlines)
    assert len(marked) == expected, f"{len(marked)} math elements on the page, {expected} in {page}"
    untypeset = sum(1 for container in marked if not container)
    assert untypeset == 0, f"{untypeset} of {len(marked)} equations were not typeset by MathJax"
    assert len(measured["math"]) == expected
    errors = re.findall(r'data-mjx-error="([^"]*)"', body)
    assert not errors, f"MathJax errors: {errors}"
    assert "<g data-mml-node=\"merror\"" not in body
    assert 'mathcolor="red"' not in body, "MathJax drew an unknown macro in red"
    leftover = re.sub(r"<mjx-container\b.*?</mjx-container>", "", body, flags=re.S)
    assert "\\(" not in leftover and "\\[" not in leftover, "raw TeX left on the page"
    problems = layout_problems(measured, width)
    assert not problems, f"{page} at {width} px: {len(problems)} problems:\n" + "\n".join(problems[:20])
    foreign = [url for url in measured["resources"] if not url.startswith(base)]
    assert not foreign, f"{page} requested other hosts: {foreign}"
    assert not not_found, f"requests the site could not answer: {not_found}"
    assert screenshot.is_file() and screenshot.stat().st_size > 10_000
