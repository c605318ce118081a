"""Model folders (derive/models/__init__.py): found by looking, so that a new likelihood is one new folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import derive.models
from derive import registry
from derive.models import models, modules


def test_the_models_are_the_folders_with_an_order():
    assert models() == ("nb", "poisson", "gaussian")
    assert [m.__name__ for m in modules("oracle")] == [f"derive.models.{m}.oracle" for m in models()]


def test_every_model_registers_its_derivations_and_stable_forms():
    names = registry.names()
    for prefix in ("nb.", "poisson.", "gauss.", "mse.", "stable.nb_", "stable.poisson_", "stable.gaussian_"):
        assert any(name.startswith(prefix) for name in names), prefix


def test_a_new_folder_is_a_new_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A folder with an ORDER (here beside the package, on its search path) is found, its kernels module with it;
    a folder without one is not a model."""
    (tmp_path / "zinb").mkdir()
    (tmp_path / "zinb" / "__init__.py").write_text('"""Zero inflation."""\n\nORDER = 3\n')
    (tmp_path / "zinb" / "kernels.py").write_text("def specs(precision):\n    return ()\n")
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "__init__.py").write_text("")
    monkeypatch.setattr(derive.models, "__path__", [*derive.models.__path__, str(tmp_path)])
    models.cache_clear()
    try:
        assert models() == ("nb", "poisson", "gaussian", "zinb")
        assert modules("kernels")[-1].__name__ == "derive.models.zinb.kernels"
    finally:
        models.cache_clear()
        for name in [n for n in sys.modules if n.startswith(("derive.models.zinb", "derive.models.helpers"))]:
            del sys.modules[name]
