"""Code generation: generated/ is up to date and reproducible, compiles strictly, loads, and runs threaded."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as st

from derive import codegen, kernels
from derive.backends import backend, code_backends

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated"
STRICT = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return codegen.render_all()


def _compiler() -> str:
    for candidate in ([os.environ["CC"]] if os.environ.get("CC") else []) + ["cc", "gcc", "clang"]:
        found = shutil.which(candidate)
        if found:
            return found
    pytest.fail("no C compiler on PATH: the C backend (and these tests) need one")


# ------------------------------------------------------------------------------------------------------
# generated/ is what the code generates, deterministically, with nothing machine-specific in it


def test_generated_is_not_stale():
    stale = codegen.stale_files()
    assert not stale, f"generated/ is stale ({', '.join(stale)}): run `derive kernels` and commit the result"


def test_stale_files_detects_a_changed_or_missing_file(tmp_path, rendered):
    for path, text in rendered.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    assert codegen.stale_files(tmp_path) == []
    first, second = sorted(rendered)[:2]
    (tmp_path / first).write_text(rendered[first] + "\n", encoding="utf-8")
    (tmp_path / second).unlink()
    assert sorted(codegen.stale_files(tmp_path)) == sorted([first, second])


def test_generated_files_are_those_the_backends_declare(rendered):
    declared = sorted(path for name in code_backends() for path in backend(name).outputs.values())
    assert len(declared) == len(set(declared)), "two backends write the same file"
    assert sorted(rendered) == declared
    committed = sorted(str(p.relative_to(GENERATED)) for p in GENERATED.rglob("*") if p.is_file()
                       and "__pycache__" not in p.parts)
    assert committed == sorted(rendered), "generated/ holds files the code no longer generates"


def test_rendering_twice_is_byte_identical(rendered):
    assert codegen.render_all() == rendered


_HASH_SCRIPT = """
import hashlib, json
from derive.codegen import render_all
print(json.dumps({p: hashlib.sha256(t.encode()).hexdigest() for p, t in sorted(render_all().items())}))
"""


def test_rendering_in_fresh_processes_is_byte_identical(rendered, tmp_path):
    """Different hash seeds (set and dict orders) and working directories must not change a byte."""
    expected = {p: hashlib.sha256(t.encode()).hexdigest() for p, t in sorted(rendered.items())}
    for seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run([sys.executable, "-c", _HASH_SCRIPT], cwd=tmp_path, env=env, capture_output=True,
                                text=True, check=True)
        assert json.loads(result.stdout) == expected, f"rendering differs with PYTHONHASHSEED={seed}"


_DATE_OR_TIME = re.compile(r"\b(19|20)\d\d-[01]\d-[0-3]\d\b|\b[0-2]\d:[0-5]\d:[0-5]\d\b|"
                           r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{1,2},? (19|20)\d\d\b")


@pytest.mark.parametrize("source", ["rendered", "committed"])
def test_generated_files_contain_no_paths_or_timestamps(rendered, source):
    files = rendered if source == "rendered" else {
        p: (GENERATED / p).read_text(encoding="utf-8") for p in rendered}
    forbidden = {str(ROOT), str(ROOT.parent), os.path.expanduser("~"), "/home/", "/root/", "/tmp/", "/Users/",
                 "site-packages", "C:\\"}
    for path, text in files.items():
        for needle in forbidden:
            assert needle not in text, f"{path} contains {needle!r}"
        match = _DATE_OR_TIME.search(text)
        assert match is None, f"{path} contains a date or time: {match.group(0)!r}"
        assert "do not edit" in text.lower(), f"{path} lacks the 'do not edit' banner"


# ------------------------------------------------------------------------------------------------------
# The C source compiles with every warning an error, with and without OpenMP, and works on its own


_DRIVER = r"""
#include <stdio.h>
#include "nbkernels.h"

