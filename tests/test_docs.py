"""The documentation site: fresh, buildable, every equation meaning what it was printed from, and typeset.

* ``docs/`` equals what ``derive docs`` renders now (a stale page fails, with the command that fixes it).
* ``mkdocs build --strict`` passes.
* Every piece of math on a page was printed from a SymPy expression (none typed by hand), and each display
  equation (and each inline expression) parses back with ``parse_latex`` to an expression equal to the one it
  was printed from: symbolically, or numerically at random points (``latex_roundtrip.py`` beside this file).
* The design page is in the site's navigation and linked from the README, names only files and tests that exist,
  has no math typed by hand, and each of its "Not yet" notes still holds.
* A real headless Chromium opens the built site, with MathJax served from a local copy, and every equation is
  typeset without a MathJax error; a screenshot of each page is saved.

Chromium and MathJax are installed by ``.ci/run``; locally the browser test is skipped when either is missing,
but under CI (CI=true) a missing one is a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
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
MATHJAX_CDN = "https://unpkg.com/mathjax@3.2.2/es5/tex-svg.js"
#: Where .ci/run installs MathJax (npm package mathjax@3.2.2); NBDERIVE_MATHJAX overrides.
MATHJAX_PREFIX = Path.home() / ".cache" / "nbderive-mathjax"
MATHJAX_DIR = Path(os.environ.get("NBDERIVE_MATHJAX", MATHJAX_PREFIX / "node_modules" / "mathjax"))

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
# A real browser typesets every equation


def _need(thing: str, found: bool, hint: str) -> None:
    if not found:
        message = f"{thing} is not installed ({hint})"
        if IN_CI:
            pytest.fail(message + "; .ci/run installs it")
        pytest.skip(message)


@pytest.fixture(scope="module")
def served_site(tmp_path_factory) -> Iterator[str]:
    """The built site on a loopback HTTP server, MathJax served from the local copy instead of the CDN."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    _need("chromium", chromium is not None, "apt-get install chromium")
    _need("MathJax 3.2.2", (MATHJAX_DIR / "es5" / "tex-svg.js").is_file(),
          f"npm install --prefix {MATHJAX_PREFIX} mathjax@3.2.2, or set NBDERIVE_MATHJAX")
    out = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d",
                    str(out)], check=True, capture_output=True, cwd=ROOT, env={**os.environ,
                                                                               "NO_MKDOCS_2_WARNING": "1"})
    for html in out.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        if MATHJAX_CDN in text:
            html.write_text(text.replace(MATHJAX_CDN, "/_mathjax/es5/tex-svg.js"), encoding="utf-8")
    (out / "_mathjax").symlink_to(MATHJAX_DIR, target_is_directory=True)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _chromium(url: str, screenshot: Path, profile: Path) -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--hide-scrollbars", "--window-size=1280,2400",
               "--virtual-time-budget=30000", f"--screenshot={screenshot}", "--dump-dom", url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize("page", PAGES)
def test_mathjax_typesets_every_equation(served_site: str, page: str, tmp_path: Path) -> None:
    assert MATHJAX_CDN in (ROOT / "mkdocs.yml").read_text(), "mkdocs.yml loads another MathJax than the test serves"
    path = "" if page == "index.md" else page.removesuffix(".md") + "/"
    shots = Path(os.environ.get("NBDERIVE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    screenshot = shots / f"{page.removesuffix('.md')}.png"
    dom = _chromium(f"{served_site}/{path}", screenshot, tmp_path / "profile")
    print(f"screenshot: {screenshot}")

    body = re.sub(r"<script\b.*?</script>", "", dom, flags=re.S)
    marked = re.findall(r'class="arithmatex">\s*(<mjx-container[^>]*>)?', body)
    displays, inlines = _page_math(page)
    expected = len(displays) + len(inlines)
    assert len(marked) == expected, f"{len(marked)} math elements on the page, {expected} in {page}"
    untypeset = sum(1 for container in marked if not container)
    assert untypeset == 0, f"{untypeset} of {len(marked)} equations were not typeset by MathJax"
    errors = re.findall(r'data-mjx-error="([^"]*)"', body)
    assert not errors, f"MathJax errors: {errors}"
    assert "<g data-mml-node=\"merror\"" not in body
    assert 'mathcolor="red"' not in body, "MathJax drew an unknown macro in red"
    leftover = re.sub(r"<mjx-container\b.*?</mjx-container>", "", body, flags=re.S)
    assert "\\(" not in leftover and "\\[" not in leftover, "raw TeX left on the page"
    assert screenshot.is_file() and screenshot.stat().st_size > 10_000
