"""Smoke test of ``derive bench``: every contender runs and is reported. Never asserts on wall time (CI machines
are shared and noisy; the targets are judged by a full run, not by tests)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from derive import bench
from derive.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_smoke_prints_every_contender_and_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "bench.md"
    assert main(["bench", "--smoke", "--write", str(report)]) == 0
    out = capsys.readouterr().out
    names = [contender.name for contender in bench.contenders(bench._get_threads(bench._backend("c")))]
    assert len(names) >= 10
    table = out.split("targets (")[0]
    for name in names:
        rows = [line for line in table.splitlines() if line.startswith(name)]
        assert len(rows) == 2, f"{name}: expected a row per data set, got {rows}"
        for row in rows:  # (the torch rows need the optional framework: unavailable only where it is missing)
            assert "unavailable" not in row or ("torch is not installed" in row
                                                and importlib.util.find_spec("torch") is None), row
    for word in ("scipy", "lambdify", "scvi", "floor", "cores:", "OPENBLAS_CORETYPE", "zeros"):
        assert word in out
    assert out.count("PASS*") + out.count("FAIL*") == 9, "every target is computed (indicative at smoke size)"
    markdown = report.read_text()
    assert "| contender |" in markdown and all(name in markdown for name in names)


def test_data_sets_have_the_requested_shape_and_sparsity() -> None:
    sparse, dense = bench.single_cell_like(200, 100), bench.dense_counts(200, 100)
    assert sparse.x.shape == dense.x.shape == (200, 100) and sparse.theta.shape == (100,)
    assert 0.8 < sparse.zero_fraction < 0.9
    assert dense.zero_fraction < 0.2
    assert ((sparse.theta >= 0.1) & (sparse.theta <= 50)).all()


def test_size_accepts_cells_by_genes_or_entries() -> None:
    assert bench._parse_size("2000x500") == (2000, 500)
    assert bench._parse_size("1e6") == (2000, 500)
    assert bench._parse_size("100") == (10, 10)


def test_script_is_the_command() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--help"],
                          capture_output=True, text=True, check=True)
    assert "--smoke" in done.stdout and "--repeats" in done.stdout