int main(void) {
    const double x[3] = {0.0, 3.0, 40.0}, mu[3] = {2.5, 2.5, 31.0}, theta[3] = {1.5, 0.7, 12.0};
    double out[3];
    nb_logpmf_array(1, 3, x, 0, 1, mu, 0, 1, theta, 0, 1, out);
    printf("%.17g %.17g %.17g %.17g %.17g\n", nb_logpmf(x[1], mu[1], theta[1]), out[0], out[1], out[2],
           poisson_logpmf(4.0, 2.0));
    return 0;
}
"""


@pytest.mark.parametrize("openmp", [False, True], ids=["plain", "openmp"])
def test_c_source_compiles_strictly_and_runs_standalone(tmp_path, openmp):
    compiler = _compiler()
    for name in ("nbkernels.c", "nbkernels.h"):
        shutil.copy(GENERATED / "c" / name, tmp_path / name)
    (tmp_path / "driver.c").write_text(_DRIVER, encoding="utf-8")
    flags = STRICT + (["-fopenmp"] if openmp else [])
    library = subprocess.run([compiler, *flags, "-fPIC", "-shared", "-o", str(tmp_path / "libnbk.so"),
                              str(tmp_path / "nbkernels.c"), "-lm"], capture_output=True, text=True, check=False)
    assert library.returncode == 0, f"{' '.join(flags)}:\n{library.stderr}"
    assert library.stderr.strip() == "", library.stderr
    program = subprocess.run([compiler, *flags, "-o", str(tmp_path / "driver"), str(tmp_path / "driver.c"),
                              str(tmp_path / "nbkernels.c"), "-lm"], capture_output=True, text=True, check=False)
    assert program.returncode == 0, f"{' '.join(flags)}:\n{program.stderr}"
    run = subprocess.run([str(tmp_path / "driver")], capture_output=True, text=True, check=True, timeout=60)
    values = [float(v) for v in run.stdout.split()]
    x, mu, theta = np.array([0.0, 3.0, 40.0]), np.array([2.5, 2.5, 31.0]), np.array([1.5, 0.7, 12.0])
    expected = st.nbinom.logpmf(x, theta, theta / (theta + mu))
    np.testing.assert_allclose(values[0], expected[1], rtol=1e-12)
    np.testing.assert_allclose(values[1:4], expected, rtol=1e-12)
    np.testing.assert_allclose(values[4], st.poisson.logpmf(4, 2.0), rtol=1e-12)


def test_header_declares_every_kernel(rendered):
    header = rendered["c/nbkernels.h"]
    for name in kernels.load("numpy").names:
        assert re.search(rf"\bvoid {name}_array\(", header), f"nbkernels.h does not declare {name}_array"


# ------------------------------------------------------------------------------------------------------
# Loading


def test_load_c_without_a_compiler_raises_compiler_error(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setenv("NBDERIVE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(kernels.CompilerError) as error:
        kernels.load.__wrapped__("c")  # the uncached loader: the cached C backend must not be reused
    message = str(error.value)
    assert "compiler" in message.lower()
    for name in ("cc", "gcc", "clang"):
        assert name in message, f"the message should name what was looked for ({name}): {message}"
    assert "CC" in message, message
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_load_c_with_a_missing_cc_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", "no-such-compiler-nbderive")
    monkeypatch.setenv("NBDERIVE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(kernels.CompilerError, match="no-such-compiler-nbderive"):
        kernels.load.__wrapped__("c")


def test_load_rejects_an_unknown_backend():
    with pytest.raises(ValueError, match="numpy"):
        kernels.load("fortran")


_STANDALONE = textwrap.dedent("""
    import importlib.abc, json, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("derive", "sympy", "mpmath", "jinja2"):
                raise ImportError(f"blocked: {name}")
            return None

    sys.meta_path.insert(0, Block())
    import numpy
    import scipy.special

    baseline = set(sys.modules)  # what numpy and scipy.special bring by themselves
    import nbkernels

    loaded = sorted({m.split(".")[0] for m in sys.modules} & {"derive", "sympy", "mpmath", "jinja2"})
    third_party = sorted({m.split(".")[0] for m in set(sys.modules) - baseline
                          if m.split(".")[0] not in sys.stdlib_module_names} - {"nbkernels", "numpy", "scipy"})
    out = {
        "loaded": loaded,
        "third_party": third_party,
        "logpmf": float(nbkernels.nb_logpmf(7.0, 5.5, 2.25)),
        "poisson": float(nbkernels.poisson_logpmf(4.0, 2.0)),
        "names": sorted(nbkernels.__all__),
    }
    print(json.dumps(out))
""")


def test_numpy_module_runs_with_only_numpy_and_scipy(tmp_path):
    shutil.copy(GENERATED / "python" / "nbkernels.py", tmp_path / "nbkernels.py")
    (tmp_path / "check.py").write_text(_STANDALONE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    result = subprocess.run([sys.executable, "check.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["loaded"] == [], f"the generated module imported {out['loaded']}"
    assert out["third_party"] == [], f"the generated module imported {out['third_party']}"
    np.testing.assert_allclose(out["logpmf"], st.nbinom.logpmf(7, 2.25, 2.25 / 7.75), rtol=1e-12)
    np.testing.assert_allclose(out["poisson"], st.poisson.logpmf(4, 2.0), rtol=1e-12)
    assert out["names"] == sorted(kernels.load("numpy").names)


# ------------------------------------------------------------------------------------------------------
# Threads


def test_c_threads_give_identical_results(c_kernels):
    rng = np.random.default_rng(11)
    cells, genes = 400, 250  # 100,000 entries: above the size at which the C loops go parallel
    x = rng.negative_binomial(2.0, 0.3, (cells, genes)).astype(np.float64)
    x[rng.random((cells, genes)) < 0.5] = 0.0
    log_mu = rng.normal(0.5, 2.0, (cells, genes))
    mu = np.exp(log_mu)
    theta = np.exp(rng.normal(1.0, 1.5, genes))
    x[0, :5] = [np.nan, -1.0, 2.5, np.inf, 1e6]  # conventions too

    def run_all():
        return [
            c_kernels.nb_logpmf(x, mu, theta),
            c_kernels.nb_logpmf_logmu(x, log_mu, theta),
            c_kernels.nb_nll_grad_mu(x, mu, theta),
            c_kernels.nb_nll_grad_logmu(x, log_mu, theta),
            c_kernels.nb_nll_grad_theta(x, mu, theta),
            c_kernels.nb_nll_grad_logtheta(x, mu, theta),
            *c_kernels.nb_nll_fused(x, log_mu, np.log(theta)),
            c_kernels.nb_nll_sum_genes(x, mu, theta),
            c_kernels.nb_p_zero(mu, theta),
            c_kernels.poisson_logpmf(x, mu),
        ]

    before = c_kernels.threads
    try:
        c_kernels.set_threads(1)
        assert c_kernels.threads == 1
        one = run_all()
        c_kernels.set_threads(2)
        assert c_kernels.threads == 2, "set_threads(2) had no effect: was the library built without OpenMP?"
        two = run_all()
    finally:
        c_kernels.set_threads(before)
    for a, b in zip(one, two, strict=True):
        assert a.shape == b.shape
        assert np.array_equal(a.view(np.int64), b.view(np.int64)), "results differ between 1 and 2 threads"
    # and the threaded C results are the numpy backend's (so the parallel loop covers every element)
    np.testing.assert_allclose(two[0], kernels.load("numpy").nb_logpmf(x, mu, theta), rtol=1e-13)


def test_set_threads_rejects_zero(c_kernels):
    with pytest.raises(ValueError):
        c_kernels.set_threads(0)


@pytest.mark.parametrize("degree", [1, 2, 3, 7, 10, 18])
def test_estrin_polynomial_is_the_sum_it_unrolls(degree):
    """The C printer's unrolled series (Estrin's scheme) is sum_j c_j w^(j+1), checked by running its statements."""
    from fractions import Fraction

    from derive.backends.c.printer import estrin

    coefficients = [1.0 / (2 * j + 3) for j in range(degree)]
    w = 0.1875  # exact in binary: the check is exact up to the final roundings
    namespace = {"w": w}
    for statement in estrin(coefficients).split(";"):
        statement = statement.strip()
        if statement:
            exec(statement.replace("const double ", "").replace("return ", "result = "), {}, namespace)
    exact = sum(Fraction(c) * Fraction(w) ** (j + 1) for j, c in enumerate(coefficients))
    assert abs(namespace["result"] - float(exact)) <= 4e-16 * float(exact)


def test_atanh_tail_is_accurate_where_the_fused_x0_series_uses_it(any_backend):
    """AtanhTail's truncated series (the terms for |t| < DEVIANCE_SERIES_BELOW) holds to the last bits up to the
    fused kernel's x = 0 series edge, mu/theta = ZERO_SERIES_BELOW: there v = u/(2+u), and w = v^2 is largest."""
    import mpmath

    from derive.series import DEVIANCE_SERIES_BELOW, ZERO_SERIES_BELOW

    u = float(ZERO_SERIES_BELOW)
    v_edge = u / (2 + u)
    assert v_edge <= float(DEVIANCE_SERIES_BELOW / (2 - DEVIANCE_SERIES_BELOW)) * (1 + 1e-15)
    # The kernels' x = 0 nll is 2 theta v (1 + AtanhTail(v^2)): at theta = 1 it is log1p(u), whose tail part is
    # checked here through the kernel itself across v up to the edge.
    log_ratios = np.log(np.linspace(1e-3, u * (1 - 1e-15), 200))
    nll, _, grad = any_backend.nb_nll_fused(np.zeros_like(log_ratios), log_ratios, np.zeros_like(log_ratios))
    with mpmath.workdps(50):
        for log_r, value, g in zip(log_ratios, nll, grad, strict=True):
            r = mpmath.exp(mpmath.mpf(log_r))
            exact = mpmath.log1p(r)
            assert abs(value - exact) <= 6e-16 * exact  # (a few roundings: ~2 ulp)
            exact_grad = exact - r / (1 + r)
            assert abs(g - exact_grad) <= 1e-15 * exact_grad


def test_log1p_for_quotients_above_a_quarter_is_within_an_ulp(c_kernels):
    """nbk_log1p (which nbk_log1pdiv calls) switches from libm's log1p to log(1 + r) less the rounding of 1 + r at
    r = 1/4: at x = 0 and theta = 1 the log-PMF is -log1p(mu) exactly, so both sides of the switch are checked
    against mpmath."""
    import mpmath

    rng = np.random.default_rng(3)
    r = np.concatenate([np.exp(rng.uniform(np.log(0.2), np.log(1e30), 4000)),
                        [np.nextafter(0.25, 0.0), 0.25, np.nextafter(0.25, 1.0), 1.0, 2.0**52, 2.0**53, 2.0**60]])
    got = -c_kernels.nb_logpmf(np.zeros_like(r), r, 1.0)
    with mpmath.workdps(40):
        exact = [mpmath.log1p(mpmath.mpf(v)) for v in r]
        err = max(abs(g - e) / e for g, e in zip(got, exact, strict=True))
    assert err <= 2.0**-52, f"max relative error {float(err):.2e}"


def test_the_c_backends_exp_is_within_an_ulp_and_the_same_in_arrays(c_kernels):
    """The C kernels' e^x (inline arithmetic for |x| <= 708, vectorised over arrays; libm beyond) against mpmath,
    over the normal range of results.

    It is observed through nb_nll_grad_logmu at x = 0 and theta = inf, which returns mu - x = e^log_mu exactly.
    """
    import mpmath

    rng = np.random.default_rng(11)
    log_mu = np.concatenate([rng.uniform(-708.0, 708.0, 3000), rng.uniform(-1.0, 1.0, 3000),
                             [0.0, 5e-324, -1e-300, 0.5 * np.log(2.0), -0.5 * np.log(2.0), 708.0, -708.0,
                              np.nextafter(708.0, 800.0), np.nextafter(-708.0, -800.0), 709.7, -708.3]])
    got = c_kernels.nb_nll_grad_logmu(np.zeros_like(log_mu), log_mu, np.inf)
    scalar = np.array([c_kernels.nb_nll_grad_logmu(0.0, v, np.inf) for v in log_mu])
    np.testing.assert_array_equal(got, scalar)
    with mpmath.workdps(40):
        exact = [mpmath.exp(mpmath.mpf(v)) for v in log_mu]
    err = max(abs(g - e) / e for g, e in zip(got, exact, strict=True))
    assert err <= 2.0**-52, f"max relative error {float(err):.2e}"
    edges = c_kernels.nb_nll_grad_logmu(np.zeros(3), np.array([np.inf, -np.inf, 800.0]), np.inf)
    np.testing.assert_array_equal(edges, [np.inf, 0.0, np.inf])


def test_count_tables_are_correctly_rounded(numpy_kernels):
    """log n! and the Stirling remainder of n, tabulated to n = TABLE_SIZE - 1 from one running sum of logs: each
    entry is the double nearest to the exact value (mpmath at 50 digits), up to rounding ties."""
    import mpmath

    from derive.series import TABLE_SIZE

    k = numpy_kernels
    assert len(k._LFACT) == len(k._STIRLERR_INT) == TABLE_SIZE
    with mpmath.workdps(50):
        for n in [*range(1, 40), *range(40, TABLE_SIZE, 37), TABLE_SIZE - 1]:
            lfact = mpmath.loggamma(n + 1)
            remainder = mpmath.loggamma(n) - (n - mpmath.mpf(1) / 2) * mpmath.log(n) + n - mpmath.log(2 * mpmath.pi) / 2
            for got, exact in ((k._LFACT[n], lfact), (k._STIRLERR_INT[n], remainder)):
                assert abs(got - exact) <= 0.5 * np.spacing(abs(got)) * (1 + 1e-9), (n, got)

